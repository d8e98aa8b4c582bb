package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

const entityColumns = `id, number, name_zh, name_pt, kind, status, created_at`

func scanEntity(row pgx.Row) (storage.Entity, error) {
	var e storage.Entity
	err := row.Scan(&e.ID, &e.Number, &e.NameZH, &e.NamePT, &e.Kind, &e.Status, &e.CreatedAt)
	return e, err
}

const entityAccountColumns = `id, entity_id, subject, application_number,
	coalesce(username, ''), coalesce(password_hash, ''), mobile, email, language,
	activated_at, created_at`

func scanEntityAccount(row pgx.Row) (storage.EntityAccount, error) {
	var a storage.EntityAccount
	err := row.Scan(&a.ID, &a.EntityID, &a.Subject, &a.ApplicationNumber,
		&a.Username, &a.PasswordHash, &a.Mobile, &a.Email, &a.Language,
		&a.ActivatedAt, &a.CreatedAt)
	return a, err
}

// defaultLanguage is used when a registration leaves the language empty.
const defaultLanguage = "zh-Hant"

// CreateEntity opens an entity with its entity account (acct must not be
// nil: every entity has exactly one), in one transaction.
// It fills e.ID, e.Status (active unless given) and e.CreatedAt, and acct.ID,
// acct.EntityID, acct.Subject and acct.CreatedAt. The account is created
// unactivated: its Username, PasswordHash and ActivatedAt are ignored (see
// ActivateEntityAccount). A taken entity number gives storage.ErrAlreadyExists.
func (s *Store) CreateEntity(ctx context.Context, actor storage.Actor, e *storage.Entity, acct *storage.EntityAccount) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error { return createEntity(ctx, tx, now, actor, e, acct) })
	return wrap("create entity", err)
}

// createEntity is CreateEntity inside tx.
func createEntity(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, e *storage.Entity, acct *storage.EntityAccount) error {
	err := tx.QueryRow(ctx, `
		INSERT INTO entities (number, name_zh, name_pt, kind, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id, status, created_at`,
		e.Number, e.NameZH, e.NamePT, e.Kind, orDefault(e.Status, "active"), now,
	).Scan(&e.ID, &e.Status, &e.CreatedAt)
	if err != nil {
		return err
	}
	acct.EntityID = e.ID
	err = tx.QueryRow(ctx, `
		INSERT INTO entity_accounts (entity_id, application_number, mobile, email, language, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING id, subject, created_at`,
		e.ID, acct.ApplicationNumber, acct.Mobile, acct.Email,
		orDefault(acct.Language, defaultLanguage), now,
	).Scan(&acct.ID, &acct.Subject, &acct.CreatedAt)
	if err != nil {
		return err
	}
	acct.Language = orDefault(acct.Language, defaultLanguage)
	acct.Username, acct.PasswordHash, acct.ActivatedAt = "", "", nil
	return audit(ctx, tx, now, actor, auditEvent{
		entityID: &e.ID,
		action:   "entity.create",
		target:   e.Number,
		details:  map[string]any{"kind": e.Kind, "entity_account": acct.Subject},
	})
}

// Entity returns the entity with the given id, or storage.ErrNotFound.
func (s *Store) Entity(ctx context.Context, id int64) (storage.Entity, error) {
	e, err := scanEntity(s.pool.QueryRow(ctx,
		`SELECT `+entityColumns+` FROM entities WHERE id = $1`, id))
	return e, wrap("get entity", err)
}

// EntityByNumber returns the entity with the given entity number, or storage.ErrNotFound.
func (s *Store) EntityByNumber(ctx context.Context, number string) (storage.Entity, error) {
	e, err := scanEntity(s.pool.QueryRow(ctx,
		`SELECT `+entityColumns+` FROM entities WHERE number = $1`, number))
	return e, wrap("get entity by number", err)
}

