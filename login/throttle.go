package login

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
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

// limit is one counter: at most max attempts per window under key.
type limit struct {
	key string
	max int
}

// attempt is what reserveAttempt took.
type attempt struct {
	state storage.ShortLived
	keys  []string
}

// reserveAttempt takes one attempt under every limit, in order. When one is
// full it gives back what it took and returns nil with the time until that
// limit resets.
func (h *Handler) reserveAttempt(ctx context.Context, window time.Duration, limits ...limit) (*attempt, time.Duration, error) {
	a := &attempt{state: h.state}
	for _, l := range limits {
		wait, err := h.state.Reserve(ctx, l.key, l.max, window)
		if err != nil {
			a.giveBack(ctx)
			return nil, 0, err
		}
		if wait > 0 {
			a.giveBack(ctx)
			return nil, wait, nil
		}
		a.keys = append(a.keys, l.key)
	}
	return a, 0, nil
}

// giveBack returns every reserved attempt: the guarded check did not run
// (the hasher was busy, a store failed). It runs even if the request was
// cancelled meanwhile, so a dropped connection cannot leak reservations.
func (a *attempt) giveBack(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for _, k := range a.keys {
		if err := a.state.Release(ctx, k); err != nil {
			slog.WarnContext(ctx, "give back a throttle reservation", "err", err)
		}
	}
	a.keys = nil
}

// succeeded settles a right answer: the first counter (the account's own)
// starts afresh, the others get their attempt back.
func (a *attempt) succeeded(ctx context.Context) {
	if len(a.keys) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := a.state.ResetAttempts(ctx, a.keys[0]); err != nil {
		slog.WarnContext(ctx, "reset a throttle", "err", err)
	}
	a.keys = a.keys[1:]
	a.giveBack(ctx)
}

// failureKeys name the counters of sign-in attempts: one per account
// (entity number and username in their normalised forms, so that two
// spellings of one account share it) and one per client address.
func (h *Handler) failureKeys(r *http.Request, entityNumber, username string) (accountKey, ipKey string) {
	if n, ok := storage.NormalizeEntityNumber(entityNumber); ok {
		entityNumber = n
	}
	if u, ok := storage.NormalizeUsername(username); ok {
		username = u
	} else {
		username = strings.ToLower(username)
	}
	return "login-fail:acct:" + entityNumber + "\x00" + username, "login-fail:ip:" + h.clientIP(r)
}

// signInLimits are the limits of one sign-in attempt.
func (h *Handler) signInLimits(r *http.Request, entityNumber, username string) []limit {
	accountKey, ipKey := h.failureKeys(r, entityNumber, username)
	return []limit{{accountKey, h.cfg.FailuresPerAccount}, {ipKey, h.cfg.FailuresPerIP}}
}

// printable is a typed value as it may go into a log line: at most 64
// bytes, invalid UTF-8 and control characters quoted.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	if storage.CleanText(s, 64) {
		return s
	}
	q := strconv.QuoteToASCII(s)
	return q[1 : len(q)-1]
}
