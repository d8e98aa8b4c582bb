package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// The officers' way in to the desk: activation codes, the password and the
// 安全驗證碼 they set, the changes supervisors make (reset, enable, role)
// and the record of sign-in attempts (migration 00021).

const officerCodeColumns = `id, officer_id, code_hash, channel, created_at, expires_at, max_attempts, attempts,
	used_at, voided_at, coalesce(void_reason, '')`

func scanOfficerCode(row pgx.Row) (storage.OfficerCode, error) {
	var c storage.OfficerCode
	err := row.Scan(&c.ID, &c.OfficerID, &c.Hash, &c.Channel, &c.CreatedAt, &c.ExpiresAt, &c.MaxAttempts, &c.Attempts,
		&c.UsedAt, &c.VoidedAt, &c.VoidReason)
	return c, err
}

// actedAs is the officer cur acting where by says: by's client address
// and desk session, for the audit trail.
func actedAs(cur storage.Officer, by storage.Actor) storage.Actor {
	a := storage.OfficerActor(cur)
	a.IP, a.DeskSession = by.IP, by.DeskSession
	return a
}

// managed is the acting supervisor and the target of a supervisor's change
// to an officer, read in tx: the active supervisors locked (and counted),
// the actor held as it is now, the target locked.
type managed struct {
	by, target  storage.Officer
	actor       storage.Actor // by, where it acts
	supervisors int
}

func lockManaged(ctx context.Context, tx pgx.Tx, by storage.Actor, login string) (managed, error) {
	var m managed
	rows, err := tx.Query(ctx, `SELECT id FROM officers WHERE role = 'supervisor' AND status = 'active' ORDER BY id FOR UPDATE`)
	if err != nil {
		return m, wrap("lock supervisors", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return m, wrap("lock supervisors", err)
	}
	m.supervisors = len(ids)
	if m.by, err = scanOfficer(tx.QueryRow(ctx, `SELECT `+officerColumns+` FROM officers WHERE id = $1 FOR SHARE`, by.OfficerID)); err != nil {
		return m, wrap("officer "+by.ID, err)
	}
	m.actor = actedAs(m.by, by)
	m.target, err = scanOfficer(tx.QueryRow(ctx, `SELECT `+officerColumns+` FROM officers WHERE lower(login) = lower($1) FOR UPDATE`, login))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, storage.Errorf(storage.ENotFound, "there is no officer %s", login).WithKey("desk_err_no_officer")
	}
	return m, wrap("officer "+login, err)
}

// insertOfficerCode voids the officer's open code (cancelling its
// undelivered message), then writes issue's code and its outbox message.
func insertOfficerCode(ctx context.Context, tx pgx.Tx, now time.Time, officerID int64, issue *storage.OfficerCodeIssue) error {
	rows, err := tx.Query(ctx, `
		UPDATE officer_codes SET voided_at = $2, void_reason = 'superseded', ticket_hash = NULL,
			pending_password_hash = NULL, pending_totp_sealed = NULL
		WHERE officer_id = $1 AND used_at IS NULL AND voided_at IS NULL RETURNING id`, officerID, now)
	if err != nil {
		return wrap("void officer codes", err)
	}
	voided, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return wrap("void officer codes", err)
	}
	if err := cancelOfficerMessages(ctx, tx, now, voided, "superseded by a newer code"); err != nil {
		return err
	}
	c, m := &issue.Code, &issue.Message
	c.OfficerID, c.CreatedAt, c.Attempts = officerID, now, 0
	err = tx.QueryRow(ctx, `
		INSERT INTO officer_codes (officer_id, code_hash, channel, created_at, expires_at, max_attempts)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		officerID, c.Hash, string(c.Channel), now, c.ExpiresAt, c.MaxAttempts).Scan(&c.ID)
	if err != nil {
		return wrap("insert officer code", err)
	}
	m.CreatedAt, m.NextAttemptAt = now, now
	m.Language = orDefault(m.Language, defaultLanguage)
	err = tx.QueryRow(ctx, `
		INSERT INTO outbox (channel, recipient, language, body_sealed, officer_code_id, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		string(m.Channel), m.Recipient, m.Language, m.Body, c.ID, now).Scan(&m.ID)
	return wrap("queue officer code", err)
}

func cancelOfficerMessages(ctx context.Context, tx pgx.Tx, now time.Time, codeIDs []int64, why string) error {
	if len(codeIDs) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `
		UPDATE outbox SET cancelled_at = $2, body_sealed = NULL, lease_token = NULL, last_error = $3
		WHERE officer_code_id = ANY($1) AND delivered_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL`,
		codeIDs, now, why)
	return wrap("cancel officer code messages", err)
}

