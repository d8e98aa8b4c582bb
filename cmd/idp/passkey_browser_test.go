package main

import (
	"html/template"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// passkeyPage is a bare page with one passkey form as the portal and the
// sign-in pages write them: the options and the state from the use case,
// the credential written by static/passkey.js. The policy allows scripts
// from the page's own origin only.
var passkeyPage = template.Must(template.New("").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><script src="/static/passkey.js" defer></script></head><body>
<form method="post" action="/finish" data-passkey="{{.Kind}}" data-options="{{.Options}}" data-passkey-error="{{.Error}}">
<input type="hidden" name="state" value="{{.State}}">
<input type="hidden" name="credential" value="">
<input type="text" name="name" id="name" value="Chromium">
<p role="alert" id="alert"></p>
<button type="button" data-passkey-start>Go</button>
</form></body></html>`))

// TestPasskeyScriptInChromium: static/passkey.js in a real browser with a
// virtual authenticator (user verification, resident keys): the options
// parse, the credential it posts is what FinishPasskey and
// FinishPasskeySignIn accept, submitting the form without a credential
// starts the ceremony too, and a refused ceremony shows the form's error
// text without posting anything.
func TestPasskeyScriptInChromium(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	ctx := t.Context()
	staff := idp.login("staff01")
	me := idp.actorOf(t, staff)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// localhost is a secure context for WebAuthn, and a host name a relying
	// party may have (an IP address may not).
	base := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	svc, err := newTools(idp.app.cfg, idp.app.pg, idp.app.redis, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = svc.EnablePasskeys(tools.WebAuthnConfig{RPID: "localhost", Origins: []string{base}, CeremonyKey: ceremonyKey(idp.app.cfg.MasterKey)}, idp.app.redis)
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var posts []string // what each POST gave: "enrolled <name>", "signed in <euid> <amr>" or "refused <err>"
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(templates.Static())))
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		kind := r.URL.Query().Get("kind")
		var opts []byte
		var state string
		var err error
		switch kind {
		case "create":
			opts, state, err = svc.BeginPasskey(r.Context(), me, staff.EUID)
		default:
			opts, state, err = svc.BeginPasskeySignIn(r.Context())
			if r.URL.Query().Has("foreign") { // options for a relying party this origin may not use
				opts = []byte(strings.Replace(string(opts), `"rpId":"localhost"`, `"rpId":"example.com"`, 1))
			}
			kind = "get"
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; form-action 'self'")
		_ = passkeyPage.Execute(w, map[string]string{"Kind": kind, "Options": string(opts), "State": state, "Error": "通行密鑰未能使用"})
	})
	mux.HandleFunc("POST /finish", func(w http.ResponseWriter, r *http.Request) {
		cred := []byte(r.PostFormValue("credential"))
		var out string
		if strings.Contains(string(cred), `"attestationObject"`) {
			tool, err := svc.FinishPasskey(r.Context(), me, staff.EUID, r.PostFormValue("state"), r.PostFormValue("name"), cred)
			out = "enrolled " + tool.Name
			if err != nil {
				out = "refused " + err.Error()
			}
		} else {
			_, sub, amr, err := svc.FinishPasskeySignIn(r.Context(), r.PostFormValue("state"), cred)
			out = "signed in " + sub + " " + strings.Join(amr, " ")
			if err != nil {
				out = "refused " + err.Error()
			}
		}
		mu.Lock()
		posts = append(posts, out)
		mu.Unlock()
		_, _ = w.Write([]byte(`<!doctype html><p id="done">` + template.HTMLEscapeString(out) + `</p>`))
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	c := newChrome(t)
	c.withAuthenticator()

	c.open(base + "/page?kind=create")
	c.do("enrol", chromedp.Click(buttonLabelled("Go"), chromedp.NodeVisible))
	if got := c.text("#done"); got != "enrolled Chromium" {
		t.Fatalf("enrolment: %q", got)
	}
	c.open(base + "/page?kind=get")
	c.do("sign in", chromedp.Click(buttonLabelled("Go"), chromedp.NodeVisible))
	if got := c.text("#done"); got != "signed in "+staff.EUID+" hwk user mfa" {
		t.Fatalf("sign-in: %q", got)
	}
	// Submitting the form (Enter in a field) runs the ceremony first.
	c.open(base + "/page?kind=get")
	eval[bool](c, `document.querySelector("form").requestSubmit(), true`)
	if got := c.text("#done"); got != "signed in "+staff.EUID+" hwk user mfa" {
		t.Fatalf("sign-in by submitting: %q", got)
	}
	// A ceremony the browser refuses shows the error and posts nothing.
	c.open(base + "/page?kind=get&foreign=1")
	c.do("refused", chromedp.Click(buttonLabelled("Go"), chromedp.NodeVisible))
	alert := ""
	for deadline := time.Now().Add(10 * time.Second); alert == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		alert = eval[string](c, `document.getElementById("alert").textContent`)
	}
	if alert != "通行密鑰未能使用" {
		t.Errorf("alert after a refused ceremony: %q", alert)
	}
	if v := c.value("name"); v != "Chromium" || !strings.HasSuffix(c.location(), "foreign=1") {
		t.Errorf("the form was left: %s", c.location())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 3 {
		t.Errorf("posts %q", posts)
	}
	if list, err := idp.app.pg.Tools(ctx, staff.id(t, idp.app.pg)); err != nil || len(list) != 1 || list[0].Kind != storage.ToolPasskey || list[0].LastUsedAt == nil {
		t.Errorf("tools after the browser: %+v, %v", list, err)
	}
}
