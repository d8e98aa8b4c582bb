package op

// The authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636), for
// the e-services' web and native clients: /authorize stores the request
// (CreateAuthRequest), the hosted login answers it, the callback binds a
// code to it (SaveAuthCode), and the token endpoint redeems the code once
// (AuthRequestByCode) for the tokens of the sign-in: an access token, an ID
// token, and with offline_access the first refresh token of a family
// (grant_refresh_token.go rotates it). A replayed code revokes everything
// issued from it.

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// CreateAuthRequest stores a validated /authorize request. It enforces what
// the library leaves to us: PKCE with S256 for public clients, and never the
// plain method (it gives no protection against a leaked code).
func (s *Storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, hintSubject string) (op.AuthRequest, error) {
	c, err := s.Client(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if !c.AllowsGrant(storage.GrantAuthorizationCode) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("this client may not use the authorization code flow")
	}
	if err := authorizeRefusal(ctx); err != nil {
		return nil, err
	}
	if err := checkAuthRequest(req); err != nil {
		return nil, err
	}
	if req.CodeChallengeMethod == oidc.CodeChallengeMethodPlain {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method plain is not allowed; use S256")
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if c.Public && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required for public clients: send code_challenge with code_challenge_method=S256")
	}
	need, essential, oerr := requiredAssurance(ctx, c, req)
	if oerr != nil {
		return nil, oerr
	}
	ar := &storage.AuthRequest{
		ID:                  randomID(),
		ClientID:            req.ClientID,
		RedirectURI:         req.RedirectURI,
		Scopes:              req.Scopes,
		State:               req.State,
		Nonce:               req.Nonce,
		ResponseType:        string(req.ResponseType),
		ResponseMode:        string(req.ResponseMode),
		CodeChallenge:       req.CodeChallenge,
		CodeChallengeMethod: string(req.CodeChallengeMethod),
		Prompt:              req.Prompt,
		MaxAge:              req.MaxAge,
		LoginHint:           req.LoginHint,
		ACRValues:           req.ACRValues,
		HintSubject:         hintSubject,
		RequiredLevel:       need,
		ACREssential:        essential,
		CreatedAt:           s.now().UTC(),
	}
	for _, t := range req.UILocales {
		ar.UILocales = append(ar.UILocales, t.String())
	}
	// The id the edge admitted this request under (storage.AdmissionTicket):
	// its place in the budget of open requests is this record's.
	if id, ok := storage.TakeAdmission(ctx); ok {
		ar.ID = id
	}
	if err := s.state.SaveAuthRequest(ctx, ar, s.life.AuthRequest); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return authRequest{ar}, nil
}

func (s *Storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	ar, err := s.state.AuthRequest(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		// The browser's mistake (an old or forged link), not our failure.
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired authorization request")
	}
	if err != nil {
		return nil, err
	}
	return authRequest{ar}, nil
}

// AuthRequestByCode is the single-use gate of authorization codes: the code
// is consumed atomically before any token is minted. A replayed code revokes
// every token issued from it (RFC 6749 §4.1.2).
func (s *Storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	id, err := s.state.ConsumeAuthCode(ctx, code)
	if errors.Is(err, storage.ErrCodeReused) {
		slog.WarnContext(ctx, "authorization code replayed; revoking its grant", "auth_request", id)
		telemetry.CodeReplay()
		if rerr := s.state.RevokeGrant(ctx, id); rerr != nil {
			slog.ErrorContext(ctx, "revoke replayed grant", "err", rerr)
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code already used")
	}
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid or expired authorization code")
	}
	ar, err := s.state.AuthRequest(ctx, id)
	if err != nil || !ar.Done {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid or expired authorization code")
	}
	return authRequest{ar}, nil
}

// SaveAuthCode binds the code to the request, once: a replayed callback
// cannot mint a second code.
func (s *Storage) SaveAuthCode(ctx context.Context, id, code string) error {
	err := s.state.SaveAuthCode(ctx, id, code, s.life.Code)
	if errors.Is(err, storage.ErrConflict) {
		return oidc.ErrInvalidRequest().WithDescription("this authorization request has already been answered")
	}
	return err
}

func (s *Storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.state.DeleteAuthRequest(ctx, id)
}

// ---- the token request ----

// authRequest adapts storage.AuthRequest to op.AuthRequest.
type authRequest struct{ *storage.AuthRequest }

var (
	_ op.AuthRequest  = authRequest{}
	_ refreshingGrant = authRequest{}
	_ idTokenGrant    = authRequest{}
)

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

// storeAccessToken stores the access token of a code exchange without a
// refresh token: only while the sign-in's session lives.
func (a authRequest) storeAccessToken(ctx context.Context, s *Storage, at *storage.AccessToken) error {
	_, err := s.state.CreateTokens(ctx, at, nil)
	if err != nil && !revokedDuringCodeExchange(ctx, err) {
		return signInEnded(grantRevoked(err))
	}
	return nil
}

// storeWithRefreshToken stores the access token of a code exchange with
// offline_access and starts the refresh family of the grant (its id is the
// request's), in one store call.
func (a authRequest) storeWithRefreshToken(ctx context.Context, s *Storage, at *storage.AccessToken) (string, error) {
	token, err := s.state.CreateTokens(ctx, at, &storage.RefreshToken{
		FamilyID: a.ID, ClientID: a.ClientID, Subject: a.Subject, Audience: a.GetAudience(),
		Scopes: a.Scopes, IssuedAt: at.IssuedAt, ExpiresAt: at.IssuedAt.Add(s.life.RefreshToken),
		AccessTokenID: at.ID, Authentication: a.Authentication,
	})
	if err != nil && revokedDuringCodeExchange(ctx, err) {
		// Tokens that name nothing: refused on first use.
		return randomID() + randomID(), nil
	}
	if err != nil {
		return "", s.refusedTokens(ctx, at, err)
	}
	return token, nil
}

// idTokenBasis: the ID token of a code exchange tells the sign-in that
// answered the request; the account is read when its claims are filled.
func (a authRequest) idTokenBasis() (storage.Authentication, *storage.Principal, *storage.ServiceAccess) {
	return a.Authentication, nil, nil
}

// revokedDuringCodeExchange reports whether the store refused a code
// exchange's token because a replay of the authorization code revoked the
// grant while this exchange, the one redemption that passed the single-use
// gate, was issuing tokens. The exchange still answers with its one token
// response, but its tokens are dead on arrival (the store kept no record of
// them): exactly what the RP would see had the replay's revocation
// (RFC 6749 §4.1.2) landed a moment later. So N concurrent redemptions yield
// one token response, never zero.
func revokedDuringCodeExchange(ctx context.Context, err error) bool {
	if !errors.Is(err, storage.ErrConflict) {
		return false
	}
	slog.WarnContext(ctx, "authorization code replayed during its exchange; the issued tokens are revoked")
	return true
}
