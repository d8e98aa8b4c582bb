package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
)

// withAuthenticator gives the tab a virtual platform authenticator, as a
// phone's or a computer's: resident keys, user verification that succeeds
// (the face or fingerprint check), presence simulated.
func (c *chrome) withAuthenticator() {
	c.t.Helper()
	c.do("virtual authenticator", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
				IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))
}

// forgetCookies ends every session of the browser on its side (a new day).
func (c *chrome) forgetCookies() {
	c.t.Helper()
	c.do("clear cookies", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
}

// waitFor waits until an element of css is on the page, with text
// containing want.
func (c *chrome) waitFor(css, want string) {
	c.t.Helper()
	expr := `(() => { const e = document.querySelector(` + jsString(css) + `); return !!e && e.textContent.includes(` + jsString(want) + `); })()`
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// A page being replaced cannot answer: ask again.
		ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
		found, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && found {
			return
		}
	}
	c.t.Fatalf("no %s with %q\n%s", css, want, c.where())
}

// The passkey buttons of our pages, whatever the page's language.
const (
	addPasskey        = `form[data-passkey=create] button[data-passkey-start]`
	signInWithPasskey = chromedp.Search(`form[data-passkey=get] button[data-passkey-start]`)
)

// TestBrowserPasskeys is the passkey's whole life in Chromium with a
// virtual authenticator, through our pages: a staff login with a Macau
// resident ID adds one in the portal; signs in to an e-service, and to the
// portal, with the passkey alone (the higher level, no entity number or
// username typed; the tool pages then ask for the password before a change);
// proves it as the second step after the password when the e-service asks
// for the higher level; switches passkeys off, after which the passkey no
// longer signs in and none can be added; and the operator switches them on
// again.
func TestBrowserPasskeys(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"ISSUER_HOST": "localhost"})
	admin := idp.login("admin01")
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	T := messages(t, "en") // Chromium asks for English
	c := newChrome(t)
	c.withAuthenticator()

	portalSignIn := func() {
		t.Helper()
		c.open(idp.issuer + "/account/login")
		c.fill("entity_number", idp.demo.EntityNumber)
		c.fill("username", admin.Username)
		c.fill("password", admin.Password)
		c.press(T["sign_in"])
	}
	tokenOf := func(cbURL string, p authParams) map[string]any {
		t.Helper()
		cb, err := url.Parse(cbURL)
		if err != nil || cb.Query().Get("code") == "" {
			t.Fatalf("callback %s", cbURL)
		}
		tok, err := r.exchange(cb.Query().Get("code"), p.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		return r.idClaims(t, tok, p.Nonce)
	}

	// 1. Add a passkey in the portal.
	portalSignIn()
	c.open(idp.issuer + "/account/tools/passkeys")
	c.fill("passkey_name", "My phone")
	c.do("add", chromedp.Click(chromedp.CSS(addPasskey), chromedp.NodeVisible))
	c.waitFor("ul.passkeys", "My phone")

	// 2. A new day: sign in to the e-service with the passkey alone.
	c.forgetCookies()
	p := newAuthParams(t)
	c.open(r.authURL(p))
	claims := tokenOf(c.clickUntil(signInWithPasskey, web.RedirectURIs[0]), p)
	if claims["sub"] != admin.EUID || claims["acr"] != acrTool || !equalStrings(claims["amr"], []string{"hwk", "user", "mfa"}) {
		t.Fatalf("passkey sign-in: sub %v acr %v amr %v", claims["sub"], claims["acr"], claims["amr"])
	}

	// The portal too: the passkey alone signs in, to the profile.
	c.forgetCookies()
	c.open(idp.issuer + "/account/login")
	c.do("portal passkey", chromedp.Click(chromedp.CSS(string(signInWithPasskey)), chromedp.NodeVisible))
	c.waitFor("#account_euid", admin.EUID)
	// A session of the passkey alone has had no password typed: the tool
	// pages ask for it before any change.
	c.open(idp.issuer + "/account/tools/passkeys")
	if n := eval[int](c, `document.querySelectorAll('input[name=step][value=reauth]').length`); n != 1 {
		t.Errorf("the passkeys page of a passkey-only session has %d password forms, want 1", n)
	}
	if n := eval[int](c, `document.querySelectorAll('[data-passkey=create], input[name=step][value=remove]').length`); n != 0 {
		t.Errorf("the passkeys page of a passkey-only session offers %d changes", n)
	}

	// 3. Another day: the password, then the passkey as the second step.
	c.forgetCookies()
	p = withExtra(newAuthParams(t), "acr_values", acrTool)
	c.open(r.authURL(p))
	c.fill("entity_number", idp.demo.EntityNumber)
	c.fill("username", admin.Username)
	c.fill("password", admin.Password)
	c.press(T["sign_in"])
	if !strings.Contains(c.location(), "/login/verify") {
		t.Fatalf("after the password: %s", c.location())
	}
	if n := eval[int](c, `document.querySelectorAll('input[name=code]').length`); n != 0 {
		t.Error("the second step offers a code field to a login without 安全驗證碼")
	}
	claims = tokenOf(c.clickUntil(signInWithPasskey, web.RedirectURIs[0]), p)
	if claims["acr"] != acrTool || !equalStrings(claims["amr"], []string{"pwd", "hwk", "user", "mfa"}) {
		t.Fatalf("step-up with the passkey: acr %v amr %v", claims["acr"], claims["amr"])
	}
	// The sign-in history holds each of these once, with how it was made.
	signedIn := func(m storage.SignInMethod, o storage.SignInOutcome, client string) recorded {
		return recorded{admin.EUID, admin.Username, string(o), string(m), client}
	}
	wantEvents(t, idp, 0, "passkey journey",
		signedIn(storage.MethodPassword, storage.SignInSucceeded, ""),
		signedIn(storage.MethodPasskey, storage.SignInSucceeded, web.ClientID),
		signedIn(storage.MethodPasskey, storage.SignInSucceeded, ""),
		signedIn(storage.MethodPassword, storage.SignInStepRequired, web.ClientID),
		signedIn(storage.MethodPasskey, storage.SignInStepPassed, web.ClientID))

	// 4. Switch passkeys off in the portal.
	c.open(idp.issuer + "/account/tools/passkeys")
	c.do("confirm", chromedp.Click(chromedp.ID("off_confirm"), chromedp.NodeVisible))
	c.do("switch off", chromedp.Click(chromedp.CSS(`form:has(input[name=step][value=off]) button`), chromedp.NodeVisible))
	c.waitFor("#passkeys_off", "")
	if n := eval[int](c, `document.querySelectorAll('[data-passkey=create]').length`); n != 0 {
		t.Error("a passkey can still be added after switching off")
	}
	id := admin.id(t, idp.app.pg)
	if list, err := idp.app.pg.Tools(t.Context(), id); err != nil || slices.ContainsFunc(list, func(x storage.IdentityTool) bool { return x.Kind == storage.ToolPasskey }) {
		t.Fatalf("tools after switching off: %+v %v", list, err)
	}
	// The authenticator still holds the credential; it no longer signs in.
	c.forgetCookies()
	c.open(r.authURL(newAuthParams(t)))
	c.do("passkey", chromedp.Click(chromedp.CSS(string(signInWithPasskey)), chromedp.NodeVisible))
	c.waitFor("p.error[role=alert]", T["error_passkey_sign_in"])

	// 5. The operator switches them on again, after seeing the person.
	if err := idp.app.tools.EnablePasskeysFor(t.Context(), operator(), idp.demo.EntityNumber, admin.EUID); err != nil {
		t.Fatal(err)
	}
	portalSignIn()
	c.open(idp.issuer + "/account/tools/passkeys")
	if n := eval[int](c, `document.querySelectorAll('[data-passkey=create]').length`); n != 1 {
		t.Errorf("after the operator's enable: %d add forms", n)
	}
	got := idp.toolAudit(t, admin)
	want := "operator tool.passkey.enable,staff tool.passkey.off,staff tool.passkey.add"
	if strings.Join(got, ",") != want {
		t.Errorf("audit %v, want %s", got, want)
	}
}

