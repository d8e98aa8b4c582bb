// Package op connects the zitadel/oidc protocol engine to our stores: it
// implements op.Storage (auth requests, codes, tokens, clients, keys) by
// delegating to storage.Directory (Postgres) and the short-lived store
// (Redis), and maps accounts to the claims of the token contract.
//
// Each grant has its own file, with its token request, how its tokens are
// issued and its policy: grant_authorization_code.go, grant_refresh_token.go
// (where refresh tokens rotate) and grant_client_credentials.go. This file
// keeps what they share: the storage, token issuance and revocation,
// sessions, clients, claims and keys.
package op

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/storage"
)

// Lifetimes of the state the storage creates.
type Lifetimes struct {
	AuthRequest  time.Duration
	Code         time.Duration
	AccessToken  time.Duration
	IDToken      time.Duration
	RefreshToken time.Duration
	// ClaimsCache is how long the content of claims (names, groups) may be
	// reused without asking Postgres; 0 turns the cache off.
	ClaimsCache time.Duration
}

// ShortLived is the part of storage.ShortLived that Storage uses: the code
// grant's requests and codes, every grant's tokens, the sessions that
// end_session ends (and the refresh grant's end of an account's), and the
// single-use gate of client assertions.
type ShortLived interface {
	storage.AuthRequests
	storage.AuthCodes
	storage.Tokens
	storage.Sessions
	storage.SingleUse
	Ping(ctx context.Context) error
}

// Storage implements op.Storage and the optional interfaces we use.
type Storage struct {
	dir     storage.Directory
	state   ShortLived
	keys    *Keys
	clients *clientCache
	// clientKeys are the keys of private_key_jwt clients fetched from
	// their jwks_uri (clientkeys.go).
	clientKeys *clientKeys
	claims     *claimsCache
	// confirmLogout gives the logout confirmation page's address (login package).
	// uiLocales are the end-session request's, for the page's language.
	confirmLogout func(next string, uiLocales []string) string
	life          Lifetimes
	loginURL      string
	now           func() time.Time
	// tokenCrypto is the provider's key for opaque tokens (NewProvider
	// sets it): MachineToken decrypts with it.
	tokenCrypto op.Crypto
}

var (
	_ op.Storage                        = (*Storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*Storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*Storage)(nil)
)

// NewStorage wires the stores. loginURL is the absolute path of the hosted
// login page (the issuer's path + "/login").
func NewStorage(dir storage.Directory, state ShortLived, keys *Keys, life Lifetimes, loginURL string) *Storage {
	return &Storage{
		dir: dir, state: state, keys: keys, life: life, loginURL: loginURL, now: time.Now,
		clients:    &clientCache{dir: dir, ttl: 30 * time.Second},
		clientKeys: newClientKeys(ClientKeyFetch{}),
		claims:     &claimsCache{ttl: life.ClaimsCache},
	}
}

// Client returns the op view of a registered client; storage.ErrNotFound if unknown.
func (s *Storage) Client(ctx context.Context, id string) (*client, error) {
	c, err := s.clients.get(ctx, id)
	if err != nil {
		return nil, err
	}
	return &client{Client: c, loginURL: s.loginURL, idTokenLifetime: s.life.IDToken}, nil
}

// ---- tokens: what the grants share ----

// tokenGrant is the shape every grant's token request has: besides what
// the library asks of an op.TokenRequest (subject, audience, scopes), it
// fills in the access-token record what only the grant knows (client,
// grant to revoke on replay, how the user signed in, department), and it
// stores the token as its grant requires. authRequest
// (grant_authorization_code.go), *refreshRequest (grant_refresh_token.go)
// and clientCredentialsRequest (grant_client_credentials.go) implement it.
type tokenGrant interface {
	op.TokenRequest
	fillAccessToken(at *storage.AccessToken)
	// storeAccessToken stores an access token issued without a refresh
	// token; its error is the one for the client.
	storeAccessToken(ctx context.Context, s *Storage, at *storage.AccessToken) error
}

// refreshingGrant is a grant that issues refresh tokens: the code grant
// starts a family, the refresh grant rotates one.
type refreshingGrant interface {
	tokenGrant
	// storeWithRefreshToken stores the access token at with the refresh
	// token issued with it, whose opaque value it returns; its error is
	// the one for the client, and none of the tokens is then usable.
	storeWithRefreshToken(ctx context.Context, s *Storage, at *storage.AccessToken) (token string, err error)
}

// idTokenGrant is a grant that issues ID tokens: it tells how the user
// signed in and, when not nil, the account and its access to the
// e-service as the grant already read them (so they are not read twice).
type idTokenGrant interface {
	idTokenBasis() (auth storage.Authentication, known *storage.Principal, access *storage.ServiceAccess)
}

func (s *Storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, at, err := s.newAccessToken(req)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := g.storeAccessToken(ctx, s, at); err != nil {
		return "", time.Time{}, err
	}
	return at.ID, at.ExpiresAt, nil
}

