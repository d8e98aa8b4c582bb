//go:build linux

package main

// Blinks: Redis or Postgres goes away under a light load and comes back.
// Each test runs a node in-process (the same app and connection pools from
// start to end: no restart) on a PRIVATE Redis or Postgres that the test
// starts, stops and starts again; the shared services are never touched.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
)

// cheapHashes keeps argon2 fast: these tests are about stores, not hashing.
var cheapHashes = map[string]string{"IDP_ARGON2_MEMORY_KIB": "8192", "IDP_ARGON2_ITERATIONS": "1",
	// The load comes from one address: the per-address limit would refuse it.
	"IDP_AUTHORIZE_PER_IP_MINUTE": "1000000", "IDP_AUTHORIZE_PER_IP_BURST": "50000"}

// TestBlinkRedis restarts Redis (without persistence) under load.
func TestBlinkRedis(t *testing.T) {
	started := time.Now()
	redis := startPrivateRedis(t)
	env := map[string]string{"IDP_REDIS_URL": redis.url()}
	for k, v := range cheapHashes {
		env[k] = v
	}
	idp := startIDP(t, env)
	w := newHopWorld(t, idp.issuer, map[string]string{"A": idp.srv.Listener.Addr().String()}, idp.demo)
	ctx := t.Context()
	admin := w.login("admin01")

	// Before: a signed-in user with tokens.
	b0, rp0 := w.newHop(true), w.newHop(false)
	before, err := w.journey(ctx, b0, rp0, routeAll("A"), admin)
	if err != nil {
		t.Fatalf("journey before the blink: %v", err)
	}

	load := startLoad(t, w, 2)
	readyz, readyzDone := w.watchReadyz(load.ctx, "A", 50*time.Millisecond)
	load.waitSuccesses(t, 2)

	redis.stop(t)
	downAt := time.Now()
	if !waitFor(10*time.Second, func() bool { return slices.Contains(readyz.sequence(), 503) }) {
		t.Fatalf("/readyz never turned 503 with Redis down: %v", readyz.sequence())
	}
	api := w.newHop(false).on("A")
	t.Run("while Redis is down", func(t *testing.T) {
		assertReadyz(t, api, map[string]string{"redis": "unreachable", "postgres": "ok"})
		assertStillServed(t, api)
		// Every protocol endpoint that needs Redis says "try again shortly".
		assertTemporarilyUnavailable(t, api, http.MethodPost, "/oauth/token",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {before.refreshed.RefreshToken}}, "")
		assertTemporarilyUnavailable(t, api, http.MethodPost, "/oauth/token",
			url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "redirect_uri": {w.web.RedirectURIs[0]}, "code_verifier": {oauth2.GenerateVerifier()}}, "")
		assertTemporarilyUnavailable(t, api, http.MethodGet, "/userinfo", nil, before.refreshed.AccessToken)
		assertTemporarilyUnavailable(t, api, http.MethodPost, "/oauth/introspect", url.Values{"token": {before.refreshed.AccessToken}}, "")
		// authorize: the request cannot be stored; the client learns why.
		state := rand.Text()
		p := mustGet(t, w.newHop(true).on("A"), w.oauth().AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), http.StatusFound)
		cb, _ := url.Parse(p.Header.Get("Location"))
		if !strings.HasPrefix(cb.String(), w.web.RedirectURIs[0]) || cb.Query().Get("error") != "temporarily_unavailable" || cb.Query().Get("state") != state {
			t.Errorf("authorize with Redis down redirected to %s, want the client with error=temporarily_unavailable", cb)
		}
		assertTemporarilyUnavailable(t, api, http.MethodPost, "/revoke", url.Values{"token": {before.refreshed.AccessToken}, "token_type_hint": {"access_token"}}, "")
		// Browser pages that need a stored request: the 503 page.
		assertUnavailablePage(t, api, "/authorize/callback?id=anything")
		assertUnavailablePage(t, api, "/login?authRequestID=anything")
		// Logout cannot end the session now: the 503 page, and the browser
		// keeps its cookie to try again.
		bl := w.newHop(true).on("A")
		iss, _ := url.Parse(w.issuer)
		bl.c.Jar.SetCookies(iss, []*http.Cookie{{Name: "idp_session", Value: "some-session", Path: "/"}})
		assertUnavailablePage(t, bl, "/end_session?"+url.Values{"id_token_hint": {before.token.Extra("id_token").(string)},
			"post_logout_redirect_uri": {w.web.PostLogoutRedirectURIs[0]}, "state": {"s"}}.Encode())
		if cs := bl.c.Jar.Cookies(iss); len(cs) != 1 || cs[0].Value != "some-session" {
			t.Errorf("after a failed logout the browser's cookies are %v, want the session cookie kept", cs)
		}
	})

	time.Sleep(time.Until(downAt.Add(1500 * time.Millisecond))) // an outage of at least 1.5s
	redis.start(t)
	upAt := time.Now()
	if !waitFor(20*time.Second, func() bool { s := readyz.sequence(); return len(s) >= 3 && s[len(s)-1] == 200 }) {
		t.Fatalf("/readyz did not come back to 200 after Redis returned: %v", readyz.sequence())
	}
	t.Logf("Redis down %v; /readyz back to 200 %v after it returned", upAt.Sub(downAt).Round(time.Millisecond), time.Since(upAt).Round(time.Millisecond))
	load.waitSuccessesAfter(t, upAt, 2)
	load.stop()
	<-readyzDone
	load.report(t, upAt)
	assertReadyzSequence(t, readyz.sequence())

	t.Run("after Redis is back", func(t *testing.T) {
		// Accounts are untouched: the same password signs in on a new journey.
		if _, err := w.journey(ctx, w.newHop(true), w.newHop(false), routeAll("A"), admin); err != nil {
			t.Fatalf("sign-in after the blink: %v", err)
		}
		// What the restart without persistence cost: sessions, tokens.
		// (A well-formed token without a record: 401 invalid_token, RFC 6750.)
		assertStatus(t, api, http.MethodGet, "/userinfo", nil, before.refreshed.AccessToken, http.StatusUnauthorized)
		status, _, intro, err := api.api(ctx, http.MethodPost, "/oauth/introspect", url.Values{"token": {before.refreshed.AccessToken}}, "")
		if err != nil || status != http.StatusOK || intro["active"] != false {
			t.Errorf("introspection of an access token from before the blink = %v %d %v, want active:false", err, status, intro)
		}
		status, _, body, err := api.api(ctx, http.MethodPost, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {before.refreshed.RefreshToken}}, "")
		if err != nil || status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Errorf("refresh token from before the blink = %v %d %v, want 400 invalid_grant", err, status, body)
		}
		// The browser's session is gone: it is asked for the password again.
		p := mustGet(t, b0.on("A"), w.oauth().AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), http.StatusFound)
		p = mustGet(t, b0, p.Header.Get("Location"), http.StatusOK)
		p.form(t)
	})

	w.assertNoBadAnswers(t)
	t.Logf("whole test %v", time.Since(started).Round(time.Millisecond))
}

