package redis

import (
	"context"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// indexAdd puts member into the sorted-set index at KEYS[1] with score
// ARGV[2] (its expiry, Unix ms; the higher score wins), prunes members that
// expired before ARGV[3] (now, Unix ms) and makes the key live as long as its
// longest-lived member.
var indexAdd = goredis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', ARGV[2], ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] then
  local ttl = tonumber(top[2]) - tonumber(ARGV[3])
  if ttl < 1 then ttl = 1 end
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`)

// index records member in the index key until expires.
func (s *Store) index(ctx context.Context, c goredis.Scripter, key, member string, expires time.Time) error {
	return indexAdd.Run(ctx, c, []string{key}, member,
		strconv.FormatInt(expires.UnixMilli(), 10),
		strconv.FormatInt(s.now().UnixMilli(), 10)).Err()
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
