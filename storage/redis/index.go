package redis

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Index upkeep. The per-login and per-session indexes (see the package
// comment) are sorted sets scored by each member's expiry. Adding a member
// costs a ZADD and, when the member outlives the index, a PEXPIREAT; the
// members that have expired are dropped on a fraction of the writes
// (pruneEvery), not on every one: an index also dies whole when its
// longest-lived member expires, and readers (the sweeps of
// EndAllForSubject and EndSessionByID) only ever delete what an expired
// member names, which is gone already. So an index holds its live members
// plus, on average, what was added since the last prune.

// pruneEvery is how many index writes, on average, share one prune.
const pruneEvery = 8

// indexAddBody defines indexAdd(key, member, expiry, prune, now): member
// goes into the sorted set key with score expiry (Unix ms; a higher score
// already there wins), the key lives at least until then, and with prune
// = '1' the members that expired before now (Unix ms) are dropped first.
const indexAddBody = `
local function indexAdd(key, member, expiry, prune, now)
  if prune == '1' then redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. now) end
  redis.call('ZADD', key, 'GT', expiry, member)
  if redis.call('PEXPIRETIME', key) < tonumber(expiry) then
    redis.call('PEXPIREAT', key, expiry)
  end
end
`

// indexAdd adds ARGV[1] to the index KEYS[1] (see indexAddBody; ARGV[2..4]
// are expiry, prune and now).
var indexAdd = goredis.NewScript(indexAddBody + `
indexAdd(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 1
`)

// indexAddCheckRevoked adds an access token to the index KEYS[1] of its
// grant, then returns whether the grant's family KEYS[2] (same hash tag) is
// revoked. Atomic: either the revocation's tombstone is seen, or the
// revocation, which takes the index after writing the tombstone, finds the
// token.
var indexAddCheckRevoked = goredis.NewScript(indexAddBody + `
indexAdd(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return redis.call('HEXISTS', KEYS[2], 'revoked')
`)

// recordPartyBody defines recordParty(parties, sessionEnd, client,
// subject, expiry): the back-channel logout record of a session
// (backchannel.go) notes that client got tokens for subject, and lives at
// least until sessionEnd (the session pointer's expiry, Unix ms) and until
// expiry (Unix ms), the end of those tokens.
const recordPartyBody = `
local function recordParty(parties, sessionEnd, client, subject, expiry)
  redis.call('HSET', parties, client, subject)
  local untilMs = tonumber(expiry)
  if sessionEnd > untilMs then untilMs = sessionEnd end
  if redis.call('PEXPIRETIME', parties) < untilMs then redis.call('PEXPIREAT', parties, untilMs) end
end
`

// sessionIssued indexes what was issued under a session, in the keys of
// its hash tag: ARGV[1] (an access token id or a refresh family) goes into
// the index KEYS[1] (sid:ats or sid:rtf) as indexAdd does with ARGV[2..4],
// and the client ARGV[5] is recorded for subject ARGV[6] in the parties
// KEYS[2], for as long as the session KEYS[3] and the tokens live. With
// ARGV[7] = '1' the session must still be there: if it has ended (logout,
// or EndAllForSubject after a password change or a deletion), nothing is
// written and 0 returned; the session's end, which takes the index after
// deleting the session pointer, finds whatever was written before.
var sessionIssued = goredis.NewScript(indexAddBody + recordPartyBody + `
local sessionEnd = redis.call('PEXPIRETIME', KEYS[3])
if sessionEnd == -2 and ARGV[7] == '1' then return 0 end
indexAdd(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
recordParty(KEYS[2], sessionEnd, ARGV[5], ARGV[6], ARGV[2])
return 1
`)

// scriptRunner queues a script call in a pipeline.
type scriptRunner func(sc *goredis.Script, keys []string, args ...any) *goredis.Cmd

// pipelined sends the commands that fn queues in one pipeline: one round trip
// on a single Redis; a Cluster client splits it per node, so the commands may
// touch different slots (each script still touches one slot). Scripts queued
// through run go as EVALSHA. If a server does not know a script yet, fn is
// called again and that script call, with every script call queued after
// it, is sent again with EVAL, with the plain commands; the script calls
// before it keep their results and are not sent again. So fn must assign its
// result variables anew on every call, queue only idempotent plain commands,
// and any script it queues after another must be idempotent.
func (s *Store) pipelined(ctx context.Context, fn func(p goredis.Pipeliner, run scriptRunner)) error {
	var sent []*goredis.Cmd // the script calls of the first attempt, in order
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		fn(p, func(sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
			c := sc.EvalSha(ctx, p, keys, args...)
			sent = append(sent, c)
			return c
		})
		return nil
	})
	first := -1
	for i, c := range sent {
		if goredis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			first = i
			break
		}
	}
	if err == nil || first < 0 {
		return err
	}
	i := 0
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		fn(p, func(sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
			defer func() { i++ }()
			if i < first && i < len(sent) {
				return sent[i]
			}
			return sc.Eval(ctx, p, keys, args...)
		})
		return nil
	})
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

// indexArgs are the arguments of indexAdd: member, expiry (Unix ms),
// whether to prune this time, and now (Unix ms).
func (s *Store) indexArgs(member string, expires time.Time) []any {
	return []any{member, strconv.FormatInt(expires.UnixMilli(), 10), s.pruneFlag(),
		strconv.FormatInt(s.now().UnixMilli(), 10)}
}

// pruneFlag is '1' on about one index write in pruneEvery (every write
// when the store's PruneEvery is 1).
func (s *Store) pruneFlag() string {
	every := s.PruneEvery
	if every <= 0 {
		every = pruneEvery
	}
	if every == 1 || rand.IntN(every) == 0 {
		return "1"
	}
	return "0"
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
