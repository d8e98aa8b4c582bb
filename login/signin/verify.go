package signin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// Shared by the e-service sign-in and the portal's: reading the three
// fields, throttling, checking them, answering a refusal, and starting the
// SSO session.

// credentialCheck is the check of the three fields and the start of the
// browser's session that follows it. The portal's sign-in uses it through
// Handler (Verify, ReserveAttempt, StartSession).
type credentialCheck struct {
	k       *kit.Kit
	cfg     Config
	hasher  *password.Hasher
	history *attempts // records the refusals it decides
}

// Credentials are the three fields of a sign-in form.
type Credentials struct {
	EntityNumber, Username, Password string
}

// ReadCredentials takes the three fields from a parsed form. The entity
// number and username are trimmed; the password is taken as typed.
func ReadCredentials(form interface{ Get(string) string }) Credentials {
	return Credentials{
		EntityNumber: strings.TrimSpace(form.Get("entity_number")),
		Username:     strings.TrimSpace(form.Get("username")),
		Password:     form.Get("password"),
	}
}

// Complete reports whether all three fields were filled in.
func (c Credentials) Complete() bool {
	return c.EntityNumber != "" && c.Username != "" && c.Password != ""
}

// credentialFields are the sign-in form's fields, in the page's order.
var credentialFields = []string{"entity_number", "username", "password"}

// Fields are the sign-in form's fields shown again with c kept (never its
// password) after a refusal whose catalogue key is key ("" for none): the
// one answer for a wrong entity, username or password concerns all three,
// a form not filled in its empty fields, any other refusal none.
func (c Credentials) Fields(key string) kit.Fields {
	var invalid []string
	switch key {
	case "error_credentials":
		invalid = credentialFields
	case "error_missing_fields":
		invalid = kit.Empty(map[string]string{"entity_number": c.EntityNumber, "username": c.Username, "password": c.Password}, credentialFields...)
	}
	return kit.FieldsOf(credentialFields, map[string]string{"entity_number": c.EntityNumber, "username": c.Username}, invalid...)
}

// Verify checks the three fields under the throttle. It returns the
// principal when the password is right (whatever the principal may then do:
// the caller decides), a refusal to show (throttled, busy, or the one generic
// answer for unknown entity, unknown username and wrong password, after one
// hash each, counted as a failure), or an internal error. The attempt is
// reserved before the hash, so concurrent guesses cannot pass the limits.
func (h *credentialCheck) Verify(ctx context.Context, r *http.Request, c Credentials) (storage.Principal, *kit.Refusal, error) {
	if h.hasher.Saturated() {
		telemetry.SignIn(telemetry.SignInBusy)
		f := kit.Busy
		return storage.Principal{}, &f, nil
	}
	att, wait, err := h.ReserveAttempt(ctx, r, c.EntityNumber, c.Username)
	if err != nil {
		return storage.Principal{}, nil, err
	}
	if att == nil {
		telemetry.SignIn(telemetry.SignInThrottled)
		h.history.record(r, clientOf(ctx), storage.Principal{}, c.EntityNumber, c.Username, storage.SignInLocked, storage.MethodPassword)
		// Until when, whoever is named: the counter is keyed by what was
		// typed, so an unknown username is locked alike and the answer
		// tells nothing of whether it exists.
		f := kit.LockedUntil("signin_locked_until", wait, h.k.Now())
		return storage.Principal{}, &f, nil
	}
	p, err := h.authenticate(ctx, c.EntityNumber, c.Username, c.Password)
	switch {
	case errors.Is(err, password.ErrBusy):
		att.GiveBack(ctx)
		telemetry.SignIn(telemetry.SignInBusy)
		f := kit.Busy
		return p, &f, nil
	case errors.Is(err, errBadCredentials):
		// The reservation stays: it is this failure's count.
		telemetry.SignIn(telemetry.SignInBadCredentials)
		h.history.record(r, clientOf(ctx), p, c.EntityNumber, c.Username, storage.SignInWrongCredentials, storage.MethodPassword)
		slog.InfoContext(ctx, "sign-in failed", "entity", kit.Printable(c.EntityNumber), "ip", h.k.ClientIP(r))
		return p, &kit.Refusal{Status: http.StatusUnauthorized, Key: "error_credentials"}, nil
	case err != nil:
		att.GiveBack(ctx)
		return p, nil, err
	}
	att.Succeeded(ctx)
	return p, nil, nil
}

// ReserveAttempt reserves an attempt at the password of (entity number,
// username) on the sign-in counters: one per account (in normalised form,
// so that two spellings of one account share it) and one per client
// address. The portal's password change guards the old password with it.
func (h *credentialCheck) ReserveAttempt(ctx context.Context, r *http.Request, entityNumber, username string) (*kit.Attempt, time.Duration, error) {
	return h.k.ReserveAttempt(ctx, h.cfg.FailureWindow,
		kit.Limit{Key: storage.SignInFailKey(entityNumber, username), Max: h.cfg.FailuresPerAccount},
		kit.Limit{Key: "login-fail:ip:" + h.k.ClientIP(r), Max: h.cfg.FailuresPerIP})
}

