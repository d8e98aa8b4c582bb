package kit

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/entity-account/idp/storage"
)

// The counters that guard a secret are storage's (storage.ReserveAttempt);
// the web surfaces reserve on the kit's short-lived state.

// Limit is one counter: at most Max attempts per window under Key.
type Limit = storage.Limit

// Attempt is what ReserveAttempt took.
type Attempt = storage.Attempt

// ReserveAttempt is storage.ReserveAttempt on the kit's short-lived state.
func (k *Kit) ReserveAttempt(ctx context.Context, window time.Duration, limits ...Limit) (*Attempt, time.Duration, error) {
	return storage.ReserveAttempt(ctx, k.State, window, limits...)
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
