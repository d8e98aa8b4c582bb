package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/templates"
)

// The admission of authorization requests, end to end: a real node over
// Postgres and Redis, browsers with cookie jars of their own.

// getFrom sends a GET as from address (X-Forwarded-For, for a node behind
// a trusted proxy) with optional extra headers.
func (b *browser) getFrom(u, address string, header ...string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.abs(u), nil)
	if address != "" {
		req.Header.Set("X-Forwarded-For", address)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// reachesForm opens a fresh authorization request and reports whether it
// led to the sign-in form; otherwise the page it got.
func (b *browser) reachesForm(r *rp, address string) (bool, page) {
	b.t.Helper()
	first := b.getFrom(r.authURL(newAuthParams(b.t)), address)
	if first.StatusCode != http.StatusFound {
		return false, first
	}
	login := b.getFrom(first.location(b.t), address)
	return strings.Contains(login.Body, `name="entity_number"`), login
}

// burst sends n browsers (fresh cookie jars: first visits) at once from
// one address and returns how many reached the form, and the other pages.
func burst(idp *testIDP, r *rp, n int, address string) (int, []page) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	reached, others := 0, []page(nil)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, p := idp.browser().reachesForm(r, address)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				reached++
			} else {
				others = append(others, p)
			}
		}()
	}
	wg.Wait()
	return reached, others
}

// catalogueMessage is message key of lang with its %d filled.
func catalogueMessage(t *testing.T, lang, key string, n int) string {
	t.Helper()
	c, err := templates.Catalogue(lang)
	if err != nil || c[key] == "" {
		t.Fatalf("catalogue %s: no %s (%v)", lang, key, err)
	}
	if strings.Contains(c[key], "%d") {
		return fmt.Sprintf(c[key], n)
	}
	return c[key]
}

// wantWaitPage checks a refusal page: status, Retry-After N, and the
// message with the same N in lang; never the "invalid request" message.
func wantWaitPage(t *testing.T, p page, status int, lang, key string) int {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("status %d, want %d: %.300s", p.StatusCode, status, p.Body)
	}
	n, err := strconv.Atoi(p.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("Retry-After %q", p.Header.Get("Retry-After"))
	}
	body := html.UnescapeString(p.Body)
	if want := catalogueMessage(t, lang, key, n); !strings.Contains(body, want) {
		t.Errorf("page does not say %q:\n%.600s", want, body)
	}
	if invalid := catalogueMessage(t, lang, "error_request_invalid", 0); strings.Contains(body, invalid) {
		t.Errorf("the wait page says the request is invalid")
	}
	return n
}

// TestNATBurstReachesSignIn: with the defaults, 50 people behind one
// address (each a first visit, its own cookie jar) start signing in at the
// same moment, and 50 more a second later: every one reaches the sign-in
// form. (The old limit, 60 a minute per address, turned the 61st away.)
func TestNATBurstReachesSignIn(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	for i := range 2 {
		if i > 0 {
			time.Sleep(time.Second)
		}
		if reached, others := burst(idp, r, 50, ""); reached != 50 {
			t.Fatalf("burst %d: %d of 50 reached the form; first other: %d %.300s", i+1, reached, others[0].StatusCode, others[0].Body)
		}
	}
}

