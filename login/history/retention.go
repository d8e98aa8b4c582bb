package history

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/entity-account/idp/storage"
)

// Retention is the job that keeps the sign-in history and the deleted
// logins' personal data no longer than the configuration says. Every node
// runs it; the store lets one at a time do the work (an advisory lock).
type Retention struct {
	Store storage.SignInHistory
	// HistoryDays: sign-in events older than this are deleted.
	HistoryDays int
	// DeletedDays: staff logins deleted longer ago than this lose their
	// identity document number, birth date, mobile and e-mail.
	DeletedDays int
	// Every is the time between runs, each drawn within ±Jitter of it, so
	// that nodes started together do not all try at once.
	Every, Jitter time.Duration
	Batch         int
	Now           func() time.Time
}

// RunOnce applies the policy now.
func (j *Retention) RunOnce(ctx context.Context) (storage.RetentionResult, error) {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	t := now().UTC()
	return j.Store.ApplyRetention(ctx, storage.RetentionPolicy{
		EventsBefore:  t.AddDate(0, 0, -j.HistoryDays),
		DeletedBefore: t.AddDate(0, 0, -j.DeletedDays),
		Batch:         j.Batch,
	})
}

// Run runs the job after a first random wait within Jitter, then about
// every Every, until ctx ends.
func (j *Retention) Run(ctx context.Context) {
	wait := j.jittered(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		res, err := j.RunOnce(ctx)
		switch {
		case err != nil:
			slog.WarnContext(ctx, "retention: failed", "err", err)
		case res.Ran:
			slog.InfoContext(ctx, "retention: done", "signin_events_deleted", res.EventsDeleted, "deleted_logins_erased", res.LoginsErased)
		}
		wait = j.jittered(j.Every)
	}
}

// jittered is d moved by a random amount within ±Jitter (never below a minute).
func (j *Retention) jittered(d time.Duration) time.Duration {
	if j.Jitter > 0 {
		d += time.Duration(rand.Int64N(int64(2*j.Jitter))) - j.Jitter
	}
	return max(d, time.Minute)
}