// TestBlinkPostgres restarts Postgres under load: the pgx pool recovers by itself.
func TestBlinkPostgres(t *testing.T) {
	started := time.Now()
	pg := startPrivatePostgres(t)
	// The claims cache is off so that every claim read reaches Postgres; with
	// it on, tokens used in the last seconds would keep answering meanwhile.
	env := map[string]string{"IDP_DATABASE_URL": pg.url(), "IDP_CLAIMS_CACHE_TTL": "0"}
	for k, v := range cheapHashes {
		env[k] = v
	}
	idp := startIDP(t, env)
	w := newHopWorld(t, idp.issuer, map[string]string{"A": idp.srv.Listener.Addr().String()}, idp.demo)
	ctx := t.Context()
	admin := w.login("admin01")

	b0, rp0 := w.newHop(true), w.newHop(false)
	before, err := w.journey(ctx, b0, rp0, routeAll("A"), admin)
	if err != nil {
		t.Fatalf("journey before the blink: %v", err)
	}

	// A sign-in that has its code but has not redeemed it yet.
	pendingCode, pendingVerifier := w.codeFor(t, admin)

	load := startLoad(t, w, 2)
	readyz, readyzDone := w.watchReadyz(load.ctx, "A", 50*time.Millisecond)
	load.waitSuccesses(t, 2)

	pg.stop(t)
	downAt := time.Now()
	if !waitFor(10*time.Second, func() bool { return slices.Contains(readyz.sequence(), 503) }) {
		t.Fatalf("/readyz never turned 503 with Postgres down: %v", readyz.sequence())
	}
	api := w.newHop(false).on("A")
	t.Run("while Postgres is down", func(t *testing.T) {
		assertReadyz(t, api, map[string]string{"redis": "ok", "postgres": "unreachable"})
		assertStillServed(t, api)
		// Claims come from Postgres: refresh, userinfo and introspection of
		// tokens issued before the outage wait for it.
		assertTemporarilyUnavailable(t, api, http.MethodPost, "/oauth/token",
			url.Values{"grant_type": {"refresh_token"}, "refresh_token": {before.refreshed.RefreshToken}}, "")
		assertTemporarilyUnavailable(t, api, http.MethodGet, "/userinfo", nil, before.refreshed.AccessToken)
		assertTemporarilyUnavailable(t, api, http.MethodPost, "/oauth/introspect", url.Values{"token": {before.refreshed.AccessToken}}, "")
		// The code exchange needs the claims from Postgres too.
		assertTemporarilyUnavailable(t, api, http.MethodPost, "/oauth/token", url.Values{"grant_type": {"authorization_code"},
			"code": {pendingCode}, "redirect_uri": {w.web.RedirectURIs[0]}, "code_verifier": {pendingVerifier}}, "")
		// No one can sign in: the password cannot be checked (503 page). The
		// authorization request itself is accepted (clients are cached).
		b := w.newHop(true).on("A")
		p := mustGet(t, b, w.oauth().AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), http.StatusFound)
		p = mustGet(t, b, p.Header.Get("Location"), http.StatusOK)
		f := p.form(t)
		p, err := b.postForm(ctx, "/login", url.Values{"authRequestID": {f.AuthRequestID}, "csrf_token": {f.CSRF},
			"entity_number": {w.demo.EntityNumber}, "username": {admin.Username}, "password": {admin.Password}})
		if err != nil || p.StatusCode != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" {
			t.Errorf("sign-in with Postgres down = %v %d (Retry-After %q), want the 503 page", err, p.statusCode(), p.Header.Get("Retry-After"))
		}
		// A browser with a live session is not let through either: the
		// session's account cannot be checked, so it gets the 503 page, not
		// a password form that could not be checked either.
		p = mustGet(t, b0.on("A"), w.oauth().AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), http.StatusFound)
		if p = mustGet(t, b0, p.Header.Get("Location"), http.StatusServiceUnavailable); p.Header.Get("Retry-After") == "" {
			t.Error("SSO with Postgres down: 503 without Retry-After")
		}
	})

	time.Sleep(time.Until(downAt.Add(1500 * time.Millisecond)))
	pg.start(t)
	upAt := time.Now()
	if !waitFor(30*time.Second, func() bool { s := readyz.sequence(); return len(s) >= 3 && s[len(s)-1] == 200 }) {
		t.Fatalf("/readyz did not come back to 200 after Postgres returned: %v", readyz.sequence())
	}
	t.Logf("Postgres down %v; /readyz back to 200 %v after it returned", upAt.Sub(downAt).Round(time.Millisecond), time.Since(upAt).Round(time.Millisecond))
	load.waitSuccessesAfter(t, upAt, 2)
	load.stop()
	<-readyzDone
	load.report(t, upAt)
	assertReadyzSequence(t, readyz.sequence())

	t.Run("after Postgres is back", func(t *testing.T) {
		if _, err := w.journey(ctx, w.newHop(true), w.newHop(false), routeAll("A"), admin); err != nil {
			t.Fatalf("sign-in after the blink: %v", err)
		}
		// Redis kept everything: tokens and the session from before work again.
		assertStatus(t, api, http.MethodGet, "/userinfo", nil, before.refreshed.AccessToken, http.StatusOK)
		if _, err := w.oauth().TokenSource(api.ctx(ctx), &oauth2.Token{RefreshToken: before.refreshed.RefreshToken}).Token(); err != nil {
			t.Errorf("refresh token from before the blink: %v", err)
		}
		p := mustGet(t, b0.on("A"), w.oauth().AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), http.StatusFound)
		// SSO again: the session answers /authorize itself, with the code.
		if loc := p.Header.Get("Location"); !strings.Contains(loc, "code=") || strings.HasPrefix(loc, w.issuer) {
			t.Errorf("SSO after the blink went to %s", p.Header.Get("Location"))
		}
		// KNOWN LIMITATION (README, production topology): the code whose
		// exchange got 503 during the outage was consumed before the claims
		// lookup failed, so retrying it gives invalid_grant and the user
		// signs in again. If this changes, update the README.
		_, err := w.oauth().Exchange(api.ctx(ctx), pendingCode, oauth2.VerifierOption(pendingVerifier))
		if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" {
			t.Errorf("retrying a code after the outage = %v; the README says invalid_grant", err)
		}
	})

	w.assertNoBadAnswers(t)
	t.Logf("whole test %v", time.Since(started).Round(time.Millisecond))
}