// TestNATOverTheWindow: the same with time scaled by configuration (25 a
// second sustained, bursts of 50): 200 people in four bursts two seconds
// apart all reach the form; 250 more sent at once meet the address's
// ceiling, and those turned away are told to wait, in their language, with
// Retry-After, and counted.
func TestNATOverTheWindow(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_AUTHORIZE_PER_IP_MINUTE": "1500", "IDP_AUTHORIZE_PER_IP_BURST": "50"})
	metrics := startMetrics(t, idp)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	for i := range 4 {
		if i > 0 {
			time.Sleep(2 * time.Second)
		}
		if reached, others := burst(idp, r, 50, ""); reached != 50 {
			t.Fatalf("burst %d: %d of 50 reached the form; first other: %d %.300s", i+1, reached, others[0].StatusCode, others[0].Body)
		}
	}
	before := scrapeMetrics(t, metrics).sum("idp_authorize_refused_total", `reason="address"`)
	time.Sleep(2 * time.Second)
	reached, others := burst(idp, r, 250, "")
	if reached == 250 || reached < 50 {
		t.Fatalf("250 at once: %d reached the form, want the burst (50) and the ceiling to turn the rest away", reached)
	}
	for _, p := range others {
		wantWaitPage(t, p, http.StatusTooManyRequests, "zh-Hant", "error_authorize_address")
	}
	if got := scrapeMetrics(t, metrics).sum("idp_authorize_refused_total", `reason="address"`) - before; got < float64(len(others)) {
		t.Errorf("idp_authorize_refused_total{reason=address} grew by %v, want at least %d", got, len(others))
	}
}

// TestWaitPageInEachLanguage: a person over the address's ceiling is told
// "too many sign-ins from your network; try again in N seconds" in the
// language the e-service asked for (ui_locales) or the browser prefers,
// with the same N in Retry-After; never that the request is invalid.
// (The old per-minute limit of 60 answered with the invalid-request page.)
func TestWaitPageInEachLanguage(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_AUTHORIZE_PER_IP_MINUTE": "1", "IDP_AUTHORIZE_PER_IP_BURST": "1"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	if ok, p := idp.browser().reachesForm(r, ""); !ok {
		t.Fatalf("first request: %d %.300s", p.StatusCode, p.Body)
	}
	for _, tc := range []struct {
		lang, uiLocales, acceptLanguage string
	}{
		{"zh-Hant", "zh-Hant", ""}, {"pt", "pt", ""}, {"en", "en", ""},
		{"pt", "", "pt-PT,pt;q=0.9"}, {"en", "", "en-GB"}, {"zh-Hant", "", ""},
	} {
		p := newAuthParams(t)
		if tc.uiLocales != "" {
			p.Extra = url.Values{"ui_locales": {tc.uiLocales}}
		}
		page := idp.browser().getFrom(r.authURL(p), "", "Accept-Language", tc.acceptLanguage)
		n := wantWaitPage(t, page, http.StatusTooManyRequests, tc.lang, "error_authorize_address")
		if n < 50 || n > 60 {
			t.Errorf("%s: wait %d s, want the rest of the minute", tc.lang, n)
		}
	}
}

// TestOneBrowserFloodIsBounded: one browser sending request after request
// holds at most IDP_AUTHORIZE_PER_BROWSER open requests (plus its first,
// made before it had our cookie); the rest are turned away with the
// browser's own message while another browser behind the same address goes
// on.
func TestOneBrowserFloodIsBounded(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_AUTHORIZE_PER_BROWSER": "3"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	reached, refused := 0, 0
	for range 40 {
		p := b.get(r.authURL(newAuthParams(t)))
		switch p.StatusCode {
		case http.StatusFound:
			reached++
		default:
			refused++
			wantWaitPage(t, p, http.StatusTooManyRequests, "zh-Hant", "error_authorize_browser")
		}
	}
	if reached != 4 {
		t.Errorf("%d of 40 admitted, want 4 (the first without a cookie, then 3)", reached)
	}
	if n := countKeys(t, idp, "ar:{*}"); n != 4 {
		t.Errorf("%d auth requests stored, want 4", n)
	}
	if ok, p := idp.browser().reachesForm(r, ""); !ok {
		t.Errorf("another browser behind the same address: %d %.300s", p.StatusCode, p.Body)
	}
}

