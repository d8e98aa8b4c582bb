package op

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/storage"
)

// tokenGrant is the shape every grant's token request has: besides what
// the library asks of an op.TokenRequest (subject, audience, scopes), it
// fills in the access-token record what only the grant knows (client,
// grant to revoke on replay, how the user signed in, department).
// authRequest (code), *refreshRequest (refresh) and
// clientCredentialsRequest (client_credentials) implement it.
type tokenGrant interface {
	op.TokenRequest
	fillAccessToken(at *storage.AccessToken)
}

var (
	_ tokenGrant = authRequest{}
	_ tokenGrant = (*refreshRequest)(nil)
)

// authRequest adapts storage.AuthRequest to op.AuthRequest.
type authRequest struct{ *storage.AuthRequest }

var _ op.AuthRequest = authRequest{}

func (a authRequest) GetID() string          { return a.ID }
func (a authRequest) GetACR() string         { return a.ACR }
func (a authRequest) GetAMR() []string       { return a.AMR }
func (a authRequest) GetAudience() []string  { return []string{a.ClientID} }
func (a authRequest) GetAuthTime() time.Time { return a.AuthTime }
func (a authRequest) GetClientID() string    { return a.ClientID }
func (a authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}
func (a authRequest) GetNonce() string                   { return a.Nonce }
func (a authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.ResponseType) }
func (a authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }
func (a authRequest) GetScopes() []string                { return a.Scopes }
func (a authRequest) GetState() string                   { return a.State }
func (a authRequest) GetSubject() string                 { return a.Subject }
func (a authRequest) Done() bool                         { return a.AuthRequest.Done }

func (a authRequest) fillAccessToken(at *storage.AccessToken) {
	at.ClientID, at.GrantID, at.Authentication = a.ClientID, a.ID, a.Authentication
}

// refreshRequest adapts a refresh-token record to op.RefreshTokenRequest.
// scopes may be narrowed by the client at the refresh grant; the family keeps
// its original scopes.
type refreshRequest struct {
	rec    *storage.RefreshToken
	token  string
	scopes []string
	// principal is the account as TokenRequestByRefreshToken loaded it: the
	// ID token of the same grant reuses it instead of querying again.
	principal *storage.Principal
	// access is the account's access to the client's e-service, as checked
	// by TokenRequestByRefreshToken; the refreshed ID token reuses it.
	access *storage.ServiceAccess
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string                 { return r.rec.AMR }
func (r *refreshRequest) GetAudience() []string            { return r.rec.Audience }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.rec.AuthTime }
func (r *refreshRequest) GetClientID() string              { return r.rec.ClientID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.rec.Subject }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

func (r *refreshRequest) fillAccessToken(at *storage.AccessToken) {
	at.ClientID, at.GrantID, at.Authentication = r.rec.ClientID, r.rec.FamilyID, r.rec.Authentication
}
