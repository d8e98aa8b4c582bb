package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// Outbox is the store side of the outbox (storage/postgres).
type Outbox interface {
	// ClaimOutbox claims up to limit due messages for lease.
	ClaimOutbox(ctx context.Context, lease time.Duration, limit int) ([]storage.OutboxMessage, error)
	// OutboxDelivered records a delivery and clears the body.
	OutboxDelivered(ctx context.Context, id int64) error
	// OutboxRetry puts a message back in the queue after delay.
	OutboxRetry(ctx context.Context, id int64, lease, lastError string, delay time.Duration) error
	// OutboxFailed gives a message up for good and clears the body.
	OutboxFailed(ctx context.Context, id int64, lease, lastError string) error
}

// Worker delivers the outbox. Every node may run one: claims never overlap
// while their lease lasts, so each message goes to one worker at a time.
type Worker struct {
	store   Outbox
	sealer  *Sealer
	senders map[storage.Channel]Sender
	wake    chan struct{}

	Poll        time.Duration // how often to look for due messages (Wake shortens the wait)
	Lease       time.Duration // how long a claim keeps messages from other workers; > SendTimeout
	SendTimeout time.Duration // longest wait for one gateway answer
	Batch       int           // messages claimed at once
	MinBackoff  time.Duration // wait after the first failed attempt; doubled after each
	MaxBackoff  time.Duration // longest wait between attempts
	// GiveUpAfter bounds, per channel, how long after it was written a
	// message is still retried; a failure past it gives the message up.
	// A channel not listed is retried until it succeeds or is refused.
	GiveUpAfter map[storage.Channel]time.Duration
	Logger      *slog.Logger
}

// NewWorker returns a worker with default timings: poll every 2 s, lease 2 min,
// 30 s per send, backoff from 10 s doubling up to 10 min.
func NewWorker(store Outbox, sealer *Sealer, senders map[storage.Channel]Sender) *Worker {
	return &Worker{
		store: store, sealer: sealer, senders: senders, wake: make(chan struct{}, 1),
		Poll: 2 * time.Second, Lease: 2 * time.Minute, SendTimeout: 30 * time.Second, Batch: 20,
		MinBackoff: 10 * time.Second, MaxBackoff: 10 * time.Minute, Logger: slog.Default(),
		GiveUpAfter: map[storage.Channel]time.Duration{},
	}
}

// SetSender replaces the sender of a channel. Call it before Run.
func (w *Worker) SetSender(ch storage.Channel, s Sender) { w.senders[ch] = s }

// Wake makes a running worker look for due messages now (after a code was
// issued on this node). It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-w.wake:
		}
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Logger.WarnContext(ctx, "outbox: claim", "err", err)
		}
		next := w.Poll
		if n == w.Batch && err == nil {
			next = 0 // more may be due
		}
		timer.Reset(next)
	}
}

// RunOnce claims one batch of due messages and tries each once. It returns
// how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	msgs, err := w.store.ClaimOutbox(ctx, w.Lease, w.Batch)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		w.deliver(ctx, m)
	}
	return len(msgs), nil
}

// deliver tries m once and records the outcome. The outcome is recorded
// even when ctx ends meanwhile (shutdown), so the message is retried, not
// left leased.
func (w *Worker) deliver(ctx context.Context, m storage.OutboxMessage) {
	log := w.Logger.With("outbox_id", m.ID, "channel", string(m.Channel), "attempt", m.Attempts)
	if m.Logout != nil {
		log = log.With("client", m.Logout.ClientID, "sid", m.Logout.SessionID)
	}
	settle, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()

	msg, err := w.message(m)
	if err != nil {
		log.ErrorContext(ctx, "outbox: cannot open message; giving it up", "err", err)
		telemetry.OutboxDelivery(string(m.Channel), telemetry.OutboxFailed)
		w.record(settle, log, w.store.OutboxFailed(settle, m.ID, m.Lease, err.Error()))
		return
	}
	sender := w.senders[m.Channel]
	if sender == nil {
		err = errors.New("no sender configured for channel " + string(m.Channel))
	} else {
		sendCtx, cancelSend := context.WithTimeout(ctx, w.SendTimeout)
		err = sender.Send(sendCtx, msg)
		cancelSend()
	}
	switch {
	case err == nil:
		log.InfoContext(ctx, "outbox: delivered")
		telemetry.OutboxDelivery(string(m.Channel), telemetry.OutboxDelivered)
		// Sent: record it with some persistence, or the message would be
		// sent again once the lease ends (the gateway's idempotency key is
		// then the last guard).
		for try := 0; ; try++ {
			err := w.store.OutboxDelivered(settle, m.ID)
			if err == nil || errors.Is(err, storage.ErrConflict) || try == 2 || settle.Err() != nil {
				w.record(settle, log, err)
				break
			}
			time.Sleep(time.Duration(try+1) * time.Second)
		}
	case IsPermanent(err):
		log.ErrorContext(ctx, "outbox: refused for good", "err", err)
		telemetry.OutboxDelivery(string(m.Channel), telemetry.OutboxFailed)
		w.record(settle, log, w.store.OutboxFailed(settle, m.ID, m.Lease, err.Error()))
	default:
		delay := w.backoff(m.Attempts)
		if window := w.GiveUpAfter[m.Channel]; window > 0 && time.Since(m.CreatedAt)+delay > window {
			// The next attempt would come after the delivery window.
			log.ErrorContext(ctx, "outbox: still failing at the end of its delivery window; giving it up",
				"err", err, "window", window)
			telemetry.OutboxDelivery(string(m.Channel), telemetry.OutboxFailed)
			w.record(settle, log, w.store.OutboxFailed(settle, m.ID, m.Lease,
				fmt.Sprintf("gave up after %d attempts within %s: %v", m.Attempts, window, err)))
			return
		}
		log.WarnContext(ctx, "outbox: delivery failed; will retry", "err", err, "retry_in", delay)
		telemetry.OutboxDelivery(string(m.Channel), telemetry.OutboxRetry)
		w.record(settle, log, w.store.OutboxRetry(settle, m.ID, m.Lease, err.Error(), delay))
	}
}

// message is what the sender of m's channel gets. A back-channel logout
// names its delivery in plain columns; the other channels carry a sealed body.
func (w *Worker) message(m storage.OutboxMessage) (Message, error) {
	msg := Message{ID: strconv.FormatInt(m.ID, 10), Channel: m.Channel, To: m.Recipient, Language: m.Language, Logout: m.Logout}
	if m.Logout != nil {
		return msg, nil
	}
	content, err := w.sealer.Open(m)
	msg.Subject, msg.Text = content.Subject, content.Text
	return msg, err
}

func (w *Worker) record(ctx context.Context, log *slog.Logger, err error) {
	if err != nil {
		log.WarnContext(ctx, "outbox: record outcome", "err", err)
	}
}

// backoff is the wait after the given number of failed attempts:
// MinBackoff doubled per attempt, at most MaxBackoff, ±20 % so that
// messages failed together do not retry together.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.MinBackoff
	for i := 1; i < attempts && d < w.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.MaxBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}
