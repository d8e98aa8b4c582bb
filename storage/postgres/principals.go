package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// principalQuery selects, in one round trip, the entity account matching
// accountCond and the staff logins matching staffCond (alias p for the
// account or login, e for its entity). The entity account's name is its
// entity's name, and its status is always active.
func principalQuery(accountCond, staffCond string) string {
	return `
		SELECT 'entity_account', p.id, p.subject, e.id, e.number, e.name_zh, e.name_pt,
			e.status = 'active', coalesce(p.username, ''), coalesce(p.password_hash, ''),
			e.name_zh, e.name_pt, p.email, p.mobile, p.language,
			p.activated_at IS NOT NULL, 'active', false, false
		FROM entity_accounts p JOIN entities e ON e.id = p.entity_id
		WHERE ` + accountCond + `
		UNION ALL
		SELECT 'staff', p.id, p.euid, e.id, e.number, e.name_zh, e.name_pt,
			e.status = 'active', coalesce(p.username, ''), coalesce(p.password_hash, ''),
			p.name_zh, p.name_foreign, p.email, p.mobile, p.language,
			p.activated_at IS NOT NULL, p.status, p.is_admin, p.is_service_admin
		FROM staff_logins p JOIN entities e ON e.id = p.entity_id
		WHERE ` + staffCond
}

var (
	// The shared username namespace guarantees at most one row.
	principalByUsernameSQL = principalQuery(
		`e.number = $1 AND lower(p.username) = lower($2)`,
		`e.number = $1 AND lower(p.username) = lower($2)`)
	principalBySubjectSQL = principalQuery(`p.subject = $1`, `p.euid = $1`)
)

func scanPrincipal(row pgx.Row) (storage.Principal, error) {
	var p storage.Principal
	err := row.Scan(&p.Kind, &p.ID, &p.Subject, &p.EntityID, &p.EntityNumber, &p.EntityNameZH, &p.EntityNamePT,
		&p.EntityActive, &p.Username, &p.PasswordHash,
		&p.NameZH, &p.NameForeign, &p.Email, &p.Mobile, &p.Language,
		&p.Activated, &p.Status, &p.Admin, &p.ServiceAdmin)
	return p, err
}

// Principal finds the entity account or staff login that owns username in the
// entity numbered entityNumber, comparing usernames case-insensitively. A
// deleted staff login or one of a closed entity is returned too, with Status
// and EntityActive saying so: Principal.CanSignIn decides. Returns
// storage.ErrNotFound when the entity or the username is unknown.
func (s *Store) Principal(ctx context.Context, entityNumber, username string) (storage.Principal, error) {
	p, err := scanPrincipal(s.pool.QueryRow(ctx, principalByUsernameSQL, entityNumber, username))
	return p, wrap("get principal", err)
}

// PrincipalBySubject finds an account by its subject: a staff login's EUID or
// an entity account's subject. Returns storage.ErrNotFound when unknown.
func (s *Store) PrincipalBySubject(ctx context.Context, subject string) (storage.Principal, error) {
	p, err := scanPrincipal(s.pool.QueryRow(ctx, principalBySubjectSQL, subject))
	return p, wrap("get principal by subject", err)
}

// UpdatePasswordHash replaces a principal's password hash with new only if it
// still equals old, so that a rehash on login cannot overwrite a password
// changed meanwhile. Returns storage.ErrNotFound for an unknown account and
// storage.ErrConflict when the hash is no longer old. No audit event: the
// password is the same, only its hash parameters change.
func (s *Store) UpdatePasswordHash(ctx context.Context, kind storage.PrincipalKind, id int64, old, new string) error {
	args := []any{id, old, new}
	var table, touch string
	switch kind {
	case storage.KindStaff:
		table, touch = "staff_logins", ", updated_at = $4"
		args = append(args, s.now())
	case storage.KindEntityAccount:
		table = "entity_accounts"
	default:
		return fmt.Errorf("postgres: update password hash: unknown principal kind %q", kind)
	}
	// One round trip: the CTE swaps, the outer query tells a lost swap from
	// an unknown id.
	var updated, exists bool
	err := s.pool.QueryRow(ctx, `
		WITH u AS (
			UPDATE `+table+` SET password_hash = $3`+touch+`
			WHERE id = $1 AND password_hash = $2
			RETURNING 1
		)
		SELECT EXISTS (SELECT FROM u), EXISTS (SELECT FROM `+table+` WHERE id = $1)`,
		args...,
	).Scan(&updated, &exists)
	switch {
	case err != nil:
		return wrap("update password hash", err)
	case updated:
		return nil
	case exists:
		return wrap("update password hash", storage.ErrConflict)
	default:
		return wrap("update password hash", storage.ErrNotFound)
	}
}
