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
// Refresh tokens
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

// rotateFamily retires the current token of family KEYS[1], generation
// ARGV[1], and makes ARGV[2] the record of the next generation; the access
// token ARGV[3] issued with it (none if ”) goes into the index KEYS[2] of
// the family's grant as indexAdd does with ARGV[3..6], atomically with the
// check, so a revocation either is seen here or finds the token. It returns
// {'ok', new generation}, {'notfound'} (unknown, expired or revoked), or,
// when ARGV[1] is not the current generation (the token was rotated
// already), revokes the family and returns {'reused'} (already revoked) or
// {'reused', record} (revoked just now).
var rotateFamily = goredis.NewScript(indexAddBody + `
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
local n = tonumber(cur) + 1
redis.call('HSET', KEYS[1], 'rt', ARGV[2], 'gen', tostring(n))
if ARGV[3] ~= '' then indexAdd(KEYS[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]) end
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

// RotateTokens stores the tokens of a refresh: prev, the record of the token
// presented as RefreshToken returned it, is rotated to next (whose family
// and absolute expiry it keeps, and sets in next), and the access token at
// (required) issued with it is stored and indexed under the family, in one
// round trip on a single Redis. A concurrent or repeated rotation of the
// same token gets ErrRefreshTokenReused and revokes the family, so even
// the new token of the rotation that won stops working; ErrNotFound if the
// family has expired or been revoked. Nothing of a refused call stays usable.
func (s *Store) RotateTokens(ctx context.Context, prev, next *storage.RefreshToken, at *storage.AccessToken) (string, error) {
	return s.rotate(ctx, prev, next, at)
}

// rotation is a rotation about to be written: the family's next record
// (raw) at the generation after gen, and the token that will name it.
type rotation struct {
	next       storage.RefreshToken
	raw        []byte
	family     string
	gen        string // the generation rotated out
	token      string
	refreshKey string
	entry      string // the token's entry: "<generation>:<family>"
	ttl        time.Duration
}

func (s *Store) rotate(ctx context.Context, prev, t *storage.RefreshToken, at *storage.AccessToken) (string, error) {
	r, err := s.prepareRotation(prev, t)
	if err != nil {
		return "", err
	}
	a, err := s.issueAccessToken("rotate tokens", at)
	if err != nil {
		return "", err
	}
	reply, err := s.writeRotation(ctx, r, a)
	if err != nil {
		return "", wrap("rotate refresh token", err)
	}
	if len(reply) > 0 && reply[0] == "ok" {
		*t = r.next
		return r.token, nil
	}
	return "", s.refusedRotation(ctx, r, a, reply)
}

// prepareRotation builds the record that follows prev, carrying t's fields
// with prev's family and absolute expiry, and draws its token.
// ErrNotFound if the family has expired.
func (s *Store) prepareRotation(prev, t *storage.RefreshToken) (rotation, error) {
	if prev.FamilyID == "" || prev.Generation < 1 {
		return rotation{}, errors.New("redis: rotate refresh token: the record was not looked up by RefreshToken")
	}
	ttl, ok := s.ttlUntil(prev.ExpiresAt)
	if !ok {
		return rotation{}, storage.ErrNotFound
	}
	next := *t
	next.FamilyID = prev.FamilyID
	next.ExpiresAt = prev.ExpiresAt
	next.Generation = 0
	if next.IssuedAt.IsZero() {
		next.IssuedAt = s.now()
	}
	raw, err := json.Marshal(&next)
	if err != nil {
		return rotation{}, wrap("rotate refresh token", err)
	}
	token, err := newSecret()
	if err != nil {
		return rotation{}, err
	}
	return rotation{
		next: next, raw: raw, family: prev.FamilyID, gen: strconv.FormatInt(prev.Generation, 10),
		token: token, refreshKey: s.kRefresh(hashSecret(token)),
		entry: strconv.FormatInt(prev.Generation+1, 10) + ":" + prev.FamilyID, ttl: ttl,
	}, nil
}

// writeRotation writes the access token's record first, then (the new
// token's entry, which nothing names before it is handed out, and) the
// rotation, which indexes the access token under the family; it returns
// rotateFamily's reply.
func (s *Store) writeRotation(ctx context.Context, r rotation, a issuedAccessToken) ([]any, error) {
	var res *goredis.Cmd
	atArgs := s.indexArgs(a.ID, a.ExpiresAt)
	err := s.sequenced(ctx, func(p goredis.Pipeliner, _ scriptRunner) {
		p.Set(ctx, a.key, a.raw, a.ttl)
	}, func(p goredis.Pipeliner, run scriptRunner) {
		p.Set(ctx, r.refreshKey, r.entry, r.ttl)
		res = run(rotateFamily, []string{s.kFamily(r.family), s.kGrantATs(r.family)}, append([]any{r.gen, r.raw}, atArgs...)...)
	})
	if err != nil {
		return nil, err
	}
	return res.Slice()
}

// refusedRotation undoes what a refused rotation wrote and tells why:
// ErrRefreshTokenReused (the family is revoked, with its access tokens)
// or ErrNotFound.
func (s *Store) refusedRotation(ctx context.Context, r rotation, a issuedAccessToken, reply []any) error {
	if err := s.delKeys(ctx, r.refreshKey, a.key); err != nil {
		return wrap("rotate refresh token", err)
	}
	if len(reply) > 0 && reply[0] == "reused" {
		var record string
		if len(reply) > 1 {
			record, _ = reply[1].(string)
		}
		if err := s.revokeFamilyTokens(ctx, r.family, record); err != nil {
			return wrap("rotate refresh token", err)
		}
		return storage.ErrRefreshTokenReused
	}
	if len(reply) > 0 && reply[0] == "notfound" {
		return storage.ErrNotFound
	}
	return fmt.Errorf("redis: rotate refresh token: unexpected reply %v", reply)
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
