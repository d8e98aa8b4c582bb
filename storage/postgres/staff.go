package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

const staffColumns = `id, euid, entity_id, coalesce(username, ''), coalesce(password_hash, ''),
	name_zh, name_foreign, id_doc_type, id_doc_number, id_doc_issue_place, birth_date,
	mobile, email, language, is_admin, is_service_admin, status,
	activated_at, created_at, updated_at`

func scanStaffLogin(row pgx.Row) (storage.StaffLogin, error) {
	var s storage.StaffLogin
	err := row.Scan(&s.ID, &s.EUID, &s.EntityID, &s.Username, &s.PasswordHash,
		&s.NameZH, &s.NameForeign, &s.IDDocType, &s.IDDocNumber, &s.IDDocIssuePlace, &s.BirthDate,
		&s.Mobile, &s.Email, &s.Language, &s.Admin, &s.ServiceAdmin, &s.Status,
		&s.ActivatedAt, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

// CreateStaffLogin registers a staff login of s.EntityID from the fields of
// the registration form. It fills s.ID, s.EUID (assigned by the database,
// never reused), s.Status (active), s.CreatedAt and s.UpdatedAt. The login is
// created unactivated: Username, PasswordHash and ActivatedAt are ignored (see
// ActivateStaffLogin). BirthDate is stored as the calendar date it has in its
// own location and read back at midnight UTC. An unknown entity gives
// storage.ErrNotFound.
func (s *Store) CreateStaffLogin(ctx context.Context, actor storage.Actor, sl *storage.StaffLogin) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error { return createStaffLogin(ctx, tx, now, actor, sl) })
	return wrap("create staff login", err)
}

// createStaffLogin is CreateStaffLogin inside tx.
func createStaffLogin(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, sl *storage.StaffLogin) error {
	err := tx.QueryRow(ctx, `
		INSERT INTO staff_logins (entity_id, name_zh, name_foreign,
			id_doc_type, id_doc_number, id_doc_issue_place, birth_date,
			mobile, email, language, is_admin, is_service_admin,
			created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
		RETURNING id, euid, status, created_at, updated_at`,
		sl.EntityID, sl.NameZH, sl.NameForeign,
		sl.IDDocType, sl.IDDocNumber, sl.IDDocIssuePlace, sl.BirthDate,
		sl.Mobile, sl.Email, orDefault(sl.Language, defaultLanguage), sl.Admin, sl.ServiceAdmin,
		now,
	).Scan(&sl.ID, &sl.EUID, &sl.Status, &sl.CreatedAt, &sl.UpdatedAt)
	if err != nil {
		return err
	}
	sl.Language = orDefault(sl.Language, defaultLanguage)
	sl.Username, sl.PasswordHash, sl.ActivatedAt = "", "", nil
	return audit(ctx, tx, now, actor, auditEvent{
		entityID: &sl.EntityID,
		action:   "staff.create",
		target:   sl.EUID,
		details:  map[string]any{"admin": sl.Admin, "service_admin": sl.ServiceAdmin},
	})
}

// StaffLogin returns the staff login with the given id, or storage.ErrNotFound.
func (s *Store) StaffLogin(ctx context.Context, id int64) (storage.StaffLogin, error) {
	sl, err := scanStaffLogin(s.pool.QueryRow(ctx,
		`SELECT `+staffColumns+` FROM staff_logins WHERE id = $1`, id))
	return sl, wrap("get staff login", err)
}

// StaffLoginByEUID returns the staff login with the given EUID, or storage.ErrNotFound.
func (s *Store) StaffLoginByEUID(ctx context.Context, euid string) (storage.StaffLogin, error) {
	sl, err := scanStaffLogin(s.pool.QueryRow(ctx,
		`SELECT `+staffColumns+` FROM staff_logins WHERE euid = $1`, euid))
	return sl, wrap("get staff login by euid", err)
}