// TestBudgetHoldsUnderFlood: a flood from many addresses (a trusted proxy's
// X-Forwarded-For) never makes Redis hold more open requests than
// IDP_AUTH_REQUEST_BUDGET; while every one is younger than the grace,
// newcomers get the busy page (503, Retry-After); after it, the oldest make
// room; and a flood going on meanwhile cannot take a person's request
// within the grace: the person signs in.
func TestBudgetHoldsUnderFlood(t *testing.T) {
	t.Parallel()
	const budget, grace = 30, 8 * time.Second
	idp := startIDP(t, map[string]string{"IDP_TRUST_PROXY": "true", "IDP_AUTH_REQUEST_BUDGET": strconv.Itoa(budget),
		"IDP_AUTHORIZE_PER_IP_BURST": "10", "IDP_AUTH_REQUEST_GRACE": grace.String()})
	metrics := startMetrics(t, idp)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	var addr int
	// one sends a bot's request (no cookie) from a new address.
	one := func() int {
		addr++
		a := addr
		p := idp.browser().getFrom(r.authURL(newAuthParams(t)), fmt.Sprintf("10.9.%d.%d", a>>8&255, a&255))
		switch p.StatusCode {
		case http.StatusFound:
		case http.StatusServiceUnavailable:
			if s := wantWaitPage(t, p, http.StatusServiceUnavailable, "zh-Hant", "error_authorize_busy"); s > int(grace/time.Second) {
				t.Errorf("busy page: wait %d s, longer than the grace", s)
			}
		default:
			t.Errorf("flood: %d %.300s", p.StatusCode, p.Body)
		}
		// Open requests: stored and not signed in.
		if n := countKeys(t, idp, "ar:{*}") - countKeys(t, idp, "ar:{*}:auth"); n > budget {
			t.Errorf("%d open auth requests stored, budget %d", n, budget)
		}
		return p.StatusCode
	}
	start := time.Now()
	admitted, busy := 0, 0
	for range budget + 15 {
		if one() == http.StatusFound {
			admitted++
		} else {
			busy++
		}
	}
	if time.Since(start) >= grace {
		t.Fatalf("the first flood took %v, longer than the grace: the test cannot tell", time.Since(start))
	}
	if admitted != budget || busy != 15 {
		t.Fatalf("first flood: %d admitted, %d busy; want %d and 15", admitted, busy, budget)
	}
	recBytes, bookBytes := memoryOf(t, idp)
	t.Logf("after %d from as many addresses, budget %d: %d records, %d bytes; bookkeeping %d bytes",
		budget+15, budget, countKeys(t, idp, "ar:{*}"), recBytes, bookBytes)

	// After the grace a person comes, and the flood goes on while the person
	// signs in: it takes the old requests' places, never the person's.
	time.Sleep(time.Until(start.Add(grace + 200*time.Millisecond)))
	dropsBefore := scrapeMetrics(t, metrics).sum("idp_auth_requests_dropped_total", `reason="budget"`)
	person := idp.browser()
	params := newAuthParams(t)
	first := person.getFrom(r.authURL(params), "198.51.100.77")
	if first.StatusCode != http.StatusFound {
		t.Fatalf("the person after the grace: %d %.300s", first.StatusCode, first.Body)
	}
	form := person.getFrom(first.location(t), "198.51.100.77").form(t)
	admitted, busy = 0, 0
	for range budget + 15 {
		if one() == http.StatusFound {
			admitted++
		} else {
			busy++
		}
	}
	if admitted != budget-1 || busy != 16 {
		t.Errorf("flood after the grace: %d admitted, %d busy; want %d (the old ones' places) and 16", admitted, busy, budget-1)
	}
	if since := time.Since(start.Add(grace + 200*time.Millisecond)); since >= grace-time.Second {
		t.Fatalf("the second flood took %v, too close to the grace: the test cannot tell", since)
	}
	l := idp.login("staff01")
	cb := person.followToRP(person.submit(form, idp.demo.EntityNumber, l.Username, l.Password))
	if cb.Get("code") == "" {
		t.Fatalf("the person could not sign in: %v", cb)
	}
	if _, err := r.exchange(cb.Get("code"), params.Verifier); err != nil {
		t.Fatal(err)
	}
	drops := scrapeMetrics(t, metrics).sum("idp_auth_requests_dropped_total", `reason="budget"`) - dropsBefore
	if drops < float64(budget) {
		t.Errorf("the person and the flood took %d places, idp_auth_requests_dropped_total{reason=budget} grew by %v", budget, drops)
	}
	recBytes, bookBytes = memoryOf(t, idp)
	t.Logf("%d more while a person signed in: %d records, %d bytes; bookkeeping %d bytes",
		budget+15, countKeys(t, idp, "ar:{*}"), recBytes, bookBytes)
}