// EntityAccount returns the entity account of an entity, or storage.ErrNotFound.
func (s *Store) EntityAccount(ctx context.Context, entityID int64) (storage.EntityAccount, error) {
	a, err := scanEntityAccount(s.pool.QueryRow(ctx,
		`SELECT `+entityAccountColumns+` FROM entity_accounts WHERE entity_id = $1`, entityID))
	return a, wrap("get entity account", err)
}

// ActivateEntityAccount sets the username and password hash of an entity
// account and marks it activated, once. It returns storage.ErrNotFound for an
// unknown id, storage.ErrConflict if the account is already activated, and
// storage.ErrAlreadyExists if the username is taken in the entity (by the
// account or any staff login, compared case-insensitively).
func (s *Store) ActivateEntityAccount(ctx context.Context, actor storage.Actor, id int64, username, passwordHash string) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var entityID int64
		var subject string
		err := tx.QueryRow(ctx, `
			UPDATE entity_accounts
			SET username = $2, password_hash = $3, activated_at = $4
			WHERE id = $1 AND activated_at IS NULL
			RETURNING entity_id, subject`,
			id, nullIfEmpty(username), nullIfEmpty(passwordHash), now,
		).Scan(&entityID, &subject)
		if errors.Is(err, pgx.ErrNoRows) {
			return existsOrNotFound(ctx, tx, `SELECT EXISTS (SELECT FROM entity_accounts WHERE id = $1)`, id)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{
			entityID: &entityID,
			action:   "entity_account.activate",
			target:   subject,
			details:  map[string]any{"username": username},
		})
	})
	return wrap("activate entity account", err)
}

// existsOrNotFound explains why a conditional UPDATE touched no row: the row
// exists but is not in the required state (storage.ErrConflict), or there is
// no such row (storage.ErrNotFound). query must select one boolean.
func existsOrNotFound(ctx context.Context, tx pgx.Tx, query string, args ...any) error {
	var exists bool
	if err := tx.QueryRow(ctx, query, args...).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return storage.ErrConflict
	}
	return storage.ErrNotFound
}

// CloseEntity closes the entity with id: its status becomes closed, so that
// none of its accounts can sign in or act any more, every open activation
// code of it is voided (its messages cancelled), and the audit event
// entity.close is written, in one transaction. It returns the entity and the
// subjects of its accounts (the entity account's and every staff login's),
// whose sessions and tokens the caller ends. Closing a closed entity is
// storage.ErrConflict; an unknown one storage.ErrNotFound.
func (s *Store) CloseEntity(ctx context.Context, actor storage.Actor, id int64) (storage.Entity, []string, error) {
	return s.CloseEntityWithReason(ctx, actor, id, "")
}

// CloseEntityWithReason is CloseEntity recording why (the officer's
// reason, "" for none) in the audit event.
func (s *Store) CloseEntityWithReason(ctx context.Context, actor storage.Actor, id int64, reason string) (storage.Entity, []string, error) {
	now := s.now()
	var e storage.Entity
	var subjects []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		e, err = scanEntity(tx.QueryRow(ctx, `SELECT `+entityColumns+` FROM entities WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if e.Status == "closed" {
			return storage.ErrConflict
		}
		if _, err := tx.Exec(ctx, `UPDATE entities SET status = 'closed' WHERE id = $1`, id); err != nil {
			return err
		}
		e.Status = "closed"
		voided, err := voidOpenCodes(ctx, tx, now, `entity_id = $1`, id, storage.VoidEntityClosed)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			SELECT subject FROM entity_accounts WHERE entity_id = $1
			UNION ALL SELECT euid FROM staff_logins WHERE entity_id = $1`, id)
		if err != nil {
			return err
		}
		if subjects, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		details := map[string]any{"accounts": len(subjects), "voided_codes": len(voided)}
		if reason != "" {
			details["reason"] = reason
		}
		return audit(ctx, tx, now, actor, auditEvent{entityID: &e.ID, action: "entity.close", target: e.Number, details: details})
	})
	return e, subjects, wrap("close entity", err)
}
