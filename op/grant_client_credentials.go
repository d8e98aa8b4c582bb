package op

// The OAuth 2.0 client_credentials grant (RFC 6749 §4.4), for departments'
// machine clients. The library serves it at our token endpoint because
// Storage implements op.ClientCredentialsStorage (and advertises it in
// discovery): it authenticates the client through ClientCredentials, refuses
// with unauthorized_client a client whose GrantTypes lack the grant (every
// web and native client), asks ClientCredentialsTokenRequest for the token
// request, and issues the access token through CreateAccessToken like any
// other: opaque, a record in Redis, revocable and introspectable. No refresh
// token, no ID token.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/storage"
)

var _ op.ClientCredentialsStorage = (*Storage)(nil)

// clientCredentialsRequest is the token request of the client_credentials
// grant. Its subject is the client id (client ids hold no ':', which the
// library's opaque tokens need); the token acts for the client's department.
type clientCredentialsRequest struct {
	clientID   string
	department string
	scopes     []string
}

var _ tokenGrant = clientCredentialsRequest{}

func (r clientCredentialsRequest) GetSubject() string    { return r.clientID }
func (r clientCredentialsRequest) GetAudience() []string { return []string{r.clientID} }
func (r clientCredentialsRequest) GetScopes() []string   { return r.scopes }

func (r clientCredentialsRequest) fillAccessToken(at *storage.AccessToken) {
	at.ClientID, at.Department = r.clientID, r.department
}

// storeAccessToken stores the machine client's access token; it is the
// grant's only token.
func (r clientCredentialsRequest) storeAccessToken(ctx context.Context, s *Storage, at *storage.AccessToken) error {
	return s.saveAccessToken(ctx, at)
}

// errClientAuth is a failed client authentication: the library answers it
// invalid_client (401, and the edge adds WWW-Authenticate).
var errClientAuth = errors.New("client authentication failed")

// ClientCredentials authenticates a client at the client_credentials grant,
// with the method it presented (clientAuthentication: a secret, Basic or in
// the body, or a private_key_jwt assertion) and is registered for. Any kind
// of client that authenticates is returned: the library then refuses those
// not allowed the grant with unauthorized_client.
func (s *Storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	c, err := s.authenticateClient(ctx, clientID, clientSecret)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ClientCredentialsTokenRequest grants a machine client the scopes it asked
// for, which must all be registered for it (invalid_scope otherwise), or
// every registered scope when it asked for none.
func (s *Storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, err := s.Client(ctx, clientID)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err) // it authenticated a moment ago
	}
	if c.Kind != storage.ClientMachine || !c.AllowsGrant(storage.GrantClientCredentials) {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("only a department's machine client may use client_credentials")
	}
	granted, err := grantedScopes(c.Scopes, scopes)
	if err != nil {
		return nil, err
	}
	return clientCredentialsRequest{clientID: c.ID, department: c.DepartmentCode, scopes: granted}, nil
}

// grantedScopes is requested (without repeats) when every scope in it is
// registered, all of registered when requested is empty, and invalid_scope
// otherwise.
func grantedScopes(registered, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return slices.Clone(registered), nil
	}
	granted := make([]string, 0, len(requested))
	for _, sc := range requested {
		if !slices.Contains(registered, sc) {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not registered for this client (registered: %s)",
				sc, strings.Join(registered, " "))
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	return granted, nil
}

// introspectMachineToken answers introspection of a machine client's token:
// no user, so no account claims; the department it acts for instead.
func introspectMachineToken(resp *oidc.IntrospectionResponse, at *storage.AccessToken) {
	resp.Active = true
	resp.Subject = at.Subject
	resp.ClientID = at.ClientID
	resp.Scope = at.Scopes
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(at.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(at.IssuedAt)
	resp.Audience = at.Audience
	resp.JWTID = at.ID
	resp.Claims = map[string]any{"department": at.Department}
}

// ---- the verifier of the department API ----

// Errors of MachineToken.
var (
	// ErrInvalidToken: the token is not one of ours, or it has expired or
	// been revoked, or its client is disabled (answer 401 invalid_token).
	ErrInvalidToken = errors.New("the access token is invalid, expired or revoked")
	// ErrNotMachineToken: a live access token, but a user's, not a machine
	// client's (answer 401 invalid_token too: it is not a credential of this API).
	ErrNotMachineToken = errors.New("the access token is not a machine client's")
)

// MachineAccess is what a machine client's access token grants.
type MachineAccess struct {
	ClientID   string
	Department string // the department's code
	Scopes     []string
	ExpiresAt  time.Time
}

// HasScope reports whether the token was granted scope.
func (m MachineAccess) HasScope(scope string) bool { return slices.Contains(m.Scopes, scope) }

// MachineToken verifies a bearer token (the token itself, without the
// "Bearer " prefix) for the department API: it must be an opaque access
// token of ours, decrypted with the provider's own key as the library does
// at userinfo and introspection, whose record is live (revocation counts
// at once) and was issued by client_credentials to a machine client that is
// still registered. It returns ErrInvalidToken or ErrNotMachineToken, or a
// store error (storage.ErrUnavailable: try again).
func (s *Storage) MachineToken(ctx context.Context, bearer string) (MachineAccess, error) {
	if s.tokenCrypto == nil {
		return MachineAccess{}, errors.New("op: MachineToken needs the provider (NewProvider)")
	}
	plain, err := s.tokenCrypto.Decrypt(bearer)
	if err != nil {
		return MachineAccess{}, ErrInvalidToken
	}
	parts := strings.Split(plain, ":") // tokenID:subject, as the library splits it
	if len(parts) != 2 || parts[0] == "" {
		return MachineAccess{}, ErrInvalidToken
	}
	at, err := s.state.AccessToken(ctx, parts[0])
	if errors.Is(err, storage.ErrNotFound) {
		return MachineAccess{}, ErrInvalidToken
	}
	if err != nil {
		return MachineAccess{}, fmt.Errorf("op: machine token: %w", err)
	}
	if at.Subject != parts[1] || !s.now().Before(at.ExpiresAt) {
		return MachineAccess{}, ErrInvalidToken
	}
	if at.Department == "" {
		return MachineAccess{}, ErrNotMachineToken
	}
	c, err := s.Client(ctx, at.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return MachineAccess{}, ErrInvalidToken // disabled since
	}
	if err != nil {
		return MachineAccess{}, fmt.Errorf("op: machine token: %w", err)
	}
	if c.Kind != storage.ClientMachine || c.DepartmentCode != at.Department || !c.HonoursTokenIssuedAt(at.IssuedAt) {
		return MachineAccess{}, ErrInvalidToken
	}
	return MachineAccess{ClientID: at.ClientID, Department: at.Department, Scopes: slices.Clone(at.Scopes),
		ExpiresAt: at.ExpiresAt}, nil
}
