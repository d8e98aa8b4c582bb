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

// The rotation of a refresh token: the presented generation of its family
// is retired and the next one issued, with its access token, atomically;
// presenting a retired generation is reuse and revokes the family (see
// refresh_family.go for the family's layout).

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
