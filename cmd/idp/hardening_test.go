package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Tests of what an anonymous caller can make the provider store, compute or
// answer: limits that hold under concurrency, bounded requests, bad bytes.

// guessConcurrently posts n sign-ins at once on one login form (same browser,
// same address) and returns how many answers had each status.
func guessConcurrently(t *testing.T, b *browser, f loginForm, entity string, n int, username func(i int) string) map[int]int {
	t.Helper()
	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	endpoint := b.abs(b.idp.issuerPath() + "/login")
	for i := range n {
		wg.Go(func() {
			form := url.Values{"authRequestID": {f.AuthRequestID}, "csrf_token": {f.CSRF},
				"entity_number": {entity}, "username": {username(i)}, "password": {fmt.Sprintf("wrong-guess-%d", i)}}
			req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", b.idp.issuer)
			resp, err := b.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return statuses
}

// TestLoginConcurrentGuessesPerAccount: three times the limit of wrong
// passwords sent at once for one account: no more than the limit reach the
// hash (answered 401; the rest 429 without a hash), and then the right
// password is refused too.
func TestLoginConcurrentGuessesPerAccount(t *testing.T) {
	t.Parallel()
	const limit = 5
	idp := startIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_ACCOUNT": fmt.Sprint(limit),
		"IDP_HASH_CONCURRENCY": "4", "IDP_HASH_QUEUE_WAIT": "30s"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff := idp.login("staff01")

	b := idp.browser()
	form := b.startLogin(r, newAuthParams(t)).form(t)
	// Spellings of one account: the counter is per account, not per spelling.
	spell := []string{staff.Username, strings.ToUpper(staff.Username), " " + staff.Username + " "}
	got := guessConcurrently(t, b, form, idp.demo.EntityNumber, 3*limit, func(i int) string { return spell[i%len(spell)] })
	if got[http.StatusUnauthorized] > limit || got[http.StatusUnauthorized]+got[http.StatusTooManyRequests] != 3*limit {
		t.Fatalf("answers %v: want at most %d checked (401), the rest refused (429)", got, limit)
	}
	p := b.submit(form, idp.demo.EntityNumber, staff.Username, staff.Password)
	wantNoRedirect(t, "right password after concurrent guesses", p, http.StatusTooManyRequests)
	wantRetryAfter(t, p)
}

// TestLoginConcurrentGuessesPerAddress: the per-address limit holds the same
// way across many usernames.
func TestLoginConcurrentGuessesPerAddress(t *testing.T) {
	t.Parallel()
	const limit = 4
	idp := startIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_IP": fmt.Sprint(limit),
		"IDP_HASH_CONCURRENCY": "4", "IDP_HASH_QUEUE_WAIT": "30s"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	admin := idp.login("admin01")

	b := idp.browser()
	form := b.startLogin(r, newAuthParams(t)).form(t)
	got := guessConcurrently(t, b, form, idp.demo.EntityNumber, 3*limit, func(i int) string { return fmt.Sprintf("guess%02d", i) })
	if got[http.StatusUnauthorized] > limit || got[http.StatusUnauthorized]+got[http.StatusTooManyRequests] != 3*limit {
		t.Fatalf("answers %v: want at most %d checked (401), the rest refused (429)", got, limit)
	}
	p := b.submit(form, idp.demo.EntityNumber, admin.Username, admin.Password)
	wantNoRedirect(t, "right password after concurrent guesses from one address", p, http.StatusTooManyRequests)
}
