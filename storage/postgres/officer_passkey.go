package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// The officers' passkeys (migration 00023): their own table, never the
// staff logins' identity_tools.

const officerPasskeyColumns = `id, officer_id, name, credential_id, public_key, sign_count, aaguid, backup_eligible, backup_state,
	transports, attachment, created_at, last_used_at`

func scanOfficerPasskey(row pgx.CollectableRow) (storage.OfficerPasskey, error) {
	var p storage.OfficerPasskey
	var count int64
	err := row.Scan(&p.ID, &p.OfficerID, &p.Name, &p.CredentialID, &p.PublicKey, &count, &p.AAGUID, &p.BackupEligible,
		&p.BackupState, &p.Transports, &p.Attachment, &p.CreatedAt, &p.LastUsedAt)
	p.SignCount = uint32(count)
	return p, err
}

func officerPasskeys(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, officerID int64) ([]storage.OfficerPasskey, error) {
	rows, err := q.Query(ctx, `SELECT `+officerPasskeyColumns+` FROM officer_passkeys WHERE officer_id = $1 ORDER BY id`, officerID)
	if err != nil {
		return nil, wrap("officer passkeys", err)
	}
	list, err := pgx.CollectRows(rows, scanOfficerPasskey)
	return nonNil(list), wrap("officer passkeys", err)
}

// OfficerPasskeyAccount is the officer officerID with its WebAuthn user
// handle, whether it holds a 安全驗證碼, and its passkeys, oldest first.
func (s *Store) OfficerPasskeyAccount(ctx context.Context, officerID int64) (storage.OfficerPasskeyAccount, error) {
	var a storage.OfficerPasskeyAccount
	o, err := scanOfficer(s.pool.QueryRow(ctx, `SELECT `+officerColumns+` FROM officers WHERE id = $1`, officerID))
	if err != nil {
		return a, wrap("officer", err)
	}
	a.Officer = o
	a.HasTOTP = o.HasTOTP
	if err := s.pool.QueryRow(ctx, `SELECT webauthn_handle FROM officers WHERE id = $1`, officerID).Scan(&a.Handle); err != nil {
		return a, wrap("officer handle", err)
	}
	a.Passkeys, err = officerPasskeys(ctx, s.pool, officerID)
	return a, err
}

// lockOfficerFactors locks the officer by acts for (itself, read afresh)
// and reads its second factors.
func lockOfficerFactors(ctx context.Context, tx pgx.Tx, by storage.Actor) (storage.Officer, bool, []storage.OfficerPasskey, error) {
	o, err := scanOfficer(tx.QueryRow(ctx, `SELECT `+officerColumns+` FROM officers WHERE id = $1 FOR UPDATE`, by.OfficerID))
	if err != nil {
		return o, false, nil, wrap("officer "+by.ID, err)
	}
	list, err := officerPasskeys(ctx, tx, o.ID)
	return o, o.HasTOTP, list, err
}

// AddOfficerPasskey stores p as a passkey of the acting officer by (its
// OfficerID; storage.MayAddOfficerPasskey, checked again under the
// officer's lock), audited officer.passkey.add. storage.ErrPasskeyNameTaken
// when another of its passkeys has the name, storage.ErrAlreadyExists when
// the credential is registered already.
func (s *Store) AddOfficerPasskey(ctx context.Context, by storage.Actor, p *storage.OfficerPasskey) error {
	now := s.now()
	return s.inTx(ctx, func(tx pgx.Tx) error {
		o, _, list, err := lockOfficerFactors(ctx, tx, by)
		if err != nil {
			return err
		}
		if err := storage.MayAddOfficerPasskey(o, len(list)); err != nil {
			return err
		}
		for _, q := range list {
			if strings.EqualFold(q.Name, p.Name) {
				return storage.ErrPasskeyNameTaken
			}
		}
		p.OfficerID, p.CreatedAt = o.ID, now
		if p.Transports == nil {
			p.Transports = []string{}
		}
		err = tx.QueryRow(ctx, `INSERT INTO officer_passkeys (officer_id, name, credential_id, public_key, sign_count, aaguid,
			backup_eligible, backup_state, transports, attachment, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`,
			o.ID, p.Name, p.CredentialID, p.PublicKey, int64(p.SignCount), p.AAGUID, p.BackupEligible, p.BackupState,
			p.Transports, p.Attachment, now).Scan(&p.ID)
		if err != nil {
			return wrap("add officer passkey", err)
		}
		return audit(ctx, tx, now, actedAs(o, by), auditEvent{action: "officer.passkey.add", target: o.Login,
			details: map[string]any{"passkey_id": p.ID, "name": p.Name}})
	})
}

// RemoveOfficerPasskey removes the passkey id of the acting officer by
// (storage.MayRemoveOfficerPasskey: never its last second factor),
// audited officer.passkey.remove, and returns it. storage.ErrNotFound when
// it is not one of the officer's passkeys.
func (s *Store) RemoveOfficerPasskey(ctx context.Context, by storage.Actor, id int64) (storage.OfficerPasskey, error) {
	now := s.now()
	var gone storage.OfficerPasskey
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		o, hasTOTP, list, err := lockOfficerFactors(ctx, tx, by)
		if err != nil {
			return err
		}
		for _, q := range list {
			if q.ID == id {
				gone = q
			}
		}
		if gone.ID == 0 {
			return storage.ErrNotFound
		}
		if err := storage.MayRemoveOfficerPasskey(o, hasTOTP, len(list)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM officer_passkeys WHERE id = $1 AND officer_id = $2`, id, o.ID); err != nil {
			return wrap("remove officer passkey", err)
		}
		return audit(ctx, tx, now, actedAs(o, by), auditEvent{action: "officer.passkey.remove", target: o.Login,
			details: map[string]any{"passkey_id": id, "name": gone.Name}})
	})
	return gone, err
}

// UseOfficerPasskey records a verified assertion of the passkey id of the
// officer officerID: its counter and last use, only if the counter moved
// forward (both zero aside). false when it did not, or the passkey is no
// longer the officer's.
func (s *Store) UseOfficerPasskey(ctx context.Context, officerID, id int64, counter uint32, backupState bool) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE officer_passkeys SET sign_count = $3, backup_state = backup_eligible AND $4, last_used_at = $5
		WHERE id = $1 AND officer_id = $2 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))`,
		id, officerID, int64(counter), backupState, s.now())
	if err != nil {
		return false, wrap("use officer passkey", err)
	}
	return tag.RowsAffected() == 1, nil
}
