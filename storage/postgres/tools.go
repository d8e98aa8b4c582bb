package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/entity-account/idp/storage"
)

// Identity tools of staff logins (migrations 00010, 00011). The store keeps
// the TOTP secret as the sealed bytes it is given and never sees it in
// clear; a passkey is its public key and counter, nothing secret. Every
// change is audited in its transaction (tool.enrol, tool.confirm,
// tool.approve, tool.reset, tool.passkey.add, tool.passkey.remove,
// tool.passkey.off, tool.passkey.enable; tool.void when a change of the
// identity document removes them, in staff.go) together with the notice
// that tells the holder, when the caller gives one. Using a tool at sign-in
// (UseTOTP, UsePasskey) moves its counter and last-used time only,
// unaudited like a sign-in.

const toolColumns = `id, staff_login_id, kind, state, name, created_at, confirmed_at, approved_at, last_used_at, last_step`

const passkeyColumns = toolColumns + `, credential_id, public_key, sign_count, coalesce(aaguid, ''::bytea),
	backup_eligible, backup_state, transports, attachment`

func scanTool(row pgx.Row, extra ...any) (storage.IdentityTool, error) {
	var t storage.IdentityTool
	dest := []any{&t.ID, &t.StaffLoginID, &t.Kind, &t.State, &t.Name, &t.CreatedAt, &t.ConfirmedAt, &t.ApprovedAt, &t.LastUsedAt, &t.LastStep}
	err := row.Scan(append(dest, extra...)...)
	return t, err
}

func scanPasskey(row pgx.Row) (storage.Passkey, error) {
	var p storage.Passkey
	var count int64
	var err error
	p.IdentityTool, err = scanTool(row, &p.CredentialID, &p.PublicKey, &count, &p.AAGUID,
		&p.BackupEligible, &p.BackupState, &p.Transports, &p.Attachment)
	p.SignCount = uint32(count) // the column is checked to fit
	if len(p.AAGUID) == 0 {
		p.AAGUID = nil
	}
	return p, err
}

// toolChange writes the audit event action of a change to sl's tools and,
// when notice is not nil, the notice that tells the holder (its outbox id
// goes into the event), in tx.
func toolChange(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, sl storage.StaffLogin, action string, details map[string]any, notice *storage.OutboxMessage) error {
	if notice != nil {
		if err := enqueueNotice(ctx, tx, now, sl.EntityID, notice); err != nil {
			return err
		}
		details["notice"] = map[string]any{"outbox_id": notice.ID, "channel": string(notice.Channel)}
	}
	entityID := sl.EntityID
	return audit(ctx, tx, now, actor, auditEvent{entityID: &entityID, action: action, target: sl.EUID, details: details})
}

