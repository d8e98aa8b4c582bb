package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Hit counts one event under key in a fixed window that starts with the
// first hit, and returns the count so far.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	if window < time.Millisecond {
		return 0, fmt.Errorf("redis: hit: window %v too short", window)
	}
	k := s.kCounter(key)
	var incr *goredis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		incr = p.Incr(ctx, k)
		p.Do(ctx, "PEXPIRE", k, window.Milliseconds(), "NX")
		return nil
	})
	if err != nil {
		return 0, wrap("hit", err)
	}
	return incr.Val(), nil
}

// Hits returns the current count under key and the time until it resets
// (0, 0 when there is none).
func (s *Store) Hits(ctx context.Context, key string) (int64, time.Duration, error) {
	k := s.kCounter(key)
	var get *goredis.StringCmd
	var pttl *goredis.DurationCmd
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		get = p.Get(ctx, k)
		pttl = p.PTTL(ctx, k)
		return nil
	})
	if err != nil && !isNil(err) {
		return 0, 0, wrap("hits", err)
	}
	n, err := get.Int64()
	if isNil(err) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, wrap("hits", err)
	}
	left := pttl.Val()
	if left < 0 { // -1: no expiry, -2: gone meanwhile
		left = 0
	}
	return n, left, nil
}

// ResetHits forgets the count under key.
func (s *Store) ResetHits(ctx context.Context, key string) error {
	return wrap("reset hits", s.rdb.Del(ctx, s.kCounter(key)).Err())
}
