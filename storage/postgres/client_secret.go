package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// ClientForOperator returns a client whether or not it is disabled (the
// provider's Client knows enabled ones only). An unknown id gives
// storage.ErrNotFound.
func (s *Store) ClientForOperator(ctx context.Context, id string) (storage.Client, error) {
	c, err := scanClient(s.pool.QueryRow(ctx, `
		SELECT `+clientColumns+`
		FROM `+clientsFrom+`
		WHERE c.id = $1`, id))
	return c, wrap("get client", err)
}

// RotateClientSecret gives the client id the secret whose SHA-256 is
// newHash; its current secret becomes the previous one, authenticating
// until previousUntil (a previous one before it is forgotten). Only a
// client with a secret is changed: one without (public, private_key_jwt)
// gives storage.ErrNotFound, as an unknown id does. Audited.
func (s *Store) RotateClientSecret(ctx context.Context, actor storage.Actor, id string, newHash []byte, previousUntil time.Time) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE clients SET previous_secret_hash = secret_hash, previous_secret_expires_at = $3, secret_hash = $2
			WHERE id = $1 AND secret_hash IS NOT NULL`, id, newHash, previousUntil)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return storage.ErrNotFound
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "client.rotate_secret", target: id,
			details: map[string]any{"previous_secret_until": previousUntil.UTC().Format(time.RFC3339)}})
	})
	return wrap("rotate client secret", err)
}

// EnableClient enables a disabled client again. Enabling an enabled
// client changes nothing and writes no audit event. An unknown id gives
// storage.ErrNotFound.
func (s *Store) EnableClient(ctx context.Context, actor storage.Actor, id string) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var changed bool
		err := tx.QueryRow(ctx, `
			WITH u AS (
				UPDATE clients SET disabled_at = NULL
				WHERE id = $1 AND disabled_at IS NOT NULL
				RETURNING 1
			)
			SELECT EXISTS (SELECT FROM u) FROM clients WHERE id = $1`, id,
		).Scan(&changed)
		if err != nil || !changed {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "client.enable", target: id})
	})
	return wrap("enable client", err)
}