// codeFor signs a user in up to the code, returning it unredeemed with its PKCE verifier.
func (w *hopWorld) codeFor(t *testing.T, l demoLogin) (string, string) {
	t.Helper()
	b := w.newHop(true).on("A")
	verifier := oauth2.GenerateVerifier()
	p := mustGet(t, b, w.oauth().AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
	f := mustGet(t, b, p.Header.Get("Location"), http.StatusOK).form(t)
	p, err := b.postForm(t.Context(), "/login", url.Values{"authRequestID": {f.AuthRequestID}, "csrf_token": {f.CSRF},
		"entity_number": {w.demo.EntityNumber}, "username": {l.Username}, "password": {l.Password}})
	if err != nil || p.StatusCode != http.StatusFound {
		t.Fatalf("login POST: %v %d", err, p.statusCode())
	}
	cb, _ := url.Parse(p.Header.Get("Location")) // the code at once
	if cb.Query().Get("code") == "" {
		t.Fatalf("no code in %s", cb)
	}
	return cb.Query().Get("code"), verifier
}

// ---- assertions ----

// assertReadyzSequence: ready, unready during the outage, ready again. (A
// very busy machine may add a flap: a ping slower than /readyz's 1s budget.)
func assertReadyzSequence(t *testing.T, seq []int) {
	t.Helper()
	t.Logf("/readyz went %v", seq)
	if len(seq) < 3 || seq[0] != 200 || !slices.Contains(seq, 503) || seq[len(seq)-1] != 200 {
		t.Errorf("/readyz went %v, want 200, then 503, then 200 again", seq)
	}
}

func (w *hopWorld) assertNoBadAnswers(t *testing.T) {
	t.Helper()
	counts, bad := w.statuses.snapshot()
	t.Logf("statuses seen: %v", counts)
	for _, b := range bad {
		t.Errorf("unexpected answer: %s", b)
	}
	if counts[http.StatusServiceUnavailable] == 0 {
		t.Error("no 503 seen: the outage was not observed")
	}
}

func assertReadyz(t *testing.T, h *hop, want map[string]string) {
	t.Helper()
	p, err := h.get(t.Context(), "/readyz")
	if err != nil || p.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %v %d, want 503", err, p.statusCode())
	}
	var got map[string]string
	_ = json.Unmarshal([]byte(p.Body), &got)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("/readyz %s = %q, want %q (%s)", k, got[k], v, p.Body)
		}
	}
}

