package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCheckParameters: what the edge refuses before the library reads a
// request, and what it lets through.
func TestCheckParameters(t *testing.T) {
	ep := Endpoints{Authorize: "/authorize", EndSession: "/end_session", Token: "/oauth/token",
		Introspect: "/oauth/introspect", Revoke: "/revoke", Userinfo: "/userinfo"}
	const cb = "&redirect_uri=https%3A%2F%2Frp.gov.mo%2Fcb"
	for _, tc := range []struct {
		name, method, target, body, auth string
		want                             string // "" when the request passes; else a piece of the description
	}{
		{"authorize ok", "GET", "/authorize?client_id=c" + cb, "", "", ""},
		{"authorize scope twice (left to op)", "GET", "/authorize?client_id=c&scope=a&scope=b" + cb, "", "", ""},
		{"authorize redirect_uri twice", "GET", "/authorize?client_id=c" + cb + cb, "", "", "redirect_uri is repeated"},
		{"authorize client_id in query and body", "POST", "/authorize?client_id=c" + cb, "client_id=d", "", "client_id is repeated"},
		{"authorize no redirect_uri", "GET", "/authorize?client_id=c", "", "", "redirect_uri is required"},
		{"authorize fragment", "GET", "/authorize?client_id=c&redirect_uri=https%3A%2F%2Frp%2Fcb%23", "", "", "fragment"},
		{"authorize userinfo", "GET", "/authorize?client_id=c&redirect_uri=http%3A%2F%2Fu%40127.0.0.1%2Fcb", "", "", "userinfo"},
		{"callback without id", "GET", "/authorize/callback", "", "", "id is missing"},
		{"callback ok", "GET", "/authorize/callback?id=x", "", "", ""},
		{"token ok", "POST", "/oauth/token", "grant_type=refresh_token&refresh_token=x", "", ""},
		{"token grant_type in query and body", "POST", "/oauth/token?grant_type=refresh_token", "grant_type=refresh_token", "", "parameter grant_type is repeated"},
		{"token odd name twice", "POST", "/oauth/token", "%3Cb%3E=1&%3Cb%3E=2", "", "a parameter is repeated"},
		{"revoke token twice", "POST", "/revoke", "token=a&token=b", "", "token is repeated"},
		{"introspect token twice", "POST", "/oauth/introspect", "token=a&token=b", "", "token is repeated"},
		{"end_session twice", "GET", "/end_session?state=a&state=b", "", "", "state is repeated"},
		{"end_session userinfo", "GET", "/end_session?post_logout_redirect_uri=http%3A%2F%2Fu%40127.0.0.1%2F", "", "", "userinfo"},
		{"userinfo header", "GET", "/userinfo", "", "Bearer x", ""},
		{"userinfo body", "POST", "/userinfo", "access_token=x", "", ""},
		{"userinfo query", "GET", "/userinfo?access_token=x", "", "", "never in the URL"},
		{"userinfo query of a POST", "POST", "/userinfo?access_token=x", "access_token=x", "", "never in the URL"},
		{"userinfo header and body", "POST", "/userinfo", "access_token=x", "Bearer x", "one way only"},
	} {
		r := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.body))
		if tc.body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		f := checkParameters(r, r.URL.Path, ep)
		switch {
		case tc.want == "" && f != nil:
			t.Errorf("%s: refused: %+v", tc.name, f)
		case tc.want != "" && f == nil:
			t.Errorf("%s: passed", tc.name)
		case f != nil && (f.status != http.StatusBadRequest || f.code != "invalid_request" || !strings.Contains(f.description, tc.want)):
			t.Errorf("%s: %+v, want 400 invalid_request with %q", tc.name, f, tc.want)
		case f != nil && r.URL.Path == ep.Userinfo && !strings.Contains(f.challenge, `Bearer realm="userinfo", error="invalid_request"`):
			t.Errorf("%s: challenge %q", tc.name, f.challenge)
		}
	}
}
