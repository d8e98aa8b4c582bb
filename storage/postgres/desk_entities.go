package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/text/width"

	"github.com/entity-account/idp/storage"
)

// The operator's desk: finding entities and staff logins across every
// entity, an entity's staff as its page shows them, reopening a closed
// entity, granting admin rights on the record of a document.
//
// The searches by prefix (entity number, username, normalised document
// number) are written as ranges over text_pattern_ops indexes (migration
// 00020): prefix <= x < the prefix with its last character raised. A LIKE
// 'x%' with its pattern a parameter would lose the index in a generic
// plan of the prepared statement; the range keeps it. The search by any
// part of a name cannot use a btree: it scans, and stops at the limit.

// prefixRange is the range [from, to) of strings that begin with prefix
// (ASCII, as every prefix searched here is); nil, nil for "".
func prefixRange(prefix string) (from, to *string) {
	if prefix == "" {
		return nil, nil
	}
	b := []byte(prefix)
	b[len(b)-1]++
	end := string(b)
	return &prefix, &end
}

// entityNumberPrefix is the beginning of an entity number that typed text
// is, in the stored form ("02-0000…"), or "" when it cannot be one (other
// characters than digits and separators, more than eight digits).
func entityNumberPrefix(text string) string {
	var digits []byte
	for _, r := range width.Narrow.String(text) {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case r == '-' || r == ' ' || r == '/' || r == '.':
		default:
			return ""
		}
	}
	if len(digits) == 0 || len(digits) > 8 {
		return ""
	}
	if len(digits) <= 2 {
		return string(digits)
	}
	return string(digits[:2]) + "-" + string(digits[2:])
}

const searchEntitiesSQL = `
	WITH found AS (
		(SELECT id FROM entities WHERE number ~>=~ $1 AND number ~<~ $2 ORDER BY number LIMIT $4)
		UNION
		(SELECT id FROM entities WHERE lower(name_zh) LIKE $3 OR lower(name_pt) LIKE $3 LIMIT $4)
	)
	SELECT ` + entityColumns + ` FROM entities WHERE id IN (SELECT id FROM found)
	ORDER BY number LIMIT $4`

// SearchEntities returns at most limit entities (1–SearchLimit; 0: all
// SearchLimit) whose number begins with text (typed with or without its
// hyphen) or whose Chinese or Portuguese name holds it in any case, by
// number.
func (s *Store) SearchEntities(ctx context.Context, text string, limit int) ([]storage.Entity, error) {
	if limit <= 0 || limit > storage.SearchLimit {
		limit = storage.SearchLimit
	}
	text = strings.TrimSpace(text)
	from, to := prefixRange(entityNumberPrefix(text))
	rows, err := s.pool.Query(ctx, searchEntitiesSQL, from, to, likePattern(strings.ToLower(text)), limit)
	if err != nil {
		return nil, wrap("search entities", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Entity, error) { return scanEntity(row) })
	return nonNil(list), wrap("search entities", err)
}

const searchStaffSQL = `
	WITH found AS (
		(SELECT id FROM staff_logins WHERE euid = $1)
		UNION
		(SELECT id FROM staff_logins WHERE lower(username) ~>=~ $2 AND lower(username) ~<~ $3 LIMIT $7)
		UNION
		(SELECT id FROM staff_logins WHERE id_doc_key ~>=~ $4 AND id_doc_key ~<~ $5 LIMIT $7)
		UNION
		(SELECT id FROM staff_logins WHERE lower(name_zh) LIKE $6 OR lower(name_foreign) LIKE $6 LIMIT $7)
	)
	SELECT p.*, e.number, e.name_zh, e.name_pt
	FROM (SELECT ` + staffColumns + ` FROM staff_logins WHERE id IN (SELECT id FROM found)) p
	JOIN entities e ON e.id = p.entity_id
	ORDER BY p.id LIMIT $7`

// SearchStaff returns at most limit staff logins of any entity (1–
// SearchLimit; 0: all SearchLimit), deleted ones included, found by text:
// its EUID (whole), the beginning of its username or of its identity
// document number (normalised, from three characters on), or any part of
// a name, in any case; each with its entity's number and names, its
// document number whole (the use case masks it).
func (s *Store) SearchStaff(ctx context.Context, text string, limit int) ([]storage.StaffMatch, error) {
	if limit <= 0 || limit > storage.SearchLimit {
		limit = storage.SearchLimit
	}
	text = strings.TrimSpace(text)
	var euid *string
	if u := strings.ToUpper(text); storage.ValidEUID(u) {
		euid = &u
	}
	var userFrom, userTo *string
	if u, ok := storage.NormalizeUsername(text); ok {
		userFrom, userTo = prefixRange(u)
	}
	var docFrom, docTo *string
	if doc := storage.NormalizeIDDocNumber(text); len(doc) >= 3 {
		docFrom, docTo = prefixRange(doc)
	}
	rows, err := s.pool.Query(ctx, searchStaffSQL, euid, userFrom, userTo, docFrom, docTo, likePattern(strings.ToLower(text)), limit)
	if err != nil {
		return nil, wrap("search staff", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.StaffMatch, error) {
		var m storage.StaffMatch
		var err error
		m.StaffLogin, err = scanStaffLogin(row, &m.EntityNumber, &m.EntityNameZH, &m.EntityNamePT)
		m.PasswordHash = ""
		return m, err
	})
	return nonNil(list), wrap("search staff", err)
}

