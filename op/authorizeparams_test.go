package op

import (
	"net/url"
	"testing"
)

// TestRefuseAuthorizeParameters: request_uri and a repeated parameter are
// refused with their errors; an ordinary request passes.
func TestRefuseAuthorizeParameters(t *testing.T) {
	ok := url.Values{"client_id": {"c"}, "redirect_uri": {"https://rp/cb"}, "scope": {"openid profile"}, "state": {"s"}}
	if err := refuseAuthorizeParameters(ok); err != nil {
		t.Fatalf("ordinary request refused: %v", err)
	}
	for name, tc := range map[string]struct {
		form url.Values
		want string
	}{
		"request_uri":       {url.Values{"client_id": {"c"}, "request_uri": {"urn:x"}}, ErrRequestURINotSupported},
		"empty request_uri": {url.Values{"client_id": {"c"}, "request_uri": {""}}, ErrRequestURINotSupported},
		"scope twice":       {url.Values{"client_id": {"c"}, "scope": {"openid", "openid email"}}, "invalid_request"},
		"empty state twice": {url.Values{"client_id": {"c"}, "state": {"", ""}}, "invalid_request"},
	} {
		err := refuseAuthorizeParameters(tc.form)
		if err == nil || string(err.ErrorType) != tc.want {
			t.Errorf("%s: %v, want %s", name, err, tc.want)
		}
	}
	// A name that is nothing a client would send is not echoed.
	if err := refuseAuthorizeParameters(url.Values{"<b>x</b>": {"1", "2"}}); err == nil || err.Description != "a parameter is repeated" {
		t.Errorf("odd name: %v", err)
	}
	if err := refuseAuthorizeParameters(url.Values{"scope": {"1", "2"}}); err == nil || err.Description != "parameter scope is repeated" {
		t.Errorf("scope: %v", err)
	}
}
