// Package op connects the zitadel/oidc protocol engine to our stores: it
// implements op.Storage (auth requests, codes, tokens, clients, keys) by
// delegating to storage.Directory (Postgres) and storage.ShortLived (Redis),
// and maps accounts to the claims of the token contract.
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

	"github.com/entity-account/idp/op/telemetry"
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

// Storage implements op.Storage and the optional interfaces we use.
type Storage struct {
	dir     storage.Directory
	state   storage.ShortLived
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
func NewStorage(dir storage.Directory, state storage.ShortLived, keys *Keys, life Lifetimes, loginURL string) *Storage {
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

// ---- auth requests and codes ----

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

// ---- tokens ----

func (s *Storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	at, err := s.newAccessToken(req)
	if err != nil {
		return "", time.Time{}, err
	}
	if _, ok := req.(authRequest); ok {
		// A code exchange: only while the sign-in's session lives.
		_, err = s.state.CreateTokens(ctx, at, nil)
	} else {
		err = s.state.SaveAccessToken(ctx, at)
	}
	if err != nil && !revokedDuringCodeExchange(ctx, req, err) {
		return "", time.Time{}, signInEnded(grantRevoked(err))
	}
	return at.ID, at.ExpiresAt, nil
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

// revokedDuringCodeExchange reports whether the store refused a token because
// a replay of the authorization code revoked the grant while this exchange,
// the one redemption that passed the single-use gate, was issuing tokens.
// The exchange still answers with its one token response, but its tokens are
// dead on arrival (the store kept no record of them): exactly what the RP
// would see had the replay's revocation (RFC 6749 §4.1.2) landed a moment
// later. So N concurrent redemptions yield one token response, never zero.
func revokedDuringCodeExchange(ctx context.Context, req op.TokenRequest, err error) bool {
	if _, ok := req.(authRequest); !ok || !errors.Is(err, storage.ErrConflict) {
		return false
	}
	slog.WarnContext(ctx, "authorization code replayed during its exchange; the issued tokens are revoked")
	return true
}

// CreateAccessAndRefreshTokens issues the first refresh token of a family
// (code grant with offline_access) or rotates one (refresh grant), each
// with its access token in one store call.
func (s *Storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	at, err := s.newAccessToken(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	var token string
	switch r := req.(type) {
	case authRequest:
		token, err = s.state.CreateTokens(ctx, at, &storage.RefreshToken{
			FamilyID: r.ID, ClientID: r.ClientID, Subject: r.Subject, Audience: r.GetAudience(),
			Scopes: r.Scopes, IssuedAt: at.IssuedAt, ExpiresAt: at.IssuedAt.Add(s.life.RefreshToken),
			AccessTokenID: at.ID, Authentication: r.Authentication,
		})
		if err != nil && revokedDuringCodeExchange(ctx, req, err) {
			// Tokens that name nothing: refused on first use.
			token, err = randomID()+randomID(), nil
		}
	case *refreshRequest:
		next := *r.rec
		next.IssuedAt, next.AccessTokenID = at.IssuedAt, at.ID
		token, err = s.state.RotateTokens(ctx, r.rec, &next, at)
		if errors.Is(err, storage.ErrRefreshTokenReused) {
			telemetry.RefreshReuse()
		}
		if errors.Is(err, storage.ErrRefreshTokenReused) || errors.Is(err, storage.ErrNotFound) {
			// The store kept none of the tokens.
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token is no longer valid")
		}
	default:
		err = fmt.Errorf("refresh token for unexpected request %T", req)
	}
	if err != nil {
		_ = s.state.RevokeAccessToken(ctx, at.ID)
		return "", "", time.Time{}, signInEnded(grantRevoked(err))
	}
	return at.ID, token, at.ExpiresAt, nil
}

// newAccessToken builds the record of an access token for a request of
// any of our grants: each grant's request type fills in what it knows
// (tokenGrant).
func (s *Storage) newAccessToken(req op.TokenRequest) (*storage.AccessToken, error) {
	g, ok := req.(tokenGrant)
	if !ok {
		return nil, fmt.Errorf("access token for unexpected request %T", req)
	}
	now := s.now().UTC().Truncate(time.Second)
	at := &storage.AccessToken{
		ID: randomID(), Subject: req.GetSubject(), Audience: req.GetAudience(), Scopes: req.GetScopes(),
		IssuedAt: now, ExpiresAt: now.Add(s.life.AccessToken),
	}
	g.fillAccessToken(at)
	return at, nil
}

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

// refreshTokenIDPrefix marks, in revocation, a token id that is a refresh token.
const refreshTokenIDPrefix = "rt."

func (s *Storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	rec, err := s.state.RefreshToken(ctx, token)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rec.Subject, refreshTokenIDPrefix + token, nil
}

// RevokeToken revokes an access token (by id) or a refresh token with every
// access token of its grant (RFC 7009 §2.1). Unknown tokens are not an error.
func (s *Storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	if rt, ok := strings.CutPrefix(tokenOrID, refreshTokenIDPrefix); ok {
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
	switch r := req.(type) {
	case authRequest:
		auth = r.Authentication
	case *refreshRequest:
		auth, known, access = r.rec.Authentication, r.principal, r.access
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
