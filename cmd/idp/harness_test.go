package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

// testIDP is a provider node started in-process over a fresh Postgres
// database and a private Redis key prefix, seeded with the demo world plus a
// second e-service ("other") to check that groups do not leak between e-services.
type testIDP struct {
	t      *testing.T
	app    *app
	srv    *httptest.Server
	issuer string
	demo   demoOutput
	other  clientOutput // confidential client of the e-service "other"
	rpURL  string       // base of the demo web client's redirect URIs (nothing listens there)
}

// startIDP starts a node. extraEnv overrides configuration variables.
func startIDP(t *testing.T, extraEnv map[string]string) *testIDP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// extraEnv["ISSUER_PATH"] (not a real variable) puts the issuer under a path, e.g. /oidc;
	// extraEnv["ISSUER_HOST"] names the loopback host by another name
	// (localhost: WebAuthn takes no IP address as its relying party id).
	host := ln.Addr().String()
	if h := extraEnv["ISSUER_HOST"]; h != "" {
		host = h + ":" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	}
	issuer := "http://" + host + extraEnv["ISSUER_PATH"]
	prefix := "t-" + randHex(t, 6) + ":"
	env := map[string]string{
		"IDP_ISSUER":       issuer,
		"IDP_LISTEN":       ln.Addr().String(),
		"IDP_DATABASE_URL": storagetest.PostgresURL(t),
		"IDP_REDIS_URL":    storagetest.RedisURL(t),
		"IDP_REDIS_PREFIX": prefix,
		"IDP_LOG_LEVEL":    "warn",
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	cfg, err := config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pg, rs, rdb, err := openStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(ctx, cfg, pg, rs, rdb)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		// Remove this test's keys; everything else in Redis is untouched.
		iter := rdb.Scan(context.Background(), 0, prefix+"*", 500).Iterator()
		for iter.Next(context.Background()) {
			rdb.Del(context.Background(), iter.Val())
		}
		a.Close()
	})

	rpURL := "http://127.0.0.1:9" // discard port: the test client stops at the redirect
	demo, err := seedDemo(ctx, cfg, pg, a.hasher, rpURL)
	if err != nil {
		t.Fatal(err)
	}
	idp := &testIDP{t: t, app: a, srv: srv, issuer: issuer, demo: demo, rpURL: rpURL}
	idp.other = idp.seedOtherService()
	return idp
}

// runsCommands configures the operator's commands, for the rest of the
// test, as the binary would be on this node's stores: its database, Redis
// prefix and master key, and the officer who acts: the demo supervisor. The commands set their own logger, as the binary
// does; the test's is put back at the end.
func (idp *testIDP) runsCommands(t *testing.T) {
	t.Helper()
	t.Setenv("IDP_DATABASE_URL", idp.app.cfg.DatabaseURL)
	t.Setenv("IDP_REDIS_URL", idp.app.cfg.RedisURL)
	t.Setenv("IDP_REDIS_PREFIX", idp.app.cfg.RedisPrefix)
	t.Setenv("IDP_MASTER_KEY", hex.EncodeToString(idp.app.cfg.MasterKey))
	t.Setenv("IDP_LOG_LEVEL", "warn")
	t.Setenv("IDP_OFFICER", demoOfficer) // the supervisor the demo seeded as
	logger := slog.Default()
	t.Cleanup(func() { slog.SetDefault(logger) })
}