// TestPasskeySignInRefusals: the sign-ins with a passkey alone refuse a
// forged form (403) and an answer that is no passkey's (401, on the
// address's counter), on the e-service's page and the portal's alike.
func TestPasskeySignInRefusals(t *testing.T) {
	idp := startIDP(t, map[string]string{"ISSUER_HOST": "localhost", "IDP_LOGIN_FAILURES_PER_IP": "3"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()

	portal := b.get("/account/login")
	state := portal.fieldValue("state")
	if state == "" || !strings.Contains(portal.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("the portal's sign-in has no passkey form: %.300s", portal.Body)
	}
	if p := b.post("/account/login/passkey", url.Values{"state": {state}, "credential": {"{}"}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("without a CSRF token: %d", p.StatusCode)
	}
	form := url.Values{"csrf_token": {submatch(csrfField, portal.Body)}, "state": {state}, "credential": {`{"id":"x","type":"public-key"}`}}
	if p := b.post("/account/login/passkey", form); p.StatusCode != http.StatusUnauthorized || !strings.Contains(p.Body, `role="alert"`) {
		t.Errorf("a credential that is no passkey's at the portal: %d %.300s", p.StatusCode, p.Body)
	}

	login := b.startLogin(r, newAuthParams(t))
	ef := url.Values{"authRequestID": {submatch(arField, login.Body)}, "csrf_token": {submatch(csrfField, login.Body)},
		"state": {login.fieldValue("state")}, "credential": {"not json"}}
	if p := b.post("/login/passkey", ef); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad bytes for a credential at the e-service sign-in: %d", p.StatusCode)
	}
	// The third failure from this address fills its counter: then even a
	// well-formed attempt waits.
	b.post("/login/passkey", ef)
	if p := b.post("/login/passkey", ef); p.StatusCode != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Errorf("after the address's limit: %d %q", p.StatusCode, p.Header.Get("Retry-After"))
	}
}
