package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// Account recovery: reset codes (activation codes of purpose reset, so
// they share the hashing, the single use, the tries and the outbox), the
// reset itself, and the message that reminds a holder of its username.
// Every write goes with its audit event, and the notice to the holder, in
// one transaction; ending the account's sessions is the caller's.

var recoveryAccountSQL = activateeQuery(`e.number = $1 AND lower(p.username) = lower($2)`,
	`e.number = $1 AND lower(p.username) = lower($2)`)

// RecoveryAccount returns the account of username in the entity numbered
// entityNumber (the entity account or a staff login: usernames are unique
// in an entity across both), or storage.ErrNotFound.
func (s *Store) RecoveryAccount(ctx context.Context, entityNumber, username string) (storage.Activatee, error) {
	if username == "" {
		return storage.Activatee{}, wrap("get recovery account", pgx.ErrNoRows)
	}
	list, err := collectActivatees(s.pool.Query(ctx, recoveryAccountSQL, entityNumber, strings.TrimSpace(username)))
	if err == nil && len(list) == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return storage.Activatee{}, wrap("get recovery account", err)
	}
	return list[0], nil
}

// IssueResetCode stores a new reset code (issue.Code, its Purpose set to
// reset here) for the account ref with the outbox message that delivers
// it, voiding the account's open code, in one transaction with the audit
// event password_reset.issue and, when notice is not nil, the notice that
// a reset was asked for. storage.ErrConflict when the account may not be
// reset (not activated, deleted, entity closed).
func (s *Store) IssueResetCode(ctx context.Context, actor storage.Actor, ref storage.AccountRef, issue *storage.CodeIssue, notice *storage.OutboxMessage) error {
	if _, err := accountColumn(ref.Kind); err != nil {
		return wrap("issue reset code", err)
	}
	issue.Code.Purpose = storage.PurposeReset
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := lockAccount(ctx, tx, ref)
		if err != nil {
			return err
		}
		if !a.MayResetPassword() {
			return storage.ErrConflict
		}
		if err := insertCode(ctx, tx, now, actor, a, issue); err != nil {
			return err
		}
		if notice == nil {
			return nil
		}
		return enqueueNotice(ctx, tx, now, a.EntityID, notice)
	})
	return wrap("issue reset code", err)
}

// ResetCodes returns the last limit reset codes of an account, newest
// first (the first is the only one that can be live).
func (s *Store) ResetCodes(ctx context.Context, ref storage.AccountRef, limit int) ([]storage.ActivationCode, error) {
	return s.codesOf(ctx, ref, storage.PurposeReset, limit)
}

// CompleteReset sets the password hash of the account of a live reset code
// and marks the code used, in one transaction with the audit event
// (staff.password_reset or entity_account.password_reset; never a hash)
// and, when notice is not nil, the notice that tells the holder. The EUID,
// username, rights, assignments and tools stay as they are. It returns the
// account as it was. storage.ErrNotFound for an unknown code or one that
// is not a reset code, storage.ErrConflict when the code was used or the
// account may no longer be reset, storage.ErrCodeNotLive when the code was
// voided or has expired; in each case nothing changes.
func (s *Store) CompleteReset(ctx context.Context, actor storage.Actor, codeID int64, passwordHash string, notice *storage.OutboxMessage) (storage.Activatee, error) {
	if passwordHash == "" {
		return storage.Activatee{}, errors.New("postgres: complete reset: empty hash")
	}
	now := s.now()
	var a storage.Activatee
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, err := scanCode(tx.QueryRow(ctx, `SELECT `+codeColumns+` FROM activation_codes WHERE id = $1 FOR UPDATE`, codeID))
		switch {
		case err != nil:
			return err
		case c.Purpose != storage.PurposeReset:
			return storage.ErrNotFound // an activation code resets nothing
		case c.UsedAt != nil:
			return storage.ErrConflict
		case !c.Live(now):
			return storage.ErrCodeNotLive
		}
		if a, err = lockAccount(ctx, tx, c.Account); err != nil {
			return err
		}
		if !a.MayResetPassword() {
			return storage.ErrConflict
		}
		return resetPassword(ctx, tx, now, actor, a, c, passwordHash, notice)
	})
	return a, wrap("complete reset", err)
}

// resetPassword writes the new hash of a, spends its code c and writes the
// audit event and the notice, in tx.
func resetPassword(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, a storage.Activatee, c storage.ActivationCode, hash string, notice *storage.OutboxMessage) error {
	action := "staff.password_reset"
	update, args := `UPDATE staff_logins SET password_hash = $2, updated_at = $3 WHERE id = $1`, []any{a.Account.ID, hash, now}
	if a.Account.Kind == storage.KindEntityAccount {
		action = "entity_account.password_reset"
		update, args = `UPDATE entity_accounts SET password_hash = $2 WHERE id = $1`, args[:2]
	}
	if _, err := tx.Exec(ctx, update, args...); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE activation_codes SET used_at = $2 WHERE id = $1`, c.ID, now); err != nil {
		return err
	}
	details := map[string]any{"code_id": c.ID}
	if notice != nil {
		if err := enqueueNotice(ctx, tx, now, a.EntityID, notice); err != nil {
			return err
		}
		details["notice"] = map[string]any{"outbox_id": notice.ID, "channel": string(notice.Channel)}
	}
	return audit(ctx, tx, now, actor, auditEvent{entityID: &a.EntityID, action: action, target: a.Subject, details: details})
}

// RemindUsername writes the message m that tells the holder of the account
// ref its username (and, when notice is not nil, the notice that it was
// asked for) to the outbox, with the audit event username.remind, in one
// transaction. storage.ErrConflict when the account has no username to
// tell (not activated, deleted, entity closed).
func (s *Store) RemindUsername(ctx context.Context, actor storage.Actor, ref storage.AccountRef, m, notice *storage.OutboxMessage) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := lockAccount(ctx, tx, ref)
		if err != nil {
			return err
		}
		if !a.MayResetPassword() {
			return storage.ErrConflict
		}
		if err := enqueueNotice(ctx, tx, now, a.EntityID, m); err != nil {
			return err
		}
		if notice != nil {
			if err := enqueueNotice(ctx, tx, now, a.EntityID, notice); err != nil {
				return err
			}
		}
		return audit(ctx, tx, now, actor, auditEvent{entityID: &a.EntityID, action: "username.remind", target: a.Subject,
			details: map[string]any{"kind": string(a.Account.Kind), "channel": string(m.Channel), "outbox_id": m.ID}})
	})
	return wrap("remind username", err)
}
