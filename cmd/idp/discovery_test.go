package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	idpop "github.com/entity-account/idp/op"
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

// TestSigningAlgorithmSwitch: IDP_SIGNING_ALG=ES256 on a database whose
// active key is RS256 keeps signing with RS256 until a rotation, and
// discovery says so (the algorithms of the published keys, the active one's
// first); a node whose first key is ES256 issues ES256 ID tokens that an
// independent RP library verifies.
func TestSigningAlgorithmSwitch(t *testing.T) {
	ctx := context.Background()
	rs := startIDP(t, nil)
	keys, err := idpop.NewKeys(ctx, rs.app.pg, rs.app.cfg.MasterKey, "ES256", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys.Algorithms(ctx); !slices.Equal(got, []jose.SignatureAlgorithm{jose.RS256}) {
		t.Fatalf("before the rotation: %v, want [RS256] (the active key's)", got)
	}
	if _, err := keys.Rotate(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := keys.Algorithms(ctx); !slices.Equal(got, []jose.SignatureAlgorithm{jose.ES256, jose.RS256}) {
		t.Fatalf("after the rotation: %v, want [ES256 RS256]", got)
	}

	es := startIDP(t, map[string]string{"IDP_SIGNING_ALG": "ES256"})
	var d struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal([]byte(es.browser().get("/.well-known/openid-configuration").Body), &d); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Algs, []string{"ES256"}) {
		t.Fatalf("id_token_signing_alg_values_supported = %v, want [ES256]", d.Algs)
	}
	web := es.client(demoWebClient)
	r := es.rp(web, web.RedirectURIs[0])
	p := newAuthParams(t)
	cb := es.browser().signIn(r, p, "staff01")
	tok, err := r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	r.idClaims(t, tok, p.Nonce) // verified against the JWKS by go-oidc
	raw, _ := tok.Extra("id_token").(string)
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || jws.Signatures[0].Header.Algorithm != "ES256" {
		t.Fatalf("ID token alg: %v %v, want ES256", jws, err)
	}
}