// CreateAccessAndRefreshTokens issues the first refresh token of a family
// (code grant with offline_access) or rotates one (refresh grant), each
// with its access token in one store call.
func (s *Storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, at, err := s.newAccessToken(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	rg, ok := g.(refreshingGrant)
	if !ok {
		return "", "", time.Time{}, s.refusedTokens(ctx, at, fmt.Errorf("refresh token for unexpected request %T", req))
	}
	token, err := rg.storeWithRefreshToken(ctx, s, at)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return at.ID, token, at.ExpiresAt, nil
}

// newAccessToken builds the record of an access token for a request of
// any of our grants: each grant's request type fills in what it knows
// (tokenGrant).
func (s *Storage) newAccessToken(req op.TokenRequest) (tokenGrant, *storage.AccessToken, error) {
	g, ok := req.(tokenGrant)
	if !ok {
		return nil, nil, fmt.Errorf("access token for unexpected request %T", req)
	}
	now := s.now().UTC().Truncate(time.Second)
	at := &storage.AccessToken{
		ID: randomID(), Subject: req.GetSubject(), Audience: req.GetAudience(), Scopes: req.GetScopes(),
		IssuedAt: now, ExpiresAt: now.Add(s.life.AccessToken),
	}
	g.fillAccessToken(at)
	return g, at, nil
}

// saveAccessToken stores an access token issued alone (refresh and
// client_credentials grants).
func (s *Storage) saveAccessToken(ctx context.Context, at *storage.AccessToken) error {
	return signInEnded(grantRevoked(s.state.SaveAccessToken(ctx, at)))
}

// refusedTokens drops the access token of tokens the store refused to
// issue with a refresh token, and gives the client's error for err.
func (s *Storage) refusedTokens(ctx context.Context, at *storage.AccessToken, err error) error {
	_ = s.state.RevokeAccessToken(ctx, at.ID)
	return signInEnded(grantRevoked(err))
}

// signInEnded answers invalid_grant when the store refuses the tokens of
// a code exchange because the sign-in's session has ended meanwhile
// (logout, a password change, a deletion). Other errors pass through.
func signInEnded(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrInvalidGrant().WithDescription("the sign-in session has ended")
	}
	return err
}

// grantRevoked answers invalid_grant when the store refuses to issue tokens
// for a grant revoked meanwhile: its refresh token was reused while this
// exchange was under way. Other errors pass through.
func grantRevoked(err error) error {
	if errors.Is(err, storage.ErrConflict) {
		return oidc.ErrInvalidGrant().WithDescription("the grant was revoked: its authorization code or refresh token was used more than once")
	}
	return err
}

// RevokeToken revokes an access token (by id) or a refresh token with every
// access token of its grant (RFC 7009 §2.1). Unknown tokens are not an error.
func (s *Storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	if rt, ok := strings.CutPrefix(tokenOrID, refreshTokenIDPrefix); ok {
		return s.revokeRefreshToken(ctx, rt, clientID)
	}
	at, err := s.state.AccessToken(ctx, tokenOrID)
	if err != nil {
		return nil
	}
	if at.ClientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was issued to another client")
	}
	if err := s.state.RevokeAccessToken(ctx, at.ID); err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

// ---- sessions ----

// TerminateSession is not used: TerminateSessionFromRequest replaces it.
func (s *Storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	return nil
}

// SetLogoutConfirmation sets where end_session sends the browser when it
// must ask the user first (see TerminateSessionFromRequest); url gets the
// validated post-logout address.
func (s *Storage) SetLogoutConfirmation(url func(next string, uiLocales []string) string) {
	s.confirmLogout = url
}

// TerminateSessionFromRequest ends the browser's SSO session (found through
// the cookie the interceptor put in ctx) and revokes the tokens issued under
// it, when the request's id_token_hint names the session's user. Without such
// a hint the user is asked first (RP-Initiated Logout 1.0 §2: the OP MUST
// ask), on the confirmation page, which ends the session itself.
func (s *Storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if secret := sessionSecretFromContext(ctx); secret != "" {
		sess, err := s.state.Session(ctx, secret, 0)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return "", err
		case req.IDTokenHintClaims == nil || sess.Subject != req.UserID:
			if s.confirmLogout != nil {
				var locales []string
				for _, t := range req.UILocales {
					locales = append(locales, t.String())
				}
				return s.confirmLogout(req.RedirectURI, locales), nil
			}
			slog.InfoContext(ctx, "end_session without a matching id_token_hint and no confirmation page; session kept")
		default:
			if err := s.state.EndSessionByID(ctx, sess.SessionID); err != nil {
				return "", err
			}
			_ = s.state.DeleteSession(ctx, secret)
			sessionEnded(ctx)
		}
	}
	return req.RedirectURI, nil
}

// ---- clients ----

func (s *Storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		// invalid_client: a client's mistake (401 at the token endpoint), not
		// the library's server_error, which would log it as our failure.
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return c, nil
}