// assertStillServed: what needs no store keeps working in an outage.
func assertStillServed(t *testing.T, h *hop) {
	t.Helper()
	for _, path := range []string{"/healthz", "/.well-known/openid-configuration", "/keys"} {
		mustGet(t, h, path, http.StatusOK)
	}
}

// assertTemporarilyUnavailable: 503, Retry-After, JSON error temporarily_unavailable.
func assertTemporarilyUnavailable(t *testing.T, h *hop, method, path string, form url.Values, bearer string) {
	t.Helper()
	status, hdr, body, err := h.api(t.Context(), method, path, form, bearer)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || body["error"] != "temporarily_unavailable" ||
		hdr.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s = %d Retry-After %q %s %v, want 503 + Retry-After + JSON temporarily_unavailable",
			method, path, status, hdr.Get("Retry-After"), hdr.Get("Content-Type"), body)
	}
}

func assertUnavailablePage(t *testing.T, h *hop, path string) {
	t.Helper()
	p, err := h.get(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if p.StatusCode != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET %s = %d Retry-After %q %s, want the 503 page: %.300s", path, p.StatusCode, p.Header.Get("Retry-After"), p.Header.Get("Content-Type"), p.Body)
	}
	if strings.Contains(p.Body, "redis") || strings.Contains(p.Body, "postgres") || strings.Contains(p.Body, "dial tcp") {
		t.Errorf("GET %s leaks the cause: %.300s", path, p.Body)
	}
}

