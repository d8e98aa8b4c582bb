package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/entity-account/idp/login/kit"
)

// TestProtocolRefusesInOrder: the edge's refusals of machine endpoints
// (no page, no store), each with its status, OAuth error, challenge and
// no-store headers, and that a request it lets through reaches the engine
// with its answer made exact.
func TestProtocolRefusesInOrder(t *testing.T) {
	ep := Endpoints{Authorize: "/authorize", EndSession: "/end_session", Token: "/oauth/token", Introspect: "/oauth/introspect", Revoke: "/revoke", Userinfo: "/userinfo"}
	reached := 0
	engine := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached++
		w.WriteHeader(http.StatusUnauthorized) // the library's bare 401
	})
	h := New(&kit.Kit{}, "https://idp.example").Protocol(engine, ep, Limits{})
	post := func(path, body string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	for _, tc := range []struct {
		name       string
		r          *http.Request
		status     int
		error      string
		challenge  string
		noStore    bool
		reachesLib bool
	}{
		{"body too large", post(ep.Token, "x="+strings.Repeat("a", maxProtocolBody)), http.StatusRequestEntityTooLarge, "invalid_request", "", true, false},
		{"unparsable body", post(ep.Revoke, "a=%zz"), http.StatusBadRequest, "invalid_request", "", true, false},
		{"bad byte in client_id", post(ep.Token, "client_id=a%00"), http.StatusUnauthorized, "invalid_client", "", true, false},
		{"bad byte elsewhere", post(ep.Token, "client_id=web&scope=%ff"), http.StatusBadRequest, "invalid_request", "", true, false},
		{"repeated parameter", post(ep.Token, "client_id=web&client_secret=s&grant_type=a&grant_type=b"), http.StatusBadRequest, "invalid_request", "", true, false},
		{"no client", post(ep.Token, "grant_type=authorization_code"), http.StatusUnauthorized, "invalid_client", `Basic realm="token"`, true, false},
		{"bad verifier", post(ep.Token, "client_id=web&grant_type=authorization_code&code_verifier=short"), http.StatusBadRequest, "invalid_request", "", true, false},
		{"token in userinfo query", post(ep.Userinfo+"?access_token=x", ""), http.StatusBadRequest, "invalid_request", `Bearer realm="userinfo", error="invalid_request"`, true, false},
		{"through to token", post(ep.Token, "client_id=web&client_secret=s&grant_type=authorization_code"), http.StatusUnauthorized, "", `Basic realm="token"`, true, true},
		{"through to userinfo", post(ep.Userinfo, ""), http.StatusUnauthorized, "", `Bearer realm="userinfo"`, true, true},
		{"through to introspection", post(ep.Introspect, "client_id=web&client_secret=s&token=t"), http.StatusUnauthorized, "invalid_client", `Basic realm="introspection"`, true, true},
	} {
		before := reached
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tc.r)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, w.Code, tc.status, w.Body)
		}
		if tc.error != "" && !strings.Contains(w.Body.String(), `"error":"`+tc.error+`"`) {
			t.Errorf("%s: body %s, want error %s", tc.name, w.Body, tc.error)
		}
		if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, tc.challenge) || (tc.challenge == "") != (got == "") {
			t.Errorf("%s: WWW-Authenticate %q, want %q", tc.name, got, tc.challenge)
		}
		if got := w.Header().Get("Cache-Control") == "no-store" && w.Header().Get("Pragma") == "no-cache"; got != tc.noStore {
			t.Errorf("%s: no-store and no-cache %v, want %v (%v)", tc.name, got, tc.noStore, w.Header())
		}
		if (reached > before) != tc.reachesLib {
			t.Errorf("%s: reached the engine %v, want %v", tc.name, reached > before, tc.reachesLib)
		}
	}
}
