package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/entity-account/idp/op/telemetry"
)

// startMetrics serves the node's metrics on a listener of their own, as
// `idp serve` does with IDP_METRICS_LISTEN, and returns its address.
func startMetrics(t *testing.T, idp *testIDP) string {
	t.Helper()
	addr, stop, err := serveMetrics("127.0.0.1:0", idp.app.pg.OutboxBacklog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return addr.String()
}

// metricSamples is one scrape: series ("name{labels}") → value.
type metricSamples map[string]float64

func scrapeMetrics(t *testing.T, addr string) metricSamples {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %s", resp.StatusCode, body)
	}
	out := metricSamples{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// sum adds the series of name whose labels include every pair of want
// (given as `key="value"`).
func (m metricSamples) sum(name string, want ...string) float64 {
	var total float64
	for series, v := range m {
		base, labels, _ := strings.Cut(series, "{")
		if base != name {
			continue
		}
		ok := true
		for _, w := range want {
			if !strings.Contains(","+labels, ","+w+",") && !strings.HasSuffix(","+labels, ","+w+"}") {
				ok = false
				break
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

func (m metricSamples) has(name string) bool {
	for series := range m {
		if base, _, _ := strings.Cut(series, "{"); base == name {
			return true
		}
	}
	return false
}

var routeLabel = regexp.MustCompile(`route="([^"]*)"`)

// routes returns the route labels of the latency histogram.
func (m metricSamples) routes() map[string]bool {
	out := map[string]bool{}
	for series := range m {
		if strings.HasPrefix(series, "idp_http_request_duration_seconds_count{") {
			out[routeLabel.FindStringSubmatch(series)[1]] = true
		}
	}
	return out
}

// TestMetricsAfterJourneys scrapes /metrics on its own listener around a
// sign-in, a code exchange, failed token requests and a scanner's random
// paths, and checks what moved and that paths never become labels.
func TestMetricsAfterJourneys(t *testing.T) {
	idp := startIDP(t, nil)
	addr := startMetrics(t, idp)
	// The provider's own listener does not serve them.
	if p := idp.browser().get("/metrics"); p.StatusCode == http.StatusOK {
		t.Fatalf("/metrics answered on the provider's listener: %.200s", p.Body)
	}
	before := scrapeMetrics(t, addr)

	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	p := newAuthParams(t)
	cb := idp.browser().signIn(r, p, "admin01")
	tok, err := r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	tokenURL := r.oauth.Endpoint.TokenURL
	// The code again: a replay, invalid_grant.
	if status, _ := r.postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {web.RedirectURIs[0]}, "code_verifier": {p.Verifier}}, true); status != http.StatusBadRequest {
		t.Fatalf("replayed code: %d", status)
	}
	// Signing in again for a refresh token that was not revoked by the replay.
	p2 := newAuthParams(t)
	cb2 := idp.browser().signIn(r, p2, "staff01")
	tok2, err := r.exchange(cb2.Get("code"), p2.Verifier)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok2.RefreshToken}}
	if status, _ := r.postForm(t, tokenURL, refresh, true); status != http.StatusOK {
		t.Fatalf("refresh: %d", status)
	}
	if status, _ := r.postForm(t, tokenURL, refresh, true); status != http.StatusBadRequest {
		t.Fatalf("reused refresh token: %d", status)
	}
	if status, _ := r.postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-token"}}, true); status != http.StatusBadRequest {
		t.Fatalf("bogus refresh token: %d", status)
	}
	if status, out := r.postForm(t, tokenURL, url.Values{"grant_type": {"password"}}, true); status != http.StatusBadRequest || out["error"] != "unsupported_grant_type" {
		t.Fatalf("password grant: %d %v", status, out)
	}
	// A wrong password, and a token request the edge refuses before the library.
	wrong := idp.browser()
	if p := wrong.submit(wrong.startLogin(r, newAuthParams(t)).form(t), idp.demo.EntityNumber, "staff01", "not-the-password"); p.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", p.StatusCode)
	}
	if status, out := r.postForm(t, tokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "code_verifier": {"short"}}, true); status != http.StatusBadRequest || out["error"] != "invalid_request" {
		t.Fatalf("short verifier: %d %v", status, out)
	}
	// A scanner: 50 random paths, below the issuer and elsewhere.
	var random []string
	b := idp.browser()
	for i := range 50 {
		path := idp.issuerPath() + "/" + telemetry.NewRequestID()
		if i%2 == 1 {
			path = "/" + telemetry.NewRequestID() + "/wp-login.php"
		}
		random = append(random, path)
		b.get(path)
	}

	after := scrapeMetrics(t, addr)
	moved := func(name string, want float64, labels ...string) {
		t.Helper()
		if d := after.sum(name, labels...) - before.sum(name, labels...); d < want {
			t.Errorf("%s%v moved by %v, want at least %v", name, labels, d, want)
		}
	}
	moved("idp_token_grants_total", 2, `grant_type="authorization_code"`, `outcome="success"`)
	moved("idp_token_grants_total", 1, `grant_type="authorization_code"`, `outcome="invalid_grant"`)
	moved("idp_token_grants_total", 1, `grant_type="refresh_token"`, `outcome="success"`)
	moved("idp_token_grants_total", 2, `grant_type="refresh_token"`, `outcome="invalid_grant"`)
	moved("idp_token_grants_total", 1, `grant_type="other"`, `outcome="unsupported_grant_type"`)
	moved("idp_token_grants_total", 1, `grant_type="authorization_code"`, `outcome="invalid_request"`)
	moved("idp_signins_total", 2, `outcome="success"`)
	moved("idp_signins_total", 1, `outcome="bad_credentials"`)
	moved("idp_code_replays_total", 1)
	moved("idp_refresh_reuse_total", 1)
	moved("idp_password_hash_wait_seconds_count", 2)
	moved("idp_http_request_duration_seconds_count", 2, `route="/login"`, `method="POST"`)
	moved("idp_http_request_duration_seconds_count", 2, `route="/authorize"`, `method="GET"`)
	moved("idp_http_request_duration_seconds_count", 6, `route="/oauth/token"`, `method="POST"`)
	moved("idp_http_request_duration_seconds_count", 50, `route="other"`, `method="GET"`, `code="404"`)
	// The store clients' traffic, that of requests apart (two sign-ins
	// alone send dozens of Redis commands and a few Postgres statements).
	moved("idp_redis_commands_total", 40, `origin="request"`)
	moved("idp_redis_scripts_total", 10, `origin="request"`)
	moved("idp_redis_round_trips_total", 20, `origin="request"`)
	moved("idp_postgres_queries_total", 4, `origin="request"`)
	moved("idp_postgres_round_trips_total", 4, `origin="request"`)

	routes := after.routes()
	for _, path := range random {
		if routes[path] {
			t.Fatalf("a random path became a route label: %s", path)
		}
	}
	for route := range routes {
		if route != "other" && !strings.HasPrefix(route, "/") {
			t.Errorf("odd route label %q", route)
		}
	}
	if len(routes) > 40 {
		t.Errorf("%d route labels: %v", len(routes), routes)
	}
	for _, name := range []string{"idp_outbox_backlog", "idp_store_failures_total", "idp_password_hash_in_flight",
		"idp_password_hash_waiting", "go_goroutines", "process_cpu_seconds_total"} {
		if !after.has(name) {
			t.Errorf("scrape lacks %s", name)
		}
	}
	// Every sign-in outcome is a series from the start (the sign-in pages
	// report to telemetry.SignIn).
	for _, o := range []string{"success", "bad_credentials", "throttled", "busy", "refused"} {
		if _, ok := after[`idp_signins_total{outcome="`+o+`"}`]; !ok {
			t.Errorf("scrape lacks idp_signins_total{outcome=%q}", o)
		}
	}
}