// ResetOfficer clears the way in of the officer login (its password,
// 安全驗證碼 and passkeys), ends its desk sessions and sends it a new activation code
// (issue), as the supervisor by (an officer's actor: its address and desk
// session go to the audit trail) (storage.MayResetOfficer); audited
// officer.reset.
func (s *Store) ResetOfficer(ctx context.Context, by storage.Actor, login string, issue *storage.OfficerCodeIssue) (storage.Officer, error) {
	now := s.now()
	var target storage.Officer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		m, err := lockManaged(ctx, tx, by, login)
		if err != nil {
			return err
		}
		if err := storage.MayResetOfficer(m.by, m.target); err != nil {
			return err
		}
		target = m.target
		if _, err := tx.Exec(ctx, `
			UPDATE officers SET password_hash = NULL, totp_sealed = NULL, totp_last_step = 0,
				sessions_valid_after = $2, updated_at = $2 WHERE id = $1`, target.ID, now); err != nil {
			return wrap("reset officer "+login, err)
		}
		// A reset is for a lost device or password: the passkeys go too.
		if _, err := tx.Exec(ctx, `DELETE FROM officer_passkeys WHERE officer_id = $1`, target.ID); err != nil {
			return wrap("reset officer passkeys "+login, err)
		}
		if err := insertOfficerCode(ctx, tx, now, target.ID, issue); err != nil {
			return err
		}
		target.HasPassword, target.HasTOTP, target.SessionsValidAfter, target.UpdatedAt = false, false, now, now
		return audit(ctx, tx, now, m.actor, auditEvent{action: "officer.reset", target: target.Login,
			details: map[string]any{"channel": string(issue.Code.Channel), "code_id": issue.Code.ID, "outbox_id": issue.Message.ID,
				"expires_at": issue.Code.ExpiresAt}})
	})
	return target, err
}

// EnableOfficer enables the disabled officer login again, as the
// supervisor by (storage.MayEnableOfficer); audited officer.enable. Its
// desk sessions of before it was disabled stay over.
func (s *Store) EnableOfficer(ctx context.Context, by storage.Actor, login string) (storage.Officer, error) {
	now := s.now()
	var target storage.Officer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		m, err := lockManaged(ctx, tx, by, login)
		if err != nil {
			return err
		}
		if err := storage.MayEnableOfficer(m.by, m.target); err != nil {
			return err
		}
		target = m.target
		if _, err := tx.Exec(ctx, `UPDATE officers SET status = 'active', updated_at = $2 WHERE id = $1`, target.ID, now); err != nil {
			return wrap("enable officer "+login, err)
		}
		target.Status, target.UpdatedAt = storage.OfficerActive, now
		return audit(ctx, tx, now, m.actor, auditEvent{action: "officer.enable", target: target.Login,
			details: map[string]any{"role": string(target.Role)}})
	})
	return target, err
}

// ChangeOfficerRole gives the officer login the role to, as the supervisor
// by (storage.MayChangeOfficerRole: never leaving no active supervisor);
// audited officer.role.
func (s *Store) ChangeOfficerRole(ctx context.Context, by storage.Actor, login string, to storage.OfficerRole) (storage.Officer, error) {
	now := s.now()
	var target storage.Officer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		m, err := lockManaged(ctx, tx, by, login)
		if err != nil {
			return err
		}
		if err := storage.MayChangeOfficerRole(m.by, m.target, to, m.supervisors); err != nil {
			return err
		}
		target = m.target
		from := target.Role
		if _, err := tx.Exec(ctx, `UPDATE officers SET role = $2, updated_at = $3 WHERE id = $1`, target.ID, string(to), now); err != nil {
			return wrap("change officer role "+login, err)
		}
		target.Role, target.UpdatedAt = to, now
		return audit(ctx, tx, now, m.actor, auditEvent{action: "officer.role", target: target.Login,
			details: map[string]any{"from": string(from), "to": string(to)}})
	})
	return target, err
}

// OfficerLiveCode is the officer's open code (neither used nor voided),
// storage.ErrNotFound when there is none.
func (s *Store) OfficerLiveCode(ctx context.Context, officerID int64) (storage.OfficerCode, error) {
	c, err := scanOfficerCode(s.pool.QueryRow(ctx, `SELECT `+officerCodeColumns+` FROM officer_codes
		WHERE officer_id = $1 AND used_at IS NULL AND voided_at IS NULL`, officerID))
	return c, wrap("officer code", err)
}

