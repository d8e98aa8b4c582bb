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

// casAuthRequest replaces KEYS[1] by ARGV[2] keeping its TTL, only if it still
// holds ARGV[1] (auth requests, and sessions in ProveInSession). Returns 1 on success, 0 if the value changed, -1 if gone.
var casAuthRequest = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`)

// reserveCode reserves the only code of the auth request KEYS[1] by setting
// the marker KEYS[2] to the code hash ARGV[1]; the marker lives at least as
// long as the request and the code (ARGV[2] ms). Returns 1 on success, -1 if
// the request is gone, -2 if it is not completed, 0 if it already has a code.
var reserveCode = goredis.NewScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return -1 end
local ok, ar = pcall(cjson.decode, raw)
if not ok or ar['done'] ~= true then return -2 end
local ttl = tonumber(ARGV[2])
local pttl = redis.call('PTTL', KEYS[1])
if pttl > ttl then ttl = pttl end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ttl) then return 1 end
return 0
`)

// consumeCode redeems the code KEYS[1]: returns {request id, redemptions so
// far including this one}, or nil if the code is unknown. The key stays until
// its TTL so that replays are recognised.
var consumeCode = goredis.NewScript(`
local id = redis.call('HGET', KEYS[1], 'id')
if not id then return false end
local n = redis.call('HINCRBY', KEYS[1], 'used', 1)
return {id, n}
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
	return wrap("save auth request", s.rdb.Set(ctx, s.kAuthRequest(r.ID), raw, ttl).Err())
}

// AuthRequest returns the request with id, ErrNotFound when unknown or expired.
func (s *Store) AuthRequest(ctx context.Context, id string) (*storage.AuthRequest, error) {
	_, r, err := s.loadAuthRequest(ctx, id)
	return r, err
}

func (s *Store) loadAuthRequest(ctx context.Context, id string) (string, *storage.AuthRequest, error) {
	raw, err := s.rdb.Get(ctx, s.kAuthRequest(id)).Result()
	if isNil(err) {
		return "", nil, storage.ErrNotFound
	}
	if err != nil {
		return "", nil, wrap("load auth request", err)
	}
	var r storage.AuthRequest
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return "", nil, wrap("decode auth request", err)
	}
	return raw, &r, nil
}

// CompleteAuthRequest marks the request done with a, once: ErrConflict if it
// already is, ErrNotFound if it has gone. The request keeps its TTL.
func (s *Store) CompleteAuthRequest(ctx context.Context, id string, a storage.Authentication) error {
	for range 16 {
		old, r, err := s.loadAuthRequest(ctx, id)
		if err != nil {
			return err
		}
		if r.Done {
			return storage.ErrConflict
		}
		r.Done = true
		r.Authentication = a
		raw, err := json.Marshal(r)
		if err != nil {
			return wrap("complete auth request", err)
		}
		n, err := casAuthRequest.Run(ctx, s.rdb, []string{s.kAuthRequest(id)}, old, raw).Int()
		if err != nil {
			return wrap("complete auth request", err)
		}
		switch n {
		case 1:
			return nil
		case -1:
			return storage.ErrNotFound
		}
		// Changed under us: look again.
	}
	return fmt.Errorf("redis: complete auth request: %w: too much contention", storage.ErrConflict)
}

// SaveAuthCode binds code (stored as its hash) to the completed request
// authRequestID for ttl. One code per request: a second call returns
// ErrConflict, as does a request not yet completed; ErrNotFound if the request
// has gone.
func (s *Store) SaveAuthCode(ctx context.Context, authRequestID, code string, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return fmt.Errorf("redis: save auth code: ttl %v too short", ttl)
	}
	if code == "" {
		return errors.New("redis: save auth code: empty code")
	}
	h := hashSecret(code)
	n, err := reserveCode.Run(ctx, s.rdb,
		[]string{s.kAuthRequest(authRequestID), s.kCodeMarker(authRequestID)},
		h, strconv.FormatInt(ttl.Milliseconds(), 10)).Int()
	if err != nil {
		return wrap("save auth code", err)
	}
	switch n {
	case -1:
		return storage.ErrNotFound
	case -2:
		return fmt.Errorf("%w: auth request not completed", storage.ErrConflict)
	case 0:
		return fmt.Errorf("%w: auth request already has a code", storage.ErrConflict)
	}
	key := s.kCode(h)
	_, err = s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, key, "id", authRequestID, "used", 0)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	return wrap("save auth code", err)
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

// DeleteAuthRequest deletes the request and its code marker. A code already
// issued stays until its TTL, so that a replay is still recognised.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	// Both keys share the hash tag {id}: one DEL is cluster-safe.
	return wrap("delete auth request", s.rdb.Del(ctx, s.kAuthRequest(id), s.kCodeMarker(id)).Err())
}