// BeginTOTP stores a new, unconfirmed TOTP of sl with its sealed secret,
// replacing an unconfirmed one (a QR code shown again), with tool.enrol.
// A pending or active TOTP is storage.ErrConflict: it must be reset first.
// Nothing is enrolled yet, so nobody is told.
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
			RETURNING `+toolColumns, sl.ID, name, sealed, now)); err != nil {
			return err
		}
		return toolChange(ctx, tx, now, actor, sl, "tool.enrol", map[string]any{"kind": "totp"}, nil)
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

// Tools lists the identity tools of a staff login, TOTP and passkeys,
// oldest first (without secrets or keys).
func (s *Store) Tools(ctx context.Context, staffLoginID int64) ([]storage.IdentityTool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+toolColumns+` FROM identity_tools WHERE staff_login_id = $1 ORDER BY id`, staffLoginID)
	if err != nil {
		return nil, wrap("list tools", err)
	}
	tools, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.IdentityTool, error) { return scanTool(row) })
	return nonNil(tools), wrap("list tools", err)
}

// moveTOTP changes the TOTP of sl from state from to state to, accepting the
// code of time step step, in one conditional UPDATE: it happens only when
// the tool is in from and step is later than the last accepted one, else
// storage.ErrConflict. The audit event action and the notice (nil: none)
// are written in the same transaction.
func (s *Store) moveTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, from, to storage.ToolState, step int64, set, action string, notice *storage.OutboxMessage) (storage.IdentityTool, error) {
	now := s.now()
	var t storage.IdentityTool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanTool(tx.QueryRow(ctx, `
			UPDATE identity_tools SET state = $3, last_step = $4, `+set+` = $5
			WHERE staff_login_id = $1 AND kind = 'totp' AND state = $2 AND last_step < $4
			RETURNING `+toolColumns, sl.ID, string(from), string(to), step, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrConflict
		}
		if err != nil {
			return err
		}
		return toolChange(ctx, tx, now, actor, sl, action, map[string]any{"kind": "totp", "state": string(to)}, notice)
	})
	return t, wrap(action, err)
}

// ConfirmTOTP records the login's first code (of time step step): the
// unconfirmed TOTP becomes to (active, or pending the operator's check),
// with tool.confirm and the notice (nil: none). Not unconfirmed, or a step
// not later than the last: storage.ErrConflict.
func (s *Store) ConfirmTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, step int64, to storage.ToolState, notice *storage.OutboxMessage) (storage.IdentityTool, error) {
	return s.moveTOTP(ctx, actor, sl, storage.ToolUnconfirmed, to, step, "confirmed_at", "tool.confirm", notice)
}

// ApproveTOTP makes a pending TOTP active after the operator's check, the
// code of time step step proving the device, with tool.approve and the
// notice (nil: none).
func (s *Store) ApproveTOTP(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, step int64, notice *storage.OutboxMessage) (storage.IdentityTool, error) {
	return s.moveTOTP(ctx, actor, sl, storage.ToolPending, storage.ToolActive, step, "approved_at", "tool.approve", notice)
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

// ResetTools removes every identity tool of sl, passkeys included (a lost
// phone), with tool.reset naming how many went and the notice (nil: none).
// It does not switch passkeys off. None: storage.ErrNotFound.
func (s *Store) ResetTools(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, notice *storage.OutboxMessage) (int, error) {
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
		return toolChange(ctx, tx, now, actor, sl, "tool.reset", map[string]any{"removed": n}, notice)
	})
	return int(n), wrap("reset tools", err)
}

// ---- passkeys ----

// passkeyAccountSQL selects a staff login (staffColumns), its WebAuthn user
// handle, when its passkeys were switched off, and its entity's number and
// whether the entity is open; the caller adds the condition.
const passkeyAccountSQL = `SELECT ` + staffColumns + `, webauthn_handle, passkeys_off_at, e.e_number, e.e_active
	FROM staff_logins JOIN (SELECT id AS e_id, number AS e_number, status = 'active' AS e_active FROM entities) e
		ON e.e_id = staff_logins.entity_id
	WHERE `

func (s *Store) passkeyAccount(ctx context.Context, cond string, arg any) (storage.PasskeyAccount, error) {
	var a storage.PasskeyAccount
	var err error
	a.Login, err = scanStaffLogin(s.pool.QueryRow(ctx, passkeyAccountSQL+cond, arg),
		&a.Handle, &a.PasskeysOff, &a.EntityNumber, &a.EntityActive)
	if err != nil {
		return a, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+passkeyColumns+` FROM identity_tools
		WHERE staff_login_id = $1 AND kind = 'passkey' ORDER BY id`, a.Login.ID)
	if err != nil {
		return a, err
	}
	a.Passkeys, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Passkey, error) { return scanPasskey(row) })
	a.Passkeys = nonNil(a.Passkeys)
	return a, err
}

// PasskeyAccount returns what passkey ceremonies know of staff login id,
// its passkeys included (deleted logins too: storage.PasskeysUsable
// decides). Unknown: storage.ErrNotFound.
func (s *Store) PasskeyAccount(ctx context.Context, staffLoginID int64) (storage.PasskeyAccount, error) {
	a, err := s.passkeyAccount(ctx, `staff_logins.id = $1`, staffLoginID)
	return a, wrap("get passkey account", err)
}

// PasskeyAccountByHandle returns the PasskeyAccount whose WebAuthn user
// handle is handle. Unknown: storage.ErrNotFound.
func (s *Store) PasskeyAccountByHandle(ctx context.Context, handle []byte) (storage.PasskeyAccount, error) {
	a, err := s.passkeyAccount(ctx, `staff_logins.webauthn_handle = $1`, handle)
	return a, wrap("get passkey account by handle", err)
}

// AddPasskey stores p as a new, active passkey of sl, with
// tool.passkey.add and the notice (nil: none), in one transaction that
// holds sl's row, so that it cannot pass a switch-off or the limit run at
// the same time. Refused with storage.ErrPasskeysOff while sl's passkeys
// are switched off, storage.ErrTooManyPasskeys when sl holds
// storage.MaxPasskeys, storage.ErrPasskeyNameTaken when another of its
// passkeys has p.Name (whatever the case), and storage.ErrAlreadyExists
// when the credential is already registered.
func (s *Store) AddPasskey(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, p storage.Passkey, notice *storage.OutboxMessage) (storage.Passkey, error) {
	now := s.now()
	var out storage.Passkey
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var off *time.Time
		var held int
		if err := tx.QueryRow(ctx, `SELECT passkeys_off_at FROM staff_logins WHERE id = $1 FOR UPDATE`, sl.ID).Scan(&off); err != nil {
			return err
		}
		if off != nil {
			return storage.ErrPasskeysOff
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM identity_tools WHERE staff_login_id = $1 AND kind = 'passkey'`, sl.ID).Scan(&held); err != nil {
			return err
		}
		if held >= storage.MaxPasskeys {
			return storage.ErrTooManyPasskeys
		}
		var aaguid []byte
		if len(p.AAGUID) > 0 {
			aaguid = p.AAGUID
		}
		var err error
		out, err = scanPasskey(tx.QueryRow(ctx, `
			INSERT INTO identity_tools (staff_login_id, kind, state, name, created_at, confirmed_at,
				credential_id, public_key, sign_count, aaguid, backup_eligible, backup_state, transports, attachment)
			VALUES ($1, 'passkey', 'active', $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			RETURNING `+passkeyColumns,
			sl.ID, p.Name, now, p.CredentialID, p.PublicKey, int64(p.SignCount), aaguid, p.BackupEligible, p.BackupState,
			nonNil(p.Transports), p.Attachment))
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == codeUniqueViolation && pgErr.ConstraintName == "identity_tools_passkey_name" {
			return storage.ErrPasskeyNameTaken
		}
		if err != nil {
			return err
		}
		return toolChange(ctx, tx, now, actor, sl, "tool.passkey.add", map[string]any{
			"kind": "passkey", "tool_id": out.ID, "name": out.Name, "synced": out.BackupEligible, "attachment": out.Attachment,
		}, notice)
	})
	return out, wrap("add passkey", err)
}