// ReserveOfficerCodeAttempt takes one try of a live code before a typed
// code is compared with it, so that tries sent at once cannot exceed its
// limit: false (nothing counted) when the code is not live or its tries
// are all taken.
func (s *Store) ReserveOfficerCodeAttempt(ctx context.Context, codeID int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE officer_codes SET attempts = attempts + 1
		WHERE id = $1 AND used_at IS NULL AND voided_at IS NULL AND expires_at > $2 AND attempts < max_attempts`,
		codeID, s.now())
	if err != nil {
		return false, wrap("reserve officer code attempt", err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReturnOfficerCodeAttempt gives back a try: the code typed was right.
func (s *Store) ReturnOfficerCodeAttempt(ctx context.Context, codeID int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE officer_codes SET attempts = attempts - 1 WHERE id = $1 AND attempts > 0`, codeID)
	return wrap("return officer code attempt", err)
}

// FailOfficerCodeAttempt settles a reserved try as wrong: a code whose
// tries are all taken is voided (reason attempts) and its undelivered
// message cancelled.
func (s *Store) FailOfficerCodeAttempt(ctx context.Context, codeID int64) error {
	now := s.now()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var voided bool
		err := tx.QueryRow(ctx, `
			UPDATE officer_codes SET
				voided_at = CASE WHEN attempts >= max_attempts THEN $2::timestamptz END,
				void_reason = CASE WHEN attempts >= max_attempts THEN 'attempts' END
			WHERE id = $1 AND used_at IS NULL AND voided_at IS NULL
			RETURNING voided_at IS NOT NULL`, codeID, now).Scan(&voided)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && !voided {
			return nil
		}
		if err != nil {
			return wrap("count officer code attempt", err)
		}
		return cancelOfficerMessages(ctx, tx, now, []int64{codeID}, "voided after too many wrong tries")
	})
}

// StageOfficerActivation keeps, on the live code codeID, the password hash
// and the sealed TOTP secret of the activation's first step, under the
// hash of the browser's ticket (replacing what an earlier first step
// kept). storage.ErrCodeNotLive when the code is no longer live.
func (s *Store) StageOfficerActivation(ctx context.Context, codeID int64, ticketHash []byte, passwordHash string, totpSealed []byte) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE officer_codes SET ticket_hash = $2, pending_password_hash = $3, pending_totp_sealed = $4
		WHERE id = $1 AND used_at IS NULL AND voided_at IS NULL AND expires_at > $5`,
		codeID, ticketHash, passwordHash, totpSealed, s.now())
	if err != nil {
		return wrap("stage officer activation", err)
	}
	if tag.RowsAffected() != 1 {
		return storage.ErrCodeNotLive
	}
	return nil
}

// OfficerStaged is what the first step kept under ticketHash on a live
// code; storage.ErrNotFound when nothing (the ticket unknown, or the code
// used, voided or expired since).
func (s *Store) OfficerStaged(ctx context.Context, ticketHash []byte) (storage.OfficerStaged, error) {
	var st storage.OfficerStaged
	row := s.pool.QueryRow(ctx, `SELECT `+officerCodeColumns+`, pending_password_hash, pending_totp_sealed FROM officer_codes
		WHERE ticket_hash = $1 AND used_at IS NULL AND voided_at IS NULL AND expires_at > $2 AND pending_password_hash IS NOT NULL`,
		ticketHash, s.now())
	c := &st.Code
	err := row.Scan(&c.ID, &c.OfficerID, &c.Hash, &c.Channel, &c.CreatedAt, &c.ExpiresAt, &c.MaxAttempts, &c.Attempts,
		&c.UsedAt, &c.VoidedAt, &c.VoidReason, &st.PasswordHash, &st.TOTPSealed)
	return st, wrap("staged officer activation", err)
}

// CompleteOfficerActivation makes what the first step kept on the code
// codeID the officer's password and 安全驗證碼 (its first code's step
// accepted), uses the code and records the sign-in, in one transaction,
// audited officer.activate by the officer itself (actor, with its
// address). storage.ErrCodeNotLive when the code is no longer live or the
// officer no longer active.
func (s *Store) CompleteOfficerActivation(ctx context.Context, actor storage.Actor, codeID int64, step int64, signin storage.OfficerSignIn) (storage.Officer, error) {
	now := s.now()
	var o storage.Officer
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var officerID int64
		var pw string
		var sealed []byte
		err := tx.QueryRow(ctx, `SELECT officer_id, pending_password_hash, pending_totp_sealed FROM officer_codes
			WHERE id = $1 AND used_at IS NULL AND voided_at IS NULL AND expires_at > $2 AND pending_password_hash IS NOT NULL
			FOR UPDATE`, codeID, now).Scan(&officerID, &pw, &sealed)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrCodeNotLive
		}
		if err != nil {
			return wrap("officer code", err)
		}
		o, err = scanOfficer(tx.QueryRow(ctx, `SELECT `+officerColumns+` FROM officers WHERE id = $1 FOR UPDATE`, officerID))
		if err != nil {
			return wrap("officer", err)
		}
		if o.Status != storage.OfficerActive {
			return storage.ErrCodeNotLive
		}
		if _, err := tx.Exec(ctx, `UPDATE officer_codes SET used_at = $2, ticket_hash = NULL, pending_password_hash = NULL,
			pending_totp_sealed = NULL WHERE id = $1`, codeID, now); err != nil {
			return wrap("use officer code", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE officers SET password_hash = $2, totp_sealed = $3, totp_last_step = $4,
			last_signin_at = $5, updated_at = $5 WHERE id = $1`, officerID, pw, sealed, step, now); err != nil {
			return wrap("activate officer", err)
		}
		o.HasPassword, o.HasTOTP, o.LastSignInAt, o.UpdatedAt = true, true, &now, now
		signin.OfficerID, signin.At, signin.Outcome = officerID, now, storage.DeskSignedIn
		if err := insertSignIn(ctx, tx, &signin); err != nil {
			return err
		}
		actor.OfficerID, actor.ID, actor.Name = o.ID, o.Login, o.Login
		return audit(ctx, tx, now, actor, auditEvent{action: "officer.activate", target: o.Login,
			details: map[string]any{"code_id": codeID}})
	})
	return o, err
}