// TestMetricsStoreFailures: with Redis gone, the provider's failed store
// calls are counted by store, and the token endpoint's answer is counted as
// temporarily_unavailable.
func TestMetricsStoreFailures(t *testing.T) {
	idp := startIDP(t, nil)
	addr := startMetrics(t, idp)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	before := scrapeMetrics(t, addr)
	idp.app.rdb.Close() // every Redis call of this node now fails
	status, out := r.postForm(t, r.oauth.Endpoint.TokenURL, url.Values{"grant_type": {"authorization_code"}, "code": {"x"},
		"redirect_uri": {web.RedirectURIs[0]}, "code_verifier": {oauth2.GenerateVerifier()}}, true)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("token with Redis gone: %d %v", status, out)
	}
	after := scrapeMetrics(t, addr)
	if d := after.sum("idp_store_failures_total", `store="redis"`) - before.sum("idp_store_failures_total", `store="redis"`); d < 1 {
		t.Errorf("redis failures moved by %v", d)
	}
	if d := after.sum("idp_token_grants_total", `grant_type="authorization_code"`, `outcome="temporarily_unavailable"`) -
		before.sum("idp_token_grants_total", `grant_type="authorization_code"`, `outcome="temporarily_unavailable"`); d < 1 {
		t.Errorf("temporarily_unavailable token answers moved by %v", d)
	}
}

