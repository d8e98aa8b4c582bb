package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/entity-account/idp/storage"
)

// startPasskeyDesk serves a desk with passkeys: on a loopback port reached
// as http://localhost:PORT (a host name a WebAuthn relying party may have,
// and a secure context), IDP_DESK_ORIGIN set to it.
func (idp *testIDP) startPasskeyDesk(t *testing.T) *deskWorld {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := *idp.app.cfg
	cfg.DeskListen = ln.Addr().String()
	cfg.DeskOrigin = "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	h, err := newDesk(&cfg, idp.app.pg, idp.app.redis, deskUseCases{hasher: idp.app.hasher})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h.Router())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	srv.URL = cfg.DeskOrigin
	return &deskWorld{idp: idp, srv: srv}
}

// TestDeskPasskeyConfig: passkeys at the desk only with an origin whose
// host is a name.
func TestDeskPasskeyConfig(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	for origin, want := range map[string]bool{"": false, "https://10.0.0.5:8443": false, "https://desk.dsaj.internal:8443": true,
		"http://localhost:8082": true} {
		cfg := *idp.app.cfg
		cfg.DeskOrigin = origin
		pk, ok := deskPasskeyConfig(&cfg)
		if ok != want || (ok && (pk.RPID != mustParse(t, origin).Hostname() || pk.Origins[0] != origin || len(pk.CeremonyKey) != 32)) {
			t.Errorf("%q: %+v %v", origin, pk, ok)
		}
	}
	// The harness's desk has no origin: no passkeys page, no link to it.
	w := idp.startDesk(t)
	b := w.signedIn(t, w.officer(t, "chan.tm", storage.RoleCounter))
	if p := b.get("/me/passkeys"); p.StatusCode != http.StatusNotFound {
		t.Errorf("/me/passkeys without an origin: %d", p.StatusCode)
	}
	if p := b.get("/"); strings.Contains(p.Body, `href="/me/passkeys"`) {
		t.Error("the navigation links to passkeys without an origin")
	}
}

