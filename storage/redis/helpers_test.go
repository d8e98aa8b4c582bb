package redis_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	rstore "github.com/entity-account/idp/storage/redis"
	"github.com/entity-account/idp/storage/storagetest"
)

func newStore(t *testing.T) *rstore.Store {
	t.Helper()
	t.Parallel()
	return storagetest.NewRedis(t)
}

// dump returns every key under the store's prefix with a printable form of its value.
func dump(t *testing.T, s *rstore.Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	rdb := s.Client()
	out := map[string]string{}
	iter := rdb.Scan(ctx, 0, s.Prefix()+"*", 500).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ, err := rdb.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, k).Result()
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "set":
			v, err = rdb.SMembers(ctx, k).Result()
		case "list":
			v, err = rdb.LRange(ctx, k, 0, -1).Result()
		case "none":
			continue // expired meanwhile
		default:
			t.Fatalf("unexpected type %s of %s", typ, k)
		}
		if err != nil {
			t.Fatal(err)
		}
		out[k] = fmt.Sprint(v)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pttl returns the remaining TTL of the key prefix+rest.
func pttl(t *testing.T, s *rstore.Store, rest string) time.Duration {
	t.Helper()
	d, err := s.Client().PTTL(context.Background(), s.Prefix()+rest).Result()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

// uniq returns a fresh identifier starting with what.
func uniq(what string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return what + "-" + hex.EncodeToString(b[:])
}

// hashHex is the key form of a secret (hex SHA-256).
func hashHex(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
