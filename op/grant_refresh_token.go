package op

// The refresh token grant (RFC 6749 §6). A refresh token belongs to a
// family started by a code exchange with offline_access
// (grant_authorization_code.go). Each use rotates it: the store retires the
// presented token and issues its successor with a new access token, at once
// (storage.Tokens.RotateTokens; on Redis, storage/redis/refresh_rotation.go).
// A rotated-out token presented again is reuse and revokes the whole family.
// Before each rotation the grant's policy is checked again: the account may
// still sign in, the staff login may still use the e-service, and the
// sign-in behind the family reached the e-service's minimum level.

import (
	"context"
	"errors"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// TokenRequestByRefreshToken loads a refresh token and checks that its
// account may still sign in: a deleted or closed account's tokens stop working.
func (s *Storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	rec, err := s.state.RefreshToken(ctx, token)
	if errors.Is(err, storage.ErrRefreshTokenReused) {
		telemetry.RefreshReuse()
	}
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrRefreshTokenReused) {
			return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
		}
		return nil, err
	}
	// The e-service may no longer admit the login (taken off it, its entity
	// no longer enrolled): the grant ends, as the client's error says. The
	// account and its access are read in one round trip.
	c, err := s.Client(ctx, rec.ClientID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !c.HonoursTokenIssuedAt(rec.IssuedAt)) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the client was disabled: its refresh tokens ended")
	}
	if err != nil {
		return nil, err
	}
	p, access, err := s.dir.PrincipalInService(ctx, rec.Subject, rec.LoginID, c.ServiceID)
	if errors.Is(err, storage.ErrNotFound) {
		_ = s.state.EndAllForSubject(ctx, rec.Subject)
		return nil, oidc.ErrInvalidGrant().WithDescription("the account can no longer sign in")
	}
	if err != nil {
		return nil, err
	}
	if storage.AccountServiceRefusal(p) == storage.ServiceAllowed && p.ID != rec.LoginID {
		// Not the staff login the grant names (LoginID unknown): its own access.
		if access, err = s.dir.ServiceAccess(ctx, p.ID, c.ServiceID); err != nil {
			return nil, err
		}
	}
	// The rule book again, with the level the sign-in behind this grant
	// reached: the e-service may no longer admit the login, or demand more
	// (its minimum was raised), and the client must sign the person in again.
	reached, _ := storage.LevelOfACR(rec.ACR)
	switch storage.ServiceUseRefusal(p, access, reached, c.MinLevel) {
	case storage.ServiceAllowed:
	case storage.RefusedAccountInactive:
		_ = s.state.EndAllForSubject(ctx, rec.Subject)
		return nil, oidc.ErrInvalidGrant().WithDescription("the account can no longer sign in")
	case storage.RefusedLevelTooLow:
		_ = s.state.RevokeGrant(ctx, rec.FamilyID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the e-service now requires a higher assurance level than this grant's sign-in reached")
	default:
		_ = s.state.RevokeGrant(ctx, rec.FamilyID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the staff login no longer has access to this e-service")
	}
	return &refreshRequest{rec: rec, token: token, scopes: rec.Scopes, principal: &p, access: &access}, nil
}

// ---- the token request ----

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

var (
	_ op.RefreshTokenRequest = (*refreshRequest)(nil)
	_ refreshingGrant        = (*refreshRequest)(nil)
	_ idTokenGrant           = (*refreshRequest)(nil)
)

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

// storeAccessToken stores an access token issued at the refresh grant
// without a new refresh token.
func (r *refreshRequest) storeAccessToken(ctx context.Context, s *Storage, at *storage.AccessToken) error {
	return s.saveAccessToken(ctx, at)
}

// storeWithRefreshToken rotates the refresh token: the record the grant
// was validated with becomes the next generation of its family, with the
// new access token, in one store call. A token rotated meanwhile (reuse:
// the family is revoked) or whose family has ended gets invalid_grant, and
// the store kept none of the tokens.
func (r *refreshRequest) storeWithRefreshToken(ctx context.Context, s *Storage, at *storage.AccessToken) (string, error) {
	next := *r.rec
	next.IssuedAt, next.AccessTokenID = at.IssuedAt, at.ID
	token, err := s.state.RotateTokens(ctx, r.rec, &next, at)
	if errors.Is(err, storage.ErrRefreshTokenReused) {
		telemetry.RefreshReuse()
	}
	if errors.Is(err, storage.ErrRefreshTokenReused) || errors.Is(err, storage.ErrNotFound) {
		// The store kept none of the tokens.
		return "", oidc.ErrInvalidGrant().WithDescription("refresh token is no longer valid")
	}
	if err != nil {
		return "", s.refusedTokens(ctx, at, err)
	}
	return token, nil
}

// idTokenBasis: the refreshed ID token tells the sign-in the family was
// started with, and reuses the account and access the grant checked.
func (r *refreshRequest) idTokenBasis() (storage.Authentication, *storage.Principal, *storage.ServiceAccess) {
	return r.rec.Authentication, r.principal, r.access
}

// ---- introspection of refresh tokens, and their revocation ----

// refreshTokenIDPrefix marks, in revocation, a token id that is a refresh token.
const refreshTokenIDPrefix = "rt."

func (s *Storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rec, err := s.state.RefreshToken(ctx, token)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rec.Subject, refreshTokenIDPrefix + token, nil
}

// revokeRefreshToken revokes the family of a refresh token presented to
// the revocation endpoint by clientID, with every access token of its
// grant. An unknown token is not an error.
func (s *Storage) revokeRefreshToken(ctx context.Context, rt, clientID string) *oidc.Error {
	rec, err := s.state.RefreshToken(ctx, rt)
	if err != nil {
		return nil
	}
	if rec.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was issued to another client")
	}
	if err := s.state.RevokeGrant(ctx, rec.FamilyID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}
