package main

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entity-account/idp/storage"
)

// 強制登出 and 解除鎖定, end to end: too many failed sign-ins lock a login,
// and the sign-in page says until when, for a real username and an
// unknown one alike; the staff list and the login's page show the lock;
// an admin lifts it (audited) and the person signs in again; an admin
// signs the login out everywhere (audited; the e-service is told, its
// refresh token refused), and so does the operator's command. Plain staff
// and a service admin are refused (403), another entity's admin finds no
// such login (404), and none of them writes or ends anything.

var lockedUntilText = regexp.MustCompile(`已暫停登入至 ([0-9]{2}:[0-9]{2})（澳門時間）`)

// lockOut fails to sign in as username at the portal until the sign-in
// refuses for too many failures (within failures+1 attempts: earlier
// failures count too), and returns the time it names.
func (b *browser) lockOut(entity, username string, failures int) string {
	b.t.Helper()
	for i := range failures + 1 {
		p := b.accountSignIn(entity, username, "not the password")
		if p.StatusCode == http.StatusUnauthorized && i < failures {
			continue
		}
		until := submatch(lockedUntilText, p.Body)
		if p.StatusCode != http.StatusTooManyRequests || until == "" || p.Header.Get("Retry-After") == "" {
			b.t.Fatalf("attempt %d of %s: %d, Retry-After %q: %.600s", i+1, username, p.StatusCode, p.Header.Get("Retry-After"), p.Body)
		}
		return until
	}
	return ""
}

func TestPortalLockoutAndSignOut(t *testing.T) {
	t.Parallel()
	idp := startBackchannelIDP(t, nil)
	admin, staff01, staff02 := idp.login("admin01"), idp.login("staff01"), idp.login("staff02")
	rcv := newLogoutReceiver(t)
	r := idp.bcClient("bc-signout", rcv.url())
	b := idp.browser()
	tok, p := b.tokens(r, "staff02")
	sid := r.sidOf(t, tok, p.Nonce)

	// Five failures lock staff02; an unknown username gets the same answer.
	until := idp.browser().lockOut(idp.demo.EntityNumber, staff02.Username, 5)
	unknown := idp.browser().lockOut(idp.demo.EntityNumber, "nobody-here", 5)
	if until != unknown {
		t.Logf("the two lockouts end at %s and %s (a minute turned between them)", until, unknown)
	}
	if p := idp.browser().accountSignIn(idp.demo.EntityNumber, staff02.Username, staff02.Password); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the right password while locked = %d, want 429", p.StatusCode)
	}

	// The staff list and the login's page show it.
	ab := idp.loginBrowser("admin01")
	lockedText := strings.Replace(catalogue(t, "staff_locked_until"), "%s", until, 1)
	row := submatch(regexp.MustCompile(`(?s)<tr id="row_`+staff02.EUID+`">(.*?)</tr>`), ab.accountPage("/account/staff").Body)
	if !strings.Contains(row, lockedText) {
		t.Errorf("the staff list's row of staff02 lacks %q: %s", lockedText, row)
	}
	if row := submatch(regexp.MustCompile(`(?s)<tr id="row_`+staff01.EUID+`">(.*?)</tr>`), ab.accountPage("/account/staff").Body); strings.Contains(row, "locked") {
		t.Errorf("staff01 is shown locked: %s", row)
	}
	detail := ab.accountPage("/account/staff/" + staff02.EUID)
	if !strings.Contains(detail.Body, lockedText) || !strings.Contains(detail.Body, `id="unlock_form"`) {
		t.Errorf("staff02's page lacks the lock or 解除鎖定: %.2000s", detail.Body)
	}

	// Who may not: nothing written, nothing ended, the lock holds.
	refused := func(who string, x *browser, status int) {
		t.Helper()
		for _, action := range []string{"signout", "unlock"} {
			before := idp.auditRows(t)
			if got := x.staffPOST("/account/staff/"+staff02.EUID+"/"+action, nil); got.StatusCode != status {
				t.Errorf("%s: %s = %d, want %d", who, action, got.StatusCode, status)
			}
			if after := idp.auditRows(t); after != before {
				t.Errorf("%s: %s wrote: %s → %s", who, action, before, after)
			}
		}
		if active, _ := r.introspect(t, tok.AccessToken)["active"].(bool); !active {
			t.Fatalf("%s: staff02's access token was revoked", who)
		}
		if !strings.Contains(ab.accountPage("/account/staff/"+staff02.EUID).Body, lockedText) {
			t.Fatalf("%s: the lock was lifted", who)
		}
	}
	plain := idp.loginBrowser("staff01")
	refused("plain staff", plain, http.StatusForbidden)
	idp.setServiceAdmin(t, admin, staff01, true)
	refused("service admin", plain, http.StatusForbidden)
	_, pw := idp.otherEntity(t)
	refused("another entity's admin", idp.signedInAs("02-000077", "admin77", pw), http.StatusNotFound)
	refused("the entity account", idp.entityAccountBrowser(), http.StatusForbidden)

	// 解除鎖定: audited, and staff02 signs in at once.
	out := ab.staffPOST("/account/staff/"+staff02.EUID+"/unlock", nil)
	if loc := out.location(t); loc != idp.issuer+"/account/staff/"+staff02.EUID+"?done=unlocked" {
		t.Fatalf("解除鎖定 went to %s", loc)
	}
	wantAuditEvent2(t, idp, "staff.unlock", staff02.EUID, admin.EUID)
	after := ab.accountPage("/account/staff/" + staff02.EUID + "?done=unlocked")
	mustContain(t, after.Body, catalogue(t, "staff_done_unlocked"))
	if ddText(after, "staff_lock") != catalogue(t, "staff_not_locked") {
		t.Errorf("after 解除鎖定 the lock reads %q", ddText(after, "staff_lock"))
	}
	portal := idp.browser()
	portal.accountSignedIn(idp.demo.EntityNumber, staff02.Username, staff02.Password)
	again := ab.staffPOST("/account/staff/"+staff02.EUID+"/unlock", nil)
	if again.StatusCode != http.StatusConflict || !strings.Contains(again.Body, html.EscapeString(catalogue(t, "lockout_error_not_locked"))) {
		t.Errorf("解除鎖定 of a login not locked = %d: %.500s", again.StatusCode, again.Body)
	}

	// 強制登出: audited; every session ends, the e-service is told.
	out = ab.staffPOST("/account/staff/"+staff02.EUID+"/signout", nil)
	if loc := out.location(t); loc != idp.issuer+"/account/staff/"+staff02.EUID+"?done=signed-out" {
		t.Fatalf("強制登出 went to %s", loc)
	}
	wantAuditEvent2(t, idp, "staff.sign_out", staff02.EUID, admin.EUID)
	status, body := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "the refresh token after 強制登出", status, body)
	got := rcv.waitAccepted(t, 1)
	idp.verifyLogoutToken(t, got[0].token, tok.Extra("id_token").(string), r.oauth.ClientID, staff02.EUID, sid)
	b.wantSignedOut("the e-service's browser after 強制登出")
	portal.wantSignedOut("the portal's browser after 強制登出")
	ab.accountPage("/account") // the admin's own session lives on
}