// StaffLoginByUsername returns the staff login of an entity with the given
// username, compared case-insensitively, or storage.ErrNotFound.
func (s *Store) StaffLoginByUsername(ctx context.Context, entityID int64, username string) (storage.StaffLogin, error) {
	sl, err := scanStaffLogin(s.pool.QueryRow(ctx,
		`SELECT `+staffColumns+` FROM staff_logins WHERE entity_id = $1 AND lower(username) = lower($2)`,
		entityID, username))
	return sl, wrap("get staff login by username", err)
}

// StaffLogins returns every staff login of an entity, deleted ones included,
// in order of creation.
func (s *Store) StaffLogins(ctx context.Context, entityID int64) ([]storage.StaffLogin, error) {
	rows, err := s.pool.Query(ctx,
		`SELECT `+staffColumns+` FROM staff_logins WHERE entity_id = $1 ORDER BY id`, entityID)
	if err != nil {
		return nil, wrap("list staff logins", err)
	}
	logins, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.StaffLogin, error) {
		return scanStaffLogin(row)
	})
	if err != nil {
		return nil, wrap("list staff logins", err)
	}
	return nonNil(logins), nil
}

// ActivateStaffLogin sets the username and password hash of a staff login and
// marks it activated, once. It returns storage.ErrNotFound for an unknown id,
// storage.ErrConflict if the login is already activated or is deleted, and
// storage.ErrAlreadyExists if the username is taken in the entity (by the
// entity account or any staff login, compared case-insensitively).
func (s *Store) ActivateStaffLogin(ctx context.Context, actor storage.Actor, id int64, username, passwordHash string) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var entityID int64
		var euid string
		err := tx.QueryRow(ctx, `
			UPDATE staff_logins
			SET username = $2, password_hash = $3, activated_at = $4, updated_at = $4
			WHERE id = $1 AND activated_at IS NULL AND status = 'active'
			RETURNING entity_id, euid`,
			id, nullIfEmpty(username), nullIfEmpty(passwordHash), now,
		).Scan(&entityID, &euid)
		if errors.Is(err, pgx.ErrNoRows) {
			return existsOrNotFound(ctx, tx, `SELECT EXISTS (SELECT FROM staff_logins WHERE id = $1)`, id)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{
			entityID: &entityID,
			action:   "staff.activate",
			target:   euid,
			details:  map[string]any{"username": username},
		})
	})
	return wrap("activate staff login", err)
}

// SetStaffStatus sets the association status of a staff login; deleting
// stamps deleted_at, restoring clears it. Setting the status it already has
// changes nothing and writes no audit event. An unknown id gives
// storage.ErrNotFound. Ending the login's sessions and tokens is the caller's
// job (storage.ShortLived.EndAllForSubject).
func (s *Store) SetStaffStatus(ctx context.Context, actor storage.Actor, id int64, status storage.AssociationStatus) error {
	if status != storage.StatusActive && status != storage.StatusDeleted {
		return fmt.Errorf("postgres: set staff status: invalid status %q", status)
	}
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var entityID int64
		var euid string
		var old storage.AssociationStatus
		err := tx.QueryRow(ctx, `SELECT entity_id, euid, status FROM staff_logins WHERE id = $1 FOR UPDATE`, id).
			Scan(&entityID, &euid, &old)
		if err != nil || old == status {
			return err
		}
		_, err = tx.Exec(ctx, `
			UPDATE staff_logins
			SET status = $2,
			    deleted_at = CASE WHEN $2 = 'deleted' THEN $3::timestamptz END,
			    updated_at = $3
			WHERE id = $1`, id, string(status), now)
		if err != nil {
			return err
		}
		action := "staff.delete"
		if status == storage.StatusActive {
			action = "staff.restore"
		}
		return audit(ctx, tx, now, actor, auditEvent{
			entityID: &entityID,
			action:   action,
			target:   euid,
			details:  map[string]any{"from": string(old), "to": string(status)},
		})
	})
	return wrap("set staff status", err)
}
