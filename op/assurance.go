package op

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/entity-account/idp/storage"
)

// What level of assurance an authorization request needs, and how a
// refusal is told to the client. The level needed is the highest of the
// e-service's minimum (whatever the request says), acr_values, and an acr
// asked for in the claims parameter (OIDC Core §5.5.1.1); the ID token's acr
// is always the level the sign-in really reached, never lower than needed.

// ErrUnmetAuthenticationRequirements answers a request whose essential acr
// cannot be met (OpenID Connect Core §3.1.2.6, as amended by its errata).
// The library has no constructor for it.
const ErrUnmetAuthenticationRequirements = "unmet_authentication_requirements"

// maxClaimsParameter bounds the claims parameter: it is parsed, and the
// part of it we use is stored with the auth request.
const maxClaimsParameter = 2048

type claimsParamKey struct{}

// claimsParameter hands the authorization request's claims parameter to
// CreateAuthRequest (the library does not parse it, and passes only a
// context). The edge has parsed and bounded the form before this runs.
func claimsParameter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.FormValue("claims"); v != "" {
			r = r.WithContext(context.WithValue(r.Context(), claimsParamKey{}, v))
		}
		next.ServeHTTP(w, r)
	})
}

// acrRequest is one member's acr of the claims parameter.
type acrRequest struct {
	Essential bool     `json:"essential"`
	Value     *string  `json:"value"`
	Values    []string `json:"values"`
}

// claimsACR reads the acr asked for in the claims parameter (id_token or
// userinfo member): the levels that would satisfy it, and whether it is
// essential. Other claims are voluntary and ignored: we always send ours.
func claimsACR(raw string) (acrs []string, essential bool, err *oidc.Error) {
	if raw == "" {
		return nil, false, nil
	}
	if len(raw) > maxClaimsParameter {
		return nil, false, oidc.ErrInvalidRequest().WithDescription("claims is too long")
	}
	var p map[string]map[string]*acrRequest
	if json.Unmarshal([]byte(raw), &p) != nil {
		return nil, false, oidc.ErrInvalidRequest().WithDescription("claims is not a JSON object of id_token and userinfo requests")
	}
	for _, member := range []string{"id_token", "userinfo"} {
		a := p[member]["acr"]
		if a == nil {
			continue
		}
		essential = essential || a.Essential
		if a.Value != nil {
			acrs = append(acrs, *a.Value)
		}
		acrs = append(acrs, a.Values...)
	}
	return acrs, essential, nil
}

// requiredAssurance decides the level req needs at client c. An essential
// acr this provider cannot reach at all is refused at once.
func requiredAssurance(ctx context.Context, c *client, req *oidc.AuthRequest) (storage.Level, bool, *oidc.Error) {
	need := max(c.MinLevel, storage.LevelPassword)
	if l, ok := storage.LowestKnownLevel(req.ACRValues); ok {
		need = max(need, l)
	}
	raw, _ := ctx.Value(claimsParamKey{}).(string)
	acrs, essential, err := claimsACR(raw)
	if err != nil {
		return 0, false, err
	}
	if len(acrs) > 0 {
		l, ok := storage.LowestKnownLevel(acrs)
		if !ok && essential {
			return 0, false, UnmetAuthenticationRequirements("no acr asked for as essential is one this provider supports")
		}
		need = max(need, l)
	}
	return need, essential, nil
}

// UnmetAuthenticationRequirements is the error for an essential acr that
// the sign-in cannot reach.
func UnmetAuthenticationRequirements(description string) *oidc.Error {
	return &oidc.Error{ErrorType: ErrUnmetAuthenticationRequirements, Description: description}
}

// LevelRefusal is how a sign-in that cannot reach the level ar needs is
// told to the client: unmet_authentication_requirements when it asked
// with an essential acr claim, access_denied otherwise.
func LevelRefusal(ar *storage.AuthRequest, description string) *oidc.Error {
	if ar.ACREssential {
		return UnmetAuthenticationRequirements(description)
	}
	return oidc.ErrAccessDenied().WithDescription("%s", description)
}
