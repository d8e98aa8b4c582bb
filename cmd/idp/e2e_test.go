package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestWebClientJourney is a department web app (confidential client) signing
// a staff login in, from authorize to logout, with independent RP libraries.
func TestWebClientJourney(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	admin := idp.login("admin01")

	// The login page: three labelled fields, in Traditional Chinese by default.
	p := newAuthParams(t)
	login := b.startLogin(r, p)
	if login.StatusCode != http.StatusOK {
		t.Fatalf("login page: %d", login.StatusCode)
	}
	for _, label := range []string{"實體編號", "用戶名稱", "密碼", `name="entity_number"`, `name="username"`, `name="password"`, `/activate">需要幫忙`} {
		mustContain(t, login.Body, label)
	}
	if csp := login.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q, want frame-ancestors 'none'", csp)
	}
	if got := login.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q", got)
	}

	done := b.submit(login.form(t), idp.demo.EntityNumber, admin.Username, admin.Password)
	for _, c := range done.Cookies() {
		if c.Name == "idp_session" && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode) {
			t.Errorf("session cookie must be HttpOnly and SameSite=Lax: %+v", c)
		}
	}
	cb := b.followToRP(done)
	if cb.Get("state") != p.State || cb.Get("code") == "" {
		t.Fatalf("callback = %v, want code and state %s", cb, p.State)
	}

	tok, err := r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	claims := r.idClaims(t, tok, p.Nonce)
	wantClaims := map[string]any{
		"sub": admin.EUID, "euid": admin.EUID, "entity_number": "02-000021", "entity_name": "公司19",
		"preferred_username": "admin01", "acr": "urn:entity-account:acr:password",
	}
	for k, want := range wantClaims {
		if claims[k] != want {
			t.Errorf("ID token %s = %v, want %v", k, claims[k], want)
		}
	}
	if g := claims["service_groups"]; !equalStrings(g, []string{"admin"}) {
		t.Errorf("service_groups = %v, want [admin]", g)
	}
	if amr := claims["amr"]; !equalStrings(amr, []string{"pwd"}) {
		t.Errorf("amr = %v, want [pwd]", amr)
	}
	if _, ok := claims["auth_time"].(float64); !ok {
		t.Errorf("auth_time missing: %v", claims)
	}
	if sid, _ := claims["sid"].(string); sid == "" {
		t.Errorf("sid missing: %v", claims)
	}

	// Userinfo by GET (go-oidc) and by POST with the token in the body.
	ui, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo GET: %v", err)
	}
	var uiClaims map[string]any
	_ = ui.Claims(&uiClaims)
	if ui.Subject != admin.EUID || uiClaims["euid"] != admin.EUID || uiClaims["entity_number"] != "02-000021" || !equalStrings(uiClaims["service_groups"], []string{"admin"}) {
		t.Errorf("userinfo GET claims = %v", uiClaims)
	}
	status, post := r.postForm(t, r.discovery(t, "userinfo_endpoint"), url.Values{"access_token": {tok.AccessToken}}, false)
	if status != http.StatusOK || post["sub"] != admin.EUID || post["entity_number"] != "02-000021" {
		t.Errorf("userinfo POST = %d %v", status, post)
	}

	// Refresh with rotation: the new refresh token works, the old one no longer does.
	oldRT := tok.RefreshToken
	if oldRT == "" {
		t.Fatal("no refresh token with offline_access")
	}
	status, refreshed := r.postForm(t, r.oauth.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {oldRT}}, true)
	newRT, _ := refreshed["refresh_token"].(string)
	if status != http.StatusOK || newRT == "" || newRT == oldRT {
		t.Fatalf("refresh = %d %v", status, refreshed)
	}
	if idt, _ := refreshed["id_token"].(string); idt == "" {
		t.Error("refresh gave no ID token")
	} else if _, err := r.verifier.Verify(context.Background(), idt); err != nil {
		t.Errorf("refreshed ID token: %v", err)
	}
	// Revocation, then introspection says inactive.
	newAT, _ := refreshed["access_token"].(string)
	introspect := r.discovery(t, "introspection_endpoint")
	status, intro := r.postForm(t, introspect, url.Values{"token": {tok.AccessToken}}, true)
	if status != http.StatusOK || intro["active"] != true || intro["sub"] != admin.EUID || intro["client_id"] != web.ClientID {
		t.Fatalf("introspection before revocation = %d %v", status, intro)
	}
	status, _ = r.postForm(t, r.discovery(t, "revocation_endpoint"), url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}, true)
	if status != http.StatusOK {
		t.Fatalf("revoke = %d", status)
	}
	status, intro = r.postForm(t, introspect, url.Values{"token": {tok.AccessToken}}, true)
	if status != http.StatusOK || intro["active"] != false {
		t.Fatalf("introspection after revocation = %d %v, want active:false", status, intro)
	}
	if _, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo accepted a revoked access token")
	}
	if _, intro = r.postForm(t, introspect, url.Values{"token": {newAT}}, true); intro["active"] != true {
		t.Errorf("the refreshed access token should still be active: %v", intro)
	}

	// The rotated-out refresh token fails, and its reuse revokes the family (RFC 9700 §4.14.2).
	status, reused := r.postForm(t, r.oauth.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {oldRT}}, true)
	if status != http.StatusBadRequest || reused["error"] != "invalid_grant" {
		t.Fatalf("old refresh token after rotation = %d %v, want invalid_grant", status, reused)
	}
	if status, _ := r.postForm(t, r.oauth.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {newRT}}, true); status != http.StatusBadRequest {
		t.Errorf("after reuse the whole family must be revoked; newest refresh token gave %d", status)
	}
	if _, intro = r.postForm(t, introspect, url.Values{"token": {newAT}}, true); intro["active"] != false {
		t.Errorf("after reuse the family's access token must be revoked: %v", intro)
	}

	// Sign in again by SSO for a fresh grant under the same browser session.
	p = newAuthParams(t)
	cb = b.followToRP(b.get(r.authURL(p)))
	tok, err = r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatalf("SSO exchange: %v", err)
	}

	// RP-initiated logout: back to the registered URI with state, and the SSO session is gone.
	rawID, _ := tok.Extra("id_token").(string)
	end := url.Values{"id_token_hint": {rawID}, "post_logout_redirect_uri": {web.PostLogoutRedirectURIs[0]}, "state": {"bye-1"}}
	loc := b.get(r.discovery(t, "end_session_endpoint") + "?" + end.Encode()).location(t)
	if !strings.HasPrefix(loc, web.PostLogoutRedirectURIs[0]) || !strings.Contains(loc, "state=bye-1") {
		t.Fatalf("end_session redirect = %s", loc)
	}
	again := b.startLogin(r, newAuthParams(t))
	again.form(t) // the form again: no SSO after logout
	if _, intro = r.postForm(t, introspect, url.Values{"token": {tok.AccessToken}}, true); intro["active"] != false {
		t.Errorf("tokens of the ended session should be revoked: %v", intro)
	}
}