var errBadCredentials = errors.New("bad credentials")

// authenticate verifies (entity number, username, password). Every failure
// that could tell whether an account exists is errBadCredentials, and each
// costs one hash. An account that exists but may not sign in (not activated,
// deleted, entity closed) fails the same way.
func (h *credentialCheck) authenticate(ctx context.Context, entityNumber, username, pw string) (storage.Principal, error) {
	var p storage.Principal
	err := storage.ErrNotFound // what cannot be an entity number or a username names no account
	number, okNumber := storage.NormalizeEntityNumber(entityNumber)
	user, okUser := storage.NormalizeUsername(username)
	if okNumber && okUser {
		p, err = h.k.Dir.Principal(ctx, number, user)
	}
	if errors.Is(err, storage.ErrNotFound) || (err == nil && p.PasswordHash == "") {
		if err := h.hasher.VerifyNothing(ctx, pw); err != nil {
			return p, err
		}
		return p, errBadCredentials
	}
	if err != nil {
		return p, err
	}
	ok, rehash, err := h.hasher.Verify(ctx, p.PasswordHash, pw)
	if err != nil {
		return p, err
	}
	if !ok || !p.CanSignIn() {
		return p, errBadCredentials
	}
	if rehash {
		// Parameters were raised since this hash was made: upgrade it now
		// that we know the password. Failure only delays the upgrade.
		if fresh, err := h.hasher.Hash(ctx, pw); err == nil {
			if err := h.k.Dir.UpdatePasswordHash(ctx, p.Kind, p.ID, p.PasswordHash, fresh); err != nil {
				slog.WarnContext(ctx, "upgrade password hash", "err", err)
			} else {
				p.PasswordHash = fresh // what the account holds now (StartSession checks it)
			}
		}
	}
	return p, nil
}

// StartSession starts the SSO session of p, just signed in with its
// password, in this browser, replacing whatever session the browser had,
// and sets the session cookie.
func (h *credentialCheck) StartSession(w http.ResponseWriter, r *http.Request, p storage.Principal) (*storage.Session, error) {
	cur, err := h.startSession(w, r, p, []string{storage.AMRPassword}, false, 0)
	if err != nil {
		return nil, err
	}
	return cur.Session, nil
}

// startSession starts the session of p proven by the methods amr; tool
// says that an identity tool was among them (a passkey sign-in). It returns
// the session with the account as read after the session was stored and,
// when serviceID is not 0, the staff login's access to that e-service, read
// in the same round trip.
func (h *credentialCheck) startSession(w http.ResponseWriter, r *http.Request, p storage.Principal, amr []string, tool bool, serviceID int64) (*kit.Signed, error) {
	ctx := r.Context()
	now := h.k.Now().UTC().Truncate(time.Second)
	sess := &storage.Session{
		Kind: p.Kind,
		Authentication: storage.Authentication{
			Subject: p.Subject, LoginID: p.ID, EntityNumber: p.EntityNumber,
			AuthTime: now, AMR: amr, ACR: storage.LevelOfAMR(amr).ACR(),
		},
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(h.cfg.SessionMax),
		Device: h.k.DeviceOf(r),
	}
	if tool {
		sess.ToolAt = now
	}
	if slices.Contains(amr, storage.AMRPassword) {
		sess.PasswordAt = now
	}
	if old, err := r.Cookie(idpop.SessionCookie); err == nil {
		_ = h.k.State.DeleteSession(ctx, old.Value)
	}
	secret, err := h.k.State.CreateSession(ctx, sess, h.k.SessionIdle)
	if err != nil {
		return nil, err
	}
	// A password change (or a deletion) that landed between the password
	// check and now has already swept the account's sessions, but not this
	// one, created after the sweep: look again, and undo it if so. The
	// e-service's access is read in the same round trip, for the request
	// this sign-in answers.
	var cur storage.Principal
	var access *storage.ServiceAccess
	if serviceID != 0 && p.Kind == storage.KindStaff {
		var a storage.ServiceAccess
		cur, a, err = h.k.Dir.PrincipalInService(ctx, p.Subject, p.ID, serviceID)
		if err == nil && cur.Kind == storage.KindStaff && cur.ID == p.ID {
			access = &a
		}
	} else {
		cur, err = h.k.Dir.PrincipalBySubject(ctx, p.Subject)
	}
	if err != nil || cur.PasswordHash != p.PasswordHash || !cur.CanSignIn() {
		_ = h.k.State.EndSessionByID(ctx, sess.SessionID)
		_ = h.k.State.DeleteSession(ctx, secret)
		if err == nil {
			err = errCredentialsChanged
		}
		return nil, err
	}
	http.SetCookie(w, h.k.SessionCookie(secret, int(h.cfg.SessionMax.Seconds())))
	return &kit.Signed{Session: sess, Principal: cur, Access: access}, nil
}

// errCredentialsChanged: the account's password changed, or the account was
// disabled, while a sign-in was under way; the sign-in does not count.
var errCredentialsChanged = errors.New("credentials changed during sign-in")
