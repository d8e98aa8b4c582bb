package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

const officerColumns = `id, login, display_name, role, status, mobile, email, password_hash IS NOT NULL,
	totp_sealed IS NOT NULL, coalesce(sessions_valid_after, 'epoch'::timestamptz), last_signin_at,
	created_at, updated_at, coalesce(created_by, 0)`

func scanOfficer(row pgx.Row) (storage.Officer, error) {
	var o storage.Officer
	err := row.Scan(&o.ID, &o.Login, &o.DisplayName, &o.Role, &o.Status, &o.Mobile, &o.Email, &o.HasPassword,
		&o.HasTOTP, &o.SessionsValidAfter, &o.LastSignInAt, &o.CreatedAt, &o.UpdatedAt, &o.CreatedBy)
	return o, err
}

// OfficerByLogin is the officer of a login name (any case).
func (s *Store) OfficerByLogin(ctx context.Context, login string) (storage.Officer, error) {
	o, err := scanOfficer(s.pool.QueryRow(ctx, `SELECT `+officerColumns+` FROM officers WHERE lower(login) = lower($1)`, login))
	return o, wrap("officer "+login, err)
}

// OfficerByID is the officer with id.
func (s *Store) OfficerByID(ctx context.Context, id int64) (storage.Officer, error) {
	o, err := scanOfficer(s.pool.QueryRow(ctx, `SELECT `+officerColumns+` FROM officers WHERE id = $1`, id))
	return o, wrap(fmt.Sprintf("officer %d", id), err)
}

// Officers is every officer, by login name.
func (s *Store) Officers(ctx context.Context) ([]storage.Officer, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+officerColumns+` FROM officers ORDER BY login`)
	if err != nil {
		return nil, wrap("list officers", err)
	}
	officers, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Officer, error) { return scanOfficer(row) })
	return nonNil(officers), wrap("list officers", err)
}

// CreateOfficer writes the officer o (validated) as created by the officer
// by, or, when by is nil, as the first officer (storage.MayCreateFirstOfficer):
// the table is locked while it is counted, so that of two first officers
// created at once one is refused. The audit event names by, or the first
// officer itself.
func (s *Store) CreateOfficer(ctx context.Context, by *storage.Officer, o *storage.Officer) error {
	var actor *storage.Actor
	if by != nil {
		a := storage.OfficerActor(*by)
		actor = &a
	}
	return s.CreateOfficerWithCode(ctx, actor, o, nil)
}

// CreateOfficerWithCode is CreateOfficer as the officer of the actor by
// (its address and desk session go to the audit trail), with, when issue
// is not nil, the officer's activation code and the message carrying it
// written in the same transaction.
func (s *Store) CreateOfficerWithCode(ctx context.Context, by *storage.Actor, o *storage.Officer, issue *storage.OfficerCodeIssue) error {
	now := s.now()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var actor storage.Officer
		if by == nil {
			if _, err := tx.Exec(ctx, `LOCK TABLE officers IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return wrap("lock officers", err)
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM officers`).Scan(&n); err != nil {
				return wrap("count officers", err)
			}
			if err := storage.MayCreateFirstOfficer(n, o.Role); err != nil {
				return err
			}
		} else {
			// The creator as it is now, held until the end: disabled in
			// between, it creates nobody.
			cur, err := scanOfficer(tx.QueryRow(ctx, `SELECT `+officerColumns+` FROM officers WHERE id = $1 FOR SHARE`, by.OfficerID))
			if err != nil {
				return wrap("officer "+by.ID, err)
			}
			if err := storage.OfficerMay(cur, storage.ActManageOfficers); err != nil {
				return err
			}
			actor = cur
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO officers (login, display_name, role, status, mobile, email, created_at, updated_at, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, nullif($8, 0)) RETURNING id`,
			o.Login, o.DisplayName, o.Role, o.Status, o.Mobile, o.Email, now, actor.ID).Scan(&o.ID)
		if err != nil {
			return wrap("create officer "+o.Login, err)
		}
		o.CreatedAt, o.UpdatedAt, o.CreatedBy = now, now, actor.ID
		auditActor := storage.OfficerActor(*o) // the first officer creates itself
		if by != nil {
			auditActor = actedAs(actor, *by)
		}
		details := map[string]any{"role": string(o.Role), "display_name": o.DisplayName, "first": by == nil}
		if issue != nil {
			if err := insertOfficerCode(ctx, tx, now, o.ID, issue); err != nil {
				return err
			}
			details["channel"], details["code_id"], details["outbox_id"] = string(issue.Code.Channel), issue.Code.ID, issue.Message.ID
		}
		return audit(ctx, tx, now, auditActor, auditEvent{action: "officer.create", target: o.Login, details: details})
	})
}

// DisableOfficer disables the officer login as the officer by
// (storage.MayDisableOfficer). The active supervisors are locked while they
// are counted: two supervisors disabling each other at once leave one.
func (s *Store) DisableOfficer(ctx context.Context, by storage.Officer, login string) (storage.Officer, error) {
	return s.DisableOfficerAs(ctx, storage.OfficerActor(by), login)
}

// DisableOfficerAs is DisableOfficer as the officer of the actor by (its
// address and desk session go to the audit trail).
func (s *Store) DisableOfficerAs(ctx context.Context, by storage.Actor, login string) (storage.Officer, error) {
	now := s.now()
	var target storage.Officer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		m, err := lockManaged(ctx, tx, by, login)
		if err != nil {
			return err
		}
		if err := storage.MayDisableOfficer(m.by, m.target, m.supervisors); err != nil {
			return err
		}
		target = m.target
		// Its desk sessions end at once, and stay ended if it is enabled again.
		if _, err := tx.Exec(ctx, `UPDATE officers SET status = 'disabled', sessions_valid_after = $2, updated_at = $2 WHERE id = $1`,
			target.ID, now); err != nil {
			return wrap(fmt.Sprintf("disable officer %s", login), err)
		}
		target.Status, target.UpdatedAt, target.SessionsValidAfter = storage.OfficerDisabled, now, now
		return audit(ctx, tx, now, m.actor, auditEvent{action: "officer.disable", target: target.Login,
			details: map[string]any{"role": string(target.Role)}})
	})
	return target, err
}