func assertStatus(t *testing.T, h *hop, method, path string, form url.Values, bearer string, want int) {
	t.Helper()
	status, _, body, err := h.api(t.Context(), method, path, form, bearer)
	if err != nil || status != want {
		t.Errorf("%s %s = %v %d %v, want %d", method, path, err, status, body, want)
	}
}

// ---- light load ----

// load runs journeys in a few goroutines until stopped, bounded in count and time.
type load struct {
	w      *hopWorld
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
	ok     atomic.Int64
	failed atomic.Int64
	mu     sync.Mutex
	okAt   []time.Time
	errs   map[string]int // failing step and status → count
}

func startLoad(t *testing.T, w *hopWorld, workers int) *load {
	ctx, stop := context.WithTimeout(t.Context(), 90*time.Second)
	l := &load{w: w, ctx: ctx, stop: stop, errs: map[string]int{}}
	t.Cleanup(func() { stop(); l.wg.Wait() })
	users := []string{"staff01", "staff02"}
	for i := range workers {
		user := w.login(users[i%len(users)])
		l.wg.Go(func() {
			for n := 0; n < 500 && ctx.Err() == nil; n++ {
				_, err := w.journey(ctx, w.newHop(true), w.newHop(false), routeAll("A"), user)
				if ctx.Err() != nil {
					return
				}
				l.mu.Lock()
				if err == nil {
					l.ok.Add(1)
					l.okAt = append(l.okAt, time.Now())
				} else {
					l.failed.Add(1)
					l.errs[stepKey(err)]++
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(50 * time.Millisecond) // a user waits a little before retrying
				}
			}
		})
	}
	return l
}

// stepKey classifies a failed journey: "step status", and for a redirect
// that did not go where the journey wanted, the OAuth error it carried.
func stepKey(err error) string {
	se, ok := err.(*stepError)
	switch {
	case !ok:
		return err.Error()
	case se.status == 0:
		return se.step + " " + se.err.Error()
	case se.status == http.StatusFound:
		u, _ := url.Parse(se.body)
		return fmt.Sprintf("%s 302 error=%s", se.step, u.Query().Get("error"))
	}
	return fmt.Sprintf("%s %d", se.step, se.status)
}

func (l *load) waitSuccesses(t *testing.T, n int64) {
	t.Helper()
	if !waitFor(30*time.Second, func() bool { return l.ok.Load() >= n }) {
		t.Fatalf("the load did not get going: %d journeys, failures %v", l.ok.Load(), l.errors())
	}
}

func (l *load) waitSuccessesAfter(t *testing.T, since time.Time, n int) {
	t.Helper()
	if !waitFor(30*time.Second, func() bool { return l.successesAfter(since) >= n }) {
		t.Fatalf("only %d journeys succeeded after the store returned; failures %v", l.successesAfter(since), l.errors())
	}
}

func (l *load) successesAfter(since time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, at := range l.okAt {
		if at.After(since) {
			n++
		}
	}
	return n
}

func (l *load) errors() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.errs {
		out[k] = v
	}
	return out
}

func (l *load) report(t *testing.T, upAt time.Time) {
	l.wg.Wait()
	t.Logf("load: %d journeys succeeded (%d after the store returned), %d failed: %v",
		l.ok.Load(), l.successesAfter(upAt), l.failed.Load(), l.errors())
	for k := range l.errors() {
		// A journey may fail only with "try again shortly" (503, or a
		// redirect to the client with temporarily_unavailable), or because
		// what it held (auth request, code, token) was lost with Redis:
		// "request expired" (400), invalid_grant (400), unknown token (403).
		switch {
		case strings.HasSuffix(k, " 503"), strings.HasSuffix(k, " 302 error=temporarily_unavailable"),
			strings.HasSuffix(k, " 400"), k == "userinfo 403":
		default:
			t.Errorf("journey failure of an unexpected kind: %s", k)
		}
	}
}