// UsePasskey records a use at sign-in of passkey toolID whose assertion
// carried the counter signCount and the backup state backedUp: the stored
// counter and the last-used time move only if the counter went forward,
// or both are zero (an authenticator without a counter). It reports false
// when they did not: another use raced past the counter, or the passkey
// was removed meanwhile.
func (s *Store) UsePasskey(ctx context.Context, toolID int64, signCount uint32, backedUp bool) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE identity_tools SET sign_count = $2, backup_state = $3 AND backup_eligible, last_used_at = $4
		WHERE id = $1 AND kind = 'passkey' AND (sign_count < $2 OR sign_count = 0 AND $2 = 0)`,
		toolID, int64(signCount), backedUp, s.now())
	if err != nil {
		return false, wrap("use passkey", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RemovePasskey removes passkey toolID of sl, with tool.passkey.remove and
// the notice (nil: none). It does not switch passkeys off. A passkey of
// another login, or none: storage.ErrNotFound.
func (s *Store) RemovePasskey(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, toolID int64, notice *storage.OutboxMessage) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `DELETE FROM identity_tools WHERE id = $1 AND staff_login_id = $2 AND kind = 'passkey' RETURNING name`,
			toolID, sl.ID).Scan(&name)
		if err != nil {
			return err
		}
		return toolChange(ctx, tx, now, actor, sl, "tool.passkey.remove", map[string]any{"kind": "passkey", "tool_id": toolID, "name": name}, notice)
	})
	return wrap("remove passkey", err)
}

// SwitchOffPasskeys removes every passkey of sl and switches its passkeys
// off, with tool.passkey.off naming how many went and the notice (nil:
// none). Already off: storage.ErrConflict.
func (s *Store) SwitchOffPasskeys(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, notice *storage.OutboxMessage) (int, error) {
	now := s.now()
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE staff_logins SET passkeys_off_at = $2 WHERE id = $1 AND passkeys_off_at IS NULL`, sl.ID, now)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrConflict
		}
		if tag, err = tx.Exec(ctx, `DELETE FROM identity_tools WHERE staff_login_id = $1 AND kind = 'passkey'`, sl.ID); err != nil {
			return err
		}
		n = tag.RowsAffected()
		return toolChange(ctx, tx, now, actor, sl, "tool.passkey.off", map[string]any{"kind": "passkey", "removed": n}, notice)
	})
	return int(n), wrap("switch passkeys off", err)
}

// EnablePasskeys switches sl's passkeys on again, with tool.passkey.enable
// and the notice (nil: none). Not switched off: storage.ErrConflict.
func (s *Store) EnablePasskeys(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, notice *storage.OutboxMessage) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var since *time.Time
		if err := tx.QueryRow(ctx, `SELECT passkeys_off_at FROM staff_logins WHERE id = $1 FOR UPDATE`, sl.ID).Scan(&since); err != nil {
			return err
		}
		if since == nil {
			return storage.ErrConflict
		}
		if _, err := tx.Exec(ctx, `UPDATE staff_logins SET passkeys_off_at = NULL WHERE id = $1`, sl.ID); err != nil {
			return err
		}
		return toolChange(ctx, tx, now, actor, sl, "tool.passkey.enable", map[string]any{"kind": "passkey", "off_since": *since}, notice)
	})
	return wrap("switch passkeys on", err)
}
