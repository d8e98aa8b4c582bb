package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// signingKeyLock is the pg_advisory_xact_lock key that serialises changes to
// the active signing key across nodes (an arbitrary constant, "idpkeys").
const signingKeyLock int64 = 0x6964706b657973

// SigningKeys returns every key not past its ExpiresAt, newest first:
// the active key, keys published ahead of activation, and retired keys whose
// tokens may still be live.
func (s *Store) SigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT kid, algorithm, private_key_sealed, public_jwk::text,
			created_at, activated_at, retired_at, expires_at
		FROM signing_keys
		WHERE expires_at IS NULL OR expires_at > $1
		ORDER BY created_at DESC, kid DESC`, s.now())
	if err != nil {
		return nil, wrap("list signing keys", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.SigningKey, error) {
		var k storage.SigningKey
		// public_jwk is read as text: PublicJWK is the JWK's raw JSON.
		var jwk string
		err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateKeySealed, &jwk,
			&k.CreatedAt, &k.ActivatedAt, &k.RetiredAt, &k.ExpiresAt)
		k.PublicJWK = []byte(jwk)
		return k, err
	})
	if err != nil {
		return nil, wrap("list signing keys", err)
	}
	return nonNil(keys), nil
}

// CreateSigningKey stores k, created now. Without activate it is published
// but does not sign (its ActivatedAt, RetiredAt are ignored; ExpiresAt is
// kept). With activate it becomes the signing key and, in the same
// transaction, the previous active key is retired now and set to leave the
// JWKS at retiredExpiry. Concurrent rotations are serialised, so each one
// retires its predecessor. A taken kid gives storage.ErrAlreadyExists.
func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey, activate bool, retiredExpiry time.Time) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, signingKeyLock); err != nil {
			return err
		}
		var activatedAt *time.Time
		if activate {
			activatedAt = &now
			_, err := tx.Exec(ctx, `
				UPDATE signing_keys SET retired_at = $1, expires_at = $2
				WHERE activated_at IS NOT NULL AND retired_at IS NULL`, now, retiredExpiry)
			if err != nil {
				return err
			}
		}
		return insertSigningKey(ctx, tx, k, now, activatedAt)
	})
	return wrap("create signing key", err)
}

// EnsureSigningKey stores k as the active key only if there is no active key
// yet, and reports whether it did. Nodes starting at once take turns on an
// advisory lock, so exactly one of them stores its key.
func (s *Store) EnsureSigningKey(ctx context.Context, k storage.SigningKey) (bool, error) {
	now := s.now()
	var inserted bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, signingKeyLock); err != nil {
			return err
		}
		var active bool
		err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT FROM signing_keys WHERE activated_at IS NOT NULL AND retired_at IS NULL)`,
		).Scan(&active)
		if err != nil || active {
			return err
		}
		if err := insertSigningKey(ctx, tx, k, now, &now); err != nil {
			return err
		}
		inserted = true
		return nil
	})
	if err != nil {
		return false, wrap("ensure signing key", err)
	}
	return inserted, nil
}

func insertSigningKey(ctx context.Context, tx pgx.Tx, k storage.SigningKey, now time.Time, activatedAt *time.Time) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO signing_keys (kid, algorithm, private_key_sealed, public_jwk,
			created_at, activated_at, expires_at)
		VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7)`,
		k.ID, k.Algorithm, k.PrivateKeySealed, string(k.PublicJWK), now, activatedAt, k.ExpiresAt)
	return err
}
