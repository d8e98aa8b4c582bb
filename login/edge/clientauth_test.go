package edge

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// checkClientAuth lets a client name itself in any of the ways the
// provider accepts (the Basic header, client_id with client_secret in the
// body, a client_assertion, client_id alone where public clients may come)
// and refuses a request that names no client.
func TestCheckClientAuthNamesTheClient(t *testing.T) {
	req := func(form url.Values, basic bool) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			r.SetBasicAuth("web", "secret")
		}
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name             string
		form             url.Values
		basic, public    bool
		wantRefusedError string
	}{
		{name: "Basic", basic: true},
		{name: "client_secret_post", form: url.Values{"client_id": {"web"}, "client_secret": {"s"}}},
		{name: "client_secret_post at introspection", form: url.Values{"client_id": {"web"}, "client_secret": {"s"}}},
		{name: "assertion", form: url.Values{"client_assertion": {"a.b.c"}, "client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}}},
		{name: "public client", form: url.Values{"client_id": {"mobile"}}, public: true},
		{name: "client_id alone at introspection", form: url.Values{"client_id": {"mobile"}}, wantRefusedError: "invalid_client"},
		{name: "secret without client_id", form: url.Values{"client_secret": {"s"}}, wantRefusedError: "invalid_client"},
		{name: "nothing", form: url.Values{}, public: true, wantRefusedError: "invalid_client"},
	} {
		code, _ := checkClientAuth(req(tc.form, tc.basic), true, tc.public)
		if code != tc.wantRefusedError {
			t.Errorf("%s: %q, want %q", tc.name, code, tc.wantRefusedError)
		}
	}
}
