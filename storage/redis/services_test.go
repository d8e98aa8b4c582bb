package redis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/entity-account/idp/storage/storagetest"
)

// A published change of e-services reaches every subscriber of the same
// prefix, and no other.
func TestServicesChanged(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan []int64, 4)
	if err := s.SubscribeServicesChanged(ctx, func(ids []int64) { got <- ids }); err != nil {
		t.Fatal(err)
	}
	other := storagetest.NewRedis(t)
	stray := make(chan []int64, 4)
	if err := other.SubscribeServicesChanged(ctx, func(ids []int64) { stray <- ids }); err != nil {
		t.Fatal(err)
	}
	if err := s.PublishServicesChanged(ctx); err != nil {
		t.Fatalf("publishing nothing: %v", err)
	}
	if err := s.PublishServicesChanged(ctx, 7, 1<<40); err != nil {
		t.Fatal(err)
	}
	select {
	case ids := <-got:
		if !slices.Equal(ids, []int64{7, 1 << 40}) {
			t.Errorf("received %v", ids)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5 s")
	}
	select {
	case ids := <-stray:
		t.Errorf("a store of another prefix received %v", ids)
	case ids := <-got:
		t.Errorf("a second message %v (publishing nothing sends nothing)", ids)
	case <-time.After(200 * time.Millisecond):
	}
}
