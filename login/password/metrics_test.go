package password

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/entity-account/idp/op/telemetry"
)

func waitSamples(t *testing.T) uint64 {
	t.Helper()
	var m dto.Metric
	if err := telemetry.HashWait.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

// The hasher reports hashes running, callers queued, and every wait for a
// slot, including one that was not needed (a zero wait).
func TestHasherMetrics(t *testing.T) {
	h := NewHasher(Params{MemoryKiB: 8 * 1024, Iterations: 1, Threads: 1}, 1, 5*time.Second)
	inFlight0, waiting0, samples0 := testutil.ToFloat64(telemetry.HashInFlight), testutil.ToFloat64(telemetry.HashWaiting), waitSamples(t)
	ctx := context.Background()

	release, running := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() { first <- h.run(ctx, func() { close(running); <-release }) }()
	<-running
	if d := testutil.ToFloat64(telemetry.HashInFlight) - inFlight0; d != 1 {
		t.Fatalf("in flight rose by %v with one hash running, want 1", d)
	}
	second := make(chan error, 1)
	go func() { second <- h.run(ctx, func() {}) }()
	for deadline := time.Now().Add(10 * time.Second); testutil.ToFloat64(telemetry.HashWaiting)-waiting0 < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the queued caller never showed in idp_password_hash_waiting")
		}
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	if d := testutil.ToFloat64(telemetry.HashInFlight) - inFlight0; d != 0 {
		t.Errorf("in flight is %v above where it started after both hashes", d)
	}
	if d := testutil.ToFloat64(telemetry.HashWaiting) - waiting0; d != 0 {
		t.Errorf("waiting is %v above where it started after the queue drained", d)
	}
	if n := waitSamples(t) - samples0; n != 2 {
		t.Errorf("wait histogram got %d samples, want 2 (one free slot, one wait)", n)
	}
}
