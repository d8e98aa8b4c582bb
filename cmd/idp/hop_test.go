package main

// Helpers of the multi-node and blink tests: HTTP clients that send each
// request to a chosen node whatever the URL's host (one issuer, several
// nodes, as behind a load balancer), a recorder of every status seen, and a
// whole sign-in journey that reports failures instead of stopping the test,
// so that it can run in load loops.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// raceBuild is true when the tests run with -race (set in race_test.go); the
// node processes are then built with -race too.
var raceBuild bool

// hopWorld is one issuer served by named nodes.
type hopWorld struct {
	t      *testing.T
	issuer string
	demo   demoOutput
	web    clientOutput

	mu    sync.Mutex
	addrs map[string]string // node name → host:port

	statuses *statusLog
}

func newHopWorld(t *testing.T, issuer string, addrs map[string]string, demo demoOutput) *hopWorld {
	w := &hopWorld{t: t, issuer: issuer, demo: demo, addrs: addrs, statuses: &statusLog{}}
	for _, c := range demo.Clients {
		if c.ClientID == demoWebClient {
			w.web = c
		}
	}
	if w.web.ClientID == "" {
		t.Fatalf("demo has no %s client", demoWebClient)
	}
	return w
}

func (w *hopWorld) addr(node string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	a, ok := w.addrs[node]
	return a, ok
}

func (w *hopWorld) login(username string) demoLogin {
	for _, l := range w.demo.Logins {
		if l.Username == username {
			return l
		}
	}
	w.t.Fatalf("no demo login %s", username)
	return demoLogin{}
}

// oauth is the demo web client as an x/oauth2 configuration. Endpoints are
// the library's standard paths under the issuer (as in discovery).
func (w *hopWorld) oauth() *oauth2.Config {
	return &oauth2.Config{
		ClientID: w.web.ClientID, ClientSecret: w.web.ClientSecret, RedirectURL: w.web.RedirectURIs[0],
		Endpoint: oauth2.Endpoint{AuthURL: w.issuer + "/authorize", TokenURL: w.issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess},
	}
}

// hop is an HTTP client whose requests all go to one node, chosen with on.
// Keep-alives are off, so a switch takes effect at the next request.
type hop struct {
	w    *hopWorld
	node atomic.Value // string
	c    *http.Client
}

// newHop returns a client; a browser has a cookie jar, an RP's back channel not.
func (w *hopWorld) newHop(browser bool) *hop {
	h := &hop{w: w}
	h.node.Store("")
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			name := h.node.Load().(string)
			addr, ok := w.addr(name)
			if !ok {
				return nil, fmt.Errorf("no node %q", name)
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
	h.c = &http.Client{
		Transport: recordingTransport{next: tr, log: w.statuses},
		Timeout:   20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if browser {
		h.c.Jar, _ = cookiejar.New(nil)
	}
	return h
}

// on selects the node of the next requests.
func (h *hop) on(node string) *hop {
	h.node.Store(node)
	return h
}

// ctx carries the client for x/oauth2 and go-oidc.
func (h *hop) ctx(parent context.Context) context.Context {
	return oidc.ClientContext(context.WithValue(parent, oauth2.HTTPClient, h.c), h.c)
}

func (h *hop) do(req *http.Request) (page, error) {
	resp, err := h.c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return page{Response: resp, Body: string(body)}, err
}

func (h *hop) get(ctx context.Context, u string) (page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.w.abs(u), nil)
	if err != nil {
		return page{}, err
	}
	return h.do(req)
}

// postForm posts like a browser on one of our pages (same-origin).
func (h *hop) postForm(ctx context.Context, u string, form url.Values) (page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.w.abs(u), strings.NewReader(form.Encode()))
	if err != nil {
		return page{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.w.issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return h.do(req)
}

// api posts to a protocol endpoint as the web client (basic auth) and decodes JSON.
func (h *hop) api(ctx context.Context, method, u string, form url.Values, bearer string) (int, http.Header, map[string]any, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, h.w.abs(u), body)
	if err != nil {
		return 0, nil, nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	} else {
		req.SetBasicAuth(url.QueryEscape(h.w.web.ClientID), url.QueryEscape(h.w.web.ClientSecret))
	}
	p, err := h.do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	var out map[string]any
	_ = json.Unmarshal([]byte(p.Body), &out)
	return p.StatusCode, p.Header, out, nil
}

// abs resolves a reference (e.g. a Location) against the issuer.
func (w *hopWorld) abs(u string) string {
	base, err1 := url.Parse(w.issuer)
	ref, err2 := url.Parse(u)
	if err1 != nil || err2 != nil {
		return u
	}
	return base.ResolveReference(ref).String()
}

// stepError names the journey step that failed and what it got.
type stepError struct {
	step   string
	node   string
	status int
	body   string
	err    error
}

func (e *stepError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%s on node %s: %v", e.step, e.node, e.err)
	}
	return fmt.Sprintf("%s on node %s: HTTP %d: %.300s", e.step, e.node, e.status, e.body)
}

func (e *stepError) Unwrap() error { return e.err }

// transportFailed tells a failure to reach a node from an HTTP answer.
func transportFailed(err error) bool {
	var se *stepError
	return errors.As(err, &se) && se.err != nil && se.status == 0
}

// journeyResult is what a finished journey holds.
type journeyResult struct {
	token     *oauth2.Token // from the code exchange
	refreshed *oauth2.Token // from the refresh grant
	userinfo  map[string]any
}