// TestMobileClientPKCE is a department mobile app (public client) with
// PKCE S256 and a loopback redirect on a port chosen at run time (RFC 8252).
func TestMobileClientPKCE(t *testing.T) {
	idp := startIDP(t, nil)
	mobile := idp.client(demoMobileClient)
	r := idp.rp(mobile, "http://127.0.0.1:53111/callback")
	for _, tc := range []struct {
		user   string
		groups []string
	}{{"staff01", []string{"operator"}}, {"staff02", []string{}}} {
		t.Run(tc.user, func(t *testing.T) {
			b := idp.browser()
			p := newAuthParams(t)
			cb := b.signIn(r, p, tc.user)
			tok, err := r.exchange(cb.Get("code"), p.Verifier)
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			claims := r.idClaims(t, tok, p.Nonce)
			if claims["euid"] != idp.login(tc.user).EUID || claims["entity_number"] != "02-000021" {
				t.Errorf("claims = %v", claims)
			}
			if !equalStrings(claims["service_groups"], tc.groups) {
				t.Errorf("service_groups = %#v, want %v", claims["service_groups"], tc.groups)
			}
			if tok.RefreshToken == "" {
				t.Error("public client got no refresh token")
			}
		})
	}
}

// TestSingleSignOn: a second client's authorize with a live session signs in
// without asking; prompt and max_age behave as OIDC Core §3.1.2.1 says.
func TestSingleSignOn(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.rp(idp.client(demoWebClient), idp.client(demoWebClient).RedirectURIs[0])
	other := idp.rp(idp.other, idp.other.RedirectURIs[0])
	b := idp.browser()

	// prompt=none before any sign-in: login_required at the RP, never a page.
	p := newAuthParams(t)
	p.Extra = url.Values{"prompt": {"none"}}
	cb := b.followToRP(b.get(web.authURL(p)))
	if cb.Get("error") != "login_required" || cb.Get("state") != p.State {
		t.Fatalf("prompt=none without session = %v", cb)
	}

	p = newAuthParams(t)
	first := b.signIn(web, p, "staff01")
	tok, err := web.exchange(first.Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	firstClaims := web.idClaims(t, tok, p.Nonce)
	if !equalStrings(firstClaims["service_groups"], []string{"operator"}) {
		t.Errorf("demo service_groups = %v", firstClaims["service_groups"])
	}

	// Second client, same browser: a code without the form; groups of the other e-service.
	p = newAuthParams(t)
	cb = b.followToRP(b.get(other.authURL(p)))
	tok, err = other.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatalf("SSO exchange: %v (callback %v)", err, cb)
	}
	claims := other.idClaims(t, tok, p.Nonce)
	if claims["sub"] != idp.login("staff01").EUID || !equalStrings(claims["service_groups"], []string{"inspector"}) {
		t.Errorf("SSO claims = %v", claims)
	}
	if claims["auth_time"] != firstClaims["auth_time"] || claims["sid"] != firstClaims["sid"] {
		t.Errorf("SSO must keep auth_time and sid: %v vs %v", claims, firstClaims)
	}

	// prompt=none with the session: a code, no page.
	p = newAuthParams(t)
	p.Extra = url.Values{"prompt": {"none"}}
	if cb := b.followToRP(b.get(other.authURL(p))); cb.Get("code") == "" {
		t.Errorf("prompt=none with a session = %v", cb)
	}

	// prompt=login and max_age=0 ask for the password again.
	for _, extra := range []url.Values{{"prompt": {"login"}}, {"max_age": {"0"}}} {
		p = newAuthParams(t)
		p.Extra = extra
		time.Sleep(1100 * time.Millisecond) // auth_time has one-second resolution
		login := b.startLogin(web, p)
		l := idp.login("staff01")
		cb := b.followToRP(b.submit(login.form(t), idp.demo.EntityNumber, l.Username, l.Password))
		tok, err := web.exchange(cb.Get("code"), p.Verifier)
		if err != nil {
			t.Fatal(err)
		}
		c := web.idClaims(t, tok, p.Nonce)
		if c["auth_time"].(float64) <= firstClaims["auth_time"].(float64) {
			t.Errorf("%v: auth_time not renewed", extra)
		}
	}

	// id_token_hint naming another login with prompt=none: login_required.
	adminBrowser := idp.browser()
	ap := newAuthParams(t)
	acb := adminBrowser.signIn(web, ap, "admin01")
	atok, err := web.exchange(acb.Get("code"), ap.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	p = newAuthParams(t)
	p.Extra = url.Values{"prompt": {"none"}, "id_token_hint": {atok.Extra("id_token").(string)}}
	if cb := b.followToRP(b.get(web.authURL(p))); cb.Get("error") != "login_required" {
		t.Errorf("prompt=none with another user's id_token_hint = %v", cb)
	}
}

func equalStrings(v any, want []string) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	got := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		got = append(got, s)
	}
	return slices.Equal(got, want)
}

