package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// TestDepartmentScopesOnlyForMachineClients: the department API's scopes
// (department.read, department.write) are granted to machine clients only,
// at the client_credentials grant. A web or native client that asks for
// them at /authorize or at a refresh gets none of them: the sign-in's
// tokens carry only the OpenID scopes, and the department API refuses a
// user's token anyway.
func TestDepartmentScopesOnlyForMachineClients(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	r.oauth.Scopes = []string{"openid", "profile", "offline_access", "department.read", "department.write"}

	var d map[string]any
	if err := r.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	listed, _ := json.Marshal(d["scopes_supported"])
	if string(listed) != `["openid","profile","email","phone","offline_access","department.read","department.write"]` {
		t.Errorf("scopes_supported = %s", listed)
	}

	tok, _ := idp.browser().tokens(r, "staff01")
	scope, _ := tok.Extra("scope").(string)
	if strings.Contains(scope, "department.") || !strings.Contains(scope, "openid") {
		t.Errorf("web client's code flow asking for the department scopes got scope %q", scope)
	}
	status, intro := r.postForm(t, r.discovery(t, "introspection_endpoint"), url.Values{"token": {tok.AccessToken}}, true)
	if status != http.StatusOK || intro["active"] != true || strings.Contains(intro["scope"].(string), "department.") {
		t.Errorf("introspection of the web client's token = %d %v", status, intro)
	}
	if _, err := idp.app.st.MachineToken(t.Context(), tok.AccessToken); err == nil {
		t.Error("the department API took a web client's token")
	}
	// Widening at the refresh is refused.
	status, out := r.postForm(t, r.oauth.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok.RefreshToken}, "scope": {"openid department.read"}}, true)
	if status == http.StatusOK {
		b, _ := json.Marshal(out)
		if strings.Contains(string(b), "department.") {
			t.Errorf("refresh asking for department.read = %s", b)
		}
	}
	// A native (public) client alike.
	mobile := idp.client(demoMobileClient)
	mr := idp.rp(mobile, mobile.RedirectURIs[0])
	mr.oauth.Scopes = []string{"openid", "department.write"}
	mtok, _ := idp.browser().tokens(mr, "staff01")
	if s, _ := mtok.Extra("scope").(string); slices.Contains(strings.Fields(s), "department.write") {
		t.Errorf("native client got scope %q", s)
	}
}