// OfficerSecrets are the officer's password hash and sealed TOTP secret.
func (s *Store) OfficerSecrets(ctx context.Context, officerID int64) (storage.OfficerSecrets, error) {
	var sec storage.OfficerSecrets
	var pw *string
	err := s.pool.QueryRow(ctx, `SELECT password_hash, totp_sealed, totp_last_step FROM officers WHERE id = $1`, officerID).
		Scan(&pw, &sec.TOTPSealed, &sec.TOTPLastStep)
	if pw != nil {
		sec.PasswordHash = *pw
	}
	return sec, wrap("officer secrets", err)
}

// UseOfficerTOTP accepts the TOTP time step of a code of the officer once:
// false when a code of this step or a later one was accepted before (a
// replay), or the officer has no TOTP.
func (s *Store) UseOfficerTOTP(ctx context.Context, officerID, step int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE officers SET totp_last_step = $2
		WHERE id = $1 AND totp_sealed IS NOT NULL AND totp_last_step < $2`, officerID, step)
	if err != nil {
		return false, wrap("use officer totp", err)
	}
	return tag.RowsAffected() == 1, nil
}

func insertSignIn(ctx context.Context, tx pgx.Tx, si *storage.OfficerSignIn) error {
	err := tx.QueryRow(ctx, `INSERT INTO officer_signins (officer_id, at, ip, user_agent, outcome)
		VALUES (nullif($1, 0), $2, $3, $4, $5) RETURNING id`,
		si.OfficerID, si.At, si.IP, si.UserAgent, string(si.Outcome)).Scan(&si.ID)
	if err != nil {
		return wrap("record officer sign-in", err)
	}
	if si.Outcome == storage.DeskSignedIn && si.OfficerID != 0 {
		_, err = tx.Exec(ctx, `UPDATE officers SET last_signin_at = $2 WHERE id = $1`, si.OfficerID, si.At)
	}
	return wrap("record officer sign-in", err)
}

// RecordOfficerSignIn records a desk sign-in attempt (its At set now); a
// success is the officer's last sign-in.
func (s *Store) RecordOfficerSignIn(ctx context.Context, si *storage.OfficerSignIn) error {
	si.At = s.now()
	return s.inTx(ctx, func(tx pgx.Tx) error { return insertSignIn(ctx, tx, si) })
}

// OfficerSignIns are the officer's sign-in attempts since, newest first,
// at most limit.
func (s *Store) OfficerSignIns(ctx context.Context, officerID int64, since time.Time, limit int) ([]storage.OfficerSignIn, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, officer_id, at, ip, user_agent, outcome FROM officer_signins
		WHERE officer_id = $1 AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3`, officerID, since, limit)
	if err != nil {
		return nil, wrap("officer sign-ins", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.OfficerSignIn, error) {
		var si storage.OfficerSignIn
		err := row.Scan(&si.ID, &si.OfficerID, &si.At, &si.IP, &si.UserAgent, &si.Outcome)
		return si, err
	})
	return nonNil(list), wrap("officer sign-ins", err)
}
