package redis_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestApprovalQRCodes: the latest approval QR code of a login is current,
// a newer one replaces it, spending it is done once of many at once and
// leaves it used; the typed code maps to the token, stored hashed, with
// the code's lifetime; logins do not share their codes.
func TestApprovalQRCodes(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.PutApproval(ctx, 7, "id-1", "ABCDEFGHJKMN", "DA1.token-1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if tok, err := s.ApprovalToken(ctx, "ABCDEFGHJKMN"); err != nil || tok != "DA1.token-1" {
		t.Errorf("typed code: %q, %v", tok, err)
	}
	if _, err := s.ApprovalToken(ctx, "0000000000000"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown typed code: %v", err)
	}
	for k := range dump(t, s) {
		if strings.Contains(k, "ABCDEFGHJKMN") {
			t.Errorf("key %q holds the typed code in clear", k)
		}
		if ttl := s.Client().PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Minute {
			t.Errorf("key %q ttl %v", k, ttl)
		}
	}
	if st, err := s.ApprovalState(ctx, 8, "id-1"); err != nil || st != storage.ApprovalReplaced {
		t.Errorf("another login's code: %s, %v", st, err)
	}
	if err := s.PutApproval(ctx, 7, "id-2", "PQRSTVWXYZ01", "DA1.token-2", time.Minute); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.ApprovalState(ctx, 7, "id-1"); st != storage.ApprovalReplaced {
		t.Errorf("the older code: %s", st)
	}
	if st, _ := s.ApprovalState(ctx, 7, "id-2"); st != storage.ApprovalCurrent {
		t.Errorf("the newer code: %s", st)
	}
	var spent atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			st, err := s.SpendApproval(ctx, 7, "id-2", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if st == storage.ApprovalCurrent {
				spent.Add(1)
			}
		})
	}
	wg.Wait()
	if spent.Load() != 1 {
		t.Errorf("8 spends at once: %d, want 1", spent.Load())
	}
	if st, _ := s.ApprovalState(ctx, 7, "id-2"); st != storage.ApprovalUsed {
		t.Errorf("after the spend: %s", st)
	}
	if st, _ := s.SpendApproval(ctx, 7, "id-1", time.Minute); st != storage.ApprovalReplaced {
		t.Errorf("spending the replaced code: %s", st)
	}
	if err := s.PutApproval(ctx, 7, "id-3", "X", "t", 0); err == nil {
		t.Error("a code without a lifetime was accepted")
	}
}
