package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestBrowserDeskActivation: in Chromium, an officer created by a
// supervisor activates its desk account with the code sent to it, enrols
// its 安全驗證碼 (the code computed from the secret shown beside the QR
// code), lands on the desk's home, signs out, and signs in again with its
// password and a code.
func TestBrowserDeskActivation(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	ctx := context.Background()
	svc, err := newOfficers(idp.app.cfg, idp.app.pg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	boss, err := idp.app.pg.OfficerByLogin(ctx, demoOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, &boss, storage.Officer{Login: "chan.tm", DisplayName: "陳大文", Role: storage.RoleCounter, Mobile: "66123456"}); err != nil {
		t.Fatal(err)
	}

	c := newChrome(t)
	c.open(w.srv.URL + "/activate")
	T := messages(t, eval[string](c, `document.documentElement.lang`))
	if got := c.text("h1"); got != T["desk_auth_activate_title"] {
		t.Fatalf("heading %q", got)
	}
	c.fill("login", "chan.tm")
	c.fill("code", w.officerCode(t, "chan.tm"))
	c.fill("password", deskPassword)
	c.fill("confirm", deskPassword)
	c.press(T["desk_auth_next"])
	if !strings.HasSuffix(c.location(), "/activate/totp") {
		t.Fatalf("after the code: %s", c.where())
	}
	if !eval[bool](c, `!!document.querySelector("figure.qr svg path")`) {
		t.Error("no QR code drawn")
	}
	secret := c.text("#totp_secret")
	dir := screenshotDir(t)
	c.atWidth(390, dir, "desk-activate-totp-390") // on a phone too, nothing past the edge
	c.atWidth(1024, dir, "desk-activate-totp-1024")
	c.fill("code", deskTOTP(t, secret, time.Now()))
	c.press(T["desk_auth_totp_confirm"])
	if got := c.text("h1"); got != T["desk_home_title"] || !strings.HasSuffix(c.location(), "/") {
		t.Fatalf("after enrolment: %q\n%s", got, c.where())
	}

	c.press(T["desk_sign_out"])
	if !strings.Contains(c.location(), "/signin") {
		t.Fatalf("after sign-out: %s", c.where())
	}
	c.fill("login", "chan.tm")
	c.fill("password", deskPassword)
	c.press(T["desk_auth_next"])
	if !strings.Contains(c.location(), "/signin/code") {
		t.Fatalf("after the password: %s", c.where())
	}
	// The enrolment spent this step's code: the next step's is accepted.
	c.fill("code", deskTOTP(t, secret, time.Now().Add(30*time.Second)))
	c.press(T["desk_auth_signin_submit"])
	if got := c.text("h1"); got != T["desk_home_title"] {
		t.Fatalf("after the code: %q\n%s", got, c.where())
	}
	if !strings.Contains(c.text("body"), "chan.tm") {
		t.Errorf("home does not name the officer\n%s", c.where())
	}
	c.open(w.srv.URL + "/me/history")
	c.atWidth(390, dir, "desk-history-390")
	c.atWidth(1024, dir, "desk-history-1024")
	if got := c.text("h1"); got != T["desk_auth_history_title"] {
		t.Errorf("history heading %q", got)
	}
}
