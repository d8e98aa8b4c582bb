// Command demo-rp is a small department web app that signs staff in through
// the provider (authorization code flow with a client secret and PKCE) and
// shows the verified ID token claims and the userinfo answer. It is built on
// coreos/go-oidc and x/oauth2, as a department's own app would be.
//
// Configuration: DEMO_RP_LISTEN, DEMO_RP_URL, IDP_ISSUER, DEMO_RP_CLIENT_ID,
// DEMO_RP_CLIENT_SECRET, or --demo-json with the output of `idp demo --json`.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

type settings struct {
	listen, baseURL, issuer, clientID, clientSecret string
}

func main() {
	s := settings{
		listen:       env("DEMO_RP_LISTEN", "127.0.0.1:8081"),
		baseURL:      env("DEMO_RP_URL", "http://localhost:8081"),
		issuer:       env("IDP_ISSUER", "http://localhost:8080"),
		clientID:     env("DEMO_RP_CLIENT_ID", "demo-web"),
		clientSecret: os.Getenv("DEMO_RP_CLIENT_SECRET"),
	}
	demoJSON := flag.String("demo-json", "", "file with the output of `idp demo --json` (client credentials and issuer)")
	flag.Parse()
	if *demoJSON != "" {
		if err := s.fromDemo(*demoJSON); err != nil {
			fmt.Fprintln(os.Stderr, "demo-rp:", err)
			os.Exit(1)
		}
	}
	if err := run(s); err != nil {
		fmt.Fprintln(os.Stderr, "demo-rp:", err)
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (s *settings) fromDemo(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var d struct {
		Issuer  string `json:"issuer"`
		Clients []struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
			Public       bool   `json:"public"`
		} `json:"clients"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	s.issuer = d.Issuer
	for _, c := range d.Clients {
		if !c.Public {
			s.clientID, s.clientSecret = c.ClientID, c.ClientSecret
			return nil
		}
	}
	return fmt.Errorf("%s has no confidential client", path)
}

// app keeps signed-in users in memory: this is a demo relying party, not
// the provider, and it forgets everyone when it restarts.
type app struct {
	s        settings
	oauth    oauth2.Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier

	mu       sync.Mutex
	pending  map[string]pendingLogin // state → what the callback must check
	sessions map[string]*signedIn
}

type pendingLogin struct {
	nonce, verifier string
	at              time.Time
}

type signedIn struct {
	IDToken  string
	Claims   map[string]any
	UserInfo map[string]any
}

func run(s settings) error {
	ctx := context.Background()
	var provider *oidc.Provider
	var err error
	// The provider may still be starting (make run starts both at once).
	for i := 0; i < 30; i++ {
		if provider, err = oidc.NewProvider(ctx, s.issuer); err == nil {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		return fmt.Errorf("discovery at %s: %w", s.issuer, err)
	}
	a := &app{
		s: s, provider: provider,
		oauth: oauth2.Config{
			ClientID: s.clientID, ClientSecret: s.clientSecret, Endpoint: provider.Endpoint(),
			RedirectURL: s.baseURL + "/callback", Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: s.clientID}),
		pending:  map[string]pendingLogin{},
		sessions: map[string]*signedIn{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("POST /logout", a.logout)
	slog.Info("demo department app ready", "url", s.baseURL, "issuer", s.issuer, "client_id", s.clientID)
	srv := &http.Server{Addr: s.listen, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

func random() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const sessionCookie = "demo_rp_session"

func (a *app) current(r *http.Request) (string, *signedIn) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return c.Value, a.sessions[c.Value]
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	_, s := a.current(r)
	render(w, http.StatusOK, homePage{Issuer: a.s.issuer, ClientID: a.s.clientID, User: s, Error: r.URL.Query().Get("error")})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	state, nonce, verifier := random(), random(), oauth2.GenerateVerifier()
	a.mu.Lock()
	for k, p := range a.pending {
		if time.Since(p.at) > 15*time.Minute {
			delete(a.pending, k)
		}
	}
	a.pending[state] = pendingLogin{nonce: nonce, verifier: verifier, at: time.Now()}
	a.mu.Unlock()
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if l := r.URL.Query().Get("lang"); l != "" {
		opts = append(opts, oauth2.SetAuthURLParam("ui_locales", l))
	}
	if r.URL.Query().Get("level") == "tool" {
		// The higher assurance level: the password and an electronic
		// identity tool (安全驗證碼 or a passkey).
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", "urn:entity-account:acr:tool"))
	}
	http.Redirect(w, r, a.oauth.AuthCodeURL(state, opts...), http.StatusFound)
}

func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		http.Redirect(w, r, "/?error="+url.QueryEscape(e+": "+q.Get("error_description")), http.StatusFound)
		return
	}
	a.mu.Lock()
	p, ok := a.pending[q.Get("state")]
	delete(a.pending, q.Get("state"))
	a.mu.Unlock()
	if !ok {
		http.Error(w, "unknown or used state: start again from the home page", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	tok, err := a.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		http.Error(w, "token exchange failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := a.verifier.Verify(ctx, raw)
	if err != nil || idt.Nonce != p.nonce {
		http.Error(w, fmt.Sprintf("ID token rejected: %v", err), http.StatusBadGateway)
		return
	}
	s := &signedIn{IDToken: raw}
	_ = idt.Claims(&s.Claims)
	if ui, err := a.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		_ = ui.Claims(&s.UserInfo)
	}
	id := random()
	a.mu.Lock()
	a.sessions[id] = s
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusFound)
}

// logout ends the local session and asks the provider to end its own
// (RP-initiated logout), coming back to the home page.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	id, s := a.current(r)
	a.mu.Lock()
	delete(a.sessions, id)
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1})
	var endSession struct {
		URL string `json:"end_session_endpoint"`
	}
	if s == nil || a.provider.Claims(&endSession) != nil || endSession.URL == "" {
		http.Redirect(w, r, "/", http.StatusFound)
		return
	}
	q := url.Values{"id_token_hint": {s.IDToken}, "post_logout_redirect_uri": {a.s.baseURL + "/"}, "state": {random()}}
	http.Redirect(w, r, endSession.URL+"?"+q.Encode(), http.StatusFound)
}

type homePage struct {
	Issuer, ClientID, Error string
	User                    *signedIn
}

var page = template.Must(template.New("home").Funcs(template.FuncMap{
	"json": func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
}).Parse(`<!doctype html>
<html lang="zh-Hant"><head><meta charset="utf-8"><title>示範部門電子服務</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}
pre{background:#f4f6f8;padding:1rem;overflow:auto}button,a.b{padding:.5rem 1rem;font-size:1rem}
.err{color:#a61b1b}</style></head><body>
<h1>示範部門電子服務 · Demo department e-service</h1>
<p>Provider <code>{{.Issuer}}</code>, client <code>{{.ClientID}}</code></p>
{{if .Error}}<p class="err">Sign-in failed: {{.Error}}</p>{{end}}
{{if .User}}
<p>Signed in as <strong>{{index .User.Claims "name"}}</strong> (EUID {{index .User.Claims "euid"}}) of entity
{{index .User.Claims "entity_number"}} {{index .User.Claims "entity_name"}}.</p>
<form method="post" action="/logout"><button>Sign out</button></form>
<h2>Verified ID token claims</h2><pre>{{json .User.Claims}}</pre>
<h2>Userinfo</h2><pre>{{json .User.UserInfo}}</pre>
{{else}}
<p><a class="b" href="/login">登入 Sign in</a> · <a href="/login?lang=pt">Entrar (PT)</a> · <a href="/login?lang=en">Sign in (EN)</a></p>
<p><a href="/login?level=tool">以電子身份識別工具登入 · Sign in at the higher level</a> (<code>acr_values=urn:entity-account:acr:tool</code>: the password and 安全驗證碼 or a passkey)</p>
{{end}}
</body></html>`))

func render(w http.ResponseWriter, status int, data homePage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := page.Execute(w, data); err != nil {
		slog.Error("render", "err", err)
	}
}
