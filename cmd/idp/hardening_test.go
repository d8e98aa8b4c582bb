package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
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

// TestLoginConcurrentGuesses: three times the limit of wrong passwords sent
// at once, for one account (in several spellings) or across usernames from
// one address: no more than the limit reach the hash (answered 401; the rest
// 429 without a hash), and then the right password is refused too.
func TestLoginConcurrentGuesses(t *testing.T) {
	t.Parallel()
	const limit = 5
	for _, tc := range []struct {
		name     string
		variable string
		username func(staff seededLogin, i int) string
	}{
		{"per account", "IDP_LOGIN_FAILURES_PER_ACCOUNT", func(staff seededLogin, i int) string {
			// Spellings of one account: the counter is per account, not per spelling.
			return []string{staff.Username, strings.ToUpper(staff.Username), " " + staff.Username + " "}[i%3]
		}},
		{"per address", "IDP_LOGIN_FAILURES_PER_IP", func(_ seededLogin, i int) string { return fmt.Sprintf("guess%02d", i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idp := startIDP(t, map[string]string{tc.variable: fmt.Sprint(limit),
				"IDP_HASH_CONCURRENCY": "4", "IDP_HASH_QUEUE_WAIT": "30s"})
			web := idp.client(demoWebClient)
			r := idp.rp(web, web.RedirectURIs[0])
			staff := idp.login("staff01")

			b := idp.browser()
			form := b.startLogin(r, newAuthParams(t)).form(t)
			got := guessConcurrently(t, b, form, idp.demo.EntityNumber, 3*limit, func(i int) string { return tc.username(staff, i) })
			if got[http.StatusUnauthorized] > limit || got[http.StatusUnauthorized]+got[http.StatusTooManyRequests] != 3*limit {
				t.Fatalf("answers %v: want at most %d checked (401), the rest refused (429)", got, limit)
			}
			p := b.submit(form, idp.demo.EntityNumber, staff.Username, staff.Password)
			wantNoRedirect(t, "right password after concurrent guesses", p, http.StatusTooManyRequests)
			wantRetryAfter(t, p)
		})
	}
}

// authorizeQuery is a valid authorization request of r, with overrides.
func authorizeQuery(r *rp, over map[string]string) url.Values {
	q := url.Values{"client_id": {r.oauth.ClientID}, "redirect_uri": {r.oauth.RedirectURL}, "response_type": {"code"},
		"scope": {"openid profile"}, "state": {"st"}, "nonce": {"n"},
		"code_challenge": {s256(strings.Repeat("v", 43))}, "code_challenge_method": {"S256"}}
	for k, v := range over {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	return q
}

// wantRedirectError asserts a redirect to the client carrying error code and iss.
func wantRedirectError(t *testing.T, what string, p page, r *rp, code string) {
	t.Helper()
	if p.StatusCode != http.StatusFound && p.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s: status %d, want a redirect to the client: %.300s", what, p.StatusCode, p.Body)
	}
	loc, err := url.Parse(p.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), r.oauth.RedirectURL) {
		t.Fatalf("%s: redirects to %q", what, p.Header.Get("Location"))
	}
	params := loc.Query()
	if !params.Has("error") {
		// The client asked for the fragment response mode: it gets the
		// refusal there.
		params, _ = url.ParseQuery(loc.Fragment)
	}
	if got := params.Get("error"); got != code {
		t.Errorf("%s: error=%q, want %q", what, got, code)
	}
	if params.Get("iss") != r.idp.issuer {
		t.Errorf("%s: iss=%q, want the issuer (RFC 9207)", what, loc.Query().Get("iss"))
	}
}

// wantPageHeaders asserts the security headers every page of ours carries.
func wantPageHeaders(t *testing.T, what string, p page) {
	t.Helper()
	for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
		"Referrer-Policy": "no-referrer"} {
		if got := p.Header.Get(name); got != want {
			t.Errorf("%s: %s = %q, want %q", what, name, got, want)
		}
	}
	if !strings.Contains(p.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("%s: no Content-Security-Policy", what)
	}
}

