package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// indexAddBody puts member ARGV[1] into the sorted-set index at KEYS[1] with
// score ARGV[2] (its expiry, Unix ms; the higher score wins), prunes members
// that expired before ARGV[3] (now, Unix ms) and makes the key live as long as
// its longest-lived member.
const indexAddBody = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] then
  local ttl = tonumber(top[2]) - tonumber(ARGV[3])
  if ttl < 1 then ttl = 1 end
  redis.call('PEXPIRE', KEYS[1], ttl)
end
`

// indexAdd runs indexAddBody and returns 1.
var indexAdd = goredis.NewScript(indexAddBody + `
return 1
`)

// indexAddCheckRevoked runs indexAddBody on the grant index KEYS[1], then
// returns whether the family (grant) KEYS[2], which shares its hash tag, is
// revoked. Atomic: either the revocation's tombstone is seen, or the
// revocation, which takes the index after writing the tombstone, finds member.
var indexAddCheckRevoked = goredis.NewScript(indexAddBody + `
return redis.call('HEXISTS', KEYS[2], 'revoked')
`)

// scriptRunner queues a script call in a pipeline.
type scriptRunner func(sc *goredis.Script, keys []string, args ...any) *goredis.Cmd

// pipelined sends the commands that fn queues in one pipeline: one round trip
// on a single Redis; a Cluster client splits it per node, so the commands may
// touch different slots (each script still touches one slot). Scripts queued
// through run go as EVALSHA; if a node does not know one yet, the whole
// pipeline is sent again with EVAL, so fn must only queue idempotent commands
// and must assign its result variables anew on every call.
func (s *Store) pipelined(ctx context.Context, fn func(p goredis.Pipeliner, run scriptRunner)) error {
	exec := func(eval bool) ([]goredis.Cmder, error) {
		return s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			fn(p, func(sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
				if eval {
					return sc.Eval(ctx, p, keys, args...)
				}
				return sc.EvalSha(ctx, p, keys, args...)
			})
			return nil
		})
	}
	cmds, err := exec(false)
	if err != nil && hasNoScript(cmds) {
		_, err = exec(true)
	}
	return err
}

// sequenced makes the writes that first queues happen before those of then
// (both as for pipelined). When every command goes to one server over one
// connection (a plain or Sentinel client), Redis runs a pipeline in order, so
// both go in one pipeline: one round trip. A Cluster (or other sharding)
// client runs the parts of a pipeline on several nodes concurrently, so first
// gets a round trip of its own.
func (s *Store) sequenced(ctx context.Context, first, then func(p goredis.Pipeliner, run scriptRunner)) error {
	if _, single := s.rdb.(*goredis.Client); single {
		return s.pipelined(ctx, func(p goredis.Pipeliner, run scriptRunner) {
			first(p, run)
			then(p, run)
		})
	}
	if err := s.pipelined(ctx, first); err != nil {
		return err
	}
	return s.pipelined(ctx, then)
}

func hasNoScript(cmds []goredis.Cmder) bool {
	for _, c := range cmds {
		if goredis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			return true
		}
	}
	return false
}

// indexArgs are the arguments of indexAdd after the member: expiry and now, Unix ms.
func (s *Store) indexArgs(member string, expires time.Time) []any {
	return []any{member, strconv.FormatInt(expires.UnixMilli(), 10),
		strconv.FormatInt(s.now().UnixMilli(), 10)}
}

// takeIndex atomically reads and deletes an index, so that members added
// afterwards land in a fresh index rather than being lost.
func (s *Store) takeIndex(ctx context.Context, key string) ([]string, error) {
	var members *goredis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		members = p.ZRange(ctx, key, 0, -1)
		p.Del(ctx, key)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return members.Val(), nil
}

// delKeys deletes keys one command each (they may live in different Cluster slots).
func (s *Store) delKeys(ctx context.Context, keys ...string) error {
	switch len(keys) {
	case 0:
		return nil
	case 1:
		return s.rdb.Del(ctx, keys[0]).Err()
	}
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
	return err
}

// deleteAccessTokens deletes the records of the given access token ids.
func (s *Store) deleteAccessTokens(ctx context.Context, ids []string) error {
	keys := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" {
			keys = append(keys, s.kAccessToken(id))
		}
	}
	return s.delKeys(ctx, keys...)
}