// ---- private Redis ----

type privateRedis struct {
	port   int
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startPrivateRedis starts a redis-server of the test's own, without persistence.
func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: the blink tests start a private Redis; `make services` (scripts/services.sh) installs it")
	}
	r := &privateRedis{port: freePort(t), dir: t.TempDir()}
	r.start(t)
	t.Cleanup(func() { r.kill() })
	return r
}

func (r *privateRedis) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

func (r *privateRedis) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"))
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	r.exited = exited
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(exited) }(r.cmd)
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port), MaxRetries: -1})
	defer rdb.Close()
	if !waitFor(10*time.Second, func() bool { return rdb.Ping(context.Background()).Err() == nil }) {
		log, _ := os.ReadFile(filepath.Join(r.dir, "redis.log"))
		t.Fatalf("private redis-server on port %d did not answer:\n%s", r.port, log)
	}
}

// stop kills the server (SIGKILL: a crash; nothing is saved anyway).
func (r *privateRedis) stop(t *testing.T) {
	t.Helper()
	r.kill()
}

func (r *privateRedis) kill() {
	if r.cmd == nil {
		return
	}
	select {
	case <-r.exited:
	default:
		_ = r.cmd.Process.Signal(syscall.SIGKILL)
		<-r.exited
	}
}

// ---- private Postgres ----

type privatePostgres struct {
	bin  string // directory of initdb, pg_ctl, postgres
	dir  string
	port int
	cred *syscall.Credential // the postgres OS user when we are root
}

// startPrivatePostgres creates and starts a Postgres cluster of the test's
// own (trust auth, no fsync) on a free port, as the postgres OS user when
// the test runs as root (Postgres refuses to run as root).
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	pg := &privatePostgres{bin: postgresBinDir(), port: freePort(t)}
	if pg.bin == "" {
		t.Fatal("Postgres server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or on PATH: " +
			"the blink tests start a private Postgres; `make services` (scripts/services.sh) installs them")
	}
	dir, err := os.MkdirTemp("", "idp-blink-pg-")
	if err != nil {
		t.Fatal(err)
	}
	pg.dir = dir
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, the private Postgres needs the postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pg.run(t, "initdb", "-D", pg.data(), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
	pg.start(t)
	t.Cleanup(func() { pg.ctl("stop", "-m", "immediate", "-w", "-t", "30") })
	return pg
}

func postgresBinDir() string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	slices.SortFunc(matches, func(a, b string) int { return versionOf(b) - versionOf(a) }) // newest first
	for _, m := range matches {
		if _, err := os.Stat(filepath.Join(filepath.Dir(m), "initdb")); err == nil {
			return filepath.Dir(m)
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

func versionOf(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

func (pg *privatePostgres) data() string { return filepath.Join(pg.dir, "data") }

func (pg *privatePostgres) url() string {
	return "postgres://postgres@127.0.0.1:" + strconv.Itoa(pg.port) + "/postgres?sslmode=disable"
}

func (pg *privatePostgres) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off", pg.port, pg.dir)
	if out, err := pg.ctl("start", "-w", "-t", "60", "-l", filepath.Join(pg.dir, "server.log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(pg.dir, "server.log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// stop shuts the server down the way a restart does (fast: sessions are
// terminated, connections drop).
func (pg *privatePostgres) stop(t *testing.T) {
	t.Helper()
	if out, err := pg.ctl("stop", "-m", "fast", "-w", "-t", "60"); err != nil {
		t.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

func (pg *privatePostgres) ctl(args ...string) (string, error) {
	return pg.exec(filepath.Join(pg.bin, "pg_ctl"), append([]string{"-D", pg.data()}, args...)...)
}

func (pg *privatePostgres) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := pg.exec(filepath.Join(pg.bin, name), args...); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func (pg *privatePostgres) exec(path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = pg.dir
	cmd.Env = []string{"PATH=" + pg.bin + ":/usr/bin:/bin", "LANG=C", "LC_ALL=C"}
	if pg.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}
