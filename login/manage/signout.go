package manage

import (
	"context"
	"time"

	"github.com/entity-account/idp/storage"
)

// 強制登出 and 解除鎖定 on a staff login's page, and the lockouts the staff
// list shows: an admin (or the operator) ends every session and token of a
// login, and lifts the lockout that too many failed sign-ins put on it.

// Audit actions of this file's use cases.
const (
	actionSignOut = "staff.sign_out"
	actionUnlock  = "staff.unlock"
)

// defaultSignInFailures is the sign-in's default FailuresPerAccount, for a
// Service whose SignInFailures was not set.
const defaultSignInFailures = 5

func (s *Service) signInFailures() int {
	if s.SignInFailures > 0 {
		return s.SignInFailures
	}
	return defaultSignInFailures
}

// ForceSignOut ends every session, refresh token and access token of the
// staff login euid of entity entityID (強制登出), each e-service told by
// back-channel logout; the act is audited (staff.sign_out) with its actor
// before the sweep, which a repeat completes if it failed. The login keeps
// its password and may sign in again. A login of another entity is not
// found, and nothing is done.
func (s *Service) ForceSignOut(ctx context.Context, actor storage.Actor, entityID int64, euid string) (storage.StaffLogin, error) {
	if !storage.CanForceSignOut(actor, entityID) {
		return storage.StaffLogin{}, forbidden("sign the staff logins of this entity out")
	}
	sl, err := s.dir.AuditStaffAction(ctx, actor, entityID, euid, actionSignOut, nil)
	if err != nil {
		return sl, notFound(err, "Staff login "+euid)
	}
	if err := s.sessions.EndAllForSubject(ctx, sl.EUID); err != nil {
		return sl, &storage.Error{Code: storage.CodeOf(err), Err: err,
			Message: "Not every session of the staff login could be ended; repeat 強制登出 to finish."}
	}
	return sl, nil
}

// lockoutKey is the failed sign-in counter of a staff login of entity
// number (storage.SignInFailKey); "" for a login without a username (not
// activated), which nobody can sign in as.
func lockoutKey(number, username string) string {
	if username == "" {
		return ""
	}
	return storage.SignInFailKey(number, username)
}

// Lockouts tells, for each of the usernames of staff logins of entity e,
// until when too many failed sign-ins lock it (the zero time: not
// locked), in one round trip; for those who may see the entity's staff.
func (s *Service) Lockouts(ctx context.Context, actor storage.Actor, e storage.Entity, usernames []string) ([]time.Time, error) {
	if !storage.CanViewStaff(actor, e.ID) {
		return nil, forbidden("see the staff of this entity")
	}
	keys := make([]string, 0, len(usernames))
	at := make([]int, 0, len(usernames))
	for i, u := range usernames {
		if k := lockoutKey(e.Number, u); k != "" {
			keys, at = append(keys, k), append(at, i)
		}
	}
	until := make([]time.Time, len(usernames))
	held, err := s.sessions.HeldAll(ctx, keys, s.signInFailures())
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		until[i] = held[j]
	}
	return until, nil
}

// ErrNotLocked refuses 解除鎖定 of a login that no lockout holds (never
// locked, or its lockout has ended): nothing is written.
var ErrNotLocked = &storage.Error{Code: storage.EConflict, Key: "lockout_error_not_locked",
	Message: "The staff login is not locked.", Err: storage.ErrConflict}

// LiftLockout clears the failed sign-ins that lock the staff login euid of
// entity e (解除鎖定), so that its holder may sign in again at once; the
// act is audited (staff.unlock, with the time the lockout would have
// ended). A login that is not locked is ErrNotLocked, one of another
// entity not found; neither writes anything.
func (s *Service) LiftLockout(ctx context.Context, actor storage.Actor, e storage.Entity, euid string) (storage.StaffLogin, error) {
	if !storage.CanLiftLockout(actor, e.ID) {
		return storage.StaffLogin{}, forbidden("lift the lockouts of this entity's staff logins")
	}
	sl, err := s.dir.StaffLoginOf(ctx, e.ID, euid)
	if err != nil {
		return storage.StaffLogin{}, notFound(err, "Staff login "+euid)
	}
	key := lockoutKey(e.Number, sl.Username)
	if key == "" {
		return sl, ErrNotLocked
	}
	until, err := s.sessions.Held(ctx, key, s.signInFailures())
	if err != nil {
		return sl, err
	}
	if until.IsZero() {
		return sl, ErrNotLocked
	}
	sl, err = s.dir.AuditStaffAction(ctx, actor, e.ID, euid, actionUnlock, map[string]any{"locked_until": until.UTC().Format(time.RFC3339)})
	if err != nil {
		return sl, notFound(err, "Staff login "+euid)
	}
	return sl, s.sessions.ResetAttempts(ctx, key)
}