// TestOperatorSignOutAndUnlock: idp login signout and idp login unlock
// run the portal's use cases as the operator (not parallel: the commands
// read their configuration from the environment).
func TestOperatorSignOutAndUnlock(t *testing.T) {
	idp := startIDP(t, nil)
	ctx := context.Background()
	staff02 := idp.login("staff02")
	r := idp.rp(idp.client(demoWebClient), idp.client(demoWebClient).RedirectURIs[0])
	idp.runsCommands(t)
	tok, _ := idp.browser().tokens(r, "staff02")
	if err := loginSignOut([]string{"--entity", idp.demo.EntityNumber, "--euid", staff02.EUID}); err != nil {
		t.Fatal(err)
	}
	status, body := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "the refresh token after idp login signout", status, body)
	events, err := idp.app.pg.AuditEvents(ctx, 1)
	if err != nil || len(events) != 1 || events[0].Action != "staff.sign_out" || events[0].ActorKind != "operator" || events[0].Target != staff02.EUID {
		t.Errorf("the command's audit event: %+v, %v", events, err)
	}
	if err := loginSignOut([]string{"--entity", "02-000077", "--euid", staff02.EUID}); err == nil {
		t.Error("idp login signout of a login of another entity succeeded")
	}
	if err := loginUnlock([]string{"--entity", idp.demo.EntityNumber, "--euid", staff02.EUID}); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Errorf("idp login unlock of a login not locked: %v", err)
	}
	idp.browser().lockOut(idp.demo.EntityNumber, staff02.Username, 5)
	if err := loginUnlock([]string{"--entity", idp.demo.EntityNumber, "--euid", staff02.EUID}); err != nil {
		t.Fatal(err)
	}
	idp.browser().accountSignedIn(idp.demo.EntityNumber, staff02.Username, staff02.Password)
	events, err = idp.app.pg.AuditEvents(ctx, 5)
	if err != nil || !slices.ContainsFunc(events, func(e storage.AuditEvent) bool {
		return e.Action == "staff.unlock" && e.ActorKind == "operator" && e.Target == staff02.EUID
	}) {
		t.Errorf("no audit event of the unlock command: %+v, %v", events, err)
	}
}

// TestSignInLockoutSaysUntilWhen: the sign-in page of an e-service says
// until when the sign-in is locked, in the page's language.
func TestSignInLockoutSaysUntilWhen(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_ACCOUNT": "2"})
	r := idp.rp(idp.client(demoWebClient), idp.client(demoWebClient).RedirectURIs[0])
	for _, username := range []string{"staff01", "no-such-user"} {
		b := idp.browser()
		var last page
		for range 3 {
			form := b.startLogin(r, newAuthParams(t)).form(t)
			last = b.submit(form, idp.demo.EntityNumber, username, "wrong password")
		}
		if last.StatusCode != http.StatusTooManyRequests || !lockedUntilText.MatchString(last.Body) {
			t.Errorf("%s: the third attempt = %d: %.600s", username, last.StatusCode, last.Body)
		}
	}
}
