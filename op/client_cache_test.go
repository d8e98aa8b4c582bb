package op

import (
	"context"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// levelDirectory answers one client of e-service 7 with the e-service's
// current minimum level, counts loads, and may run a hook during a load.
type levelDirectory struct {
	storage.Directory
	level  storage.Level
	loads  int
	during func()
}

func (d *levelDirectory) Client(context.Context, string) (storage.Client, error) {
	d.loads++
	c := storage.Client{ID: "c", ServiceID: 7, MinLevel: d.level}
	if d.during != nil {
		d.during()
		d.during = nil
	}
	return c, nil
}

// A change of an e-service reaches the cached clients at once when it is
// published (ForgetServices), not only after the cache's TTL.
func TestClientCacheForgetsChangedServices(t *testing.T) {
	dir := &levelDirectory{}
	s := NewStorage(dir, nil, nil, Lifetimes{}, "/login")
	ctx := context.Background()
	level := func() storage.Level {
		t.Helper()
		c, err := s.Client(ctx, "c")
		if err != nil {
			t.Fatal(err)
		}
		return c.MinLevel
	}
	if l := level(); l != storage.LevelNone {
		t.Fatalf("first load: %v", l)
	}
	dir.level = storage.LevelTool
	if l := level(); l != storage.LevelNone || dir.loads != 1 {
		t.Fatalf("within the TTL: %v after %d loads, want the cached client", l, dir.loads)
	}
	s.ForgetServices([]int64{8})
	if l := level(); l != storage.LevelNone || dir.loads != 1 {
		t.Fatalf("after another e-service's change: %v after %d loads", l, dir.loads)
	}
	s.ForgetServices([]int64{9, 7})
	if l := level(); l != storage.LevelTool || dir.loads != 2 {
		t.Fatalf("after its e-service's change: %v after %d loads, want LevelTool", l, dir.loads)
	}

	// A load that read the client before a change but finishes after the
	// drop is not kept: the next request loads again.
	s.ForgetServices([]int64{7})
	dir.level = storage.LevelPassword
	dir.during = func() { dir.level = storage.LevelNone; s.ForgetServices([]int64{7}) }
	if l := level(); l != storage.LevelPassword {
		t.Fatalf("racing load answered %v", l)
	}
	if l := level(); l != storage.LevelNone || dir.loads != 4 {
		t.Errorf("after the racing load: %v after %d loads, want a fresh LevelNone", l, dir.loads)
	}
	// The TTL still bounds the lag of a node that missed the message.
	s.clients.ttl = time.Millisecond
	dir.level = storage.LevelTool
	time.Sleep(2 * time.Millisecond)
	if l := level(); l != storage.LevelTool {
		t.Errorf("after the TTL: %v", l)
	}
}
