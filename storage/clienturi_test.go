package storage

import (
	"errors"
	"testing"
)

// TestCheckClientURI: a client's address is absolute, https or loopback
// http, and never holds a fragment or userinfo (RFC 6749 §3.1.2); a native
// app may use a reverse-DNS private-use scheme (RFC 8252 §7.1).
func TestCheckClientURI(t *testing.T) {
	for _, tc := range []struct {
		uri    string
		native bool
		ok     bool
	}{
		{"https://rp.gov.mo/cb", false, true},
		{"https://rp.gov.mo/cb?x=1", false, true},
		{"http://127.0.0.1/cb", false, true},
		{"http://127.0.0.1:8080/cb", true, true},
		{"http://[::1]/cb", true, true},
		{"http://localhost/cb", false, true},
		{"mo.gov.app:/cb", true, true},
		{"mo.gov.app:/cb", false, false},
		{"myapp:/cb", true, false},
		{"http://rp.gov.mo/cb", false, false},
		{"http://127.0.0.1.evil.example/cb", false, false},
		{"/cb", false, false},
		{"https:///cb", false, false},
		// fragments, even empty ones
		{"https://rp.gov.mo/cb#f", false, false},
		{"https://rp.gov.mo/cb#", false, false},
		{"http://127.0.0.1/cb#", true, false},
		{"mo.gov.app:/cb#x", true, false},
		// userinfo
		{"http://evil@127.0.0.1/cb", true, false},
		{"http://evil@127.0.0.1/cb", false, false},
		{"https://user:pw@rp.gov.mo/cb", false, false},
		{"https://@rp.gov.mo/cb", false, false},
		// not text, not a URI
		{"https://rp.gov.mo/c\x00b", false, false},
		{"http://[::1/cb", false, false},
	} {
		err := CheckClientURI("redirect URI", tc.uri, tc.native)
		if (err == nil) != tc.ok {
			t.Errorf("%q (native %v): err = %v, want ok %v", tc.uri, tc.native, err, tc.ok)
		}
		if err != nil && (CodeOf(err) != EInvalid || !errors.Is(err, ErrInvalid)) {
			t.Errorf("%q: error %v is not EInvalid", tc.uri, err)
		}
	}
}

// TestForbiddenURIPart names the part an address may never hold.
func TestForbiddenURIPart(t *testing.T) {
	for uri, want := range map[string]string{
		"https://rp.gov.mo/cb":       "",
		"https://rp.gov.mo/cb#":      "a fragment",
		"https://rp.gov.mo/cb?a#b":   "a fragment",
		"http://evil@127.0.0.1/cb":   "userinfo",
		"http://a:b@127.0.0.1:80/cb": "userinfo",
		"http://[::1/cb":             "unparsable",
	} {
		if got := ForbiddenURIPart(uri); got != want {
			t.Errorf("ForbiddenURIPart(%q) = %q, want %q", uri, got, want)
		}
	}
}

// TestCheckClientAddresses checks every address of a client, a native
// client's private-use scheme included, and the back-channel URI as a web one.
func TestCheckClientAddresses(t *testing.T) {
	ok := Client{Public: true, RedirectURIs: []string{"mo.gov.app:/cb", "http://127.0.0.1/cb"},
		PostLogoutRedirectURIs: []string{"mo.gov.app:/bye"}, BackchannelLogoutURI: "https://rp.gov.mo/bc"}
	if err := CheckClientAddresses(&ok); err != nil {
		t.Fatalf("a good native client: %v", err)
	}
	for name, c := range map[string]Client{
		"redirect with userinfo":    {RedirectURIs: []string{"https://rp.gov.mo/cb", "http://evil@127.0.0.1/cb"}},
		"post-logout with fragment": {RedirectURIs: []string{"https://rp.gov.mo/cb"}, PostLogoutRedirectURIs: []string{"https://rp.gov.mo/bye#"}},
		"web with private scheme":   {RedirectURIs: []string{"mo.gov.app:/cb"}},
		"back-channel scheme":       {Public: true, RedirectURIs: []string{"mo.gov.app:/cb"}, BackchannelLogoutURI: "mo.gov.app:/bc"},
	} {
		if err := CheckClientAddresses(&c); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}