// AuthorizeClientIDSecret is where the library authenticates a client at
// the code and refresh grants, introspection and revocation: with the
// method the request presented (clientAuthentication), which the client
// must be registered for.
func (s *Storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	_, err := s.authenticateClient(ctx, id, secret)
	var wrong errWrongMethod
	switch {
	case errors.As(err, &wrong):
		return oidc.ErrInvalidClient().WithDescription("%s", wrong.Error())
	case errors.Is(err, errClientAuth):
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	return err
}

// SetClientKeyFetch sets how the keys at private_key_jwt clients'
// jwks_uris are fetched (the defaults of ClientKeyFetch otherwise).
func (s *Storage) SetClientKeyFetch(f ClientKeyFetch) { s.clientKeys = newClientKeys(f) }

// ---- claims ----

// SetUserinfoFromScopes is deprecated in the library and intentionally empty;
// SetUserinfoFromRequest does the work.
func (s *Storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims.
func (s *Storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	var auth storage.Authentication
	var known *storage.Principal
	var access *storage.ServiceAccess
	if g, ok := req.(idTokenGrant); ok {
		auth, known, access = g.idTokenBasis()
	}
	return s.fillClaims(ctx, info, req.GetSubject(), req.GetClientID(), scopes, auth, known, access)
}

// SetUserinfoFromToken answers /userinfo. The library gives only the token id,
// so the record tells the client and scopes; a revoked token has no record.
func (s *Storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	at, err := s.liveAccessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if at.Department != "" {
		return errors.New("a machine client's token has no user")
	}
	return s.fillClaims(ctx, info, at.Subject, at.ClientID, at.Scopes, at.Authentication, nil, nil)
}

// SetIntrospectionFromToken answers /introspect for a client of the token's audience.
func (s *Storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	at, err := s.liveAccessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if !slices.Contains(at.Audience, clientID) && at.ClientID != clientID {
		return errors.New("introspecting client is not an audience of the token")
	}
	if at.Department != "" {
		introspectMachineToken(resp, at)
		return nil
	}
	info := new(oidc.UserInfo)
	if err := s.fillClaims(ctx, info, at.Subject, at.ClientID, at.Scopes, at.Authentication, nil, nil); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Claims = info.Claims
	resp.Active = true
	resp.Scope = at.Scopes
	resp.ClientID = at.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(at.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(at.IssuedAt)
	resp.AuthTime = oidc.FromTime(at.AuthTime)
	resp.Audience = at.Audience
	resp.AuthenticationMethodsReferences = at.AMR
	resp.JWTID = at.ID
	return nil
}

// liveAccessToken returns the record of an unexpired, unrevoked access token.
// An empty id (e.g. an ID token presented as a bearer token) never matches.
func (s *Storage) liveAccessToken(ctx context.Context, tokenID, subject string) (*storage.AccessToken, error) {
	if tokenID == "" {
		return nil, errors.New("not an access token")
	}
	at, err := s.state.AccessToken(ctx, tokenID)
	if err != nil {
		return nil, errors.New("access token is invalid, expired or revoked")
	}
	if at.Subject != subject || !s.now().Before(at.ExpiresAt) {
		return nil, errors.New("access token is invalid, expired or revoked")
	}
	// A disabled client's tokens end with it: its client is unknown now,
	// and once enabled again it honours no token issued before. Checked
	// here, through the client cache (which the operator's change empties
	// on every node), rather than by revoking every token of the client,
	// which would need an index of tokens by client in Redis.
	c, err := s.Client(ctx, at.ClientID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !c.HonoursTokenIssuedAt(at.IssuedAt)) {
		return nil, errors.New("access token is invalid, expired or revoked")
	}
	if err != nil {
		return nil, err
	}
	return at, nil
}

// GetPrivateClaimsFromScopes: access tokens are opaque, so there are no JWT claims to add.
func (s *Storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID refuses: we accept no client-signed JWTs (no
// private_key_jwt, no JWT bearer grant).
func (s *Storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("client keys are not supported")
}

// ValidateJWTProfileScopes refuses, which disables the JWT bearer grant the library always mounts.
func (s *Storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnauthorizedClient().WithDescription("the JWT bearer grant is not supported")
}

// ---- keys and health ----

func (s *Storage) SigningKey(ctx context.Context) (op.SigningKey, error) { return s.keys.Signing(ctx) }

// SignatureAlgorithms are those of the published keys, the active key's
// first (discovery's id_token_signing_alg_values_supported).
func (s *Storage) SignatureAlgorithms(ctx context.Context) ([]jose.SignatureAlgorithm, error) {
	return s.keys.Algorithms(ctx), nil
}

func (s *Storage) KeySet(ctx context.Context) ([]op.Key, error) { return s.keys.Public(ctx), nil }

// Health reports whether both stores answer.
func (s *Storage) Health(ctx context.Context) error {
	if err := s.dir.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if err := s.state.Ping(ctx); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// randomID returns 128 random bits, URL-safe: ids that act as bearer handles.
func randomID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