// routeAll sends every step of a journey to one node.
func routeAll(node string) func(string) string { return func(string) string { return node } }

// journey is the whole sign-in of a department web app: authorize → login
// page → POST the three fields (answered with the code) → code exchange →
// refresh → userinfo. route picks each step's node: authorize, login, token,
// refresh, userinfo. b is the user's browser, rp the app's back channel. It never
// stops the test; it returns the first failing step.
func (w *hopWorld) journey(ctx context.Context, b, rp *hop, route func(step string) string, l demoLogin) (*journeyResult, error) {
	conf := w.oauth()
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	fail := func(step string, h *hop, p page, err error) (*journeyResult, error) {
		return nil, &stepError{step: step, node: h.node.Load().(string), status: p.statusCode(), body: p.Body, err: err}
	}

	b.on(route("authorize"))
	p, err := b.get(ctx, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if err != nil || p.StatusCode != http.StatusFound {
		return fail("authorize", b, p, err)
	}
	loginURL := p.Header.Get("Location")
	if !strings.HasPrefix(w.abs(loginURL), w.issuer+"/login?") {
		return fail("authorize", b, page{Response: p.Response, Body: loginURL}, nil)
	}

	b.on(route("login"))
	p, err = b.get(ctx, loginURL)
	if err != nil || p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `name="entity_number"`) {
		return fail("login page", b, p, err)
	}
	form := url.Values{
		"authRequestID": {submatch(arField, p.Body)}, "csrf_token": {submatch(csrfField, p.Body)},
		"entity_number": {w.demo.EntityNumber}, "username": {l.Username}, "password": {l.Password},
	}
	p, err = b.postForm(ctx, "/login", form)
	if err != nil || p.StatusCode != http.StatusFound {
		return fail("login POST", b, p, err)
	}
	// The sign-in answers the e-service at once: the library's callback is
	// a hop of the same request.
	cb, err := url.Parse(p.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(cb.String(), conf.RedirectURL) || cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
		return fail("login POST", b, page{Response: p.Response, Body: p.Header.Get("Location")}, nil)
	}

	rp.on(route("token"))
	res := &journeyResult{}
	res.token, err = conf.Exchange(rp.ctx(ctx), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return fail("token", rp, retrievePage(err), err)
	}
	if res.token.RefreshToken == "" || res.token.Extra("id_token") == nil {
		return fail("token", rp, page{}, errors.New("no refresh token or ID token"))
	}

	rp.on(route("refresh"))
	res.refreshed, err = conf.TokenSource(rp.ctx(ctx), &oauth2.Token{RefreshToken: res.token.RefreshToken}).Token()
	if err != nil {
		return fail("refresh", rp, retrievePage(err), err)
	}

	rp.on(route("userinfo"))
	status, _, ui, err := rp.api(ctx, http.MethodGet, "/userinfo", nil, res.refreshed.AccessToken)
	if err != nil || status != http.StatusOK || ui["sub"] != l.EUID {
		return fail("userinfo", rp, page{Response: &http.Response{StatusCode: status}, Body: fmt.Sprint(ui)}, err)
	}
	res.userinfo = ui
	return res, nil
}

func (p page) statusCode() int {
	if p.Response == nil {
		return 0
	}
	return p.StatusCode
}

// retrievePage turns an x/oauth2 error into the answer it carries.
func retrievePage(err error) page {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		return page{Response: re.Response, Body: string(re.Body)}
	}
	return page{}
}

// statusLog records every answer the test clients got.
type statusLog struct {
	mu     sync.Mutex
	counts map[int]int
	bad    []string // answers a store outage must never produce
}

type recordingTransport struct {
	next http.RoundTripper
	log  *statusLog
}

func (rt recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.next.RoundTrip(req)
	if err == nil {
		rt.log.record(req, resp)
	}
	return resp, err
}

// record counts a status and remembers what breaks the rules: a 5xx other
// than 503, or a 503 without Retry-After from anything but the probe.
func (l *statusLog) record(req *http.Request, resp *http.Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[int]int{}
	}
	l.counts[resp.StatusCode]++
	switch {
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable:
		l.bad = append(l.bad, fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, resp.StatusCode))
	case resp.StatusCode == http.StatusServiceUnavailable && req.URL.Path != "/readyz" && resp.Header.Get("Retry-After") == "":
		l.bad = append(l.bad, fmt.Sprintf("%s %s → 503 without Retry-After", req.Method, req.URL.Path))
	}
}

func (l *statusLog) snapshot() (map[int]int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.counts), slices.Clone(l.bad)
}

// readyzWatch polls /readyz of a node and keeps the sequence of distinct
// statuses it saw (e.g. 200, 503, 200).
type readyzWatch struct {
	mu  sync.Mutex
	seq []int
}

func (w *hopWorld) watchReadyz(ctx context.Context, node string, every time.Duration) (*readyzWatch, <-chan struct{}) {
	rw := &readyzWatch{}
	done := make(chan struct{})
	h := w.newHop(false).on(node)
	h.c.Timeout = 3 * time.Second
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if p, err := h.get(ctx, "/readyz"); err == nil {
				rw.mu.Lock()
				if n := len(rw.seq); n == 0 || rw.seq[n-1] != p.StatusCode {
					rw.seq = append(rw.seq, p.StatusCode)
				}
				rw.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return rw, done
}

func (rw *readyzWatch) sequence() []int {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return slices.Clone(rw.seq)
}

// waitFor polls cond every 50ms until it holds or the timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