// TestDeskPasskeyPage: /me/passkeys needs a desk session and the session's
// CSRF token; the password again (a wrong one refused, the proof bound to
// the session) opens the add form, with the page's script allowed; a form
// without a credential, another officer's passkey and the sign-in's
// passkey step without the password's ticket are refused.
func TestDeskPasskeyPage(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startPasskeyDesk(t)
	anon := w.browser(t)
	if p := anon.get("/me/passkeys"); p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/signin") {
		t.Fatalf("without a session: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	if p := anon.post("/me/passkeys", url.Values{"step": {"reauth"}, "password": {deskPassword}}); p.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(p.Header.Get("Location"), "/signin") {
		t.Fatalf("a POST without a session: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	// The passkey step of the sign-in without the password's ticket.
	if p := anon.submit("/signin", "/signin/code", url.Values{"method": {"passkey"}, "state": {"x"}, "credential": {"{}"}}); p.StatusCode != http.StatusUnauthorized ||
		strings.Contains(p.Header.Get("Set-Cookie"), "idp_desk=") {
		t.Fatalf("a passkey without the password: %d %q", p.StatusCode, p.Header.Get("Set-Cookie"))
	}

	w.sentCode(t, "chan.tm")
	b := w.browser(t)
	w.activate(t, b, "chan.tm")
	// A refused passkey after the password says so, without marking the
	// code's field, which the officer did not use.
	second := w.browser(t)
	if p := second.submit("/signin", "/signin", url.Values{"login": {"chan.tm"}, "password": {deskPassword}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("the password step: %d", p.StatusCode)
	}
	refused := second.submit("/signin/code", "/signin/code", url.Values{"method": {"passkey"}, "state": {"x"}, "credential": {"{}"}})
	if refused.StatusCode < 400 || !strings.Contains(refused.Body, `id="form_error"`) || !strings.Contains(refused.Body, `id="code"`) ||
		regexp.MustCompile(`<input id="code"[^>]*aria-invalid`).MatchString(refused.Body) {
		t.Errorf("a refused passkey: %d, the code field marked: %.600s", refused.StatusCode, refused.Body)
	}
	p := b.get("/me/passkeys")
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `name="step" value="reauth"`) || strings.Contains(p.Body, `data-passkey="create"`) {
		t.Fatalf("the page before the password: %d %.800s", p.StatusCode, p.Body)
	}
	if p := b.get("/"); !strings.Contains(p.Body, `href="/me/passkeys"`) {
		t.Error("no link to the passkeys page")
	}
	if p := b.post("/me/passkeys", url.Values{"step": {"reauth"}, "password": {deskPassword}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d", p.StatusCode)
	}
	if p := b.submit("/me/passkeys", "/me/passkeys", url.Values{"step": {"reauth"}, "password": {"not the password"}}); p.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(p.Body, "password_error") {
		t.Errorf("a wrong password: %d", p.StatusCode)
	}
	// Before the password, nothing changes.
	if p := b.submit("/me/passkeys", "/me/passkeys", url.Values{"step": {"add"}, "name": {"x"}, "state": {"x"}, "credential": {"{}"}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("add before the password: %d", p.StatusCode)
	}
	p = b.submit("/me/passkeys", "/me/passkeys", url.Values{"step": {"reauth"}, "password": {deskPassword}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/me/passkeys?done=reauth" {
		t.Fatalf("the password again: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	p = b.get("/me/passkeys?done=reauth")
	if !strings.Contains(p.Body, `data-passkey="create"`) || !strings.Contains(p.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("the add form: %q %.800s", p.Header.Get("Content-Security-Policy"), p.Body)
	}
	if p := b.submit("/me/passkeys", "/me/passkeys", url.Values{"step": {"add"}, "name": {"櫃台電腦"}, "state": {"x"}}); p.StatusCode != http.StatusBadRequest {
		t.Errorf("add without a credential: %d", p.StatusCode)
	}
	if p := b.submit("/me/passkeys", "/me/passkeys", url.Values{"step": {"add"}, "name": {"櫃台電腦"}, "state": {"x"}, "credential": {"{}"}}); p.StatusCode != http.StatusBadRequest {
		t.Errorf("add with a bogus credential: %d", p.StatusCode)
	}
	if p := b.submit("/me/passkeys", "/me/passkeys", url.Values{"step": {"remove"}, "passkey": {"999999"}}); p.StatusCode != http.StatusNotFound {
		t.Errorf("remove of no passkey of the officer: %d", p.StatusCode)
	}
	// The proof is the session's: another session of the same officer,
	// holding the cookie, is asked for the password.
	o, err := idp.app.pg.OfficerByLogin(context.Background(), "chan.tm")
	if err != nil {
		t.Fatal(err)
	}
	other := w.signedIn(t, o)
	u, _ := url.Parse(w.srv.URL + "/me/passkeys")
	other.c.Jar.SetCookies(u, []*http.Cookie{{Name: "idp_desk_reauth", Value: cookieOf(t, b, u, "idp_desk_reauth"), Path: "/me/passkeys"}})
	if p := other.get("/me/passkeys"); p.StatusCode != http.StatusOK || strings.Contains(p.Body, `data-passkey="create"`) {
		t.Errorf("the proof opened another session's page: %d", p.StatusCode)
	}
	if p := b.get("/me/passkeys"); !strings.Contains(p.Body, `data-passkey="create"`) {
		t.Error("the proof no longer opens its own session's page")
	}
}

// sentCode creates the counter officer login as the demo supervisor does,
// its activation code sent.
func (w *deskWorld) sentCode(t *testing.T, login string) {
	t.Helper()
	ctx := context.Background()
	svc, err := newOfficers(w.idp.app.cfg, w.idp.app.pg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	boss, err := w.idp.app.pg.OfficerByLogin(ctx, demoOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, &boss, storage.Officer{Login: login, DisplayName: "陳大文", Role: storage.RoleCounter, Mobile: "66123456"}); err != nil {
		t.Fatal(err)
	}
}

func cookieOf(t *testing.T, b *deskBrowser, u *url.URL, name string) string {
	t.Helper()
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	t.Fatalf("no cookie %s", name)
	return ""
}
