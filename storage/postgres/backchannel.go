package postgres

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// Back-channel logout deliveries are outbox rows of the channel
// storage.ChannelBackchannel (see migrations/00003_backchannel.sql): the
// outbox worker claims, retries and settles them like any other message.

// EnqueueLogouts writes one pending delivery per party whose client is
// enabled and has a back-channel logout URI, and returns how many it wrote.
// A (session, client) pair that already has a row, written by this node or
// another ending the same session, gets none: each client hears of a
// session's end once. The URI is the one registered now.
func (s *Store) EnqueueLogouts(ctx context.Context, parties []storage.SessionParty) (int, error) {
	if len(parties) == 0 {
		return 0, nil
	}
	sids := make([]string, len(parties))
	subjects := make([]string, len(parties))
	clients := make([]string, len(parties))
	jtis := make([]string, len(parties))
	for i, p := range parties {
		jti, err := newJTI()
		if err != nil {
			return 0, err
		}
		sids[i], subjects[i], clients[i], jtis[i] = p.SessionID, p.Subject, p.ClientID, jti
	}
	now := s.now()
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO outbox (channel, recipient, language, client_id, session_id, subject, jti,
			created_at, next_attempt_at)
		SELECT 'backchannel', c.backchannel_logout_uri, '', c.id, p.sid, p.sub, p.jti, $5, $5
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS p (sid, sub, client, jti)
			JOIN clients c ON c.id = p.client
		WHERE c.disabled_at IS NULL AND c.backchannel_logout_uri <> '' AND p.sid <> '' AND p.sub <> ''
		ON CONFLICT (session_id, client_id) WHERE channel = 'backchannel' DO NOTHING`,
		sids, subjects, clients, jtis, now)
	if err != nil {
		return 0, wrap("enqueue back-channel logouts", err)
	}
	return int(tag.RowsAffected()), nil
}

// newJTI returns a JWT id: 128 random bits, base64url.
func newJTI() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("postgres: random jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// LogoutDeliveries returns the most recent back-channel logout deliveries,
// newest first: of one client, or of all when clientID is "". limit ≤ 0
// means 100.
func (s *Store) LogoutDeliveries(ctx context.Context, clientID string, limit int) ([]storage.OutboxMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+outboxColumns+` FROM outbox
		WHERE channel = 'backchannel' AND ($1 = '' OR client_id = $1)
		ORDER BY id DESC
		LIMIT $2`, clientID, limit)
	if err != nil {
		return nil, wrap("list back-channel logouts", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.OutboxMessage, error) {
		return scanOutbox(row)
	})
	return nonNil(list), wrap("list back-channel logouts", err)
}
