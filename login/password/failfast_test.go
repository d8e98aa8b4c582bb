package password

import (
	"context"
	"errors"
	"testing"
	"time"
)

// When the callers already queued would keep the slots busy for longer than
// the wait, a new caller is refused at once, not after the wait: a flood's
// excess gets a quick answer. The callers already queued are still served.
func TestHopelessQueueIsRefusedAtOnce(t *testing.T) {
	h := NewHasher(Params{MemoryKiB: 8 * 1024, Iterations: 1, Threads: 1}, 1, 2*time.Second)
	h.hashNanos.Store(int64(500 * time.Millisecond)) // recent pace: 4 callers servable within the wait
	h.slots <- struct{}{}                            // the only slot is taken
	ctx := context.Background()
	queued := make(chan error, 4)
	for range 4 {
		go func() { queued <- h.run(ctx, func() {}) }()
	}
	for deadline := time.Now().Add(10 * time.Second); h.waiting.Load() < 4; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d callers queued", h.waiting.Load())
		}
	}
	if !h.Saturated() {
		t.Fatal("Saturated() = false with the slot taken and a full queue")
	}
	start := time.Now()
	if err := h.run(ctx, func() { t.Error("a hopeless caller ran") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("fifth caller: err = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("refusal took %s, want at once (well under the 2s wait)", d)
	}
	<-h.slots // free the slot
	for range 4 {
		if err := <-queued; err != nil {
			t.Fatalf("a queued caller was not served: %v", err)
		}
	}
	if h.waiting.Load() != 0 {
		t.Fatalf("waiting = %d after the queue drained", h.waiting.Load())
	}
	if h.Saturated() {
		t.Fatal("Saturated() = true with a free slot and no queue")
	}
}

// Before any hash has set a pace, callers wait as before.
func TestNoPaceNoEarlyRefusal(t *testing.T) {
	h := NewHasher(Params{MemoryKiB: 8 * 1024, Iterations: 1, Threads: 1}, 1, 50*time.Millisecond)
	h.slots <- struct{}{}
	start := time.Now()
	if err := h.run(context.Background(), func() {}); !errors.Is(err, ErrBusy) {
		t.Fatalf("err = %v, want ErrBusy after the wait", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("refused after %s, before the wait ran out", d)
	}
}

// AfterBurst runs once the hasher is idle after a burst of hashes, and not
// while hashes keep coming.
func TestAfterBurst(t *testing.T) {
	h := NewHasher(Params{MemoryKiB: 8 * 1024, Iterations: 1, Threads: 1}, 2, time.Second)
	ran := make(chan struct{}, 4)
	h.AfterBurst(3, 50*time.Millisecond, func() { ran <- struct{}{} })
	ctx := context.Background()
	hash := func() {
		if _, err := h.Hash(ctx, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	hash()
	hash()
	select {
	case <-ran:
		t.Fatal("ran after fewer hashes than a burst")
	case <-time.After(150 * time.Millisecond):
	}
	// A steady trickle: never idle for 50 ms.
	for range 6 {
		hash()
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-ran:
	case <-time.After(2 * time.Second):
		t.Fatal("did not run once idle after the burst")
	}
	select {
	case <-ran:
		t.Fatal("ran twice for one burst")
	case <-time.After(150 * time.Millisecond):
	}
}
