package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/entity-account/idp/templates"
)

// TestBrowserDeskPasskey: in Chromium with a virtual authenticator, at a
// desk reached as http://localhost:PORT (its IDP_DESK_ORIGIN), an officer
// signs in with its password and 安全驗證碼, types its password again on
// 我的通行密鑰, adds a passkey, signs out, and signs in with its password
// and the passkey.
func TestBrowserDeskPasskey(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startPasskeyDesk(t)
	w.sentCode(t, "chan.tm")
	secret := w.activate(t, w.browser(t), "chan.tm")

	c := newChrome(t)
	c.withAuthenticator()
	c.open(w.srv.URL + "/signin")
	T := messages(t, eval[string](c, `document.documentElement.lang`))
	c.fill("login", "chan.tm")
	c.fill("password", deskPassword)
	c.press(T["desk_auth_next"])
	if strings.Contains(c.text("body"), T["desk_passkeys_signin"]) {
		t.Error("a passkey offered to an officer without one")
	}
	c.fill("code", deskTOTP(t, secret, time.Now().Add(30*time.Second)))
	c.press(T["desk_auth_signin_submit"])
	if got := c.text("h1"); got != T["desk_home_title"] {
		t.Fatalf("after the code: %q\n%s", got, c.where())
	}

	c.open(w.srv.URL + "/me/passkeys")
	c.fill("password", deskPassword)
	c.press(T["desk_passkeys_reauth_submit"])
	c.fill("passkey_name", "櫃台電腦")
	c.do("add", chromedp.Click(buttonLabelled(T["desk_passkeys_add"]), chromedp.NodeVisible))
	c.waitFor("ul.passkeys", "櫃台電腦")
	c.waitFor("p.notice", T["desk_passkeys_done_added"])
	dir := screenshotDir(t)
	c.atWidth(390, dir, "desk-passkeys-390") // on a phone too, nothing past the edge
	c.atWidth(1024, dir, "desk-passkeys-1024")
	lang := eval[string](c, `document.documentElement.lang`)
	deskPasskeyTour(t, c, dir, w.srv.URL+"/me/passkeys", "desk passkeys", "desk_passkeys_title", lang)

	c.press(T["desk_sign_out"])
	c.open(w.srv.URL + "/signin")
	c.fill("login", "chan.tm")
	c.fill("password", deskPassword)
	c.press(T["desk_auth_next"])
	if !strings.Contains(c.location(), "/signin/code") {
		t.Fatalf("after the password: %s", c.where())
	}
	c.atWidth(390, dir, "desk-signin-passkey-390")
	c.atWidth(1024, dir, "desk-signin-passkey-1024")
	deskPasskeyTour(t, c, dir, w.srv.URL+"/signin/code", "desk sign-in with a passkey", "desk_auth_signin_title", lang)
	c.do("passkey", chromedp.Click(buttonLabelled(T["desk_passkeys_signin"]), chromedp.NodeVisible))
	c.waitFor("h1", T["desk_home_title"])
	if !strings.Contains(c.text("body"), "chan.tm") {
		t.Errorf("home does not name the officer\n%s", c.where())
	}

	// The desk session says which second factor opened it.
	var deskCookie string
	c.do("read the desk cookie", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{w.srv.URL}})
		for _, ck := range res.Cookies {
			if ck.Name == "idp_desk" {
				deskCookie = ck.Value
			}
		}
		return err
	}))
	ctx := context.Background()
	if sess, err := idp.app.redis.DeskSession(ctx, deskCookie); err != nil || sess.Factor != "passkey" {
		t.Errorf("desk session %+v, %v", sess, err)
	}
	var used, added int
	if err := idp.app.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM officer_passkeys p JOIN officers o ON o.id = p.officer_id
		WHERE o.login = 'chan.tm' AND p.last_used_at IS NOT NULL`).Scan(&used); err != nil || used != 1 {
		t.Errorf("passkeys used %d, %v", used, err)
	}
	if err := idp.app.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'officer.passkey.add' AND target = 'chan.tm'`).
		Scan(&added); err != nil || added != 1 {
		t.Errorf("audited adds %d, %v", added, err)
	}
}

// deskPasskeyTour is the accessibility tour (browser_a11y_test.go) of the
// desk page at u in every language, at both widths; it leaves the page in
// lang again, the language the test presses its buttons in, at a
// desktop's width.
func deskPasskeyTour(t *testing.T, c *chrome, dir, u, name, titleKey, lang string) {
	t.Helper()
	for _, l := range templates.Languages {
		T := messages(t, l)
		c.open(u + "?lang=" + l)
		(&a11yTour{t: t, c: c, lang: l, T: T, dir: dir}).check(a11yPage{name: name, title: T[titleKey]})
	}
	c.open(u + "?lang=" + lang)
	c.desktop() // the tour ends on a phone's width, where the menu is folded
}
