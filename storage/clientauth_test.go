package storage

import "testing"

// Who may present which client authentication method.
func TestClientAcceptsAuth(t *testing.T) {
	methods := []TokenAuthMethod{TokenAuthBasic, TokenAuthPost, TokenAuthPrivateKeyJWT, TokenAuthNone}
	for _, tc := range []struct {
		name   string
		client Client
		accept []TokenAuthMethod
	}{
		{"default (secret)", Client{}, []TokenAuthMethod{TokenAuthBasic, TokenAuthPost}},
		{"held to basic", Client{TokenAuth: TokenAuthBasic}, []TokenAuthMethod{TokenAuthBasic}},
		{"held to post", Client{TokenAuth: TokenAuthPost}, []TokenAuthMethod{TokenAuthPost}},
		{"private_key_jwt", Client{TokenAuth: TokenAuthPrivateKeyJWT}, []TokenAuthMethod{TokenAuthPrivateKeyJWT}},
		{"public", Client{Public: true}, []TokenAuthMethod{TokenAuthNone}},
	} {
		for _, m := range methods {
			want := false
			for _, a := range tc.accept {
				want = want || a == m
			}
			if got := tc.client.AcceptsAuth(m); got != want {
				t.Errorf("%s presenting %q: %v, want %v", tc.name, m, got, want)
			}
		}
	}
}
