// Package credential holds the use cases of an account's password: its
// holder changing it (the portal's 「變更密碼」). Each checks what it is
// given, writes with its audit event in one transaction, and ends what the
// change ends (every session and token of the account), so that no caller
// can do half of it.
package credential

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
)

// Directory is what the use cases need of the durable store.
type Directory interface {
	// ChangePassword replaces the password hash old of the account with
	// new, audited, only if old is still in place (storage.ErrConflict
	// otherwise, or when the account may no longer sign in).
	// The notice (nil: none) tells the holder, written in the same transaction.
	ChangePassword(ctx context.Context, kind storage.PrincipalKind, id int64, old, new, ip string, notice *storage.OutboxMessage) error
}

// Sessions ends an account's sessions and tokens (telling relying parties).
type Sessions interface {
	EndAllForSubject(ctx context.Context, subject string) error
}

// Attempt is one attempt at a password reserved on the sign-in counters:
// the change's old password is guarded like a sign-in.
type Attempt interface {
	// Succeeded clears the account's failures; GiveBack returns the
	// attempt unused (nothing was checked).
	Succeeded(ctx context.Context)
	GiveBack(ctx context.Context)
}

// Reserve reserves an attempt, or returns a nil Attempt and how long to
// wait when the counters are full.
type Reserve func(ctx context.Context) (Attempt, time.Duration, error)

// Passwords runs the use cases.
type Passwords struct {
	dir      Directory
	sessions Sessions
	hasher   *password.Hasher
	notices  *notify.Notices // nil: nobody is told (until TellHolders)
}

// TellHolders makes every change tell the account's holder ("password
// changed", notify_password_changed) at the registered mobile (else
// e-mail), in the transaction of the change.
func (s *Passwords) TellHolders(n notify.Notices) error {
	if err := n.Check(); err != nil {
		return err
	}
	s.notices = &n
	return nil
}

// notice is the "password changed" notice to p's holder; nil when nobody
// is told.
func (s *Passwords) notice(p storage.Principal) (*storage.OutboxMessage, error) {
	if s.notices == nil {
		return nil, nil
	}
	ch, to := storage.ChannelSMS, p.Mobile
	if to == "" {
		ch, to = storage.ChannelEmail, p.Email
	}
	return s.notices.To(ch, to, p.Language, "password_changed", notify.NoticeVars{EntityNumber: p.EntityNumber, Username: p.Username, At: time.Now()})
}

// New returns the use cases over dir and sessions, hashing with hasher.
func New(dir Directory, sessions Sessions, hasher *password.Hasher) *Passwords {
	return &Passwords{dir: dir, sessions: sessions, hasher: hasher}
}

// Change is a change of the signed-in account's own password.
type Change struct {
	Account storage.Principal // as read for this request
	IP      string
	// Old is the password now, New the new one typed twice (Again).
	Old, New, Again string
	// Reserve guards Old on the sign-in counters.
	Reserve Reserve
}

// Change's refusals are *storage.Error values (joined when several
// fields are at fault), each with the catalogue key of its message and
// the field it concerns: EInvalid or EConflict for the form, EUnauthenticated
// for a wrong old password, ETooMany (with Wait) when the sign-in counters
// take no attempt; password.ErrBusy when no hashing slot is free.

// fieldError is a refusal of the form, about field (or, with none, the
// form as a whole), whose message is the catalogue text of key.
func fieldError(code storage.ErrorCode, key string, fields ...string) error {
	if len(fields) == 0 {
		return &storage.Error{Code: code, Key: key, Message: "refused: " + key}
	}
	errs := make([]error, len(fields))
	for i, f := range fields {
		errs[i] = &storage.Error{Code: code, Key: key, Field: f, Message: "refused: " + key}
	}
	return errors.Join(errs...)
}

// Change checks c (every field given, the new password twice alike, the
// policy of password.CheckPolicy, not the old one), then the old password
// on the sign-in counters; then the new hash is stored, audited, only if
// the old one is still in place, and every session and token of the
// account ends. It returns the new hash (the caller's fresh session carries
// it). A policy refusal wraps the *password.PolicyError (its Key).
func (s *Passwords) Change(ctx context.Context, c Change) (string, error) {
	p := c.Account
	switch {
	case c.Old == "" || c.New == "" || c.Again == "":
		var empty []string
		for _, f := range []struct{ name, v string }{{"old_password", c.Old}, {"new_password", c.New}, {"new_password2", c.Again}} {
			if f.v == "" {
				empty = append(empty, f.name)
			}
		}
		return "", fieldError(storage.EInvalid, "account_error_missing", empty...)
	case c.New != c.Again:
		return "", fieldError(storage.EInvalid, "account_error_mismatch", "new_password2")
	}
	if err := password.CheckPolicy(c.New, p.Username, p.EntityNumber, strings.ReplaceAll(p.EntityNumber, "-", "")); err != nil {
		var pe *password.PolicyError
		if !errors.As(err, &pe) {
			return "", err
		}
		return "", &storage.Error{Code: storage.EInvalid, Key: pe.Key, Field: "new_password", Message: "refused: " + pe.Key, Err: pe}
	}
	if c.New == c.Old {
		return "", fieldError(storage.EInvalid, "pw_same_as_old", "new_password")
	}

	att, wait, err := c.Reserve(ctx)
	if err != nil {
		return "", err
	}
	if att == nil {
		return "", &storage.Error{Code: storage.ETooMany, Key: "error_throttled", Wait: wait, Message: "refused: error_throttled"}
	}
	right, _, err := s.hasher.Verify(ctx, p.PasswordHash, c.Old)
	if err != nil {
		att.GiveBack(ctx) // busy or broken: nothing was checked
		return "", err
	}
	if !right {
		slog.InfoContext(ctx, "password change: wrong old password", "subject", p.Subject, "ip", c.IP)
		return "", fieldError(storage.EUnauthenticated, "account_error_old_password", "old_password")
	}
	att.Succeeded(ctx)
	newHash, err := s.hasher.Hash(ctx, c.New)
	if err != nil {
		return "", err
	}
	notice, err := s.notice(p)
	if err != nil {
		return "", err
	}
	err = s.dir.ChangePassword(ctx, p.Kind, p.ID, p.PasswordHash, newHash, c.IP, notice)
	if errors.Is(err, storage.ErrConflict) {
		// Changed meanwhile (another change won), or the account was just disabled.
		return "", fieldError(storage.EConflict, "account_error_conflict")
	}
	if err != nil {
		return "", err
	}
	if s.notices != nil {
		s.notices.Woke(notice)
	}
	// Every session and token of the account ends, the caller's too.
	if err := s.sessions.EndAllForSubject(ctx, p.Subject); err != nil {
		return "", err
	}
	slog.InfoContext(ctx, "password changed", "subject", p.Subject, "kind", p.Kind, "entity", p.EntityNumber, "ip", c.IP)
	return newHash, nil
}
