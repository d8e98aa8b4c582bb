package kit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/entity-account/idp/storage"
)

// Counters that guard a secret (sign-in passwords, the old password of a
// password change, activation codes, resend requests). An attempt is
// reserved under every limit that applies, atomically per counter, before
// the check it guards: a hundred guesses sent at once get at most the limit
// through, and the rest are refused without touching the secret. The caller
// then settles the attempt: a wrong guess keeps its reservation (that is
// the failure count), a right one or one whose check never ran gives it back.

// Limit is one counter: at most Max attempts per window under Key.
type Limit struct {
	Key string
	Max int
}

// Attempt is what ReserveAttempt took.
type Attempt struct {
	state storage.Counters
	keys  []string
}

// ReserveAttempt takes one attempt under every limit, in order. When one is
// full it gives back what it took and returns nil with the time until that
// limit resets.
func (k *Kit) ReserveAttempt(ctx context.Context, window time.Duration, limits ...Limit) (*Attempt, time.Duration, error) {
	a := &Attempt{state: k.State}
	for _, l := range limits {
		wait, err := k.State.Reserve(ctx, l.Key, l.Max, window)
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

// Refusal is an attempt a form refuses with a message in the form: its
// status, the catalogue key of the message, and for throttling how long to
// wait. Unlike a failure (Error), it is the form's ordinary answer: a wrong
// password, too many tries, a busy hasher.
type Refusal struct {
	Status int
	Key    string
	Wait   time.Duration // > 0: sets Retry-After
	// Until and Now: the message names the time the wait ends (Until,
	// in Macau time, as of Now) instead of the minutes.
	Until, Now time.Time
}

// Message sets Retry-After if needed and returns the message in t.
func (f Refusal) Message(w http.ResponseWriter, t map[string]string) string {
	if f.Wait > 0 {
		RetryAfter(w, f.Wait)
	}
	if !f.Until.IsZero() {
		return fmt.Sprintf(t[f.Key], Until(f.Until, f.Now))
	}
	if f.Status == http.StatusTooManyRequests {
		return fmt.Sprintf(t[f.Key], int(f.Wait.Minutes())+1)
	}
	return t[f.Key]
}

// Throttled is the refusal of an attempt over a limit that resets after
// wait; key's message takes the minutes to wait.
func Throttled(key string, wait time.Duration) Refusal {
	return Refusal{Status: http.StatusTooManyRequests, Key: key, Wait: wait}
}

// LockedUntil is the refusal of an attempt over a limit that resets after
// wait, from now; key's message takes the time it resets (Until).
func LockedUntil(key string, wait time.Duration, now time.Time) Refusal {
	return Refusal{Status: http.StatusTooManyRequests, Key: key, Wait: wait, Until: now.Add(wait), Now: now}
}

// Busy answers password.ErrBusy: no hashing slot in time.
var Busy = Refusal{Status: http.StatusServiceUnavailable, Key: "error_busy", Wait: 2 * time.Second}