// seedOtherService registers e-service "other" (policy enrolled) with group
// "inspector", gives staff01 that group, and registers a web client for it.
func (idp *testIDP) seedOtherService() clientOutput {
	t, pg, ctx := idp.t, idp.app.pg, context.Background()
	dept, err := ensureDepartment(ctx, pg, "OTHER", "其他部門")
	if err != nil {
		t.Fatal(err)
	}
	sv := storage.Service{Code: "other", DepartmentID: dept.ID, NameZH: "其他服務", AccessPolicy: storage.PolicyEnrolled}
	if err := pg.CreateService(ctx, operator(), &sv); err != nil {
		t.Fatal(err)
	}
	if err := pg.CreateGroup(ctx, operator(), &storage.Group{ServiceID: sv.ID, Code: "inspector", NameZH: "稽查員"}); err != nil {
		t.Fatal(err)
	}
	e, err := pg.EntityByNumber(ctx, demoEntityNumber)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.EnrollEntity(ctx, operator(), sv.ID, e.ID); err != nil {
		t.Fatal(err)
	}
	if err := assignToService(ctx, pg, idp.login("staff01").id(t, pg), sv.ID, "inspector"); err != nil {
		t.Fatal(err)
	}
	out, err := registerClient(ctx, pg, sv, "other-web", "其他服務網站", false, []string{idp.rpURL + "/other/callback"}, nil, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// operator is the actor of the tests' writes straight to the store: the
// demo supervisor, as the demo seeded it (its id unknown here: the audit
// trail names it without one).
func operator() storage.Actor {
	return storage.OfficerActor(storage.Officer{Login: demoOfficer, Role: storage.RoleSupervisor, Status: storage.OfficerActive})
}

// operatorActor is operator(), by the name the activation tests know it.
func operatorActor() storage.Actor { return operator() }

type seededLogin struct{ demoLogin }

func (l seededLogin) id(t *testing.T, pg interface {
	StaffLoginByEUID(context.Context, string) (storage.StaffLogin, error)
}) int64 {
	sl, err := pg.StaffLoginByEUID(context.Background(), l.EUID)
	if err != nil {
		t.Fatal(err)
	}
	return sl.ID
}

// deleteInStore sets a seeded login's status to deleted in Postgres alone,
// as a deletion that lands while the login's sessions still live (the use
// case, manage.DeleteStaff, would also end them).
func (idp *testIDP) deleteInStore(t *testing.T, l seededLogin) {
	t.Helper()
	e, err := idp.app.pg.EntityByNumber(context.Background(), demoEntityNumber)
	if err == nil {
		_, err = idp.app.pg.SetStaffStatus(context.Background(), operator(), e.ID, l.EUID, storage.StatusDeleted, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// login returns a seeded demo staff login by username.
func (idp *testIDP) login(username string) seededLogin {
	for _, l := range idp.demo.Logins {
		if l.Username == username {
			return seededLogin{l}
		}
	}
	idp.t.Fatalf("no demo login %s", username)
	return seededLogin{}
}

// client returns a seeded client by id.
func (idp *testIDP) client(id string) clientOutput {
	for _, c := range append(idp.demo.Clients, idp.other) {
		if c.ClientID == id {
			return c
		}
	}
	idp.t.Fatalf("no client %s", id)
	return clientOutput{}
}

// rp is a relying party built on independent libraries (coreos/go-oidc and
// x/oauth2), as a department would build it.
type rp struct {
	idp      *testIDP
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func (idp *testIDP) rp(c clientOutput, redirectURI string) *rp {
	idp.t.Helper()
	p, err := oidc.NewProvider(context.Background(), idp.issuer)
	if err != nil {
		idp.t.Fatalf("discovery: %v", err)
	}
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if c.Public {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	return &rp{
		idp: idp, provider: p,
		oauth: oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: ep, RedirectURL: redirectURI,
			Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}},
		verifier: p.Verifier(&oidc.Config{ClientID: c.ClientID}),
	}
}

// browser is a user agent with cookies that does not follow redirects, so
// tests see every hop.
type browser struct {
	t   *testing.T
	idp *testIDP
	c   *http.Client
}

func (idp *testIDP) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: idp.t, idp: idp, c: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a fetched response with its body read.
type page struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{Response: resp, Body: string(body)}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.abs(u), nil)
	return b.do(req)
}

// post submits a form the way a browser does from one of our pages.
func (b *browser) post(u string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.abs(u), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.idp.issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// abs resolves a path against the issuer's origin (not its path).
func (b *browser) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		base, _ := url.Parse(b.idp.issuer)
		return base.Scheme + "://" + base.Host + u
	}
	return u
}

// issuerPath is the path part of the issuer ("" or e.g. "/oidc").
func (idp *testIDP) issuerPath() string {
	u, _ := url.Parse(idp.issuer)
	return u.Path
}

// location returns the redirect target of a 302/303, resolved.
func (p page) location(t *testing.T) string {
	t.Helper()
	if p.StatusCode != http.StatusFound && p.StatusCode != http.StatusSeeOther {
		t.Fatalf("want a redirect, got %d: %.500s", p.StatusCode, p.Body)
	}
	u, err := p.Request.URL.Parse(p.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u.String()
}

var (
	csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
	arField   = regexp.MustCompile(`name="authRequestID" value="([^"]*)"`)
)

// fieldValue returns the value a rendered form keeps in an input.
func (p page) fieldValue(name string) string {
	return submatch(regexp.MustCompile(`name="`+regexp.QuoteMeta(name)+`" value="([^"]*)"`), p.Body)
}

// loginForm is the hidden state of a rendered login page.
type loginForm struct{ AuthRequestID, CSRF string }

func (p page) form(t *testing.T) loginForm {
	t.Helper()
	if !strings.Contains(p.Body, `name="entity_number"`) {
		t.Fatalf("want the login form, got %d: %.500s", p.StatusCode, p.Body)
	}
	return loginForm{AuthRequestID: submatch(arField, p.Body), CSRF: submatch(csrfField, p.Body)}
}

func submatch(r *regexp.Regexp, s string) string {
	m := r.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// authParams are the knobs of one authorization request.
type authParams struct {
	State, Nonce string
	Verifier     string // PKCE verifier; "" sends no challenge
	Extra        url.Values
}

func newAuthParams(t *testing.T) authParams {
	return authParams{State: randHex(t, 8), Nonce: randHex(t, 8), Verifier: oauth2.GenerateVerifier()}
}

func (r *rp) authURL(p authParams) string {
	var opts []oauth2.AuthCodeOption
	opts = append(opts, oidc.Nonce(p.Nonce))
	if p.Verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(p.Verifier))
	}
	for k, vs := range p.Extra {
		for _, v := range vs {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	return r.oauth.AuthCodeURL(p.State, opts...)
}

// startLogin opens the authorize URL and returns the login page it leads to.
func (b *browser) startLogin(r *rp, p authParams) page {
	b.t.Helper()
	first := b.get(r.authURL(p))
	return b.get(first.location(b.t))
}

// submit posts the three fields on a login page.
func (b *browser) submit(f loginForm, entity, username, pw string) page {
	b.t.Helper()
	return b.post(b.idp.issuerPath()+"/login", url.Values{
		"authRequestID": {f.AuthRequestID}, "csrf_token": {f.CSRF},
		"entity_number": {entity}, "username": {username}, "password": {pw},
	})
}

// followToRP follows redirects until one leaves for the RP and returns that URL's query.
func (b *browser) followToRP(p page) url.Values {
	b.t.Helper()
	for i := 0; i < 5; i++ {
		loc := p.location(b.t)
		if !strings.HasPrefix(loc, b.idp.issuer) {
			u, _ := url.Parse(loc)
			return u.Query()
		}
		p = b.get(loc)
	}
	b.t.Fatalf("too many redirects")
	return nil
}

// signIn runs the whole browser journey and returns the RP callback's query.
func (b *browser) signIn(r *rp, p authParams, username string) url.Values {
	b.t.Helper()
	l := b.idp.login(username)
	login := b.startLogin(r, p)
	return b.followToRP(b.submit(login.form(b.t), b.idp.demo.EntityNumber, l.Username, l.Password))
}

// exchange redeems a code with the RP's credentials and PKCE verifier.
func (r *rp) exchange(code, verifier string) (*oauth2.Token, error) {
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	return r.oauth.Exchange(context.Background(), code, opts...)
}

// idClaims verifies the ID token of tok against the JWKS and returns its claims.
func (r *rp) idClaims(t *testing.T, tok *oauth2.Token, nonce string) map[string]any {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("token response has no id_token")
	}
	idt, err := r.verifier.Verify(context.Background(), raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if nonce != "" && idt.Nonce != nonce {
		t.Fatalf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// form posts to a protocol endpoint with client credentials, returning status and JSON.
func (r *rp) postForm(t *testing.T, endpoint string, form url.Values, basicAuth bool) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicAuth {
		req.SetBasicAuth(url.QueryEscape(r.oauth.ClientID), url.QueryEscape(r.oauth.ClientSecret))
	} else {
		form.Set("client_id", r.oauth.ClientID)
		req.Body = io.NopCloser(strings.NewReader(form.Encode()))
		req.ContentLength = int64(len(form.Encode()))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// discovery returns a string field of the discovery document.
func (r *rp) discovery(t *testing.T, field string) string {
	t.Helper()
	var d map[string]any
	if err := r.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	s, _ := d[field].(string)
	if s == "" {
		t.Fatalf("discovery has no %s", field)
	}
	return s
}

func randHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// s256 is the PKCE challenge of a verifier, for hand-made requests.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func mustContain(t *testing.T, body, want string) {
	t.Helper()
	if !strings.Contains(body, want) {
		t.Fatalf("page lacks %q: %.800s", want, body)
	}
}