// deskStaffSQL is an entity's staff logins for its page at the desk: the
// staff list's columns with the counts of active and pending identity
// tools, at most 500, in order of creation.
const deskStaffSQL = `
	SELECT ` + staffColumns + `,
		EXISTS (SELECT 1 FROM activation_codes c
			WHERE c.staff_login_id = staff_logins.id AND c.purpose = 'activation' AND c.used_at IS NULL AND c.voided_at IS NULL AND c.expires_at > $2),
		last_signin_at,
		(SELECT count(*) FROM identity_tools t WHERE t.staff_login_id = staff_logins.id AND t.state = 'active'),
		(SELECT count(*) FROM identity_tools t WHERE t.staff_login_id = staff_logins.id AND t.state = 'pending')
	FROM staff_logins WHERE entity_id = $1 ORDER BY id LIMIT 500`

// DeskStaff returns the staff logins of an entity (deleted ones
// included) as its page at the desk lists them, without password hashes;
// LockedUntil is left for the caller, who holds the lockouts.
func (s *Store) DeskStaff(ctx context.Context, entityID int64) ([]storage.DeskStaffRow, error) {
	rows, err := s.pool.Query(ctx, deskStaffSQL, entityID, s.now())
	if err != nil {
		return nil, wrap("desk staff", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.DeskStaffRow, error) {
		var r storage.DeskStaffRow
		var err error
		r.StaffLogin, err = scanStaffLogin(row, &r.CodeOutstanding, &r.LastSignInAt, &r.ActiveTools, &r.PendingTools)
		r.PasswordHash = ""
		return r, err
	})
	return nonNil(list), wrap("desk staff", err)
}

// ReopenEntity opens the closed entity with id again: its status becomes
// active, so that its accounts may sign in again with their passwords,
// with the audit event entity.reopen (with reason, when not "") in one
// transaction. What the closing ended stays ended: sessions, tokens and
// voided activation codes (a login not yet activated needs a new code).
// It returns the entity and the subjects of its accounts, whose cached
// claims the caller drops. Reopening an open entity is
// storage.ErrConflict; an unknown one storage.ErrNotFound.
func (s *Store) ReopenEntity(ctx context.Context, actor storage.Actor, id int64, reason string) (storage.Entity, []string, error) {
	now := s.now()
	var e storage.Entity
	var subjects []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		e, err = scanEntity(tx.QueryRow(ctx, `SELECT `+entityColumns+` FROM entities WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if e.Status != storage.EntityClosed {
			return storage.ErrConflict
		}
		if _, err := tx.Exec(ctx, `UPDATE entities SET status = 'active' WHERE id = $1`, id); err != nil {
			return err
		}
		e.Status = storage.EntityActive
		rows, err := tx.Query(ctx, `
			SELECT subject FROM entity_accounts WHERE entity_id = $1
			UNION ALL SELECT euid FROM staff_logins WHERE entity_id = $1`, id)
		if err != nil {
			return err
		}
		if subjects, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		details := map[string]any{"accounts": len(subjects)}
		if reason != "" {
			details["reason"] = reason
		}
		return audit(ctx, tx, now, actor, auditEvent{entityID: &e.ID, action: "entity.reopen", target: e.Number, details: details})
	})
	return e, subjects, wrap("reopen entity", err)
}

// GrantStaffAdmin is SetStaffAdmin giving admin rights, recording in the
// audit event (staff.admin_grant) the number of the document the grant
// rests on (the application or the entity's consent), "" for none.
func (s *Store) GrantStaffAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid, document string, tellOf storage.TellOf) (storage.StaffLogin, error) {
	var note map[string]any
	if document != "" {
		note = map[string]any{"document": document}
	}
	sl, err := s.setStaffFlag(ctx, actor, entityID, euid, staffFlag{column: "is_admin", on: "staff.admin_grant", off: "staff.admin_remove",
		get: func(sl *storage.StaffLogin) *bool { return &sl.Admin }}, true, note, tellOf)
	return sl, wrap("grant staff admin", err)
}
