package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// 已登入的裝置, end to end: a staff login signed in with three browsers sees
// them all, with their browser and system in plain words, the e-service one
// signed in to and the level reached; 登出此裝置 ends one (its next request
// is signed out, its e-service is told by back-channel logout, its refresh
// token is refused) and leaves the others; 登出所有其他裝置 keeps only the
// browser in use. Another login's sid is not found, and nothing ends.

// User-Agent headers of real browsers, as the page names them.
const (
	uaChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaSafariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
	uaFirefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
)

// userAgent sends every request with a User-Agent header of its own.
type userAgent struct {
	ua   string
	next http.RoundTripper
}

func (u userAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return u.next.RoundTrip(r)
}

// browserAs is a browser that says it is ua.
func (idp *testIDP) browserAs(ua string) *browser {
	b := idp.browser()
	b.c.Transport = userAgent{ua: ua, next: http.DefaultTransport}
	return b
}

var deviceRowLine = regexp.MustCompile(`(?s)<tr id="session_([A-Za-z0-9_-]+)"( class="current")?>(.*?)</tr>`)

// deviceRows are the sessions 已登入的裝置 lists: sid → the row's text.
func deviceRows(p page) map[string]string {
	rows := map[string]string{}
	for _, m := range deviceRowLine.FindAllStringSubmatch(p.Body, -1) {
		rows[m[1]] = html.UnescapeString(m[2] + m[3])
	}
	return rows
}

// currentSID is the sid of the row the page marks as this browser's.
func currentSID(t *testing.T, p page) string {
	t.Helper()
	for _, m := range deviceRowLine.FindAllStringSubmatch(p.Body, -1) {
		if m[2] != "" {
			return m[1]
		}
	}
	t.Fatalf("no current session on %.800s", p.Body)
	return ""
}

func TestDevicesListAndEnd(t *testing.T) {
	t.Parallel()
	idp := startBackchannelIDP(t, nil)
	ctx := context.Background()
	staff := idp.login("staff01")
	rcv := newLogoutReceiver(t)
	r := idp.bcClient("bc-devices", rcv.url())

	// Chrome on Windows signs in at the e-service; Safari on an iPhone and
	// Firefox on Linux at the portal.
	chrome := idp.browserAs(uaChromeWindows)
	tok, p := chrome.tokens(r, "staff01")
	chromeSID := r.sidOf(t, tok, p.Nonce)
	safari := idp.browserAs(uaSafariIPhone)
	safari.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	firefox := idp.browserAs(uaFirefoxLinux)
	firefox.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)

	page := safari.accountPage("/account/devices")
	rows := deviceRows(page)
	if len(rows) != 3 {
		t.Fatalf("%d sessions listed, want 3: %v", len(rows), rows)
	}
	safariSID := currentSID(t, page)
	sv, err := idp.app.pg.ServiceByCode(ctx, demoService)
	if err != nil {
		t.Fatal(err)
	}
	chromeRow := rows[chromeSID]
	for _, want := range []string{"Chrome（Windows）", "127.0.0.1", sv.NameZH, catalogue(t, "devices_level_password"), catalogue(t, "devices_end")} {
		if !strings.Contains(chromeRow, want) {
			t.Errorf("the Chrome session's row lacks %q: %s", want, chromeRow)
		}
	}
	if row := rows[safariSID]; !strings.Contains(row, "Safari（iPhone）") || !strings.Contains(row, catalogue(t, "devices_this")) ||
		strings.Contains(row, catalogue(t, "devices_end")) {
		t.Errorf("this browser's row: %s", row)
	}
	var firefoxSID string
	for sid, row := range rows {
		if strings.Contains(row, "Firefox（Linux）") {
			firefoxSID = sid
		}
	}
	if firefoxSID == "" {
		t.Fatalf("no Firefox row in %v", rows)
	}
	// English names it in English.
	mustContain(t, safari.accountPage("/account/devices?lang=en").Body, "Chrome on Windows")
	safari.accountPage("/account/devices?lang=zh-Hant") // back to the default language

	// 登出此裝置 on the Chrome session.
	csrf := submatch(csrfField, page.Body)
	out := safari.post(idp.portal("/account/devices"), url.Values{"csrf_token": {csrf}, "end": {chromeSID}})
	if loc := out.location(t); loc != idp.issuer+"/account/devices?done=ended" {
		t.Fatalf("登出此裝置 went to %s", loc)
	}
	chrome.wantSignedOut("the ended browser")
	status, body := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "the ended session's refresh token", status, body)
	got := rcv.waitAccepted(t, 1)
	idp.verifyLogoutToken(t, got[0].token, tok.Extra("id_token").(string), r.oauth.ClientID, staff.EUID, chromeSID)
	firefox.accountPage("/account")
	after := deviceRows(safari.accountPage("/account/devices?done=ended"))
	if _, still := after[chromeSID]; still || len(after) != 2 {
		t.Errorf("after ending Chrome's session: %v", after)
	}

	// Another login cannot end staff01's session: 404, and it lives on.
	other := idp.loginBrowser("staff02")
	before := idp.auditRows(t)
	refused := other.post(idp.portal("/account/devices"), url.Values{"csrf_token": {other.sessionCSRF()}, "end": {firefoxSID}})
	if refused.StatusCode != http.StatusNotFound {
		t.Errorf("staff02 ending staff01's session = %d, want 404", refused.StatusCode)
	}
	mustContain(t, refused.Body, catalogue(t, "devices_error_not_found"))
	firefox.accountPage("/account")
	if idp.auditRows(t) != before {
		t.Error("a refused end wrote something")
	}
	// A form without this session's token ends nothing either.
	if p := safari.post(idp.portal("/account/devices"), url.Values{"csrf_token": {"forged"}, "others": {"1"}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("a forged token = %d, want 403", p.StatusCode)
	}
	firefox.accountPage("/account")

	// 登出所有其他裝置 keeps this browser only.
	out = safari.post(idp.portal("/account/devices"), url.Values{"csrf_token": {csrf}, "others": {"1"}})
	if loc := out.location(t); loc != idp.issuer+"/account/devices?done=others" {
		t.Fatalf("登出所有其他裝置 went to %s", loc)
	}
	firefox.wantSignedOut("another browser after 登出所有其他裝置")
	last := safari.accountPage("/account/devices?done=others")
	if rows := deviceRows(last); len(rows) != 1 || currentSID(t, last) != safariSID {
		t.Errorf("after 登出所有其他裝置: %v", rows)
	}
	mustContain(t, last.Body, catalogue(t, "devices_only_this"))
	mustContain(t, last.Body, catalogue(t, "devices_done_others"))

	// 登出此裝置 of the browser's own session signs it out.
	out = safari.post(idp.portal("/account/devices"), url.Values{"csrf_token": {csrf}, "end": {safariSID}})
	if loc := out.location(t); loc != idp.issuer+"/account/login" {
		t.Fatalf("ending this browser's session went to %s", loc)
	}
	safari.wantSignedOut("the browser that ended its own session")
}
