// Package history is the sign-in history (登入記錄): the recorder the
// sign-in hands its attempts to, which stores them in batches in the
// background; the use case that reads them for the portal and the
// operator, by the rule book; their CSV export; and the retention job.
package history

import (
	"context"
	"log/slog"
	"time"

	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// Recorder takes sign-in attempts without waiting for the database: Record
// puts one on a bounded queue, and Run's writer stores them in batches
// (one round trip a batch). When the queue is full the attempt is dropped
// and counted (idp_signin_history_dropped_total): a slow database must not
// slow the sign-in, nor hold unbounded memory.
type Recorder struct {
	store storage.SignInHistory
	queue chan storage.SignInEvent
	// Batch is the most attempts stored in one round trip; FlushEvery the
	// longest an attempt waits in the queue when the batch is not full.
	Batch      int
	FlushEvery time.Duration
	done       chan struct{}
}

// NewRecorder is a recorder into store with a queue of capacity attempts.
func NewRecorder(store storage.SignInHistory, capacity int) *Recorder {
	return &Recorder{
		store: store, queue: make(chan storage.SignInEvent, capacity),
		Batch: 500, FlushEvery: 500 * time.Millisecond, done: make(chan struct{}),
	}
}

// Record queues e for the writer, or drops it when the queue is full. A
// nil recorder records nothing.
func (r *Recorder) Record(e storage.SignInEvent) {
	if r == nil {
		return
	}
	select {
	case r.queue <- e:
	default:
		telemetry.SignInHistoryDropped(telemetry.HistoryQueueFull, 1)
	}
}

// Run is the writer: it stores what is queued, a batch when Batch are
// waiting or FlushEvery has passed, until ctx ends; then it stores what
// is left in the queue (within flushTimeout) and returns. Call it once.
func (r *Recorder) Run(ctx context.Context) {
	defer close(r.done)
	tick := time.NewTicker(r.FlushEvery)
	defer tick.Stop()
	batch := make([]storage.SignInEvent, 0, r.Batch)
	for {
		select {
		case e := <-r.queue:
			batch = append(batch, e)
			if len(batch) >= r.Batch {
				batch = r.write(ctx, batch)
			}
		case <-tick.C:
			batch = r.write(ctx, batch)
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
			r.drain(last, batch)
			cancel()
			return
		}
	}
}

// flushTimeout bounds the last write at shutdown.
const flushTimeout = 5 * time.Second

// Flush stores, now, whatever is queued. The writer does this by itself;
// a command or a test that runs no writer calls it.
func (r *Recorder) Flush(ctx context.Context) {
	r.drain(ctx, make([]storage.SignInEvent, 0, r.Batch))
}

// drain stores batch and whatever is queued.
func (r *Recorder) drain(ctx context.Context, batch []storage.SignInEvent) {
	for {
		select {
		case e := <-r.queue:
			batch = append(batch, e)
			if len(batch) >= r.Batch {
				batch = r.write(ctx, batch)
			}
		default:
			r.write(ctx, batch)
			return
		}
	}
}

// Wait returns once Run has stored what was left and returned.
func (r *Recorder) Wait() { <-r.done }

// write stores batch and returns it emptied for reuse. A failed batch is
// dropped and counted: retrying would let a database outage fill the
// memory, and the attempts are in the log lines too.
func (r *Recorder) write(ctx context.Context, batch []storage.SignInEvent) []storage.SignInEvent {
	if len(batch) == 0 {
		return batch
	}
	if err := r.store.RecordSignIns(ctx, batch); err != nil {
		telemetry.SignInHistoryDropped(telemetry.HistoryStoreFailed, len(batch))
		slog.WarnContext(ctx, "sign-in history: batch not stored", "events", len(batch), "err", err)
	} else {
		telemetry.SignInHistoryWritten(len(batch))
	}
	clear(batch)
	return batch[:0]
}
