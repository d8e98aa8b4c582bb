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

// Refresh-token families.
//
// A family is the hash rtf:{family} with the JSON record of its current token
// (field rt) and the current generation (gen). Each token ever issued in it
// has rt:{hash(token)} = "<generation>:<family>", kept until the family
// expires: presenting a token whose generation is not current is reuse, and
// revokes the family. A revoked family stays as a tombstone (revoked=1, no rt)
// until it expires, so that every later presentation is refused and reuse is
// still told apart.

// createFamily creates family KEYS[1] with record ARGV[1] at generation 1,
// living until ARGV[2] (Unix ms), and puts the access token ARGV[3] (none if
// ”) issued with it, expiring at ARGV[4], into the index KEYS[2] of the
// family's grant (same hash tag), which lives at least as long as the
// family. Returns 1, or 0 if the family exists (or is a revoked tombstone),
// unless it is this very family created by an earlier run of the same call
// (so that the call can be sent again).
var createFamily = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  local f = redis.call('HMGET', KEYS[1], 'rt', 'gen')
  if f[1] == ARGV[1] and f[2] == '1' then return 1 end
  return 0
end
redis.call('HSET', KEYS[1], 'rt', ARGV[1], 'gen', '1')
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[2], 'GT', ARGV[4], ARGV[3])
  local untilMs = math.max(tonumber(ARGV[2]), tonumber(ARGV[4]))
  if redis.call('PEXPIRETIME', KEYS[2]) < untilMs then redis.call('PEXPIREAT', KEYS[2], untilMs) end
end
return 1
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

// newFamily is a refresh family about to be created: its first record
// (raw), the token handed out for it and the key of that token's entry.
type newFamily struct {
	*storage.RefreshToken
	raw        []byte
	ttl        time.Duration
	token      string
	refreshKey string
}

// createFamily starts the family of t, with the access token at issued with
// it (stored, and indexed under the family only: the family is indexed
// under its session and subject, whose ends revoke it and with it the
// tokens indexed under it).
//
// The family's index entries are written before the family: a session end
// or EndAllForSubject that takes the index between the two leaves a
// tombstone for the family it does not find (revokeFamily), and the
// creation then fails. The access token's record goes first, as ever.
func (s *Store) createFamily(ctx context.Context, t *storage.RefreshToken, at *storage.AccessToken) (string, error) {
	f, err := s.prepareFamily(t)
	if err != nil {
		return "", err
	}
	a, err := s.issueAccessToken("create tokens", at)
	if err != nil {
		return "", err
	}
	created, session, err := s.writeFamily(ctx, f, a)
	if err != nil {
		return "", wrap("create refresh token", err)
	}
	n, err := created.Int()
	if err != nil {
		return "", wrap("create refresh token", err)
	}
	if n == 0 {
		if err := s.delKeys(ctx, f.refreshKey, a.key); err != nil {
			return "", wrap("create refresh token", err)
		}
		return "", fmt.Errorf("%w: refresh family %s exists or was revoked", storage.ErrConflict, t.FamilyID)
	}
	if session != nil && session.Val() == int64(0) {
		// The session ended before the family could be filed under it:
		// the family was created all the same, so it is revoked now.
		if err := s.revokeFamily(ctx, t.FamilyID, true); err != nil {
			return "", wrap("create refresh token", err)
		}
		if err := s.delKeys(ctx, f.refreshKey); err != nil {
			return "", wrap("create refresh token", err)
		}
		return "", errSessionEnded
	}
	return f.token, nil
}

// prepareFamily checks t (its FamilyID set; ExpiresAt, required, the
// absolute end of the family; IssuedAt now when zero), encodes it and
// draws the token that will name it.
func (s *Store) prepareFamily(t *storage.RefreshToken) (newFamily, error) {
	if t.FamilyID == "" {
		return newFamily{}, errors.New("redis: create refresh token: the family id is required")
	}
	if t.ExpiresAt.IsZero() {
		return newFamily{}, errors.New("redis: create refresh token: ExpiresAt is required")
	}
	ttl, ok := s.ttlUntil(t.ExpiresAt)
	if !ok {
		return newFamily{}, errors.New("redis: create refresh token: ExpiresAt is in the past")
	}
	if t.IssuedAt.IsZero() {
		t.IssuedAt = s.now()
	}
	raw, err := json.Marshal(t)
	if err != nil {
		return newFamily{}, wrap("create refresh token", err)
	}
	token, err := newSecret()
	if err != nil {
		return newFamily{}, err
	}
	return newFamily{RefreshToken: t, raw: raw, ttl: ttl, token: token, refreshKey: s.kRefresh(hashSecret(token))}, nil
}

// writeFamily writes, in order, the access token's record, the token's
// entry and the family's index entries under its subject and session,
// then the family itself (createFamily's script). It returns the script's
// reply and, when the family names a session, sessionIssued's (0: the
// session has ended).
func (s *Store) writeFamily(ctx context.Context, f newFamily, a issuedAccessToken) (created, session *goredis.Cmd, err error) {
	famArgs := s.indexArgs(f.FamilyID, f.ExpiresAt)
	err = s.sequenced(ctx, func(p goredis.Pipeliner, run scriptRunner) {
		session = nil
		p.Set(ctx, a.key, a.raw, a.ttl)
		p.Set(ctx, f.refreshKey, "1:"+f.FamilyID, f.ttl)
		if f.Subject != "" {
			run(indexAdd, []string{s.kSubFamilies(f.Subject)}, famArgs...)
		}
		if f.SessionID != "" {
			session = run(sessionIssued, s.sessionIssuedKeys(f.SessionID, s.kSIDFamilies(f.SessionID)), append(famArgs, f.ClientID, f.Subject, flag(true))...)
		}
	}, func(p goredis.Pipeliner, run scriptRunner) {
		created = run(createFamily, []string{s.kFamily(f.FamilyID), s.kGrantATs(f.FamilyID)},
			f.raw, unixMs(f.ExpiresAt), a.ID, unixMs(a.ExpiresAt))
	})
	return created, session, err
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

// RefreshToken returns the live record behind a token, with the token's
// Generation: ErrNotFound if unknown, expired or revoked;
// ErrRefreshTokenReused if it was already rotated, and the family is then
// revoked. Two reads, no script: the record is only looked at here; the
// rotation that may follow checks the generation again, atomically.
func (s *Store) RefreshToken(ctx context.Context, token string) (*storage.RefreshToken, error) {
	gen, family, err := s.tokenFamily(ctx, token)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, wrap("load refresh token", err)
	}
	f, err := s.rdb.HMGet(ctx, s.kFamily(family), "gen", "revoked", "rt").Result()
	if err != nil {
		return nil, wrap("load refresh token", err)
	}
	cur, _ := f[0].(string)
	revoked := f[1] != nil
	raw, _ := f[2].(string)
	switch {
	case cur == "":
		return nil, storage.ErrNotFound
	case cur != gen:
		// A rotated-out token: reuse. Revoke the family (unless done already).
		if !revoked {
			if err := s.revokeFamily(ctx, family, false); err != nil {
				return nil, wrap("load refresh token", err)
			}
		}
		return nil, storage.ErrRefreshTokenReused
	case revoked || raw == "":
		return nil, storage.ErrNotFound
	}
	var t storage.RefreshToken
	if err := json.Unmarshal([]byte(raw), &t); err != nil {
		return nil, wrap("decode refresh token", err)
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, storage.ErrNotFound
	}
	if t.Generation, err = strconv.ParseInt(gen, 10, 64); err != nil {
		return nil, wrap("load refresh token", err)
	}
	t.FamilyID = family
	return &t, nil
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
