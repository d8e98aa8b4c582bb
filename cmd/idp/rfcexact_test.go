package main

import (
	"strings"
	"testing"
)

// TestClientCreateRefusesFragmentAndUserinfo: idp client create refuses a
// redirect or post-logout redirect URI with a fragment (even an empty one)
// or userinfo (RFC 6749 §3.1.2) before it touches the database, and keeps
// accepting a native app's loopback and reverse-DNS addresses.
func TestClientCreateRefusesFragmentAndUserinfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri    string
		public bool
		ok     bool
	}{
		{"http://127.0.0.1/callback", true, true},
		{"http://127.0.0.1:8080/callback", true, true},
		{"mo.gov.demo.app:/oauth2redirect", true, true},
		{"https://rp.gov.mo/cb", false, true},
		{"http://evil@127.0.0.1/callback", true, false},
		{"https://user:pw@rp.gov.mo/cb", false, false},
		{"https://rp.gov.mo/cb#", false, false},
		{"https://rp.gov.mo/cb#frag", false, false},
		{"http://127.0.0.1/callback#", true, false},
	} {
		if err := checkRedirectURI(tc.uri, tc.public); (err == nil) != tc.ok {
			t.Errorf("%s (public %v): err = %v, want ok %v", tc.uri, tc.public, err, tc.ok)
		}
	}
	// The command says why, before it opens the database.
	if err := clientCreate([]string{"--service", "demo", "--redirect-uri", "http://evil@127.0.0.1/cb", "--public"}); err == nil ||
		!strings.Contains(err.Error(), "userinfo") {
		t.Errorf("client create with userinfo in the redirect URI: %v", err)
	}
}
