package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/login/notify"
)

// TestBrowserForgotPassword is 忘記密碼 in a real browser, from the portal's
// sign-in: 需要幫忙 → 忘記密碼, the facts typed, the code read from the SMS
// the outbox delivered, the SMS's own link to 已收到重設碼, the new password,
// and a sign-in with it. The EUID is the same; the e-service's refresh
// token from before is refused, and its back end was told by back-channel
// logout; the holder was told of the reset.
func TestBrowserForgotPassword(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	staff02 := w.login("staff02")
	rcv := newLogoutReceiver(t)
	r := w.bcClient("bc-recover", rcv.url())
	tok, params := w.browser().tokens(r, "staff02")
	sid := r.sidOf(t, tok, params.Nonce)
	T := messages(t, "zh-Hant")

	c := newChrome(t)
	c.open(w.issuer + "/account/login?lang=zh-Hant")
	c.follow(T["activate_index_heading"])
	c.follow(T["recover_password_heading"])
	if got := c.text("h1"); got != T["recover_password_heading"] {
		t.Fatalf("heading %q, want %q\n%s", got, T["recover_password_heading"], c.where())
	}
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", "staff02")
	c.fill("id_doc_number", "1000003(3)")
	c.fill("birth_date", demoBirthDate)
	c.press(T["recover_password_submit"])
	if got := c.text("h1"); got != T["recover_done_heading"] {
		t.Fatalf("after the request: heading %q\n%s", got, c.where())
	}
	sms := w.resetCodeMessage(t, staff02Mobile, 1)
	code := codeIn(t, sms)
	link := urlInText.FindString(sms.Text)
	if !strings.HasPrefix(link, w.issuer+"/activate/reset?") || !strings.Contains(sms.Text, w.demo.EntityNumber) {
		t.Fatalf("the SMS gives no link to the code's page, or no entity number: %q", sms.Text)
	}

	c.open(link)
	if c.value("entity_number") != w.demo.EntityNumber || c.value("username") != "staff02" {
		t.Errorf("the SMS's link does not fill in the entity number and username\n%s", c.where())
	}
	c.fill("code", code)
	c.press(T["recover_code_submit"])
	if got := c.text("h1"); got != T["recover_new_heading"] {
		t.Fatalf("after the code: heading %q\n%s", got, c.where())
	}
	c.fill("new_password", newStaffPassword)
	c.fill("new_password2", newStaffPassword)
	c.press(T["recover_new_submit"])
	if got := c.text("h1"); got != T["recover_reset_done_heading"] {
		t.Fatalf("after the new password: heading %q\n%s", got, c.where())
	}

	c.follow(T["activate_sign_in"])
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", "staff02")
	c.fill("password", newStaffPassword)
	c.press(T["sign_in"])
	if got := c.text("#account_euid"); got != staff02.EUID {
		t.Errorf("profile EUID %q, want the same %q\n%s", got, staff02.EUID, c.where())
	}

	status, out := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "refresh token from before the reset", status, out)
	got := rcv.waitAccepted(t, 1)
	w.verifyLogoutToken(t, got[0].token, tok.Extra("id_token").(string), "bc-recover", staff02.EUID, sid)
	notice := w.messageWhere(t, 1, func(m notify.Message) bool {
		return m.To == staff02Mobile && !codeInText.MatchString(m.Text) && strings.Contains(m.Text, "staff02")
	})
	if strings.Contains(notice.Text, "http") {
		t.Errorf("the reset notice carries a link: %q", notice.Text)
	}
}

