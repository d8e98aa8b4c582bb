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

// An authorization request is two keys of one hash tag: the request as
// /authorize made it (ar:{id}), never changed, and, once a sign-in has
// answered it, who signed in (ar:{id}:auth), written once with SET NX. So a
// read is one MGET, and completing it writes only what is new. (A request
// stored by an earlier version may carry its completion inside, as
// "done" and the authentication's fields: it reads the same.)

func (s *Store) kAuthOf(id string) string { return s.prefix + "ar:{" + id + "}:auth" }

// casKeepTTL replaces KEYS[1] by ARGV[2] keeping its TTL, only if it still
// holds ARGV[1] (sessions in ProveInSession). Returns 1 on success, 0 if
// the value changed, -1 if gone.
var casKeepTTL = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`)

// completeRequest writes the authentication ARGV[1] of the request KEYS[1]
// to KEYS[2], once, to live as long as the request. Returns 1, 0 if the
// request is complete already, -1 if it is gone.
var completeRequest = goredis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return -1 end
local ok
if ttl > 0 then
  ok = redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ttl)
else
  ok = redis.call('SET', KEYS[2], ARGV[1], 'NX')
end
if ok then return 1 end
return 0
`)

// reserveCode reserves the only code of the auth request KEYS[1] by setting
// its marker KEYS[2] to the code hash ARGV[1]; the marker lives at least as
// long as the request and the code (ARGV[2] ms). The request must be
// complete (KEYS[3] exists, or, stored by an earlier version, "done" inside).
// Returns 1 on success, -1 if the request is gone, -2 if it is not
// completed, 0 if it already has a code.
var reserveCode = goredis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 0 then
  local raw = redis.call('GET', KEYS[1])
  if not raw then return -1 end
  local ok, ar = pcall(cjson.decode, raw)
  if not ok or ar['done'] ~= true then return -2 end
end
local ttl = tonumber(ARGV[2])
local pttl = redis.call('PTTL', KEYS[1])
if pttl == -2 then return -1 end
if pttl > ttl then ttl = pttl end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ttl) then return 1 end
return 0
`)

// consumeCode redeems the code KEYS[1], stored as "<redemptions>:<request
// id>": it counts this redemption and returns {request id, redemptions so
// far including this one}, or nil if the code is unknown. The key stays
// until its TTL so that replays are recognised. (A code stored by an
// earlier version is a hash with fields id and used.)
var consumeCode = goredis.NewScript(`
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' and v.err then
  local id = redis.call('HGET', KEYS[1], 'id')
  if not id then return false end
  return {id, redis.call('HINCRBY', KEYS[1], 'used', 1)}