// TestAuthorizeBounds: what /authorize stores is bounded; larger requests
// are refused by redirect when the client and redirect URI are valid, by our
// page otherwise, and never stored.
func TestAuthorizeBounds(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()

	for name, over := range map[string]map[string]string{
		"state of 600 bytes":    {"state": strings.Repeat("s", 600)},
		"nonce of 600 bytes":    {"nonce": strings.Repeat("n", 600)},
		"login_hint of 300":     {"login_hint": strings.Repeat("h", 300)},
		"acr_values of 300":     {"acr_values": strings.Repeat("a", 300)},
		"short code_challenge":  {"code_challenge": "abc"},
		"response_mode form":    {"response_mode": "form_post"},
		"response_mode fragmnt": {"response_mode": "fragment"},
	} {
		wantRedirectError(t, name, b.get(r.authorizeURL(authorizeQuery(r, over))), r, "invalid_request")
	}
	wantRedirectError(t, "no openid scope", b.get(r.authorizeURL(authorizeQuery(r, map[string]string{"scope": "profile"}))), r, "invalid_scope")

	// A whole request over 8 KiB: the page, whatever the parameters.
	huge := authorizeQuery(r, map[string]string{"state": strings.Repeat("s", 9<<10)})
	p := b.get(r.authorizeURL(huge))
	wantNoRedirect(t, "9 KiB query", p, http.StatusBadRequest)
	wantPageHeaders(t, "9 KiB query", p)
	// A large body: refused before it is read, never a 500.
	req, _ := http.NewRequest(http.MethodPost, r.oauth.Endpoint.AuthURL,
		strings.NewReader(authorizeQuery(r, nil).Encode()+"&state="+strings.Repeat("x", 4<<20)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	p = b.do(req)
	if p.StatusCode != http.StatusRequestEntityTooLarge && p.StatusCode != http.StatusBadRequest {
		t.Errorf("4 MiB POST /authorize: status %d", p.StatusCode)
	}
	// Nothing of the refused requests was stored.
	keys, err := idp.app.rdb.Keys(context.Background(), idp.app.cfg.RedisPrefix+"ar:*").Result()
	if err != nil || len(keys) != 0 {
		t.Errorf("auth requests stored: %v, %v", keys, err)
	}
	// A well-formed request still works.
	if cb := b.signIn(r, newAuthParams(t), idp.login("staff01").Username); cb.Get("code") == "" || cb.Get("iss") != idp.issuer {
		t.Errorf("callback %v: want a code and iss", cb)
	}
}

// TestAuthorizeRatePerAddress: one client address opens at most its burst
// of authorization requests at once, then one per interval of its rate
// (IDP_AUTHORIZE_PER_IP_MINUTE, IDP_AUTHORIZE_PER_IP_BURST). The wait page
// itself: TestWaitPageInEachLanguage.
func TestAuthorizeRatePerAddress(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_AUTHORIZE_PER_IP_MINUTE": "5", "IDP_AUTHORIZE_PER_IP_BURST": "5"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	for i := range 5 {
		if p := b.get(r.authURL(newAuthParams(t))); p.StatusCode != http.StatusFound {
			t.Fatalf("request %d: status %d", i+1, p.StatusCode)
		}
	}
	p := b.get(r.authURL(newAuthParams(t)))
	wantNoRedirect(t, "sixth request in a minute", p, http.StatusTooManyRequests)
	wantRetryAfter(t, p)
}

// badValues are bytes no store accepts: each must be a wrong value, never an outage.
var badValues = map[string]string{"NUL": "02-0000\x0021", "invalid UTF-8": "ab\xffcd", "overlong UTF-8": "\xc0\xafx",
	"control character": "a\x1bb", "C1 control": "a\u0085b"}

// TestBadBytesAtSignIn: bad bytes in the sign-in fields get the generic
// failure (401), count as failures, and are never answered as an outage.
func TestBadBytesAtSignIn(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_IP": fmt.Sprint(2 * len(badValues))})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	form := b.startLogin(r, newAuthParams(t)).form(t)
	for name, v := range badValues {
		p := b.submit(form, v, "staff01", "whatever-1")
		if p.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s in the entity number: status %d", name, p.StatusCode)
		}
		p = b.submit(form, idp.demo.EntityNumber, v, "whatever-1")
		if p.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s in the username: status %d", name, p.StatusCode)
		}
	}
	// They counted: the address is now over its limit.
	p := b.submit(form, idp.demo.EntityNumber, idp.login("admin01").Username, idp.login("admin01").Password)
	wantNoRedirect(t, "after bad-byte failures", p, http.StatusTooManyRequests)
}

