package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// The outbox: notifications written in the transaction of the change that
// causes them, delivered afterwards by workers (login/notify). Any number of
// workers, on any number of nodes, may claim at once: a claim takes pending
// rows with FOR UPDATE SKIP LOCKED, stamps them with a lease token and moves
// next_attempt_at past the lease, so no other worker takes them until the
// lease ends (or the worker settles them first).

const outboxColumns = `id, channel, recipient, language, coalesce(body_sealed, ''::bytea), entity_id,
	activation_code_id, created_at, attempts, next_attempt_at, coalesce(lease_token, ''), last_error,
	delivered_at, failed_at, cancelled_at, client_id, session_id, subject, jti`

const outboxPending = `delivered_at IS NULL AND failed_at IS NULL AND cancelled_at IS NULL`

func scanOutbox(row pgx.Row) (storage.OutboxMessage, error) {
	var m storage.OutboxMessage
	var clientID, sid, subject, jti *string
	err := row.Scan(&m.ID, &m.Channel, &m.Recipient, &m.Language, &m.Body, &m.EntityID,
		&m.CodeID, &m.CreatedAt, &m.Attempts, &m.NextAttemptAt, &m.Lease, &m.LastError,
		&m.DeliveredAt, &m.FailedAt, &m.CancelledAt, &clientID, &sid, &subject, &jti)
	if len(m.Body) == 0 {
		m.Body = nil
	}
	if err == nil && clientID != nil && sid != nil && subject != nil && jti != nil {
		m.Logout = &storage.LogoutDelivery{
			SessionParty: storage.SessionParty{SessionID: *sid, Subject: *subject, ClientID: *clientID}, JTI: *jti,
		}
	}
	return m, err
}

// ClaimOutbox claims up to limit messages due for delivery for lease: their
// Attempts count this attempt, their Lease is set, and no other claim returns
// them until the lease ends or they are settled (OutboxDelivered, OutboxRetry,
// OutboxFailed). Messages whose activation code is no longer live (voided,
// used, expired), or whose account is deleted (or, for an activation code,
// activated) meanwhile, are
// cancelled instead of returned: delivering them would only confuse.
func (s *Store) ClaimOutbox(ctx context.Context, lease time.Duration, limit int) ([]storage.OutboxMessage, error) {
	token, err := leaseToken()
	if err != nil {
		return nil, err
	}
	now := s.now()
	var claimed []storage.OutboxMessage
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			UPDATE outbox SET cancelled_at = $1, body_sealed = NULL, lease_token = NULL,
				last_error = 'activation code no longer valid'
			WHERE id IN (
				SELECT o.id FROM outbox o
					JOIN activation_codes c ON c.id = o.activation_code_id
					LEFT JOIN staff_logins sl ON sl.id = c.staff_login_id
					LEFT JOIN entity_accounts ea ON ea.id = c.entity_account_id
				WHERE o.`+outboxPending+` AND o.next_attempt_at <= $1
					AND (c.used_at IS NOT NULL OR c.voided_at IS NOT NULL OR c.expires_at <= $1
						OR sl.status = 'deleted'
						OR c.purpose = 'activation' AND (sl.activated_at IS NOT NULL OR ea.activated_at IS NOT NULL))
				FOR UPDATE OF o SKIP LOCKED)`, now)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, lease_token = $3
			WHERE id IN (
				SELECT id FROM outbox
				WHERE `+outboxPending+` AND next_attempt_at <= $1
				ORDER BY next_attempt_at, id
				LIMIT $4
				FOR UPDATE SKIP LOCKED)
			RETURNING `+outboxColumns, now, now.Add(lease), token, limit)
		if err != nil {
			return err
		}
		claimed, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.OutboxMessage, error) {
			return scanOutbox(row)
		})
		return err
	})
	return nonNil(claimed), wrap("claim outbox", err)
}

func leaseToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// OutboxDelivered records that message id was handed to its gateway: it
// clears the sealed body, and stamps the activation code's sent time. A
// delivery is a fact, so it is recorded even if the claim's lease has ended;
// a message already settled gives storage.ErrConflict (and changes nothing).
func (s *Store) OutboxDelivered(ctx context.Context, id int64) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Lock the message's activation code before the message: issuing a
		// new code locks the old code, then cancels its messages, and the
		// same order here keeps the two from deadlocking.
		var codeID *int64
		err := tx.QueryRow(ctx, `SELECT activation_code_id FROM outbox WHERE id = $1`, id).Scan(&codeID)
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrNotFound
		}
		if err != nil {
			return err
		}
		if codeID != nil {
			if _, err := tx.Exec(ctx, `SELECT 1 FROM activation_codes WHERE id = $1 FOR UPDATE`, *codeID); err != nil {
				return err
			}
		}
		err = tx.QueryRow(ctx, `
			UPDATE outbox SET delivered_at = $2, body_sealed = NULL, lease_token = NULL, last_error = ''
			WHERE id = $1 AND `+outboxPending+`
			RETURNING activation_code_id`, id, now).Scan(&codeID)
		if errors.Is(err, pgx.ErrNoRows) {
			return existsOrNotFound(ctx, tx, `SELECT EXISTS (SELECT FROM outbox WHERE id = $1)`, id)
		}
		if err != nil || codeID == nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE activation_codes SET sent_at = $2 WHERE id = $1`, *codeID, now)
		return err
	})
	return wrap("mark outbox message delivered", err)
}

// OutboxRetry puts message id back in the queue after a failed attempt, not
// before delay from now, if the claim with token lease still holds it
// (storage.ErrConflict otherwise).
func (s *Store) OutboxRetry(ctx context.Context, id int64, lease, lastError string, delay time.Duration) error {
	now := s.now()
	return wrap("reschedule outbox message", s.settle(ctx, `
		UPDATE outbox SET next_attempt_at = $3, lease_token = NULL, last_error = $4
		WHERE id = $1 AND lease_token = $2 AND `+outboxPending, id, lease, now.Add(delay), truncate(lastError)))
}

// OutboxFailed gives message id up for good (the gateway refused it, and
// retrying would not help), clearing its body, if the claim with token lease
// still holds it (storage.ErrConflict otherwise).
func (s *Store) OutboxFailed(ctx context.Context, id int64, lease, lastError string) error {
	now := s.now()
	return wrap("mark outbox message failed", s.settle(ctx, `
		UPDATE outbox SET failed_at = $3, body_sealed = NULL, lease_token = NULL, last_error = $4
		WHERE id = $1 AND lease_token = $2 AND `+outboxPending, id, lease, now, truncate(lastError)))
}

func (s *Store) settle(ctx context.Context, sql string, id int64, args ...any) error {
	tag, err := s.pool.Exec(ctx, sql, append([]any{id}, args...)...)
	if err != nil || tag.RowsAffected() == 1 {
		return err
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM outbox WHERE id = $1)`, id).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return storage.ErrConflict
	}
	return storage.ErrNotFound
}

// truncate keeps stored error texts short.
func truncate(s string) string {
	n := 500
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n-- // never cut a character in two: Postgres refuses invalid UTF-8
	}
	return s[:n]
}

// OutboxMessage returns one message, or storage.ErrNotFound.
func (s *Store) OutboxMessage(ctx context.Context, id int64) (storage.OutboxMessage, error) {
	m, err := scanOutbox(s.pool.QueryRow(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE id = $1`, id))
	return m, wrap("get outbox message", err)
}

// OutboxForCode returns the messages that carried an activation code, oldest first.
func (s *Store) OutboxForCode(ctx context.Context, codeID int64) ([]storage.OutboxMessage, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+outboxColumns+` FROM outbox WHERE activation_code_id = $1 ORDER BY id`, codeID)
	if err != nil {
		return nil, wrap("list outbox messages", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.OutboxMessage, error) {
		return scanOutbox(row)
	})
	return nonNil(list), wrap("list outbox messages", err)
}

// enqueueNotice writes m, a notice that carries no activation code, to the
// outbox in tx for entity entityID, due at once: it is sent only if the
// change that causes it commits. It fills m's ID, EntityID, Language (the
// default when empty), CreatedAt and NextAttemptAt.
func enqueueNotice(ctx context.Context, tx pgx.Tx, now time.Time, entityID int64, m *storage.OutboxMessage) error {
	m.EntityID, m.CreatedAt, m.NextAttemptAt, m.Attempts = &entityID, now, now, 0
	m.Language = orDefault(m.Language, defaultLanguage)
	return tx.QueryRow(ctx, `
		INSERT INTO outbox (channel, recipient, language, body_sealed, entity_id, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		RETURNING id`,
		string(m.Channel), m.Recipient, m.Language, m.Body, entityID, now).Scan(&m.ID)
}
