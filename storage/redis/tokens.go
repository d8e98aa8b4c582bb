package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
)

// revokedGrantTTL is how long RevokeGrant remembers a grant that had no
// refresh family yet, so that tokens a concurrent code exchange is still
// writing for it are refused (see SaveAccessToken and CreateRefreshToken).
const revokedGrantTTL = time.Hour

// ---------------------------------------------------------------------------
// Access tokens

// SaveAccessToken stores t until t.ExpiresAt (required) and indexes it under
// its grant, session and subject, and records its client as a party of its
// session (see SessionParties). A token already expired is not stored. If
// t.GrantID has been revoked, the token is removed again and ErrConflict returned.
func (s *Store) SaveAccessToken(ctx context.Context, t *storage.AccessToken) error {
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
	var revoked *goredis.Cmd
	err = s.sequenced(ctx, func(p goredis.Pipeliner, _ scriptRunner) {
		p.Set(ctx, key, raw, ttl)
	}, func(p goredis.Pipeliner, run scriptRunner) {
		revoked = nil
		if t.GrantID != "" {
			// Atomically with indexing: either RevokeGrant's tombstone is
			// visible now, or RevokeGrant reads the index later and finds this token.
			revoked = run(indexAddCheckRevoked, []string{s.kGrantATs(t.GrantID), s.kFamily(t.GrantID)}, args...)
		}
		if t.SessionID != "" {
			run(indexAdd, []string{s.kSIDATs(t.SessionID)}, args...)
			// Back-channel logout tells this client when the session ends.
			keys, partyArgs := s.recordPartyArgs(t, ttl)
			run(recordParty, keys, partyArgs...)
		}
		if t.Subject != "" {
			run(indexAdd, []string{s.kSubATs(t.Subject)}, args...)
		}
	})
	if err != nil {
		return wrap("save access token", err)
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
// Refresh tokens
//
// A family is the hash rtf:{family} with the JSON record of its current token
// (field rt) and the current generation (gen). Each token ever issued in it
// has rt:{hash(token)} = "<generation>:<family>", kept until the family
// expires: presenting a token whose generation is not current is reuse, and
// revokes the family. A revoked family stays as a tombstone (revoked=1, no rt)
// until it expires, so that every later presentation is refused and reuse is
// still told apart.

// createFamily creates family KEYS[1] with record ARGV[1] at generation 1 for
// ARGV[2] ms. Returns 0 if the family exists (or is a revoked tombstone).
var createFamily = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rt', ARGV[1], 'gen', '1')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`)

// familyCheck is the common head of lookupFamily and rotateFamily: ARGV[1] is
// the generation of the token presented. It returns {'notfound'}, {'reused'}
// (already revoked) or {'reused', record} (revoked just now), or falls through
// when the token is current and the family live.
const familyCheck = `
local f = redis.call('HMGET', KEYS[1], 'gen', 'revoked', 'rt')
local cur, revoked, rt = f[1], f[2], f[3]
if not cur then return {'notfound'} end
if cur ~= ARGV[1] then
  if revoked then return {'reused'} end
  redis.call('HSET', KEYS[1], 'revoked', '1')
  redis.call('HDEL', KEYS[1], 'rt')
  if rt then return {'reused', rt} end
  return {'reused'}
end
if revoked or not rt then return {'notfound'} end
`

// lookupFamily returns {'ok', record} for a current token of a live family.
var lookupFamily = goredis.NewScript(familyCheck + `
return {'ok', rt}
`)

// rotateFamily retires the current token (ARGV[1]) and makes ARGV[2] the
// record of the next generation. Returns {'ok', new generation}.
var rotateFamily = goredis.NewScript(familyCheck + `
local n = redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HSET', KEYS[1], 'rt', ARGV[2])
return {'ok', n}
`)

// revokeFamilyScript revokes family KEYS[1] and returns the record it held
// (nil if already revoked or unknown). With ARGV[1] > 0, an unknown family is
// remembered as revoked for ARGV[1] ms.
var revokeFamilyScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  if tonumber(ARGV[1]) > 0 then
    redis.call('HSET', KEYS[1], 'revoked', '1')
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
  end
  return false
end
if redis.call('HEXISTS', KEYS[1], 'revoked') == 1 then return false end
local rt = redis.call('HGET', KEYS[1], 'rt')
redis.call('HSET', KEYS[1], 'revoked', '1')
redis.call('HDEL', KEYS[1], 'rt')
return rt
`)

// CreateRefreshToken starts a new family and returns the opaque token. An empty
// t.FamilyID is set to a new random id; t.ExpiresAt (required) is the
// absolute end of the family. ErrConflict if the family id is taken or revoked.
func (s *Store) CreateRefreshToken(ctx context.Context, t *storage.RefreshToken) (string, error) {
	if t.ExpiresAt.IsZero() {
		return "", errors.New("redis: create refresh token: ExpiresAt is required")
	}
	ttl, ok := s.ttlUntil(t.ExpiresAt)
	if !ok {
		return "", errors.New("redis: create refresh token: ExpiresAt is in the past")
	}
	if t.FamilyID == "" {
		id, err := newID()
		if err != nil {
			return "", err
		}
		t.FamilyID = id
	}
	if t.IssuedAt.IsZero() {
		t.IssuedAt = s.now()
	}
	raw, err := json.Marshal(t)
	if err != nil {
		return "", wrap("create refresh token", err)
	}
	token, err := newSecret()
	if err != nil {
		return "", err
	}
	created, err := createFamily.Run(ctx, s.rdb, []string{s.kFamily(t.FamilyID)},
		raw, strconv.FormatInt(ttl.Milliseconds(), 10)).Int()
	if err != nil {
		return "", wrap("create refresh token", err)
	}
	if created == 0 {
		return "", fmt.Errorf("%w: refresh family %s exists or was revoked", storage.ErrConflict, t.FamilyID)
	}
	if err := s.issueFamilyToken(ctx, token, "1:"+t.FamilyID, ttl, t); err != nil {
		return "", wrap("create refresh token", err)
	}
	return token, nil
}

// issueFamilyToken stores the entry of a new token of family t.FamilyID (the
// family record already holds it) and indexes the family under its subject and
// session, and its access token under the family (as a grant): independent
// idempotent writes, sent in one pipeline.
func (s *Store) issueFamilyToken(ctx context.Context, token, entry string, ttl time.Duration, t *storage.RefreshToken) error {
	refreshKey := s.kRefresh(hashSecret(token))
	famArgs := s.indexArgs(t.FamilyID, t.ExpiresAt)
	return s.pipelined(ctx, func(p goredis.Pipeliner, run scriptRunner) {
		p.Set(ctx, refreshKey, entry, ttl)
		if t.Subject != "" {
			run(indexAdd, []string{s.kSubFamilies(t.Subject)}, famArgs...)
		}
		if t.SessionID != "" {
			run(indexAdd, []string{s.kSIDFamilies(t.SessionID)}, famArgs...)
		}
		if t.AccessTokenID != "" {
			run(indexAdd, []string{s.kGrantATs(t.FamilyID)}, s.indexArgs(t.AccessTokenID, t.ExpiresAt)...)
		}
	})
}

// tokenFamily resolves a refresh token to its generation and family.
func (s *Store) tokenFamily(ctx context.Context, token string) (gen, family string, err error) {
	v, err := s.rdb.Get(ctx, s.kRefresh(hashSecret(token))).Result()
	if isNil(err) {
		return "", "", storage.ErrNotFound
	}
	if err != nil {
		return "", "", err
	}
	gen, family, ok := strings.Cut(v, ":")
	if !ok || family == "" {
		return "", "", fmt.Errorf("malformed refresh token entry")
	}
	return gen, family, nil
}

// familyResult interprets the reply of lookupFamily or rotateFamily. On reuse
// it finishes the revocation the script began and returns ErrRefreshTokenReused.
func (s *Store) familyResult(ctx context.Context, family string, res []any) (any, error) {
	if len(res) == 0 {
		return nil, fmt.Errorf("empty script reply")
	}
	switch res[0] {
	case "notfound":
		return nil, storage.ErrNotFound
	case "reused":
		var record string
		if len(res) > 1 {
			record, _ = res[1].(string)
		}
		if err := s.revokeFamilyTokens(ctx, family, record); err != nil {
			return nil, err
		}
		return nil, storage.ErrRefreshTokenReused
	case "ok":
		if len(res) < 2 {
			return nil, fmt.Errorf("short script reply")
		}
		return res[1], nil
	}
	return nil, fmt.Errorf("unexpected script reply %v", res)
}

// RefreshToken returns the live record behind a token: ErrNotFound if unknown,
// expired or revoked; ErrRefreshTokenReused if it was already rotated, and the
// family is then revoked.
func (s *Store) RefreshToken(ctx context.Context, token string) (*storage.RefreshToken, error) {
	gen, family, err := s.tokenFamily(ctx, token)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, wrap("load refresh token", err)
	}
	res, err := lookupFamily.Run(ctx, s.rdb, []string{s.kFamily(family)}, gen).Slice()
	if err != nil {
		return nil, wrap("load refresh token", err)
	}
	v, err := s.familyResult(ctx, family, res)
	if err != nil {
		return nil, storeErr("load refresh token", err)
	}
	raw, _ := v.(string)
	var t storage.RefreshToken
	if err := json.Unmarshal([]byte(raw), &t); err != nil {
		return nil, wrap("decode refresh token", err)
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, storage.ErrNotFound
	}
	return &t, nil
}

// RotateRefreshToken atomically retires old and issues a new token in its
// family, carrying t's fields; the family's id and absolute expiry are kept
// (and set in t). A concurrent or repeated rotation of the same old token gets
// ErrRefreshTokenReused and revokes the family, so even the new token of the
// rotation that won stops working.
func (s *Store) RotateRefreshToken(ctx context.Context, old string, t *storage.RefreshToken) (string, error) {
	gen, family, err := s.tokenFamily(ctx, old)
	if errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	if err != nil {
		return "", wrap("rotate refresh token", err)
	}
	key := s.kFamily(family)
	cur, err := s.rdb.HGet(ctx, key, "rt").Result()
	if isNil(err) {
		// Revoked or gone: let the script tell which (and revoke on reuse).
		res, err := lookupFamily.Run(ctx, s.rdb, []string{key}, gen).Slice()
		if err != nil {
			return "", wrap("rotate refresh token", err)
		}
		if _, err := s.familyResult(ctx, family, res); err != nil {
			return "", storeErr("rotate refresh token", err)
		}
		return "", storage.ErrNotFound
	}
	if err != nil {
		return "", wrap("rotate refresh token", err)
	}
	var prev storage.RefreshToken
	if err := json.Unmarshal([]byte(cur), &prev); err != nil {
		return "", wrap("decode refresh token", err)
	}
	ttl, ok := s.ttlUntil(prev.ExpiresAt)
	if !ok {
		return "", storage.ErrNotFound
	}
	next := *t
	next.FamilyID = family
	next.ExpiresAt = prev.ExpiresAt
	if next.IssuedAt.IsZero() {
		next.IssuedAt = s.now()
	}
	raw, err := json.Marshal(&next)
	if err != nil {
		return "", wrap("rotate refresh token", err)
	}
	token, err := newSecret()
	if err != nil {
		return "", err
	}
	res, err := rotateFamily.Run(ctx, s.rdb, []string{key}, gen, raw).Slice()
	if err != nil {
		return "", wrap("rotate refresh token", err)
	}
	v, err := s.familyResult(ctx, family, res)
	if err != nil {
		return "", storeErr("rotate refresh token", err)
	}
	newGen, ok := v.(int64)
	if !ok {
		return "", fmt.Errorf("redis: rotate refresh token: unexpected generation %v", v)
	}
	entry := strconv.FormatInt(newGen, 10) + ":" + family
	if err := s.issueFamilyToken(ctx, token, entry, ttl, &next); err != nil {
		return "", wrap("rotate refresh token", err)
	}
	*t = next
	return token, nil
}

// RevokeRefreshToken revokes the family of a token, whatever its generation;
// unknown is not an error.
func (s *Store) RevokeRefreshToken(ctx context.Context, token string) error {
	_, family, err := s.tokenFamily(ctx, token)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return wrap("revoke refresh token", err)
	}
	return wrap("revoke refresh token", s.revokeFamily(ctx, family, false))
}

// RevokeGrant revokes every access and refresh token issued from one auth
// request or refresh family: the access tokens indexed under grantID and the
// refresh family whose id is grantID. A grant without a family yet is
// remembered as revoked for a while, so that tokens a concurrent code exchange
// is still writing for it are refused.
func (s *Store) RevokeGrant(ctx context.Context, grantID string) error {
	if grantID == "" {
		return nil
	}
	return wrap("revoke grant", s.revokeFamily(ctx, grantID, true))
}

// revokeFamily turns the family into a tombstone and revokes its access tokens.
func (s *Store) revokeFamily(ctx context.Context, family string, remember bool) error {
	ms := "0"
	if remember {
		ms = strconv.FormatInt(revokedGrantTTL.Milliseconds(), 10)
	}
	record, err := revokeFamilyScript.Run(ctx, s.rdb, []string{s.kFamily(family)}, ms).Text()
	if err != nil && !isNil(err) {
		return err
	}
	return s.revokeFamilyTokens(ctx, family, record)
}

// revokeFamilyTokens deletes the access tokens of a just-revoked family: the
// one in its last record and every one indexed under the family as a grant.
func (s *Store) revokeFamilyTokens(ctx context.Context, family, record string) error {
	var ids []string
	if record != "" {
		var t storage.RefreshToken
		if json.Unmarshal([]byte(record), &t) == nil && t.AccessTokenID != "" {
			ids = append(ids, t.AccessTokenID)
		}
	}
	indexed, err := s.takeIndex(ctx, s.kGrantATs(family))
	if err != nil {
		return err
	}
	return s.deleteAccessTokens(ctx, append(ids, indexed...))
}

// storeErr passes the storage sentinel errors through and wraps the others.
func storeErr(op string, err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrRefreshTokenReused) {
		return err
	}
	return wrap(op, err)
}