end
if not v then return false end
local sep = string.find(v, ':', 1, true)
if not sep then return false end
local n = tonumber(string.sub(v, 1, sep - 1)) + 1
redis.call('SET', KEYS[1], n .. string.sub(v, sep), 'KEEPTTL')
return {string.sub(v, sep + 1), n}
`)

// SaveAuthRequest stores r for ttl, replacing any request with the same id.
// An empty r.ID is filled with a new random id.
func (s *Store) SaveAuthRequest(ctx context.Context, r *storage.AuthRequest, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("redis: save auth request: ttl %v too short", ttl)
	}
	if r.ID == "" {
		id, err := newID()
		if err != nil {
			return err
		}
		r.ID = id
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return wrap("save auth request", err)
	}
	if err := s.rdb.Set(ctx, s.kAuthRequest(r.ID), raw, ttl).Err(); err != nil {
		return wrap("save auth request", err)
	}
	memoOf(ctx).put(r.ID, memoEntry{request: string(raw)})
	return nil
}

// AuthRequest returns the request with id, ErrNotFound when unknown or expired.
// One MGET: the request and its completion (none when this request wrote
// or read it already, see WithAuthRequestMemo).
func (s *Store) AuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	memo := memoOf(ctx)
	if e, ok := memo.get(id); ok {
		return decodeAuthRequest(e)
	}
	vals, err := s.rdb.MGet(ctx, s.kAuthRequest(id), s.kAuthOf(id)).Result()
	if err != nil {
		return nil, wrap("load auth request", err)
	}
	var e memoEntry
	e.request, _ = vals[0].(string)
	e.auth, _ = vals[1].(string)
	if e.request == "" {
		return nil, storage.ErrNotFound
	}
	r, err := decodeAuthRequest(e)
	if err == nil {
		memo.put(id, e)
	}
	return r, err
}

func decodeAuthRequest(e memoEntry) (*storage.AuthRequest, error) {
	var r storage.AuthRequest
	if err := json.Unmarshal([]byte(e.request), &r); err != nil {
		return nil, wrap("decode auth request", err)
	}
	if e.auth != "" {
		r.Authentication = storage.Authentication{}
		if err := json.Unmarshal([]byte(e.auth), &r.Authentication); err != nil {
			return nil, wrap("decode auth request", err)
		}
		r.Done = true
	}
	return &r, nil
}

// CompleteAuthRequest marks the request done with a, once: ErrConflict if it
// already is, ErrNotFound if it has gone. The request keeps its TTL.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, a storage.Authentication) error {
	raw, err := json.Marshal(a)
	if err != nil {
		return wrap("complete auth request", err)
	}
	memo := memoOf(ctx)
	// The request leaves the budget of open requests (admission.go) in the
	// same round trip: signed in, it only waits for its code exchange, and
	// is never dropped to make room. (Settling a request that turns out
	// complete already, or gone, changes nothing.)
	var completed *goredis.Cmd
	err = s.pipelined(ctx, func(p goredis.Pipeliner, run scriptRunner) {
		completed = run(completeRequest, []string{s.kAuthRequest(id), s.kAuthOf(id)}, raw)
		run(settleScript, []string{s.kBudget(), s.kBudgetOwner()}, id)
	})
	var n int
	if err == nil {
		n, err = completed.Int()
	}
	if err == nil && n == 1 {
		memo.completed(id, string(raw))
	} else {
		memo.forget(id) // not ours (or unknown): Redis says next
	}
	if err != nil {
		return wrap("complete auth request", err)
	}
	switch n {
	case -1:
		return storage.ErrNotFound
	case 0:
		return storage.ErrConflict
	}
	return nil
}

// SaveAuthCode binds code (stored as its hash) to the completed request
// authRequestID for ttl. One code per request: a second call returns
// ErrConflict, as does a request not yet completed; ErrNotFound if the request
// has gone. One pipeline: the code's record (never over an existing one),
// then the reservation of the request's only code; the record of a refused
// code is deleted again (nobody ever got that code).
func (s *Store) SaveAuthCode(ctx context.Context, authRequestID, code string, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("redis: save auth code: ttl %v too short", ttl)
	}
	if code == "" {
		return errors.New("redis: save auth code: empty code")
	}
	h := hashSecret(code)
	codeKey := s.kCode(h)
	var stored *goredis.BoolCmd
	var reserved *goredis.Cmd
	err := s.pipelined(ctx, func(p goredis.Pipeliner, run scriptRunner) {
		stored = p.SetNX(ctx, codeKey, "0:"+authRequestID, ttl)
		reserved = run(reserveCode,
			[]string{s.kAuthRequest(authRequestID), s.kCodeMarker(authRequestID), s.kAuthOf(authRequestID)},
			h, strconv.FormatInt(ttl.Milliseconds(), 10))
	})
	if err != nil {
		return wrap("save auth code", err)
	}
	n, err := reserved.Int()
	if err != nil {
		return wrap("save auth code", err)
	}
	if n == 1 {
		return nil
	}
	if stored.Val() {
		if err := s.rdb.Del(ctx, codeKey).Err(); err != nil {
			return wrap("save auth code", err)
		}
	}
	switch n {
	case -1:
		return storage.ErrNotFound
	case -2:
		return fmt.Errorf("%w: auth request not completed", storage.ErrConflict)
	}
	return fmt.Errorf("%w: auth request already has a code", storage.ErrConflict)
}

// ConsumeAuthCode redeems a code atomically. The first call returns the
// request id; later calls return it with ErrCodeReused; an unknown or expired
// code gives ErrNotFound.
func (s *Store) ConsumeAuthCode(ctx context.Context, code string) (string, error) {
	res, err := consumeCode.Run(ctx, s.rdb, []string{s.kCode(hashSecret(code))}).Slice()
	if isNil(err) {
		return "", storage.ErrNotFound
	}
	if err != nil {
		return "", wrap("consume auth code", err)
	}
	if len(res) != 2 {
		return "", fmt.Errorf("redis: consume auth code: unexpected reply %v", res)
	}
	id, _ := res[0].(string)
	n, _ := res[1].(int64)
	if n == 1 {
		return id, nil
	}
	return id, storage.ErrCodeReused
}

// DeleteAuthRequest deletes the request, its completion and its code marker.
// A code already issued stays until its TTL, so that a replay is still
// recognised.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	memoOf(ctx).forget(id)
	// The keys share the hash tag {id}: one DEL is cluster-safe.
	return wrap("delete auth request", s.rdb.Del(ctx, s.kAuthRequest(id), s.kCodeMarker(id), s.kAuthOf(id)).Err())
}
