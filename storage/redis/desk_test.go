package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestDeskSession: a desk session is found by its secret only (stored
// under its hash), idles out after storage.DeskIdle, never outlives its
// age, and ends at once.
func TestDeskSession(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.CreateDeskSession(ctx, &storage.DeskSession{OfficerID: 1, ExpiresAt: time.Now().Add(-time.Second)}); err == nil {
		t.Error("a desk session past its age created")
	}
	ds := &storage.DeskSession{OfficerID: 7, Factor: "totp", ExpiresAt: time.Now().Add(storage.DeskMaxAge)}
	secret, err := s.CreateDeskSession(ctx, ds)
	if err != nil || ds.ID == "" || secret == "" {
		t.Fatalf("create: %q %+v %v", secret, ds, err)
	}
	for k := range dump(t, s) {
		if strings.Contains(k, secret) {
			t.Errorf("the secret is in a key: %s", k)
		}
	}
	got, err := s.DeskSession(ctx, secret)
	if err != nil || got.OfficerID != 7 || got.ID != ds.ID || got.Factor != "totp" {
		t.Fatalf("read: %+v %v", got, err)
	}
	// The record idles out after DeskIdle, however long its age.
	var ttls []time.Duration
	for k := range dump(t, s) {
		ttl, _ := s.Client().PTTL(ctx, k).Result()
		ttls = append(ttls, ttl)
	}
	if len(ttls) != 1 || ttls[0] > storage.DeskIdle || ttls[0] < storage.DeskIdle-time.Minute {
		t.Errorf("TTLs %v, want one of about %s", ttls, storage.DeskIdle)
	}
	if _, err := s.DeskSession(ctx, secret+"x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another secret: %v", err)
	}
	if _, err := s.DeskSession(ctx, ""); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("no secret: %v", err)
	}
	// Near its age, the idle expiry is the age's.
	short := &storage.DeskSession{OfficerID: 8, ExpiresAt: time.Now().Add(2 * time.Second)}
	s2, err := s.CreateDeskSession(ctx, short)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EndDeskSession(ctx, secret); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeskSession(ctx, secret); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an ended session: %v", err)
	}
	time.Sleep(2100 * time.Millisecond)
	if _, err := s.DeskSession(ctx, s2); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a session past its age: %v", err)
	}
}