var generatedID = regexp.MustCompile(`^[A-Z2-7]{26}$`)

func requestWithID(t *testing.T, u, id string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if id != "" {
		req.Header.Set("X-Request-ID", id)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestRequestIDFromProxy: an X-Request-ID is taken only behind a trusted
// proxy and only when well-formed; every answer, the provider's included,
// carries one.
func TestRequestIDFromProxy(t *testing.T) {
	untrusted := startIDP(t, nil)
	trusted := startIDP(t, map[string]string{"IDP_TRUST_PROXY": "true"})
	for _, tc := range []struct {
		name string
		idp  *testIDP
		sent string
		keep bool
	}{
		{"absent", untrusted, "", false},
		{"absent behind a proxy", trusted, "", false},
		{"not trusted", untrusted, "lb-4f2a.9_Z", false},
		{"trusted and valid", trusted, "lb-4f2a.9_Z", true},
		{"trusted, 200 characters", trusted, strings.Repeat("a", 200), false},
		{"trusted, a space", trusted, "a b", false},
		{"trusted, mark-up", trusted, "<b>x</b>", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/healthz", tc.idp.issuerPath() + "/.well-known/openid-configuration", tc.idp.issuerPath() + "/login"} {
				got := requestWithID(t, tc.idp.issuer[:len(tc.idp.issuer)-len(tc.idp.issuerPath())]+path, tc.sent).Header.Get("X-Request-ID")
				if tc.keep && got != tc.sent {
					t.Errorf("%s: X-Request-ID %q, want the proxy's %q", path, got, tc.sent)
				}
				if !tc.keep && !generatedID.MatchString(got) {
					t.Errorf("%s: X-Request-ID %q, want a generated id", path, got)
				}
			}
		})
	}
}

// lockedBuffer is a log sink that the server's goroutines and the test may
// use at once.
// captureLogs sends the process's log, at every level and through the
// provider's handler (request ids), to a buffer until the test ends. A test
// that calls it must not run in parallel.
func captureLogs(t *testing.T) *lockedBuffer {
	logs := &lockedBuffer{}
	old := slog.Default()
	slog.SetDefault(slog.New(telemetry.LogHandler(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	t.Cleanup(func() { slog.SetDefault(old) })
	return logs
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRequestIDOnErrorPagesAndLogs: the 400 page of a refused authorize
// request and the 503 page of a store outage show the request's id as a
// reference, the same as X-Request-ID, and the log line of the refusal
// carries it as request_id.
func TestRequestIDOnErrorPagesAndLogs(t *testing.T) {
	logs := captureLogs(t)

	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	q := url.Values{"client_id": {"no-such-client"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {web.RedirectURIs[0]}, "state": {"s1"}, "code_challenge": {s256("v")}, "code_challenge_method": {"S256"}}
	refused := idp.browser().get(r.authorizeURL(q))
	if refused.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown client: %d", refused.StatusCode)
	}
	id := refused.Header.Get("X-Request-ID")
	if !generatedID.MatchString(id) {
		t.Fatalf("X-Request-ID %q", id)
	}
	mustContain(t, refused.Body, "參考編號")
	mustContain(t, refused.Body, "<code>"+id+"</code>")
	var logged bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "protocol request refused") && strings.Contains(line, "request_id="+id) {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no log line of the refusal with request_id=%s in:\n%s", id, logs.String())
	}

	// A page that is not an error shows no reference.
	if p := idp.browser().get(idp.issuerPath() + "/logged-out?lang=en"); p.StatusCode != http.StatusOK || strings.Contains(p.Body, "Reference") {
		t.Errorf("signed-out page: %d, shows a reference: %v", p.StatusCode, strings.Contains(p.Body, "Reference"))
	}

	// The "try again shortly" page, in Portuguese, with Redis gone.
	idp.app.rdb.Close()
	p := idp.browser().get(idp.issuerPath() + "/login?authRequestID=" + telemetry.NewRequestID() + "&lang=pt")
	if p.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("login page with Redis gone: %d %.300s", p.StatusCode, p.Body)
	}
	id = p.Header.Get("X-Request-ID")
	mustContain(t, p.Body, "Referência")
	mustContain(t, p.Body, "<code>"+id+"</code>")
}
