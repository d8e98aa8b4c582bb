package storage

import (
	"context"
	"log/slog"
	"time"
)

// Counters that guard a secret (sign-in passwords, the old password of a
// password change, activation codes, resend requests, an officer's
// password and 安全驗證碼). An attempt is reserved under every limit that
// applies, atomically per counter, before the check it guards: a hundred
// guesses sent at once get at most the limit through, and the rest are
// refused without touching the secret. The caller then settles the
// attempt: a wrong guess keeps its reservation (that is the failure
// count), a right one or one whose check never ran gives it back.

// Limit is one counter: at most Max attempts per window under Key.
type Limit struct {
	Key string
	Max int
}

// Attempt is what ReserveAttempt took.
type Attempt struct {
	state Counters
	keys  []string
}

// ReserveAttempt takes one attempt under every limit, in order. When one is
// full it gives back what it took and returns nil with the time until that
// limit resets.
func ReserveAttempt(ctx context.Context, c Counters, window time.Duration, limits ...Limit) (*Attempt, time.Duration, error) {
	a := &Attempt{state: c}
	for _, l := range limits {
		wait, err := c.Reserve(ctx, l.Key, l.Max, window)
		if err != nil {
			a.GiveBack(ctx)
			return nil, 0, err
		}
		if wait > 0 {
			a.GiveBack(ctx)
			return nil, wait, nil
		}
		a.keys = append(a.keys, l.Key)
	}
	return a, 0, nil
}

// GiveBack returns every reserved attempt: the guarded check did not run
// (the hasher was busy, a store failed). It runs even if the request was
// cancelled meanwhile, so a dropped connection cannot leak reservations.
func (a *Attempt) GiveBack(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range a.keys {
		if err := a.state.Release(ctx, k); err != nil {
			slog.WarnContext(ctx, "give back a throttle reservation", "err", err)
		}
	}
	a.keys = nil
}

// Succeeded settles a right answer: the first counter (the account's own)
// starts afresh, the others get their attempt back.
func (a *Attempt) Succeeded(ctx context.Context) {
	if len(a.keys) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := a.state.ResetAttempts(ctx, a.keys[0]); err != nil {
		slog.WarnContext(ctx, "reset a throttle", "err", err)
	}
	a.keys = a.keys[1:]
	a.GiveBack(ctx)
}
