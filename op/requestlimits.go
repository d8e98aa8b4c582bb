package op

import (
	"regexp"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// What an authorization request may hold. The request is stored for its
// whole life (IDP_AUTH_REQUEST_TTL), so every stored parameter is bounded;
// the edge (login.ProtocolEdge) already caps the request as a whole.
const (
	maxState     = 512
	maxNonce     = 512
	maxScope     = 1024
	maxShortList = 256 // ui_locales, acr_values, login_hint
)

// codeChallengePattern is an S256 code_challenge (RFC 7636 §4.2): the
// base64url encoding, without padding, of a SHA-256 digest.
var codeChallengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// checkAuthRequest refuses what the library lets through but we do not
// serve. Its errors go back to the client's redirect URI, which the library
// has validated by then.
func checkAuthRequest(req *oidc.AuthRequest) *oidc.Error {
	tooLong := func(name string, n, max int) *oidc.Error {
		if n > max {
			return oidc.ErrInvalidRequest().WithDescription("%s is too long", name)
		}
		return nil
	}
	locales := 0
	for _, t := range req.UILocales {
		locales += len(t.String()) + 1
	}
	for _, err := range []*oidc.Error{
		tooLong("state", len(req.State), maxState),
		tooLong("nonce", len(req.Nonce), maxNonce),
		tooLong("scope", len(strings.Join(req.Scopes, " ")), maxScope),
		tooLong("ui_locales", locales, maxShortList),
		tooLong("acr_values", len(strings.Join(req.ACRValues, " ")), maxShortList),
		tooLong("login_hint", len(req.LoginHint), maxShortList),
	} {
		if err != nil {
			return err
		}
	}
	// Every client here is an OpenID Connect client: a request without
	// openid would get an OAuth answer with no ID token, which none expects.
	if !slices.Contains(req.Scopes, oidc.ScopeOpenID) {
		return oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	// The code flow answers in the query. form_post would need a script our
	// Content-Security-Policy forbids, and fragment is for implicit flows.
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return oidc.ErrInvalidRequest().WithDescription("response_mode must be query")
	}
	if req.CodeChallenge != "" && !codeChallengePattern.MatchString(req.CodeChallenge) {
		return oidc.ErrInvalidRequest().WithDescription("code_challenge must be 43 base64url characters (S256)")
	}
	return nil
}
