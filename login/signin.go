package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/entity-account/idp/login/password"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// Shared by the e-service sign-in (login.go) and the portal (account.go):
// reading the three fields, throttling, checking them, answering a refusal,
// and starting the SSO session.

// credentials are the three fields of a sign-in form.
type credentials struct {
	entityNumber, username, password string
}

// readCredentials takes the three fields from a parsed form. The entity
// number and username are trimmed; the password is taken as typed.
func readCredentials(form interface{ Get(string) string }) credentials {
	return credentials{
		entityNumber: strings.TrimSpace(form.Get("entity_number")),
		username:     strings.TrimSpace(form.Get("username")),
		password:     form.Get("password"),
	}
}

func (c credentials) complete() bool {
	return c.entityNumber != "" && c.username != "" && c.password != ""
}

// refusal is a sign-in the page refuses with a message: its status, the
// catalogue key of the message, and for throttling how long to wait.
type refusal struct {
	status int
	key    string
	wait   time.Duration // > 0: sets Retry-After
}

// write sets Retry-After if needed and returns the message in t.
func (f *refusal) write(w http.ResponseWriter, t map[string]string) string {
	if f.wait > 0 {
		retryAfter(w, f.wait)
	}
	if f.key == "error_throttled" {
		return fmt.Sprintf(t[f.key], int(f.wait.Minutes())+1)
	}
	return t[f.key]
}

// throttledRefusal is the refusal of an attempt over a limit, wait before the limit resets.
func throttledRefusal(wait time.Duration) *refusal {
	return &refusal{status: http.StatusTooManyRequests, key: "error_throttled", wait: wait}
}

// busyRefusal answers password.ErrBusy: no hashing slot in time.
var busyRefusal = refusal{status: http.StatusServiceUnavailable, key: "error_busy", wait: 2 * time.Second}

// verifySignIn checks the three fields under the throttle. It returns the
// principal when the password is right (whatever the principal may then do:
// the caller decides), a refusal to show (throttled, busy, or the one generic
// answer for unknown entity, unknown username and wrong password, after one
// hash each, counted as a failure), or an internal error. The attempt is
// reserved before the hash, so concurrent guesses cannot pass the limits.
func (h *Handler) verifySignIn(ctx context.Context, r *http.Request, c credentials) (storage.Principal, *refusal, error) {
	if h.hasher.Saturated() {
		telemetry.SignIn(telemetry.SignInBusy)
		f := busyRefusal
		return storage.Principal{}, &f, nil
	}
	att, wait, err := h.reserveAttempt(ctx, h.cfg.FailureWindow, h.signInLimits(r, c.entityNumber, c.username)...)
	if err != nil {
		return storage.Principal{}, nil, err
	}
	if att == nil {
		telemetry.SignIn(telemetry.SignInThrottled)
		return storage.Principal{}, throttledRefusal(wait), nil
	}
	p, err := h.authenticate(ctx, c.entityNumber, c.username, c.password)
	switch {
	case errors.Is(err, password.ErrBusy):
		att.giveBack(ctx)
		telemetry.SignIn(telemetry.SignInBusy)
		f := busyRefusal
		return p, &f, nil
	case errors.Is(err, errBadCredentials):
		// The reservation stays: it is this failure's count.
		telemetry.SignIn(telemetry.SignInBadCredentials)
		slog.InfoContext(ctx, "sign-in failed", "entity", printable(c.entityNumber), "ip", h.clientIP(r))
		return p, &refusal{status: http.StatusUnauthorized, key: "error_credentials"}, nil
	case err != nil:
		att.giveBack(ctx)
		return p, nil, err
	}
	att.succeeded(ctx)
	return p, nil, nil
}

// startSession starts the SSO session of p in this browser, replacing
// whatever session the browser had, and sets the session cookie.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, p storage.Principal) (*storage.Session, error) {
	ctx := r.Context()
	now := h.now().UTC().Truncate(time.Second)
	sess := &storage.Session{
		Kind: p.Kind,
		Authentication: storage.Authentication{
			Subject: p.Subject, LoginID: p.ID, EntityNumber: p.EntityNumber,
			AuthTime: now, AMR: []string{idpop.AMRPassword}, ACR: idpop.ACRPassword,
		},
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(h.cfg.SessionMax),
	}
	if old, err := r.Cookie(idpop.SessionCookie); err == nil {
		_ = h.state.DeleteSession(ctx, old.Value)
	}
	secret, err := h.state.CreateSession(ctx, sess, h.cfg.SessionIdle)
	if err != nil {
		return nil, err
	}
	// A password change (or a deletion) that landed between the password
	// check and now has already swept the account's sessions, but not this
	// one, created after the sweep: look again, and undo it if so.
	cur, err := h.dir.PrincipalBySubject(ctx, p.Subject)
	if err != nil || cur.PasswordHash != p.PasswordHash || !cur.CanSignIn() {
		_ = h.state.EndSessionByID(ctx, sess.SessionID)
		_ = h.state.DeleteSession(ctx, secret)
		if err == nil {
			err = errCredentialsChanged
		}
		return nil, err
	}
	http.SetCookie(w, h.sessionCookie(secret, int(h.cfg.SessionMax.Seconds())))
	return sess, nil
}

// errCredentialsChanged: the account's password changed, or the account was
// disabled, while a sign-in was under way; the sign-in does not count.
var errCredentialsChanged = errors.New("credentials changed during sign-in")

// sessionCookie is the SSO session cookie; maxAge < 0 deletes it.
func (h *Handler) sessionCookie(secret string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: idpop.SessionCookie, Value: secret, Path: cookiePath(h.cfg.BasePath),
		MaxAge: maxAge, HttpOnly: true, Secure: h.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
}
