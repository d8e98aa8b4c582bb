package redis

import (
	"context"
	"fmt"
	"time"
)

// Once marks are the single-use gate of things a browser carries between
// two steps without the server keeping them meanwhile (a passkey ceremony
// sealed into its page): the first use sets the mark, and every later one
// finds it. The key holds only the hash of what is marked:
//
//	P once:<purpose>:{hash(key)}   string  "1", TTL the rest of the thing's life

func (s *Store) kOnce(purpose, h string) string { return s.prefix + "once:" + purpose + ":{" + h + "}" }

// Once marks key of the given purpose as used for ttl, in one SET NX, and
// reports whether this was its first use: of any number of calls at once
// with one key, exactly one gets true.
func (s *Store) Once(ctx context.Context, purpose, key string, ttl time.Duration) (bool, error) {
	if ttl < time.Millisecond {
		return false, fmt.Errorf("redis: once: ttl %v too short", ttl)
	}
	first, err := s.rdb.SetNX(ctx, s.kOnce(purpose, hashSecret(key)), "1", ttl).Result()
	if err != nil {
		return false, wrap("once", err)
	}
	return first, nil
}
