package op

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/text/language"

	"github.com/entity-account/idp/storage"
)

// fillClaims is the one place that turns an account into claims,
// for the ID token, userinfo and introspection alike. service_groups are the
// login's groups in the e-service of clientID. known, when not nil, is the
// account as loaded earlier in the same request (the refresh grant), so it is
// not queried twice.
func (s *Storage) fillClaims(ctx context.Context, info *oidc.UserInfo, subject, clientID string, scopes []string, auth storage.Authentication, known *storage.Principal, knownAccess *storage.ServiceAccess) error {
	c, err := s.Client(ctx, clientID)
	if err != nil {
		return err
	}
	p, access, err := s.accountInService(ctx, subject, auth.LoginID, c.ServiceID, known, knownAccess)
	if errors.Is(err, storage.ErrNotFound) {
		return errors.New("the account no longer exists")
	}
	if err != nil {
		return err
	}
	// Claims are made for a token whose level was checked when the token
	// was issued or refreshed: the rule is asked here without the level.
	switch storage.ServiceUseRefusal(p, access, storage.LevelNone, storage.LevelNone) {
	case storage.ServiceAllowed:
	case storage.RefusedAccountInactive, storage.RefusedEntityAccount:
		return errors.New("the account may not use e-services")
	default:
		return errors.New("the staff login no longer has access to this e-service")
	}

	info.Subject = p.Subject // the library drops sub from the ID token unless it is set here
	info.PreferredUsername = p.Username
	info.Name = firstNonEmpty(p.NameZH, p.NameForeign)
	if tag, err := language.Parse(p.Language); err == nil {
		info.Locale = oidc.NewLocale(tag)
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && p.Email != "" {
		info.Email = p.Email
		info.EmailVerified = false // registered by an admin, never proven by the person
	}
	if slices.Contains(scopes, oidc.ScopePhone) && p.Mobile != "" {
		info.PhoneNumber = p.Mobile
	}
	info.AppendClaims("euid", p.Subject)
	info.AppendClaims("entity_number", p.EntityNumber)
	info.AppendClaims("entity_name", firstNonEmpty(p.EntityNameZH, p.EntityNamePT))
	info.AppendClaims("service_groups", access.Groups)
	// Registered ID-token fields win over these when the library sets them;
	// on refresh it leaves acr empty, and userinfo has none of them.
	if auth.ACR != "" {
		info.AppendClaims("acr", auth.ACR)
	}
	if len(auth.AMR) > 0 {
		info.AppendClaims("amr", auth.AMR)
	}
	if !auth.AuthTime.IsZero() {
		info.AppendClaims("auth_time", auth.AuthTime.Unix())
	}
	if auth.SessionID != "" {
		info.AppendClaims("sid", auth.SessionID)
	}
	return nil
}

// accountInService returns the account of subject and its access to an
// e-service: known and knownAccess if given (read earlier in this request;
// known alone saves the account's query), else from the claims cache, else
// from Postgres (one round trip when loginID, the staff login the tokens
// were issued to, is known; then cached).
func (s *Storage) accountInService(ctx context.Context, subject string, loginID, serviceID int64, known *storage.Principal, knownAccess *storage.ServiceAccess) (storage.Principal, storage.ServiceAccess, error) {
	if known != nil && knownAccess != nil && known.Subject == subject {
		return *known, *knownAccess, nil // both read earlier in this request
	}
	key := claimsKey{subject: subject, serviceID: serviceID}
	if known == nil || known.Subject != subject {
		if e, ok := s.claims.get(key); ok {
			return e.p, e.access, nil
		}
		if loginID != 0 {
			p, access, err := s.dir.PrincipalInService(ctx, subject, loginID, serviceID)
			if err != nil {
				return p, access, err
			}
			if p.Kind == storage.KindStaff && p.ID == loginID {
				s.claims.put(key, claimsEntry{p: p, access: access})
				return p, access, nil
			}
			known = &p // not the login the tokens name: its own access below
		} else {
			p, err := s.dir.PrincipalBySubject(ctx, subject)
			if err != nil {
				return p, storage.ServiceAccess{}, err
			}
			known = &p
		}
	}
	access, err := s.dir.ServiceAccess(ctx, known.ID, serviceID)
	if err != nil {
		return *known, access, err
	}
	s.claims.put(key, claimsEntry{p: *known, access: access})
	return *known, access, nil
}

// RememberClaims puts into this node's claims cache the account and its
// access to an e-service as a sign-in read them moments ago, so that the
// token exchange that follows (on this node, within the cache's TTL) does
// not read them again. Same rules as every cache entry: only the claims'
// content may lag, by at most the TTL, and a change published by the use
// cases (ForgetClaims) drops it at once.
func (s *Storage) RememberClaims(p storage.Principal, serviceID int64, access storage.ServiceAccess) {
	s.claims.put(claimsKey{subject: p.Subject, serviceID: serviceID}, claimsEntry{p: p, access: access})
}

// claimsCache keeps, for a few seconds, what the claims of an account in an
// e-service are made of, so that userinfo, introspection and token issuance
// do not ask Postgres twice per request. Whether a token is valid is never
// cached: that is the Redis record, checked on every use, and deleting a
// login or changing its password revokes its tokens there at once. Only the
// claims' content (names, groups) may lag: a change made through the use
// cases is published to every node, which forgets the account's entries at
// once (ForgetClaims); a node that missed the message lags by at most the
// TTL. A TTL of 0 turns the cache off.
type claimsCache struct {
	ttl time.Duration

	mu      sync.Mutex
	entries map[claimsKey]claimsEntry
}

type claimsKey struct {
	subject   string
	serviceID int64
}

type claimsEntry struct {
	p      storage.Principal
	access storage.ServiceAccess
	at     time.Time
}

// maxClaimsEntries bounds the cache's memory; when full it starts afresh.
const maxClaimsEntries = 50_000

func (c *claimsCache) get(k claimsKey) (claimsEntry, bool) {
	if c == nil || c.ttl <= 0 {
		return claimsEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || time.Since(e.at) >= c.ttl {
		return claimsEntry{}, false
	}
	return e, true
}

func (c *claimsCache) put(k claimsKey, e claimsEntry) {
	if c == nil || c.ttl <= 0 {
		return
	}
	e.at = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxClaimsEntries {
		c.entries = make(map[claimsKey]claimsEntry)
	}
	c.entries[k] = e
}

// forget drops every entry of the given subjects, in all e-services.
func (c *claimsCache) forget(subjects []string) {
	if c == nil || c.ttl <= 0 {
		return
	}
	drop := make(map[string]bool, len(subjects))
	for _, s := range subjects {
		drop[s] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if drop[k.subject] {
			delete(c.entries, k)
		}
	}
}

// ForgetClaims drops this node's cached claim contents of subjects: their
// names or groups changed (see storage.ChangeNotices.PublishClaimsChanged).
func (s *Storage) ForgetClaims(subjects []string) { s.claims.forget(subjects) }

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
