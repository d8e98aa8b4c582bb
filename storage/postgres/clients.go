package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

const clientColumns = `c.id, c.service_id, sv.code, sv.name_zh, sv.name_pt, sv.name_en, c.name, c.secret_hash, c.public,
	c.redirect_uris, c.post_logout_redirect_uris, c.backchannel_logout_uri, c.created_at`

func scanClient(row pgx.Row) (storage.Client, error) {
	var c storage.Client
	err := row.Scan(&c.ID, &c.ServiceID, &c.ServiceCode, &c.ServiceName.ZH, &c.ServiceName.PT, &c.ServiceName.EN, &c.Name, &c.SecretHash, &c.Public,
		&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.BackchannelLogoutURI, &c.CreatedAt)
	return c, err
}

// Client returns an enabled client with its e-service's code. An unknown or
// disabled client gives storage.ErrNotFound.
func (s *Store) Client(ctx context.Context, id string) (storage.Client, error) {
	c, err := scanClient(s.pool.QueryRow(ctx, `
		SELECT `+clientColumns+`
		FROM clients c JOIN services sv ON sv.id = c.service_id
		WHERE c.id = $1 AND c.disabled_at IS NULL`, id))
	return c, wrap("get client", err)
}

// ClientsOfService returns the enabled clients of an e-service ordered by id;
// none is an empty slice.
func (s *Store) ClientsOfService(ctx context.Context, serviceID int64) ([]storage.Client, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+clientColumns+`
		FROM clients c JOIN services sv ON sv.id = c.service_id
		WHERE c.service_id = $1 AND c.disabled_at IS NULL
		ORDER BY c.id`, serviceID)
	if err != nil {
		return nil, wrap("list clients", err)
	}
	clients, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Client, error) {
		return scanClient(row)
	})
	if err != nil {
		return nil, wrap("list clients", err)
	}
	return nonNil(clients), nil
}

// CreateClient registers a client of c.ServiceID and fills c.ServiceCode and
// c.CreatedAt. A public client must have no SecretHash and a confidential one
// must have one; the database rejects anything else. A taken id gives
// storage.ErrAlreadyExists, an unknown e-service storage.ErrNotFound.
func (s *Store) CreateClient(ctx context.Context, actor storage.Actor, c *storage.Client) error {
	now := s.now()
	c.PostLogoutRedirectURIs = nonNil(c.PostLogoutRedirectURIs)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO clients (id, service_id, name, secret_hash, public,
				redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			RETURNING created_at, (SELECT code FROM services WHERE id = $2),
				(SELECT name_zh FROM services WHERE id = $2), (SELECT name_pt FROM services WHERE id = $2),
				(SELECT name_en FROM services WHERE id = $2)`,
			c.ID, c.ServiceID, c.Name, c.SecretHash, c.Public,
			nonNil(c.RedirectURIs), c.PostLogoutRedirectURIs, c.BackchannelLogoutURI, now,
		).Scan(&c.CreatedAt, &c.ServiceCode, &c.ServiceName.ZH, &c.ServiceName.PT, &c.ServiceName.EN)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{
			action:  "client.create",
			target:  c.ID,
			details: map[string]any{"service": c.ServiceCode, "public": c.Public, "backchannel_logout_uri": c.BackchannelLogoutURI},
		})
	})
	return wrap("create client", err)
}

// DisableClient disables a client: from then on it is unknown to every
// reader. Disabling a disabled client changes nothing and writes no audit
// event. An unknown id gives storage.ErrNotFound.
func (s *Store) DisableClient(ctx context.Context, actor storage.Actor, id string) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var changed bool
		err := tx.QueryRow(ctx, `
			WITH u AS (
				UPDATE clients SET disabled_at = $2
				WHERE id = $1 AND disabled_at IS NULL
				RETURNING 1
			)
			SELECT EXISTS (SELECT FROM u) FROM clients WHERE id = $1`, id, now,
		).Scan(&changed)
		if err != nil || !changed {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "client.disable", target: id})
	})
	return wrap("disable client", err)
}
