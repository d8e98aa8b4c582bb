package redis_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOncePasskeyMarks: a mark is taken once, by one caller of many at once;
// purposes do not share marks; the key is stored hashed, with its TTL.
func TestOncePasskeyMarks(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	var first atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			ok, err := s.Once(ctx, "webauthn", "challenge-1", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				first.Add(1)
			}
		})
	}
	wg.Wait()
	if first.Load() != 1 {
		t.Errorf("8 uses at once: %d first uses, want 1", first.Load())
	}
	if ok, err := s.Once(ctx, "other", "challenge-1", time.Minute); err != nil || !ok {
		t.Errorf("another purpose shares the mark: %v, %v", ok, err)
	}
	keys := dump(t, s)
	if len(keys) != 2 {
		t.Fatalf("keys %v", keys)
	}
	for k := range keys {
		if strings.Contains(k, "challenge-1") || !strings.Contains(k, "once:") {
			t.Errorf("key %q holds the marked value in clear", k)
		}
		if ttl := s.Client().PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Minute {
			t.Errorf("key %q ttl %v", k, ttl)
		}
	}
	if _, err := s.Once(ctx, "webauthn", "x", 0); err == nil {
		t.Error("a mark without a lifetime was accepted")
	}
}
