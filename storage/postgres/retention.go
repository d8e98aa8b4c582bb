package postgres

import (
	"context"

	"github.com/entity-account/idp/storage"
)

// retentionLock is the session advisory lock that lets one node at a time
// run the retention job: the others find it taken and skip their run.
const retentionLock = int64(0x1d9_5e7e_0001)

// purgeSignInsSQL deletes one batch of the oldest events past the limit:
// a bounded statement, so that a year of backlog neither holds locks for
// long nor bloats one transaction.
const purgeSignInsSQL = `
	DELETE FROM signin_events WHERE id = ANY(ARRAY(
		SELECT id FROM signin_events WHERE at < $1 ORDER BY at LIMIT $2))`

// purgeOfficerSignInsSQL is purgeSignInsSQL for the officers' sign-ins at
// the desk, kept as long as the entities' sign-in history.
const purgeOfficerSignInsSQL = `
	DELETE FROM officer_signins WHERE id = ANY(ARRAY(
		SELECT id FROM officer_signins WHERE at < $1 ORDER BY at LIMIT $2))`

// eraseDeletedSQL erases one batch of the personal data of staff logins
// deleted before $1 (document number, birth date, mobile, e-mail), keeping
// the EUID and the names, and writes each erasure to the audit trail in the
// same statement. The logins' activation codes go too, and with them their
// messages in the outbox, which name the mobile or e-mail they were sent
// to. The count is the audit rows written, one per login.
const eraseDeletedSQL = `
	WITH due AS (
		SELECT id FROM staff_logins
		WHERE status = 'deleted' AND erased_at IS NULL AND deleted_at < $1
		ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED
	), erased AS (
		UPDATE staff_logins p SET id_doc_number = NULL, birth_date = NULL, mobile = '', email = '',
			erased_at = $3, updated_at = $3
		FROM due WHERE p.id = due.id
		RETURNING p.id, p.euid, p.entity_id
	), codes AS (
		DELETE FROM activation_codes c USING erased WHERE c.staff_login_id = erased.id
	)
	INSERT INTO audit_events (at, actor_kind, actor_id, entity_id, action, target, details)
	SELECT $3, 'system', '', entity_id, 'staff.erase', euid,
		'{"erased": ["id_doc_number", "birth_date", "mobile", "email"]}'::jsonb
	FROM erased`

// ApplyRetention deletes the sign-in events (the entities' and the
// officers' at the desk) older than p.EventsBefore and
// erases the personal data of staff logins deleted before p.DeletedBefore,
// p.Batch rows a statement, each statement its own transaction. It runs
// only while it holds the retention lock on a connection of its own: when
// another node holds it, it does nothing (Ran false).
func (s *Store) ApplyRetention(ctx context.Context, p storage.RetentionPolicy) (storage.RetentionResult, error) {
	var res storage.RetentionResult
	batch := p.Batch
	if batch <= 0 {
		batch = 5000
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return res, wrap("retention", err)
	}
	defer conn.Release()
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, retentionLock).Scan(&res.Ran); err != nil || !res.Ran {
		return res, wrap("retention lock", err)
	}
	defer func() {
		// A lock that outlives its work would stop every other node's runs:
		// unlock even when ctx is done.
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, retentionLock)
	}()
	run := func(sql string, args ...any) (int64, error) {
		var total int64
		for {
			tag, err := conn.Exec(ctx, sql, args...)
			if err != nil {
				return total, err
			}
			total += tag.RowsAffected()
			if tag.RowsAffected() < int64(batch) {
				return total, nil
			}
		}
	}
	if res.EventsDeleted, err = run(purgeSignInsSQL, p.EventsBefore, batch); err != nil {
		return res, wrap("purge sign-in events", err)
	}
	officers, err := run(purgeOfficerSignInsSQL, p.EventsBefore, batch)
	if err != nil {
		return res, wrap("purge officers' sign-ins", err)
	}
	res.EventsDeleted += officers
	if !p.DeletedBefore.IsZero() {
		if res.LoginsErased, err = run(eraseDeletedSQL, p.DeletedBefore, batch, s.now()); err != nil {
			return res, wrap("erase deleted staff logins", err)
		}
	}
	return res, nil
}
