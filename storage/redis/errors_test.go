package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
	rstore "github.com/entity-account/idp/storage/redis"
)

// TestErrorClasses: an unreachable Redis is storage.ErrUnavailable; a
// missing record is ErrNotFound, not an outage.
func TestErrorClasses(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.AuthRequest(ctx, "nothing-here"); !errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("unknown auth request: %v", err)
	}
	down, rdb, err := rstore.Open("redis://127.0.0.1:1/0?dial_timeout=1s", "t:")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := down.AuthRequest(ctx, "x"); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("unreachable Redis: %v, want ErrUnavailable", err)
	}
	if _, err := down.Reserve(ctx, "k", 5, time.Minute); !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("unreachable Redis, counter: %v, want ErrUnavailable", err)
	}
}
