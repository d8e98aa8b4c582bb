package op

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/entity-account/idp/storage"
)

// Scopes a client may ask for. Unknown scopes are dropped by the library.
var allowedScopes = map[string]bool{
	oidc.ScopeOpenID: true, oidc.ScopeProfile: true, oidc.ScopeEmail: true,
	oidc.ScopePhone: true, oidc.ScopeOfflineAccess: true,
}

// client adapts a registered storage.Client to op.Client.
type client struct {
	storage.Client
	loginURL        string // absolute path of the login page, without the query
	idTokenLifetime time.Duration
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.Client.PostLogoutRedirectURIs }

// ApplicationType: public clients are native (mobile) apps, which lets the
// library accept custom schemes and loopback redirects on any port (RFC 8252).
func (c *client) ApplicationType() op.ApplicationType {
	if c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

// AuthMethod is what the library is told, not what the client registered:
// our interceptor (clientauth.go) reads every method (a secret in the
// Basic header or the body, a private_key_jwt assertion) and hands the
// library the request as Basic, so that every confidential client goes
// through AuthorizeClientIDSecret or ClientCredentials, which hold it to
// its registered method (storage.Client.AcceptsAuth).
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// ResponseTypes: the code flow, for clients that may use the code grant
// (a machine client has no user and never comes to /authorize).
func (c *client) ResponseTypes() []oidc.ResponseType {
	if !c.AllowsGrant(storage.GrantAuthorizationCode) {
		return nil
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes are the client's own, as registered (storage.Client.GrantTypes):
// the library refuses any other grant with unauthorized_client.
func (c *client) GrantTypes() []oidc.GrantType {
	gs := make([]oidc.GrantType, len(c.Client.GrantTypes))
	for i, g := range c.Client.GrantTypes {
		gs[i] = oidc.GrantType(g)
	}
	return gs
}
func (c *client) LoginURL(id string) string {
	return c.loginURL + "?authRequestID=" + url.QueryEscape(id)
}

// AccessTokenType: opaque tokens, so that every use goes through our records
// and revocation takes effect at once.
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return c.idTokenLifetime }
func (c *client) DevMode() bool                       { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool { return allowedScopes[scope] }

// IDTokenUserinfoClaimsAssertion: our entity claims go into the ID token
// anyway; profile/email claims follow the standard (userinfo).
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

// checkSecret compares a presented secret with the stored SHA-256 in
// constant time. Client secrets are 256-bit random values, so a fast hash
// is enough (a slow hash protects low-entropy secrets like passwords).
// The previous secret (a rotation's) matches too until its grace ends.
func (c *client) checkSecret(secret string, now time.Time) bool {
	if c.Public || len(c.SecretHash) != sha256.Size {
		return false
	}
	sum := sha256.Sum256([]byte(secret))
	current := subtle.ConstantTimeCompare(sum[:], c.SecretHash) == 1
	previous := c.AcceptsPreviousSecret(now) && subtle.ConstantTimeCompare(sum[:], c.PreviousSecretHash) == 1
	return current || previous
}

// clientCache keeps clients in memory for a short time: the library asks for
// the client several times per request. A client carries what sign-in needs
// of its e-service (its name, its minimum assurance level), so a change of
// the e-service must reach the cache too: the use cases publish it
// (storage.ChangeNotices.PublishServicesChanged) and every node drops that
// e-service's clients at once (Storage.ForgetServices). A node that missed
// the message, and any other change of a client, lags by at most ttl.
type clientCache struct {
	dir interface {
		Client(ctx context.Context, id string) (storage.Client, error)
	}
	ttl time.Duration

	mu      sync.Mutex
	entries map[string]cachedClient
	// gen counts the drops: a load that began before a drop is not kept,
	// since it may have read the client as it was before the change.
	gen uint64
}

type cachedClient struct {
	c   storage.Client
	err error // storage.ErrNotFound is cached too, briefly, against probing
	at  time.Time
}

func (cc *clientCache) get(ctx context.Context, id string) (storage.Client, error) {
	cc.mu.Lock()
	e, ok := cc.entries[id]
	gen := cc.gen
	cc.mu.Unlock()
	if ok && time.Since(e.at) < cc.ttl {
		return e.c, e.err
	}
	c, err := cc.dir.Client(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return c, err // a database fault is not cached
	}
	cc.mu.Lock()
	if cc.gen == gen {
		if cc.entries == nil || len(cc.entries) > 10000 {
			cc.entries = make(map[string]cachedClient)
		}
		cc.entries[id] = cachedClient{c: c, err: err, at: time.Now()}
	}
	cc.mu.Unlock()
	return c, err
}

// forgetServices drops the clients of the e-services serviceIDs.
func (cc *clientCache) forgetServices(serviceIDs []int64) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.gen++
	for id, e := range cc.entries {
		if slices.Contains(serviceIDs, e.c.ServiceID) {
			delete(cc.entries, id)
		}
	}
}

// forgetClients drops the clients clientIDs.
func (cc *clientCache) forgetClients(clientIDs []string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.gen++
	for _, id := range clientIDs {
		delete(cc.entries, id)
	}
}

// ForgetClients drops this node's cached clients clientIDs: their secret
// was rotated, or they were disabled or enabled (the operator publishes
// it), and the next request loads them afresh.
func (s *Storage) ForgetClients(clientIDs []string) { s.clients.forgetClients(clientIDs) }

// ForgetServices drops this node's cached clients of the e-services
// serviceIDs: their settings changed (see
// storage.ChangeNotices.PublishServicesChanged), and the next request loads
// them afresh.
func (s *Storage) ForgetServices(serviceIDs []int64) { s.clients.forgetServices(serviceIDs) }
