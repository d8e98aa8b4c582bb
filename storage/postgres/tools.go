package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// Identity tools of staff logins (migration 00010). The store keeps the
// TOTP secret as the sealed bytes it is given and never sees it in clear;
// every change is audited in its transaction (tool.enrol, tool.confirm,
// tool.approve, tool.reset). Using a tool at sign-in (UseTOTP) moves its
// last step and last-used time only, unaudited like a sign-in.

const toolColumns = `id, staff_login_id, kind, state, name, created_at, confirmed_at, approved_at, last_used_at, last_step`

func scanTool(row pgx.Row, sealed *[]byte) (storage.IdentityTool, error) {
	var t storage.IdentityTool
	dest := []any{&t.ID, &t.StaffLoginID, &t.Kind, &t.State, &t.Name, &t.CreatedAt, &t.ConfirmedAt, &t.ApprovedAt, &t.LastUsedAt, &t.LastStep}
	if sealed != nil {
		dest = append(dest, sealed)
	}
	err := row.Scan(dest...)
	return t, err
}

func toolAudit(sl storage.StaffLogin, action string, details map[string]any) auditEvent {
	entityID := sl.EntityID
	return auditEvent{entityID: &entityID, action: action, target: sl.EUID, details: details}
}

// BeginTOTP stores a new, unconfirmed TOTP of sl with its sealed secret,
// replacing an unconfirmed one (a QR code shown again), with tool.enrol.
// A pending or active TOTP is storage.ErrConflict: it must be reset first.
func (s *Store) BeginTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, name string, sealed []byte) (storage.IdentityTool, error) {
	now := s.now()
	var t storage.IdentityTool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM staff_logins WHERE id = $1 FOR UPDATE`, sl.ID); err != nil {
			return err
		}
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM identity_tools WHERE staff_login_id = $1 AND kind = 'totp'`, sl.ID).Scan(&state)
		switch {
		case err == nil && state != string(storage.ToolUnconfirmed):
			return storage.ErrConflict
		case err == nil:
			if _, err := tx.Exec(ctx, `DELETE FROM identity_tools WHERE staff_login_id = $1 AND kind = 'totp'`, sl.ID); err != nil {
				return err
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if t, err = scanTool(tx.QueryRow(ctx, `
			INSERT INTO identity_tools (staff_login_id, kind, state, name, secret_sealed, created_at)
			VALUES ($1, 'totp', 'unconfirmed', $2, $3, $4)
			RETURNING `+toolColumns, sl.ID, name, sealed, now), nil); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, toolAudit(sl, "tool.enrol", map[string]any{"kind": "totp"}))
	})
	return t, wrap("begin totp", err)
}

// TOTP returns the TOTP of a staff login and its sealed secret.
func (s *Store) TOTP(ctx context.Context, staffLoginID int64) (storage.IdentityTool, []byte, error) {
	var sealed []byte
	t, err := scanTool(s.pool.QueryRow(ctx, `SELECT `+toolColumns+`, secret_sealed FROM identity_tools
		WHERE staff_login_id = $1 AND kind = 'totp'`, staffLoginID), &sealed)
	return t, sealed, wrap("read totp", err)
}

// Tools lists the identity tools of a staff login (without secrets).
func (s *Store) Tools(ctx context.Context, staffLoginID int64) ([]storage.IdentityTool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+toolColumns+` FROM identity_tools WHERE staff_login_id = $1 ORDER BY id`, staffLoginID)
	if err != nil {
		return nil, wrap("list tools", err)
	}
	tools, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.IdentityTool, error) { return scanTool(row, nil) })
	return nonNil(tools), wrap("list tools", err)
}

// moveTOTP changes the TOTP of sl from state from to state to, accepting the
// code of time step step, in one conditional UPDATE: it happens only when
// the tool is in from and step is later than the last accepted one, else
// storage.ErrConflict. The audit event action is written in the same
// transaction.
func (s *Store) moveTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, from, to storage.ToolState, step int64, set, action string) (storage.IdentityTool, error) {
	now := s.now()
	var t storage.IdentityTool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanTool(tx.QueryRow(ctx, `
			UPDATE identity_tools SET state = $3, last_step = $4, `+set+` = $5
			WHERE staff_login_id = $1 AND kind = 'totp' AND state = $2 AND last_step < $4
			RETURNING `+toolColumns, sl.ID, string(from), string(to), step, now), nil)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrConflict
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, toolAudit(sl, action, map[string]any{"kind": "totp", "state": string(to)}))
	})
	return t, wrap(action, err)
}

// ConfirmTOTP records the login's first code (of time step step): the
// unconfirmed TOTP becomes to (active, or pending the operator's check),
// with tool.confirm. Not unconfirmed, or a step not later than the last:
// storage.ErrConflict.
func (s *Store) ConfirmTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, step int64, to storage.ToolState) (storage.IdentityTool, error) {
	return s.moveTOTP(ctx, actor, sl, storage.ToolUnconfirmed, to, step, "confirmed_at", "tool.confirm")
}

// ApproveTOTP makes a pending TOTP active after the operator's check, the
// code of time step step proving the device, with tool.approve.
func (s *Store) ApproveTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, step int64) (storage.IdentityTool, error) {
	return s.moveTOTP(ctx, actor, sl, storage.ToolPending, storage.ToolActive, step, "approved_at", "tool.approve")
}

// UseTOTP accepts a code of time step step of an active TOTP, once: it
// reports false when the tool is not active or a code of this step or a
// later one was already accepted (a replay). Atomic: of codes of one step
// sent at once, exactly one is accepted.
func (s *Store) UseTOTP(ctx context.Context, staffLoginID, step int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE identity_tools SET last_step = $2, last_used_at = $3
		WHERE staff_login_id = $1 AND kind = 'totp' AND state = 'active' AND last_step < $2`,
		staffLoginID, step, s.now())
	if err != nil {
		return false, wrap("use totp", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ResetTools removes every identity tool of sl (a lost phone), with
// tool.reset naming how many went. None: storage.ErrNotFound.
func (s *Store) ResetTools(ctx context.Context, actor storage.Actor, sl storage.StaffLogin) (int, error) {
	now := s.now()
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM identity_tools WHERE staff_login_id = $1`, sl.ID)
		if err != nil {
			return err
		}
		if n = tag.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return audit(ctx, tx, now, actor, toolAudit(sl, "tool.reset", map[string]any{"removed": n}))
	})
	return int(n), wrap("reset tools", err)
}
