package op

import (
	"context"
	"net/http"
	"net/url"

	"github.com/entity-account/idp/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// ErrRequestURINotSupported answers an authorization request that names
// its parameters by reference (request_uri, OpenID Connect Core §6.2),
// which this provider does not fetch. The library has no constructor for it.
const ErrRequestURINotSupported = "request_uri_not_supported"

type authorizeRefusalKey struct{}

// authorizeParameters finds what an authorization request may not hold
// and the library would ignore: a request_uri (the library reads none, and
// would serve the request without what it names), and a parameter sent
// more than once (RFC 6749 §3.1; the library would take one of them). It
// hands the refusal to CreateAuthRequest, which the library calls once it
// has validated the client and its redirect_uri, so that the error goes
// back to the client (OpenID Connect Core §3.1.2.6). A request object
// (request) the library itself refuses there, as request_not_supported.
// The edge has already refused, with a page, a repeated client_id or
// redirect_uri, which must never lead to a redirect.
func authorizeParameters(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ParseForm() == nil { // parsed by the edge already: this only reads it
			if err := refuseAuthorizeParameters(r.Form); err != nil {
				r = r.WithContext(context.WithValue(r.Context(), authorizeRefusalKey{}, err))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// refuseAuthorizeParameters is the refusal of an authorization request's
// form (query and body together), or nil.
func refuseAuthorizeParameters(form url.Values) *oidc.Error {
	if form.Has("request_uri") {
		return &oidc.Error{ErrorType: ErrRequestURINotSupported, Description: "request_uri is not supported; send the parameters themselves"}
	}
	if name := storage.RepeatedParameter(form); name != "" {
		return oidc.ErrInvalidRequest().WithDescription("%s is repeated", name)
	}
	return nil
}

// authorizeRefusal is what authorizeParameters found wrong with the
// authorization request of ctx, or nil.
func authorizeRefusal(ctx context.Context) *oidc.Error {
	err, _ := ctx.Value(authorizeRefusalKey{}).(*oidc.Error)
	return err
}
