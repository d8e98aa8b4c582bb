package storage

// TokenAuthMethod is a client authentication method at the token,
// introspection and revocation endpoints, named as in OAuth 2.0 dynamic
// client registration (RFC 7591 §2) and discovery.
type TokenAuthMethod string

const (
	// TokenAuthSecret is a confidential client's default: its secret in the
	// HTTP Basic header or in the form body, whichever its library sends
	// (both are common defaults). It is stored as no method at all.
	TokenAuthSecret TokenAuthMethod = ""
	// TokenAuthBasic: the secret in the HTTP Basic header only.
	TokenAuthBasic TokenAuthMethod = "client_secret_basic"
	// TokenAuthPost: client_id and client_secret in the form body only.
	TokenAuthPost TokenAuthMethod = "client_secret_post"
	// TokenAuthPrivateKeyJWT: an assertion signed with one of the client's
	// registered keys (RFC 7523); such a client has no secret.
	TokenAuthPrivateKeyJWT TokenAuthMethod = "private_key_jwt"
	// TokenAuthNone: a public client names itself (client_id) and proves
	// PKCE; never registered, it is what a public client presents.
	TokenAuthNone TokenAuthMethod = "none"
)

// RegistrableTokenAuth are the methods a confidential client may be held
// to, besides the default.
var RegistrableTokenAuth = []TokenAuthMethod{TokenAuthBasic, TokenAuthPost, TokenAuthPrivateKeyJWT}

// AcceptsAuth reports whether the client may authenticate with the method
// it presented: a public client only by naming itself, a client registered
// with one method only with that one, and a client registered with the
// default with its secret, Basic or in the body.
func (c Client) AcceptsAuth(presented TokenAuthMethod) bool {
	switch {
	case c.Public:
		return presented == TokenAuthNone
	case c.TokenAuth == TokenAuthSecret:
		return presented == TokenAuthBasic || presented == TokenAuthPost
	default:
		return presented == c.TokenAuth
	}
}

// AuthMethodName is how the client authenticates, as discovery and
// registration name it ("client_secret_basic or client_secret_post" for
// the default).
func (c Client) AuthMethodName() string {
	switch {
	case c.Public:
		return string(TokenAuthNone)
	case c.TokenAuth == TokenAuthSecret:
		return string(TokenAuthBasic) + " or " + string(TokenAuthPost)
	default:
		return string(c.TokenAuth)
	}
}
