package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
)

// revokedGrantTTL is how long RevokeGrant remembers a grant that had no
// refresh family yet, so that tokens a concurrent code exchange is still
// writing for it are refused (see SaveAccessToken and CreateTokens).
const revokedGrantTTL = time.Hour

// ---------------------------------------------------------------------------
// Access tokens

// SaveAccessToken stores t until t.ExpiresAt (required) and indexes it under
// its grant, session and subject, and records its client as a party of its
// session (see SessionParties). A token already expired is not stored. If
// t.GrantID has been revoked, the token is removed again and ErrConflict returned.
func (s *Store) SaveAccessToken(ctx context.Context, t *storage.AccessToken) error {
	return s.saveAccessToken(ctx, t, false)
}

// errSessionEnded: tokens of a code exchange whose sign-in session has
// ended meanwhile (logout, or a password change or deletion that swept the
// account's sessions) are not issued.
var errSessionEnded = fmt.Errorf("%w: the sign-in session has ended", storage.ErrNotFound)

// saveAccessToken is SaveAccessToken; with live, the token's session must
// still be there (else errSessionEnded, and nothing of the token stays).
func (s *Store) saveAccessToken(ctx context.Context, t *storage.AccessToken, live bool) error {
	if t.ID == "" {
		return errors.New("redis: save access token: empty id")
	}
	if t.ExpiresAt.IsZero() {
		return errors.New("redis: save access token: ExpiresAt is required")
	}
	ttl, ok := s.ttlUntil(t.ExpiresAt)
	if !ok {
		return nil // already expired: AccessToken would not honour it anyway
	}
	raw, err := json.Marshal(t)
	if err != nil {
		return wrap("save access token", err)
	}
	key := s.kAccessToken(t.ID)
	// The record first, so that whatever finds the token in an index can
	// delete it. Then the indexes, independent of each other.
	args := s.indexArgs(t.ID, t.ExpiresAt)
	var revoked, session *goredis.Cmd
	err = s.sequenced(ctx, func(p goredis.Pipeliner, _ scriptRunner) {
		p.Set(ctx, key, raw, ttl)
	}, func(p goredis.Pipeliner, run scriptRunner) {
		revoked, session = nil, nil
		if t.GrantID != "" {
			// Atomically with indexing: either RevokeGrant's tombstone is
			// visible now, or RevokeGrant reads the index later and finds this token.
			revoked = run(indexAddCheckRevoked, []string{s.kGrantATs(t.GrantID), s.kFamily(t.GrantID)}, args...)
		}
		if t.SessionID != "" {
			// Under its session, whose end revokes it; and back-channel
			// logout tells this client when the session ends.
			session = run(sessionIssued, s.sessionIssuedKeys(t.SessionID, s.kSIDATs(t.SessionID)), append(args, t.ClientID, t.Subject, flag(live))...)
		}
		if t.Subject != "" {
			run(indexAdd, []string{s.kSubATs(t.Subject)}, args...)
		}
	})
	if err != nil {
		return wrap("save access token", err)
	}
	if session != nil && session.Val() == int64(0) {
		if err := s.rdb.Del(ctx, key).Err(); err != nil {
			return wrap("save access token", err)
		}
		return errSessionEnded
	}
	if revoked != nil {
		n, err := revoked.Int()
		if err != nil {
			return wrap("save access token", err)
		}
		if n == 1 {
			if err := s.rdb.Del(ctx, key).Err(); err != nil {
				return wrap("save access token", err)
			}
			return fmt.Errorf("%w: grant %s is revoked", storage.ErrConflict, t.GrantID)
		}
	}
	return nil
}

// AccessToken returns ErrNotFound for an unknown, expired or revoked token.
func (s *Store) AccessToken(ctx context.Context, id string) (*storage.AccessToken, error) {
	raw, err := s.rdb.Get(ctx, s.kAccessToken(id)).Bytes()
	if isNil(err) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, wrap("load access token", err)
	}
	var t storage.AccessToken
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, wrap("decode access token", err)
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, storage.ErrNotFound
	}
	return &t, nil
}

// RevokeAccessToken deletes the token's record; unknown is not an error.
func (s *Store) RevokeAccessToken(ctx context.Context, id string) error {
	return wrap("revoke access token", s.rdb.Del(ctx, s.kAccessToken(id)).Err())
}

// ---------------------------------------------------------------------------
// Tokens issued together (a code exchange, a refresh): refresh_family.go
// starts a family, refresh_rotation.go rotates it.

// CreateTokens stores the tokens of a code exchange: the access token at
// and, when rt is not nil, the refresh family rt starts, whose token it
// returns. The family is at's grant (rt.FamilyID must be at.GrantID, or
// empty to take it). It takes the round trips of one pipeline on a single
// Redis. The tokens' session (at.SessionID), when they name one, must still
// be there: ErrNotFound if it has ended meanwhile (logout, or a password
// change or deletion that swept the account's sessions). ErrConflict if
// the grant was revoked meanwhile (a replay of its code) or the family
// exists. Nothing of a refused call stays usable.
func (s *Store) CreateTokens(ctx context.Context, at *storage.AccessToken, rt *storage.RefreshToken) (string, error) {
	if rt == nil {
		return "", s.saveAccessToken(ctx, at, true)
	}
	if rt.FamilyID == "" {
		rt.FamilyID = at.GrantID
	}
	if at.GrantID == "" || at.GrantID != rt.FamilyID {
		return "", fmt.Errorf("redis: create tokens: the access token's grant %q is not the family %q", at.GrantID, rt.FamilyID)
	}
	return s.createFamily(ctx, rt, at)
}

// issuedAccessToken is an access token issued with a refresh token, ready
// to be written: its record, under its key, for its TTL.
type issuedAccessToken struct {
	*storage.AccessToken
	key string
	raw []byte
	ttl time.Duration
}

// issueAccessToken checks and encodes the access token at issued with a
// refresh token by the call op ("create tokens", "rotate tokens").
func (s *Store) issueAccessToken(op string, at *storage.AccessToken) (issuedAccessToken, error) {
	if at == nil {
		return issuedAccessToken{}, fmt.Errorf("redis: %s: the access token is required", op)
	}
	if at.ID == "" || at.ExpiresAt.IsZero() {
		return issuedAccessToken{}, fmt.Errorf("redis: %s: the access token needs an id and ExpiresAt", op)
	}
	ttl, ok := s.ttlUntil(at.ExpiresAt)
	if !ok {
		return issuedAccessToken{}, fmt.Errorf("redis: %s: the access token has expired", op)
	}
	raw, err := json.Marshal(at)
	if err != nil {
		return issuedAccessToken{}, wrap(op, err)
	}
	return issuedAccessToken{AccessToken: at, key: s.kAccessToken(at.ID), raw: raw, ttl: ttl}, nil
}

// flag is a script's boolean argument.
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func unixMs(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// sessionIssuedKeys are the keys of sessionIssued for the index index of session sid.
func (s *Store) sessionIssuedKeys(sid, index string) []string {
	return []string{index, s.kSIDParties(sid), s.kSID(sid)}
}