// countKeys counts the node's keys matching pattern (after its prefix):
// "ar:{*}" the auth requests, "ar:{*}:auth" those signed in.
func countKeys(t *testing.T, idp *testIDP, pattern string) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	iter := idp.app.rdb.Scan(ctx, 0, idp.app.cfg.RedisPrefix+pattern, 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// memoryOf sums MEMORY USAGE of the auth request records (ar:) and of the
// admission's bookkeeping (arq:).
func memoryOf(t *testing.T, idp *testIDP) (records, bookkeeping int64) {
	t.Helper()
	ctx := context.Background()
	for pattern, sum := range map[string]*int64{"ar:{*": &records, "arq:{*": &bookkeeping} {
		iter := idp.app.rdb.Scan(ctx, 0, idp.app.cfg.RedisPrefix+pattern, 1000).Iterator()
		for iter.Next(ctx) {
			if n, err := idp.app.rdb.MemoryUsage(ctx, iter.Val()).Result(); err == nil {
				*sum += n
			}
		}
	}
	return records, bookkeeping
}

// TestRefusedRequestGivesItsPlaceBack: a request the engine refuses before
// storing it (an unregistered redirect_uri) holds no place in the budget:
// after any number of them, people are still admitted.
func TestRefusedRequestGivesItsPlaceBack(t *testing.T) {
	t.Parallel()
	// The address's bucket: 2 at once, one more every 500 ms (a burst
	// covers at least a second of the rate).
	idp := startIDP(t, map[string]string{"IDP_AUTH_REQUEST_BUDGET": "2", "IDP_AUTHORIZE_PER_IP_BURST": "2",
		"IDP_AUTHORIZE_PER_IP_MINUTE": "120"})
	web := idp.client(demoWebClient)
	bad := idp.rp(web, idp.rpURL+"/not-registered")
	good := idp.rp(web, web.RedirectURIs[0])
	for i := range 5 {
		if p := idp.browser().get(bad.authURL(newAuthParams(t))); p.StatusCode != http.StatusBadRequest {
			t.Fatalf("unregistered redirect_uri %d: %d %.300s", i, p.StatusCode, p.Body)
		}
		time.Sleep(510 * time.Millisecond) // the address's interval: 500 ms
	}
	for i := range 2 {
		if ok, p := idp.browser().reachesForm(good, ""); !ok {
			t.Fatalf("person %d after the refused requests: %d %.300s", i+1, p.StatusCode, p.Body)
		}
		time.Sleep(510 * time.Millisecond)
	}
	if p := idp.browser().get(good.authURL(newAuthParams(t))); p.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a third open request in a budget of 2: %d, want the busy page", p.StatusCode)
	}
}

// TestAdmissionAcrossNodes: two nodes over the same stores share the
// admission: a browser's open requests count on whichever node it reaches.
func TestAdmissionAcrossNodes(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_AUTHORIZE_PER_BROWSER": "3"})
	second, err := newApp(context.Background(), idp.app.cfg, idp.app.pg, idp.app.redis, idp.app.rdb)
	if err != nil {
		t.Fatal(err)
	}
	nodeB := httptest.NewServer(second.handler)
	t.Cleanup(nodeB.Close)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	statuses := []int{}
	for i := range 8 {
		u, _ := url.Parse(r.authURL(newAuthParams(t)))
		if i%2 == 1 {
			u.Host = strings.TrimPrefix(nodeB.URL, "http://") // the same host, another port: the same cookies
		}
		statuses = append(statuses, b.get(u.String()).StatusCode)
	}
	want := []int{302, 302, 302, 302, 429, 429, 429, 429} // the first without a cookie, then 3 open
	if !slices.Equal(statuses, want) {
		t.Fatalf("statuses alternating between two nodes: %v, want %v", statuses, want)
	}
}
