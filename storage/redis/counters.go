package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Counters guard secrets (passwords, activation codes) against guessing.
// An attempt is reserved before the expensive or secret check, in one atomic
// step that also enforces the limit, so that a hundred guesses sent at once
// cannot all pass a "read the count, check, then count" gap: at most max of
// them ever get through in one window.

// reserveScript takes one attempt under KEYS[1] if fewer than ARGV[1] are
// taken, starting a fixed window of ARGV[2] ms with the first one. It
// returns {1, 0} when the attempt is reserved, {0, ms until the window
// ends} when the limit is reached (nothing is counted then). Counting first
// and taking the count back when over costs one command on the common path
// (INCR; the window's PEXPIRE with the first attempt) instead of a read, a
// write and a TTL check; a key never lacks its TTL (the first attempt sets
// it in the same script, releaseScript deletes a counter back at zero), and
// one that somehow does gets it at its next refusal.
var reserveScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n <= tonumber(ARGV[1]) then return {1, 0} end
redis.call('DECR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return {0, left}
`)

// releaseScript gives one reserved attempt back, never below zero.
var releaseScript = goredis.NewScript(`
local n = redis.call('DECR', KEYS[1])
if n <= 0 then redis.call('DEL', KEYS[1]) end
return n
`)

// Reserve takes one attempt under key if fewer than max are taken in the
// current window (which starts with the first attempt and lasts window).
// It returns 0 when the attempt is reserved, or how long until the window
// ends when the limit is reached.
func (s *Store) Reserve(ctx context.Context, key string, max int, window time.Duration) (time.Duration, error) {
	if window < time.Millisecond {
		return 0, fmt.Errorf("redis: reserve: window %v too short", window)
	}
	if max < 1 {
		return window, nil
	}
	res, err := reserveScript.Run(ctx, s.rdb, []string{s.kCounter(key)},
		strconv.Itoa(max), strconv.FormatInt(window.Milliseconds(), 10)).Int64Slice()
	if err != nil {
		return 0, wrap("reserve", err)
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("redis: reserve: unexpected reply %v", res)
	}
	if res[0] == 1 {
		return 0, nil
	}
	wait := time.Duration(res[1]) * time.Millisecond
	if wait <= 0 {
		wait = time.Millisecond
	}
	return wait, nil
}

// Release gives back one attempt reserved under key: the check it guarded
// did not happen, or it succeeded and must not count against anyone.
func (s *Store) Release(ctx context.Context, key string) error {
	return wrap("release", releaseScript.Run(ctx, s.rdb, []string{s.kCounter(key)}).Err())
}

// Attempts returns how many attempts are taken under key and the time until
// its window ends (0, 0 when there is none).
func (s *Store) Attempts(ctx context.Context, key string) (int64, time.Duration, error) {
	k := s.kCounter(key)
	var get *goredis.StringCmd
	var pttl *goredis.DurationCmd
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		get = p.Get(ctx, k)
		pttl = p.PTTL(ctx, k)
		return nil
	})
	if err != nil && !isNil(err) {
		return 0, 0, wrap("attempts", err)
	}
	n, err := get.Int64()
	if isNil(err) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, wrap("attempts", err)
	}
	left := pttl.Val()
	if left < 0 { // -1: no expiry, -2: gone meanwhile
		left = 0
	}
	return n, left, nil
}

// ResetAttempts forgets every attempt under key.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	return wrap("reset attempts", s.rdb.Del(ctx, s.kCounter(key)).Err())
}

// Held tells until when the counter under key is full: at least max
// attempts taken in a window that ends then. The zero time when it is not.
func (s *Store) Held(ctx context.Context, key string, max int) (time.Time, error) {
	until, err := s.HeldAll(ctx, []string{key}, max)
	if err != nil {
		return time.Time{}, err
	}
	return until[0], nil
}

// HeldAll is Held for every key, in one pipeline (one round trip on a
// single Redis).
func (s *Store) HeldAll(ctx context.Context, keys []string, max int) ([]time.Time, error) {
	until := make([]time.Time, len(keys))
	if len(keys) == 0 {
		return until, nil
	}
	gets := make([]*goredis.StringCmd, len(keys))
	ttls := make([]*goredis.DurationCmd, len(keys))
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, key := range keys {
			k := s.kCounter(key)
			gets[i], ttls[i] = p.Get(ctx, k), p.PTTL(ctx, k)
		}
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, wrap("held", err)
	}
	now := s.now()
	for i := range keys {
		n, err := gets[i].Int64()
		if isNil(err) {
			continue
		}
		if err != nil {
			return nil, wrap("held", err)
		}
		left := ttls[i].Val()
		if max < 1 || n < int64(max) || left <= 0 {
			continue // not full, or gone meanwhile (a counter never lacks its TTL)
		}
		until[i] = now.Add(left)
	}
	return until, nil
}
