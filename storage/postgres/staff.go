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
	name_zh, name_foreign, id_doc_type, coalesce(id_doc_number, ''), id_doc_issue_place,
	coalesce(birth_date, DATE '0001-01-01'), mobile, email, language, is_admin, is_service_admin, status,
	activated_at, created_at, updated_at`

// An erased login (deleted longer ago than the retention, see history.go)
// holds no document number or birth date: they read as "" and the zero time.

// scanStaffLogin scans the staffColumns of row, then into extra the
// columns selected after them.
func scanStaffLogin(row pgx.Row, extra ...any) (storage.StaffLogin, error) {
	var s storage.StaffLogin
	err := row.Scan(append([]any{&s.ID, &s.EUID, &s.EntityID, &s.Username, &s.PasswordHash,
		&s.NameZH, &s.NameForeign, &s.IDDocType, &s.IDDocNumber, &s.IDDocIssuePlace, &s.BirthDate,
		&s.Mobile, &s.Email, &s.Language, &s.Admin, &s.ServiceAdmin, &s.Status,
		&s.ActivatedAt, &s.CreatedAt, &s.UpdatedAt}, extra...)...)
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

// SetStaffStatus sets the association status of a staff login of entity
// entityID; deleting stamps deleted_at and voids the login's open
// activation code (cancelling its undelivered message), restoring clears
// deleted_at. The change and its audit event (staff.delete, staff.restore)
// are one transaction. Setting the status it already has changes nothing,
// writes nothing and returns storage.ErrConflict. A login of another entity
// is as unknown as a missing one: storage.ErrNotFound. Ending the login's
// sessions and tokens is the caller's job (storage.ShortLived.EndAllForSubject).
// What tellOf composes of the change (nil: nobody is told) is written to the
// outbox in the same transaction, its outbox id in the audit event: a
// deleted login's holder is told too.
func (s *Store) SetStaffStatus(ctx context.Context, actor storage.Actor, entityID int64, euid string, status storage.AssociationStatus, tellOf storage.TellOf) (storage.StaffLogin, error) {
	if status != storage.StatusActive && status != storage.StatusDeleted {
		return storage.StaffLogin{}, fmt.Errorf("postgres: set staff status: invalid status %q", status)
	}
	now := s.now()
	var sl storage.StaffLogin
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if sl, err = lockStaffLogin(ctx, tx, entityID, euid); err != nil {
			return err
		}
		if sl.Status == status {
			return storage.ErrConflict
		}
		if sl.IDDocNumber == "" {
			// Erased after the retention period (retention.go): the person
			// is no longer known, only registered anew.
			return storage.Errorf(storage.EConflict, "staff login %s was erased", sl.EUID).WithKey("staff_error_erased")
		}
		old, before := sl.Status, sl
		_, err = tx.Exec(ctx, `
			UPDATE staff_logins
			SET status = $2,
			    deleted_at = CASE WHEN $2 = 'deleted' THEN $3::timestamptz END,
			    updated_at = $3
			WHERE id = $1`, sl.ID, string(status), now)
		if err != nil {
			return err
		}
		sl.Status, sl.UpdatedAt = status, now
		details := map[string]any{"from": string(old), "to": string(status)}
		action := "staff.restore"
		if status == storage.StatusDeleted {
			action = "staff.delete"
			voided, err := voidOpenCodes(ctx, tx, now, `staff_login_id = $1`, sl.ID, storage.VoidAccountDeleted)
			if err != nil {
				return err
			}
			if len(voided) > 0 {
				details["voided_codes"] = voided
			}
		}
		if err := tell(ctx, tx, now, before, tellOf, details); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{entityID: &sl.EntityID, action: action, target: sl.EUID, details: details})
	})
	return sl, wrap("set staff status", err)
}

// lockStaffLogin reads and locks, in tx, the staff login euid of entity
// entityID; a login of another entity is pgx.ErrNoRows like a missing one.
func lockStaffLogin(ctx context.Context, tx pgx.Tx, entityID int64, euid string) (storage.StaffLogin, error) {
	return scanStaffLogin(tx.QueryRow(ctx,
		`SELECT `+staffColumns+` FROM staff_logins WHERE entity_id = $1 AND euid = $2 FOR UPDATE`, entityID, euid))
}

// voidOpenCodes voids the open activation codes of the accounts that cond
// (on activation_codes, with $1 = arg) selects, for reason, and cancels
// their undelivered messages. It returns the voided codes' ids.
func voidOpenCodes(ctx context.Context, tx pgx.Tx, now time.Time, cond string, arg any, reason string) ([]int64, error) {
	rows, err := tx.Query(ctx, `
		UPDATE activation_codes SET voided_at = $2, void_reason = $3
		WHERE `+cond+` AND used_at IS NULL AND voided_at IS NULL
		RETURNING id`, arg, now, reason)
	if err != nil {
		return nil, err
	}
	voided, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(voided) == 0 {
		return voided, err
	}
	return voided, cancelPending(ctx, tx, now, voided, "activation code voided: "+reason)
}

// SetStaffAdmin gives (admin true) or takes away the admin rights of a
// staff login of entity entityID, with its audit event (staff.admin_grant,
// staff.admin_remove) in the same transaction. A login that already has
// the asked state gives storage.ErrConflict and writes nothing; a login of
// another entity is storage.ErrNotFound. Granting to a deleted login is a
// conflict too. What tellOf composes of the change (the login's holder and
// the entity account; nil: nobody is told) is written to the outbox in the
// same transaction, the outbox ids in the audit event.
func (s *Store) SetStaffAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid string, admin bool, tellOf storage.TellOf) (storage.StaffLogin, error) {
	sl, err := s.setStaffFlag(ctx, actor, entityID, euid, staffFlag{column: "is_admin", on: "staff.admin_grant", off: "staff.admin_remove",
		get: func(sl *storage.StaffLogin) *bool { return &sl.Admin }}, admin, nil, tellOf)
	return sl, wrap("set staff admin", err)
}

// SetServiceAdmin designates (on) or stops designating a staff login of
// entity entityID as a service admin (服務管理員), as SetStaffAdmin does for
// admin rights (audit events staff.service_admin_grant, _remove), telling
// what tellOf composes.
func (s *Store) SetServiceAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid string, on bool, tellOf storage.TellOf) (storage.StaffLogin, error) {
	sl, err := s.setStaffFlag(ctx, actor, entityID, euid, staffFlag{column: "is_service_admin", on: "staff.service_admin_grant",
		off: "staff.service_admin_remove", get: func(sl *storage.StaffLogin) *bool { return &sl.ServiceAdmin }}, on, nil, tellOf)
	return sl, wrap("set service admin", err)
}

// staffFlag is one of a staff login's role flags: its column, the audit
// actions that set and clear it, and its field.
type staffFlag struct {
	column, on, off string
	get             func(*storage.StaffLogin) *bool
}

// setStaffFlag sets the flag f of a staff login to value, its audit event
// carrying note's details besides the outbox ids of what tellOf composes.
func (s *Store) setStaffFlag(ctx context.Context, actor storage.Actor, entityID int64, euid string, f staffFlag, value bool, note map[string]any, tellOf storage.TellOf) (storage.StaffLogin, error) {
	now := s.now()
	var sl storage.StaffLogin
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if sl, err = lockStaffLogin(ctx, tx, entityID, euid); err != nil {
			return err
		}
		field := f.get(&sl)
		if *field == value || value && sl.Status != storage.StatusActive {
			return storage.ErrConflict
		}
		if _, err := tx.Exec(ctx, `UPDATE staff_logins SET `+f.column+` = $2, updated_at = $3 WHERE id = $1`, sl.ID, value, now); err != nil {
			return err
		}
		details := map[string]any{}
		for k, v := range note {
			details[k] = v
		}
		if err := tell(ctx, tx, now, sl, tellOf, details); err != nil {
			return err
		}
		*field, sl.UpdatedAt = value, now
		action := f.off
		if value {
			action = f.on
		}
		return audit(ctx, tx, now, actor, auditEvent{entityID: &sl.EntityID, action: action, target: sl.EUID, details: details})
	})
	return sl, err
}

// UpdateStaffRegistration replaces the registration fields of a staff login
// of entity entityID with those of reg (names, document, birth date,
// mobile, e-mail, language; never its username, EUID, rights or status),
// with the audit event staff.update naming the fields that changed, in one
// transaction. A changed mobile or e-mail voids the login's open activation
// code: it went to the old address. A change of the identity document that
// voids the login's identity tools (storage.DocumentChangeVoidsTools, asked
// of the row as locked) removes them all, pending ones included, in the
// same transaction, with the audit event tool.void and the notice that
// documentChanged composes from the login as it was (nil: nobody to tell);
// voided reports it. Any other change of the document (the operator's)
// writes that notice too, recorded in staff.update: a change of the
// document is told to the holder once, at the mobile or e-mail it knew. A
// document that another live login of the entity holds is
// storage.ErrAlreadyExists (its EUID in existing); another entity's login
// is storage.ErrNotFound.
func (s *Store) UpdateStaffRegistration(ctx context.Context, actor storage.Actor, entityID int64, euid string, reg storage.StaffLogin, documentChanged storage.NoticeOf) (sl storage.StaffLogin, existing string, voided bool, err error) {
	now := s.now()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockEntityRegistrations(ctx, tx, entityID); err != nil {
			return err
		}
		old, err := lockStaffLogin(ctx, tx, entityID, euid)
		if err != nil {
			return err
		}
		if existing, err = samePerson(ctx, tx, entityID, old.ID, reg.IDDocNumber); err != nil {
			return err
		}
		changed := changedRegistration(old, reg)
		sl = old
		if len(changed) == 0 {
			return nil
		}
		sl, err = scanStaffLogin(tx.QueryRow(ctx, `
			UPDATE staff_logins SET name_zh = $2, name_foreign = $3, id_doc_type = $4, id_doc_number = $5,
				id_doc_issue_place = $6, birth_date = $7, mobile = $8, email = $9, language = $10, updated_at = $11
			WHERE id = $1
			RETURNING `+staffColumns, old.ID, reg.NameZH, reg.NameForeign, reg.IDDocType, reg.IDDocNumber,
			reg.IDDocIssuePlace, reg.BirthDate, reg.Mobile, reg.Email, reg.Language, now))
		if err != nil {
			return err
		}
		details := map[string]any{"changed": changed}
		if old.Mobile != reg.Mobile || old.Email != reg.Email {
			codes, err := voidOpenCodes(ctx, tx, now, `staff_login_id = $1`, old.ID, storage.VoidContactChanged)
			if err != nil {
				return err
			}
			if len(codes) > 0 {
				details["voided_codes"] = codes
			}
		}
		switch {
		case storage.DocumentChangeVoidsTools(actor, old, sl):
			n, err := voidTools(ctx, tx, now, actor, old, documentChanged)
			if err != nil {
				return err
			}
			details["tools_voided"], voided = n, true
		case storage.DocumentChanged(old, sl):
			if err := tell(ctx, tx, now, old, storage.HolderOnly(documentChanged), details); err != nil {
				return err
			}
		}
		return audit(ctx, tx, now, actor, auditEvent{entityID: &entityID, action: "staff.update", target: euid, details: details})
	})
	return sl, existing, voided, wrap("update staff registration", err)
}

// changedRegistration names the registration fields that reg changes of old.
func changedRegistration(old, reg storage.StaffLogin) []string {
	var changed []string
	for _, f := range []struct {
		name     string
		old, new any
	}{
		{"name_zh", old.NameZH, reg.NameZH}, {"name_foreign", old.NameForeign, reg.NameForeign},
		{"id_doc_type", old.IDDocType, reg.IDDocType}, {"id_doc_number", old.IDDocNumber, reg.IDDocNumber},
		{"id_doc_issue_place", old.IDDocIssuePlace, reg.IDDocIssuePlace},
		{"birth_date", old.BirthDate.Format(time.DateOnly), reg.BirthDate.Format(time.DateOnly)},
		{"mobile", old.Mobile, reg.Mobile}, {"email", old.Email, reg.Email}, {"language", old.Language, reg.Language},
	} {
		if f.old != f.new {
			changed = append(changed, f.name)
		}
	}
	return changed
}

// voidTools removes every identity tool of sl (whatever its state: an
// enrolment begun, one waiting for the operator's approval, an active
// one, passkeys) after a change of its identity document, with the audit
// event tool.void naming how many went and the notice that noticeOf
// composes for sl, in tx. The notice is written even when the login held
// no tool: the holder hears that its document was changed.
func voidTools(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, sl storage.StaffLogin, noticeOf storage.NoticeOf) (int64, error) {
	tag, err := tx.Exec(ctx, `DELETE FROM identity_tools WHERE staff_login_id = $1`, sl.ID)
	if err != nil {
		return 0, err
	}
	var notice *storage.OutboxMessage
	if noticeOf != nil {
		var number string
		if err := tx.QueryRow(ctx, `SELECT number FROM entities WHERE id = $1`, sl.EntityID).Scan(&number); err != nil {
			return 0, err
		}
		if notice, err = noticeOf(sl, number); err != nil {
			return 0, err
		}
	}
	n := tag.RowsAffected()
	return n, toolChange(ctx, tx, now, actor, sl, "tool.void", map[string]any{"removed": n, "reason": "document_changed"}, notice)
}

// StaffLoginOf returns the staff login with euid of entity entityID; a
// login of another entity is storage.ErrNotFound, as a missing one.
func (s *Store) StaffLoginOf(ctx context.Context, entityID int64, euid string) (storage.StaffLogin, error) {
	sl, err := scanStaffLogin(s.pool.QueryRow(ctx,
		`SELECT `+staffColumns+` FROM staff_logins WHERE entity_id = $1 AND euid = $2`, entityID, euid))
	return sl, wrap("get staff login of entity", err)
}

// CreateStaffWithCode registers a staff login of sl.EntityID and issues its
// activation code (with the outbox message carrying it), with their audit
// events, in one transaction. The same person (the same identity document,
// compared normalised) may not hold two live staff logins in one entity:
// that is storage.ErrAlreadyExists, with the existing login's EUID in
// existing. Creations in one entity are serialised for the check. The
// entity must be open (storage.ErrConflict otherwise).
func (s *Store) CreateStaffWithCode(ctx context.Context, actor storage.Actor, sl *storage.StaffLogin, issue *storage.CodeIssue) (existing string, err error) {
	now := s.now()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockEntityRegistrations(ctx, tx, sl.EntityID); err != nil {
			return err
		}
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM entities WHERE id = $1`, sl.EntityID).Scan(&status); err != nil {
			return err
		}
		if status != "active" {
			return storage.ErrConflict
		}
		var err error
		if existing, err = samePerson(ctx, tx, sl.EntityID, 0, sl.IDDocNumber); err != nil {
			return err
		}
		if err := createStaffLogin(ctx, tx, now, actor, sl); err != nil {
			return err
		}
		a, err := activatee(ctx, tx, storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID})
		if err != nil {
			return err
		}
		return insertCode(ctx, tx, now, actor, a, issue)
	})
	return existing, wrap("create staff login with activation code", err)
}

// lockEntityRegistrations serialises, until tx ends, the registrations and
// document changes of one entity's staff logins, so that two at once cannot
// both pass samePerson.
func lockEntityRegistrations(ctx context.Context, tx pgx.Tx, entityID int64) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('staff-create', $1))`, entityID)
	return err
}

// samePerson returns storage.ErrAlreadyExists, with the login's EUID, when
// a live staff login of the entity other than exceptID (0: none) holds the
// identity document docNumber (compared normalised): one person, one live
// login per entity.
func samePerson(ctx context.Context, tx pgx.Tx, entityID, exceptID int64, docNumber string) (string, error) {
	var existing string
	err := tx.QueryRow(ctx, `
		SELECT euid FROM staff_logins p
		WHERE p.entity_id = $1 AND p.status = 'active' AND p.id <> $2 AND `+normalizedDocSQL+` = $3
		LIMIT 1`, entityID, exceptID, storage.NormalizeIDDocNumber(docNumber)).Scan(&existing)
	switch {
	case err == nil:
		return existing, storage.ErrAlreadyExists
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	}
	return "", err
}