// TestBrowserForgotPasswordTOTP: a login with an active 安全驗證碼 is asked
// for it beside the new password; a wrong code is refused (the password
// stays), the right one resets.
func TestBrowserForgotPasswordTOTP(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	staff01 := w.login("staff01")
	secret := w.enrolTOTP(t, staff01)
	T := messages(t, "en")

	c := newChrome(t)
	c.open(w.issuer + "/activate/forgot-password?lang=en")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", "staff01")
	c.fill("id_doc_number", "1000002(2)")
	c.fill("birth_date", demoBirthDate)
	c.press(T["recover_password_submit"])
	code := codeIn(t, w.resetCodeMessage(t, staff01Mobile, 1))
	c.follow(T["recover_have_code"])
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", "staff01")
	c.fill("code", code)
	c.press(T["recover_code_submit"])
	c.fill("new_password", newStaffPassword)
	c.fill("new_password2", newStaffPassword)
	c.fill("code", wrongCode(t, secret, time.Now()))
	c.press(T["recover_new_submit"])
	if got := c.text(`[role="alert"]`); got != T["tool_error_code"] {
		t.Fatalf("wrong 安全驗證碼: alert %q, want %q\n%s", got, T["tool_error_code"], c.where())
	}
	if p := w.browser().accountSignIn(w.demo.EntityNumber, "staff01", newStaffPassword); p.StatusCode == http.StatusSeeOther {
		t.Fatal("the password changed without the tool")
	}
	c.fill("new_password", newStaffPassword)
	c.fill("new_password2", newStaffPassword)
	c.fill("code", totpCode(t, secret, time.Now()))
	c.press(T["recover_new_submit"])
	if got := c.text("h1"); got != T["recover_reset_done_heading"] {
		t.Fatalf("with the right code: heading %q\n%s", got, c.where())
	}
	w.browser().accountSignedIn(w.demo.EntityNumber, "staff01", newStaffPassword)
}

// TestBrowserForgotPasswordPasskey: a login whose identity tool is a
// passkey proves it beside the new password (the page's passkey form, with
// Chromium's virtual authenticator); without it, or with an answer that is
// no passkey's, the reset is refused and the password stays.
func TestBrowserForgotPasswordPasskey(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, map[string]string{"ISSUER_HOST": "localhost"})
	admin := w.login("admin01")
	const adminMobile, adminDoc = "+85366000100", "1000001(1)"
	T := messages(t, "en") // Chromium asks for English
	c := newChrome(t)
	c.withAuthenticator()
	c.open(w.issuer + "/account/login")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", admin.Username)
	c.fill("password", admin.Password)
	c.press(T["sign_in"])
	c.open(w.issuer + "/account/tools/passkeys")
	c.fill("passkey_name", "My phone")
	c.do("add", chromedp.Click(chromedp.CSS(addPasskey), chromedp.NodeVisible))
	c.waitFor("ul.passkeys", "My phone")
	c.forgetCookies()

	// Without the passkey, or with a forged answer: refused.
	w.browser().forgot("password", staffFacts(w.demo.EntityNumber, admin.Username, adminDoc, demoBirthDate))
	b := w.browser()
	step1 := b.resetStep1(w.demo.EntityNumber, admin.Username, codeIn(t, w.resetCodeMessage(t, adminMobile, 1)))
	if !strings.Contains(step1.Body, `data-passkey="get"`) {
		t.Fatalf("the new-password page has no passkey form: %.800s", step1.Body)
	}
	p := b.resetStep2(step1, newStaffPassword, newStaffPassword, "")
	wantActError(t, "no passkey", p, http.StatusBadRequest, "reset_error_tool_missing")
	p = b.post(w.issuerPath()+"/activate/reset/complete", url.Values{"csrf_token": {submatch(csrfField, step1.Body)},
		"ticket": {step1.fieldValue("ticket")}, "new_password": {newStaffPassword}, "new_password2": {newStaffPassword},
		"state": {step1.fieldValue("state")}, "credential": {`{"id":"forged","type":"public-key"}`}})
	wantActError(t, "forged passkey answer", p, http.StatusUnauthorized, "reset_error_passkey")
	if p := w.browser().accountSignIn(w.demo.EntityNumber, admin.Username, newStaffPassword); p.StatusCode == http.StatusSeeOther {
		t.Fatal("the password changed without the passkey")
	}

	// With it, in the browser.
	c.open(w.issuer + "/activate/forgot-password")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", admin.Username)
	c.fill("id_doc_number", adminDoc)
	c.fill("birth_date", demoBirthDate)
	c.press(T["recover_password_submit"])
	c.follow(T["recover_have_code"])
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", admin.Username)
	c.fill("code", codeIn(t, w.resetCodeMessage(t, adminMobile, 2)))
	c.press(T["recover_code_submit"])
	c.fill("new_password", newStaffPassword)
	c.fill("new_password2", newStaffPassword)
	c.do("reset with the passkey", chromedp.Click(buttonLabelled(T["recover_new_submit"]), chromedp.NodeVisible))
	c.waitFor("h1", T["recover_reset_done_heading"])
	w.browser().accountSignedIn(w.demo.EntityNumber, admin.Username, newStaffPassword)
}
