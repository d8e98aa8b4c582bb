package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// TestDiscoveryAdvertisesWhatWorks: discovery lists only what this provider
// does (the library would also advertise implicit, JWT-bearer and device flows).
func TestDiscoveryAdvertisesWhatWorks(t *testing.T) {
	idp := startIDP(t, nil)
	p := idp.browser().get("/.well-known/openid-configuration")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d", p.StatusCode)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(p.Body), &d); err != nil {
		t.Fatal(err)
	}
	list := func(k string) []string {
		var out []string
		for _, v := range d[k].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	if got := list("grant_types_supported"); !slices.Equal(got, []string{"authorization_code", "refresh_token", "client_credentials"}) {
		t.Errorf("grant_types_supported = %v", got)
	}
	if got := list("response_types_supported"); !slices.Equal(got, []string{"code"}) {
		t.Errorf("response_types_supported = %v", got)
	}
	if got := list("code_challenge_methods_supported"); !slices.Equal(got, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", got)
	}
	if _, ok := d["device_authorization_endpoint"]; ok {
		t.Error("device_authorization_endpoint advertised without a device grant")
	}
	claims := list("claims_supported")
	for _, c := range []string{"sub", "euid", "entity_number", "entity_name", "service_groups", "acr", "amr", "auth_time", "sid"} {
		if !slices.Contains(claims, c) {
			t.Errorf("claims_supported lacks %s: %v", c, claims)
		}
	}
	for _, c := range []string{"family_name", "given_name", "act", "scopes"} {
		if slices.Contains(claims, c) {
			t.Errorf("claims_supported advertises %s, which is never issued", c)
		}
	}
	if d["issuer"] != idp.issuer || d["jwks_uri"] != idp.issuer+"/keys" {
		t.Errorf("issuer %v, jwks_uri %v", d["issuer"], d["jwks_uri"])
	}
}