// TestLogoutWithoutHintAsksFirst: end_session without an id_token_hint (any
// site can link to it) must not end the session silently; the user is asked
// (RP-Initiated Logout 1.0 §2), and only their confirmation ends it.
func TestLogoutWithoutHintAsksFirst(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	p := newAuthParams(t)
	tok, err := r.exchange(b.signIn(r, p, "staff01").Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	silent := func() url.Values {
		p := newAuthParams(t)
		p.Extra = url.Values{"prompt": {"none"}}
		return b.followToRP(b.get(r.authURL(p)))
	}

	end := url.Values{"client_id": {web.ClientID}, "post_logout_redirect_uri": {web.PostLogoutRedirectURIs[0]}, "state": {"bye-2"}}
	confirm := b.get(b.get(r.discovery(t, "end_session_endpoint") + "?" + end.Encode()).location(t))
	if confirm.StatusCode != http.StatusOK || !strings.Contains(confirm.Body, `action="/logout"`) {
		t.Fatalf("end_session without a hint: want the confirmation page, got %d %.300s", confirm.StatusCode, confirm.Body)
	}
	// The page speaks the language the RP asked for with ui_locales.
	end.Set("ui_locales", "pt")
	if pt := b.get(b.get(r.discovery(t, "end_session_endpoint") + "?" + end.Encode()).location(t)); !strings.Contains(pt.Body, `<html lang="pt"`) {
		t.Errorf("confirmation page with ui_locales=pt: %.300s", pt.Body)
	}
	end.Del("ui_locales")
	if cb := silent(); cb.Get("code") == "" {
		t.Fatalf("the session ended before the user confirmed: %v", cb)
	}
	form := url.Values{"next": {confirm.fieldValue("next")}, "sig": {confirm.fieldValue("sig")}}
	if p := b.post("/logout", form); p.StatusCode != http.StatusForbidden {
		t.Errorf("confirmation without CSRF token = %d, want 403", p.StatusCode)
	}
	forged := url.Values{"next": {"http://evil.example/"}, "sig": {form.Get("sig")}, "csrf_token": {confirm.fieldValue("csrf_token")}}
	if p := b.post("/logout", forged); p.StatusCode != http.StatusBadRequest || p.Header.Get("Location") != "" {
		t.Errorf("confirmation with a forged address = %d %q, want 400 and no redirect", p.StatusCode, p.Header.Get("Location"))
	}
	form.Set("csrf_token", confirm.fieldValue("csrf_token"))
	loc := b.post("/logout", form).location(t)
	if !strings.HasPrefix(loc, web.PostLogoutRedirectURIs[0]) || !strings.Contains(loc, "state=bye-2") {
		t.Fatalf("after confirming: redirect %s", loc)
	}
	if cb := silent(); cb.Get("error") != "login_required" {
		t.Errorf("prompt=none after confirmed logout = %v, want login_required", cb)
	}
	if _, intro := r.postForm(t, r.discovery(t, "introspection_endpoint"), url.Values{"token": {tok.AccessToken}}, true); intro["active"] != false {
		t.Errorf("the session's tokens survive the confirmed logout: %v", intro)
	}
	// With no session left there is nothing to ask: straight to the RP.
	if loc := b.get(r.discovery(t, "end_session_endpoint") + "?" + end.Encode()).location(t); !strings.HasPrefix(loc, web.PostLogoutRedirectURIs[0]) {
		t.Errorf("end_session without a session = %s", loc)
	}
}