// TestBadBytesAtProtocolEndpoints: the protocol endpoints refuse bad bytes
// with their own errors, never 5xx.
func TestBadBytesAtProtocolEndpoints(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	token := r.oauth.Endpoint.TokenURL
	introspect, revoke := r.discovery(t, "introspection_endpoint"), r.discovery(t, "revocation_endpoint")
	endSession := r.discovery(t, "end_session_endpoint")
	for name, v := range badValues {
		p := b.get(r.authorizeURL(authorizeQuery(r, map[string]string{"client_id": v})))
		wantNoRedirect(t, name+" in client_id at /authorize", p, http.StatusBadRequest)
		wantPageHeaders(t, name+" at /authorize", p)
		p = b.get(endSession + "?" + url.Values{"client_id": {v}}.Encode())
		wantNoRedirect(t, name+" at end_session", p, http.StatusBadRequest)
		for _, ep := range []string{token, introspect, revoke} {
			status, out, err := rawTokenPost(ep, v, "secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "token": {"x"}})
			if err != nil || status != http.StatusUnauthorized || out["error"] != "invalid_client" {
				t.Errorf("%s in the Basic client id at %s: %d %v %v", name, ep, status, out, err)
			}
			req, _ := http.NewRequest(http.MethodPost, ep, strings.NewReader(url.Values{"client_id": {v}, "grant_type": {"refresh_token"},
				"refresh_token": {"x"}, "token": {"x"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s in the form client_id at %s: %d", name, ep, resp.StatusCode)
			}
		}
	}
	// Unparsable queries and bodies.
	for _, raw := range []string{"%zz", "%", "client_id=%ff%00"} {
		p := b.get(endSession + "?" + raw)
		wantNoRedirect(t, "end_session?"+raw, p, http.StatusBadRequest)
		wantPageHeaders(t, "end_session?"+raw, p)
	}
	req, _ := http.NewRequest(http.MethodPost, token, strings.NewReader("grant_type=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(web.ClientID, web.ClientSecret)
	if p := b.do(req); p.StatusCode != http.StatusBadRequest {
		t.Errorf("unparsable token body: %d %s", p.StatusCode, p.Body)
	}
	// A large body at the token endpoint: 413, not 500.
	req, _ = http.NewRequest(http.MethodPost, token, strings.NewReader("grant_type=refresh_token&refresh_token="+strings.Repeat("x", 1<<20)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(web.ClientID, web.ClientSecret)
	if p := b.do(req); p.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("1 MiB token body: %d", p.StatusCode)
	}
}

// TestTokenEndpointExactness: client authentication as advertised, PKCE
// verifier form, no caching, and RFC 6750 challenges at userinfo.
func TestTokenEndpointExactness(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	token := r.oauth.Endpoint.TokenURL

	code, p := b.code(r, idp.login("staff01").Username)
	// A malformed verifier is refused before the code is spent.
	status, out, err := rawTokenPost(token, web.ClientID, web.ClientSecret, url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {r.oauth.RedirectURL}, "code_verifier": {"short"}})
	if err != nil || status != http.StatusBadRequest || out["error"] != "invalid_request" {
		t.Errorf("short code_verifier: %d %v %v", status, out, err)
	}
	// Two methods at once (the Basic header and a secret in the body) are
	// refused (RFC 6749 §2.3), and so is a wrong secret in the body.
	req, _ := http.NewRequest(http.MethodPost, token, strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {r.oauth.RedirectURL}, "code_verifier": {p.Verifier}, "client_id": {web.ClientID}, "client_secret": {web.ClientSecret}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(web.ClientID, web.ClientSecret)
	if resp := b.do(req); resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, "invalid_request") {
		t.Errorf("Basic and client_secret_post at once: %d %s", resp.StatusCode, resp.Body)
	}
	req, _ = http.NewRequest(http.MethodPost, token, strings.NewReader(url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {r.oauth.RedirectURL}, "code_verifier": {p.Verifier}, "client_id": {web.ClientID}, "client_secret": {"wrong"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp := b.do(req); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Body, "invalid_client") {
		t.Errorf("wrong client_secret_post: %d %s", resp.StatusCode, resp.Body)
	}
	methods := fmt.Sprint(discoveryField(t, r, "token_endpoint_auth_methods_supported"))
	for _, m := range []string{"client_secret_basic", "client_secret_post", "private_key_jwt"} {
		if !strings.Contains(methods, m) {
			t.Errorf("discovery's token_endpoint_auth_methods_supported %s lacks %s", methods, m)
		}
	}
	// The code still works: the refusals above spent nothing.
	tok, err := r.exchange(code, p.Verifier)
	if err != nil {
		t.Fatalf("exchange after refusals: %v", err)
	}
	rt, _ := tok.Extra("refresh_token").(string)

	// No caching of token answers, success or error.
	for what, form := range map[string]url.Values{
		"refresh success": {"grant_type": {"refresh_token"}, "refresh_token": {rt}},
		"refresh error":   {"grant_type": {"refresh_token"}, "refresh_token": {"nonsense"}},
	} {
		req, _ := http.NewRequest(http.MethodPost, token, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(web.ClientID, web.ClientSecret)
		wantNoStore(t, what, b.do(req))
	}
	// A wrong secret: 401 invalid_client with the Basic challenge (RFC 6749 §5.2).
	req, _ = http.NewRequest(http.MethodPost, token, strings.NewReader("grant_type=refresh_token&refresh_token="+url.QueryEscape(rt)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(web.ClientID, "wrong-secret")
	if p := b.do(req); p.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(p.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("wrong secret: %d, WWW-Authenticate %q", p.StatusCode, p.Header.Get("WWW-Authenticate"))
	}
	// The refresh grant without a client, or with an unknown one: 401 invalid_client.
	status, out, _ = rawTokenPost(token, "no-such-client", "x", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
	if status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Errorf("refresh by an unknown client: %d %v", status, out)
	}
	req, _ = http.NewRequest(http.MethodPost, token, strings.NewReader("grant_type=refresh_token&refresh_token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := b.do(req); p.StatusCode != http.StatusUnauthorized || !strings.Contains(p.Body, "invalid_client") {
		t.Errorf("refresh without a client: %d %s", p.StatusCode, p.Body)
	}

	// Userinfo: no-store, and RFC 6750 challenges.
	userinfo := r.discovery(t, "userinfo_endpoint")
	req, _ = http.NewRequest(http.MethodGet, userinfo, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	wantNoStore(t, "userinfo", b.do(req))
	req, _ = http.NewRequest(http.MethodGet, userinfo, nil)
	if p := b.do(req); p.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(p.Header.Get("WWW-Authenticate"), "Bearer") ||
		strings.Contains(p.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("userinfo without a token: %d %q", p.StatusCode, p.Header.Get("WWW-Authenticate"))
	}
	req, _ = http.NewRequest(http.MethodGet, userinfo, nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	if p := b.do(req); p.StatusCode != http.StatusUnauthorized || !strings.Contains(p.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("userinfo with a bad token: %d %q", p.StatusCode, p.Header.Get("WWW-Authenticate"))
	}
	// Introspection by a client with a wrong secret: the OAuth error object.
	status, out, err = rawTokenPost(r.discovery(t, "introspection_endpoint"), web.ClientID, "wrong-secret", url.Values{"token": {tok.AccessToken}})
	if err != nil || status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Errorf("introspection with a wrong secret: %d %v %v", status, out, err)
	}
	// Introspection: no-store.
	req, _ = http.NewRequest(http.MethodPost, r.discovery(t, "introspection_endpoint"), strings.NewReader("token="+url.QueryEscape(tok.AccessToken)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(web.ClientID, web.ClientSecret)
	wantNoStore(t, "introspection", b.do(req))

	if v, _ := discoveryField(t, r, "authorization_response_iss_parameter_supported").(bool); !v {
		t.Error("discovery does not say authorization_response_iss_parameter_supported")
	}
	if modes := fmt.Sprint(discoveryField(t, r, "response_modes_supported")); modes != "[query]" {
		t.Errorf("response_modes_supported = %s", modes)
	}
}

func wantNoStore(t *testing.T, what string, p page) {
	t.Helper()
	if p.Header.Get("Cache-Control") != "no-store" || p.Header.Get("Pragma") != "no-cache" {
		t.Errorf("%s (%d): Cache-Control %q, Pragma %q", what, p.StatusCode, p.Header.Get("Cache-Control"), p.Header.Get("Pragma"))
	}
}

func discoveryField(t *testing.T, r *rp, field string) any {
	t.Helper()
	var d map[string]any
	if err := r.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	return d[field]
}

// TestResendFactsNormalised: the same facts typed several ways share one
// resend window.
func TestResendFactsNormalised(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, map[string]string{"IDP_RESEND_LIMIT": "1"})
	const number = "03-000311"
	spec := standardEntity(number)
	w.newEntity(t, spec)
	admin := spec.Admins[0] // 5123456(7), born 1988-08-08
	first := w.browser().resend(url.Values{"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {admin.IDNumber}, "birth_date": {admin.BirthDate}})
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first resend = %d", first.StatusCode)
	}
	for _, f := range []struct{ entity, doc, born string }{
		{number, admin.IDNumber, "1988/8/8"},
		{"03000311", "51234567", "1988.08.08"},
		{" 03-000311 ", "5123456 (7)", "08/08/1988"},
		{"０３－０００３１１", "５１２３４５６（７）", "1988-8-8"},
	} {
		p := w.browser().resend(url.Values{"kind": {"staff"}, "entity_number": {f.entity}, "id_doc_number": {f.doc}, "birth_date": {f.born}})
		if p.StatusCode != http.StatusTooManyRequests {
			t.Errorf("resend as %+v = %d, want 429: one set of facts, one window", f, p.StatusCode)
		}
	}
}

// TestActivationConcurrentGuesses: wrong codes sent at once for matching
// facts take at most the code's tries; then the code is void, even typed
// right. Each checked answer takes at least the padded time, matched or not.
func TestActivationConcurrentGuesses(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, map[string]string{"IDP_ACTIVATION_MAX_ATTEMPTS": "3"})
	const number = "03-000321"
	spec := standardEntity(number)
	created := w.newEntity(t, spec)
	admin := spec.Admins[0]
	right := codeIn(t, w.message(t, admin.Mobile, 1))

	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			b := w.browser()
			form := b.get(b.idp.issuerPath() + "/activate/staff")
			req, _ := http.NewRequest(http.MethodPost, b.abs(b.idp.issuerPath()+"/activate/staff"), strings.NewReader(url.Values{
				"csrf_token": {submatch(csrfField, form.Body)}, "entity_number": {number}, "id_doc_number": {admin.IDNumber},
				"code": {fmt.Sprintf("ZZZZZ-ZZZ%c%c", 'A'+i%8, 'K'+i/8)}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", b.idp.issuer)
			resp, err := b.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	c := w.code(t, w.staffRef(t, created.Admins[0].EUID))
	if c.Attempts != 3 || c.VoidedAt == nil {
		t.Errorf("after 12 concurrent wrong codes: attempts %d, voided %v; want 3 and void", c.Attempts, c.VoidedAt)
	}
	p := w.browser().activateStep1(storage.KindStaff, number, admin.IDNumber, right)
	wantActError(t, "the right code after the tries", p, http.StatusGone, "activate_error_locked")

	// Matching facts or not, a checked answer is padded to the same floor.
	for _, doc := range []string{admin.IDNumber, "9999999(9)"} {
		start := time.Now()
		w.browser().activateStep1(storage.KindStaff, number, doc, "ZZZZZ-ZZZZZ")
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("step 1 with ID %s answered in %v, under the padded floor", doc, d)
		}
	}
}

// expiredSessionCookie reports whether p clears the session cookie.
func expiredSessionCookie(p page) bool {
	for _, c := range p.Cookies() {
		if c.Name == "idp_session" && c.Value == "" && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

// TestSignOutClearsCookie: every sign-out also expires the cookie in the
// browser, not only the server session.
func TestSignOutClearsCookie(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])

	// RP-initiated logout with id_token_hint.
	b := idp.browser()
	tok, _ := b.tokens(r, "staff01")
	end := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {web.PostLogoutRedirectURIs[0]}}
	p := b.get(r.discovery(t, "end_session_endpoint") + "?" + end.Encode())
	if !strings.HasPrefix(p.location(t), web.PostLogoutRedirectURIs[0]) || !expiredSessionCookie(p) {
		t.Errorf("end_session: %d to %s, cookie cleared %v", p.StatusCode, p.Header.Get("Location"), expiredSessionCookie(p))
	}

	// The portal's sign-out.
	staff := idp.login("staff01")
	b = idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	home := b.accountPage(idp.portal("/account"))
	p = b.post(idp.portal("/account/logout"), url.Values{"csrf_token": {submatch(csrfField, home.Body)}})
	if p.StatusCode != http.StatusSeeOther || !expiredSessionCookie(p) {
		t.Errorf("portal sign-out: %d, cookie cleared %v", p.StatusCode, expiredSessionCookie(p))
	}
}

// TestRefusalPagesAndStatic: the provider's own refusals carry the headers
// of our pages, and /static/ lists nothing.
func TestRefusalPagesAndStatic(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	for what, u := range map[string]string{
		"unknown client":       r.authorizeURL(authorizeQuery(r, map[string]string{"client_id": "nobody"})),
		"missing client_id":    r.authorizeURL(authorizeQuery(r, map[string]string{"client_id": ""})),
		"unregistered":         r.authorizeURL(authorizeQuery(r, map[string]string{"redirect_uri": "https://evil.example/cb"})),
		"callback unknown id":  b.abs(idp.issuerPath() + "/authorize/callback?id=nonsense"),
		"end_session redirect": r.discovery(t, "end_session_endpoint") + "?client_id=" + web.ClientID + "&post_logout_redirect_uri=https://evil.example/",
	} {
		p := b.get(u)
		if p.StatusCode < 400 || p.StatusCode >= 500 {
			t.Errorf("%s: status %d", what, p.StatusCode)
		}
		wantPageHeaders(t, what, p)
	}
	for _, path := range []string{"/static/", "/static", "/static/style.css/"} {
		if p := b.get(idp.issuerPath() + path); p.StatusCode != http.StatusNotFound && p.StatusCode != http.StatusMovedPermanently {
			t.Errorf("GET %s = %d: %.200s", path, p.StatusCode, p.Body)
		}
	}
	if p := b.get(idp.issuerPath() + "/static/style.css"); p.StatusCode != http.StatusOK {
		t.Errorf("GET /static/style.css = %d", p.StatusCode)
	}
}

// TestBadBytesAtActivation: the activation and resend pages answer bad
// bytes as wrong values, never as an outage.
func TestBadBytesAtActivation(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	const number = "03-000331"
	spec := standardEntity(number)
	w.newEntity(t, spec)
	admin := spec.Admins[0]
	for name, v := range badValues {
		p := w.browser().activateStep1(storage.KindStaff, v, admin.IDNumber, "ZZZZZ-ZZZZZ")
		wantActError(t, name+" in the entity number", p, http.StatusUnauthorized, "activate_error_mismatch")
		p = w.browser().activateStep1(storage.KindStaff, number, v, "ZZZZZ-ZZZZZ")
		wantActError(t, name+" in the ID number", p, http.StatusUnauthorized, "activate_error_mismatch")
		p = w.browser().activateStep1(storage.KindEntityAccount, number, v, "ZZZZZ-ZZZZZ")
		wantActError(t, name+" in the application number", p, http.StatusUnauthorized, "activate_error_mismatch")
		for field, fields := range map[string]url.Values{
			"entity number": {"kind": {"staff"}, "entity_number": {v}, "id_doc_number": {admin.IDNumber}, "birth_date": {admin.BirthDate}},
			"ID number":     {"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {v}, "birth_date": {admin.BirthDate}},
			"birth date":    {"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {admin.IDNumber}, "birth_date": {v}},
		} {
			if p := w.browser().resend(fields); p.StatusCode != http.StatusOK && p.StatusCode != http.StatusBadRequest {
				t.Errorf("%s in the resend %s: status %d", name, field, p.StatusCode)
			}
		}
	}
}

// TestClientMistakesLogNoErrors: a client's or a browser's mistake is logged
// at info or warn; an ERROR line means something an operator must act on.
// (Not parallel: it captures the process's log.)
func TestClientMistakesLogNoErrors(t *testing.T) {
	logs := captureLogs(t)

	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	b.get(r.authorizeURL(authorizeQuery(r, map[string]string{"client_id": ""})))
	b.get(r.authorizeURL(authorizeQuery(r, map[string]string{"client_id": "no-such-client"})))
	b.get(r.authorizeURL(authorizeQuery(r, map[string]string{"redirect_uri": "https://evil.example/"})))
	b.get(idp.issuerPath() + "/authorize/callback?id=nonsense")
	b.get(idp.issuerPath() + "/login?authRequestID=nonsense")
	b.get(r.discovery(t, "end_session_endpoint") + "?%zz")
	token := r.oauth.Endpoint.TokenURL
	_, _, _ = rawTokenPost(token, "no-such-client", "x", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}})
	_, _, _ = rawTokenPost(token, web.ClientID, "wrong", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}})
	_, _, _ = rawTokenPost(r.discovery(t, "introspection_endpoint"), "no-such-client", "x", url.Values{"token": {"x"}})
	_, _, _ = rawTokenPost(r.discovery(t, "revocation_endpoint"), "no-such-client", "x", url.Values{"token": {"x"}})
	req, _ := http.NewRequest(http.MethodPost, token, strings.NewReader("grant_type=refresh_token&refresh_token=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.do(req)

	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=ERROR") {
			t.Errorf("a client's mistake logged at ERROR: %s", line)
		}
	}
}
