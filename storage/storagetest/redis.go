package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	rstore "github.com/entity-account/idp/storage/redis"
)

// DefaultRedisURL is the Redis the tests use when IDP_TEST_REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

func redisURL() string {
	if u := os.Getenv("IDP_TEST_REDIS_URL"); u != "" {
		return u
	}
	return DefaultRedisURL
}

// RedisURL returns the URL of the test Redis (IDP_TEST_REDIS_URL, default
// redis://127.0.0.1:6379/0) after checking that it answers. It fails the test
// if it does not.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := redisURL()
	_, rdb, err := rstore.Open(u, "")
	if err != nil {
		t.Fatalf("storagetest: bad Redis URL %q: %v", redactRedisURL(u), err)
	}
	defer rdb.Close()
	pingRedis(t, u, rdb)
	return u
}

// NewRedis returns a store on the test Redis under a fresh random key prefix
// ("t-<hex>:"), so that tests can run in parallel and repeatedly. When the test
// ends, every key under the prefix is deleted and the client closed.
func NewRedis(t testing.TB) *rstore.Store {
	t.Helper()
	u := redisURL()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("storagetest: random: %v", err)
	}
	prefix := "t-" + hex.EncodeToString(b[:]) + ":"
	store, rdb, err := rstore.Open(u, prefix)
	if err != nil {
		t.Fatalf("storagetest: bad Redis URL %q: %v", redactRedisURL(u), err)
	}
	pingRedis(t, u, rdb)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, rdb, prefix); err != nil {
			t.Errorf("storagetest: deleting Redis keys %s*: %v", prefix, err)
		}
		if err := rdb.Close(); err != nil {
			t.Errorf("storagetest: closing Redis client: %v", err)
		}
	})
	return store
}

// redactRedisURL hides the password of a URL for messages.
func redactRedisURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

func pingRedis(t testing.TB, u string, rdb goredis.UniversalClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		t.Fatalf("storagetest: Redis at %s does not answer: %v\n"+
			"Start the test services with `make services` (or set IDP_TEST_REDIS_URL).", redactRedisURL(u), err)
	}
}

// deletePrefix deletes every key starting with prefix, on every master of a
// Cluster. Keys are deleted one by one: they may lie in different slots.
func deletePrefix(ctx context.Context, rdb goredis.UniversalClient, prefix string) error {
	scan := func(ctx context.Context, c *goredis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return err
		}
		_, err := rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		})
		return err
	}
	switch c := rdb.(type) {
	case *goredis.ClusterClient:
		return c.ForEachMaster(ctx, scan)
	case *goredis.Client:
		return scan(ctx, c)
	default:
		// Sentinel failover clients are *goredis.Client too; anything else:
		iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			if err := rdb.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
}
