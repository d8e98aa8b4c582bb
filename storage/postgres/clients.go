package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

const clientColumns = `c.id, c.kind, coalesce(c.service_id, 0), coalesce(sv.code, ''),
	coalesce(sv.name_zh, ''), coalesce(sv.name_pt, ''), coalesce(sv.name_en, ''), sv.min_acr,
	coalesce(c.department_id, 0), coalesce(d.code, ''), c.grant_types, c.scopes,
	c.name, c.secret_hash, c.public, c.redirect_uris, c.post_logout_redirect_uris, c.backchannel_logout_uri,
	coalesce(c.token_auth_method, ''), c.jwks, coalesce(c.jwks_uri, ''),
	c.previous_secret_hash, c.previous_secret_expires_at, c.disabled_at IS NOT NULL,
	c.tokens_valid_after, c.created_at`

// clientsFrom joins a client to its e-service (web, native) or department (machine).
const clientsFrom = `clients c LEFT JOIN services sv ON sv.id = c.service_id LEFT JOIN departments d ON d.id = c.department_id`

func scanClient(row pgx.Row) (storage.Client, error) {
	var c storage.Client
	var acr *string
	var method string
	var previousUntil, tokensAfter *time.Time
	err := row.Scan(&c.ID, &c.Kind, &c.ServiceID, &c.ServiceCode, &c.ServiceName.ZH, &c.ServiceName.PT, &c.ServiceName.EN, &acr,
		&c.DepartmentID, &c.DepartmentCode, &c.GrantTypes, &c.Scopes,
		&c.Name, &c.SecretHash, &c.Public, &c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.BackchannelLogoutURI,
		&method, &c.JWKS, &c.JWKSURI, &c.PreviousSecretHash, &previousUntil, &c.Disabled,
		&tokensAfter, &c.CreatedAt)
	c.TokenAuth = storage.TokenAuthMethod(method)
	if previousUntil != nil {
		c.PreviousSecretExpiresAt = *previousUntil
	}
	if tokensAfter != nil {
		c.TokensValidAfter = *tokensAfter
	}
	if err != nil {
		return c, err
	}
	c.MinLevel, err = levelOfMinACR(acr)
	return c, err
}

// Client returns an enabled client with its e-service's or department's
// code, and its e-service's name and minimum assurance level. An unknown or
// disabled client gives storage.ErrNotFound.
func (s *Store) Client(ctx context.Context, id string) (storage.Client, error) {
	c, err := scanClient(s.pool.QueryRow(ctx, `
		SELECT `+clientColumns+`
		FROM `+clientsFrom+`
		WHERE c.id = $1 AND c.disabled_at IS NULL`, id))
	return c, wrap("get client", err)
}

// ClientsOfService returns the enabled clients of an e-service ordered by id;
// none is an empty slice.
func (s *Store) ClientsOfService(ctx context.Context, serviceID int64) ([]storage.Client, error) {
	return s.queryClients(ctx, "c.service_id = $1 AND c.disabled_at IS NULL", serviceID)
}

// CreateClient registers a client and fills c.ServiceCode, c.ServiceName and
// c.MinLevel (or c.DepartmentCode), c.Kind and c.GrantTypes when empty, and c.CreatedAt. A
// web or native client belongs to c.ServiceID; a machine client to
// c.DepartmentID, with a secret, registered scopes and no addresses. An
// empty Kind means native for a public client and web otherwise; empty
// GrantTypes mean the kind's (storage.DefaultGrantTypes). An address that
// breaks storage.CheckClientAddresses is refused (storage.ErrInvalid), and
// the database rejects a client that breaks these rules (storage.ErrInvalid). A taken id
// gives storage.ErrAlreadyExists, an unknown e-service or department
// storage.ErrNotFound.
func (s *Store) CreateClient(ctx context.Context, actor storage.Actor, c *storage.Client) error {
	now := s.now()
	if c.Kind == "" {
		c.Kind = storage.ClientWeb
		if c.Public {
			c.Kind = storage.ClientNative
		}
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = storage.DefaultGrantTypes(c.Kind)
	}
	// An address with a fragment or userinfo, or plain http off loopback,
	// is never stored: the provider would send browsers or tokens there.
	if err := storage.CheckClientAddresses(c); err != nil {
		return err
	}
	c.Scopes = nonNil(c.Scopes)
	c.RedirectURIs = nonNil(c.RedirectURIs)
	c.PostLogoutRedirectURIs = nonNil(c.PostLogoutRedirectURIs)
	// 0 is NULL: the database decides which owner each kind must have.
	serviceID, departmentID := nullIfZero(c.ServiceID), nullIfZero(c.DepartmentID)
	// The default method, and no keys, are NULL; the database checks that
	// the method, the secret and the keys agree.
	method, jwks, jwksURI := nullIfEmpty(string(c.TokenAuth)), c.JWKS, nullIfEmpty(c.JWKSURI)
	if len(jwks) == 0 {
		jwks = nil
	}
	var acr *string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO clients (id, kind, service_id, department_id, grant_types, scopes, name, secret_hash, public,
				redirect_uris, post_logout_redirect_uris, backchannel_logout_uri, created_at,
				token_auth_method, jwks, jwks_uri)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			RETURNING created_at, coalesce((SELECT code FROM services WHERE id = $3), ''),
				coalesce((SELECT name_zh FROM services WHERE id = $3), ''), coalesce((SELECT name_pt FROM services WHERE id = $3), ''),
				coalesce((SELECT name_en FROM services WHERE id = $3), ''), (SELECT min_acr FROM services WHERE id = $3),
				coalesce((SELECT code FROM departments WHERE id = $4), '')`,
			c.ID, string(c.Kind), serviceID, departmentID, c.GrantTypes, c.Scopes, c.Name, c.SecretHash, c.Public,
			c.RedirectURIs, c.PostLogoutRedirectURIs, c.BackchannelLogoutURI, now,
			method, jwks, jwksURI,
		).Scan(&c.CreatedAt, &c.ServiceCode, &c.ServiceName.ZH, &c.ServiceName.PT, &c.ServiceName.EN, &acr, &c.DepartmentCode)
		if err != nil {
			return err
		}
		if c.MinLevel, err = levelOfMinACR(acr); err != nil {
			return err
		}
		details := map[string]any{"kind": string(c.Kind), "grant_types": c.GrantTypes, "token_auth": c.AuthMethodName()}
		if c.JWKSURI != "" {
			details["jwks_uri"] = c.JWKSURI
		}
		if c.Kind == storage.ClientMachine {
			details["department"], details["scopes"] = c.DepartmentCode, c.Scopes
		} else {
			details["service"], details["public"], details["backchannel_logout_uri"] = c.ServiceCode, c.Public, c.BackchannelLogoutURI
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "client.create", target: c.ID, details: details})
	})
	return wrap("create client", err)
}

// DisableClient disables a client: from then on it is unknown to every
// reader, and its tokens issued until now are never honoured again
// (Client.TokensValidAfter), even once it is enabled. Disabling a disabled client changes nothing and writes no audit
// event. An unknown id gives storage.ErrNotFound.
func (s *Store) DisableClient(ctx context.Context, actor storage.Actor, id string) error {
	now := s.now()
	// A token's issue time is kept to the second: a token issued in this
	// second may be from before the change, so it ends too.
	validAfter := now.Truncate(time.Second).Add(time.Second)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var changed bool
		err := tx.QueryRow(ctx, `
			WITH u AS (
				UPDATE clients SET disabled_at = $2, tokens_valid_after = $3
				WHERE id = $1 AND disabled_at IS NULL
				RETURNING 1
			)
			SELECT EXISTS (SELECT FROM u) FROM clients WHERE id = $1`, id, now, validAfter,
		).Scan(&changed)
		if err != nil || !changed {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "client.disable", target: id})
	})
	return wrap("disable client", err)
}

// nullIfZero maps an id of 0 (none) to SQL NULL.
func nullIfZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// Clients returns every client, disabled ones too (Client.Disabled),
// ordered by id (none: an empty slice), for the operator's list.
func (s *Store) Clients(ctx context.Context) ([]storage.Client, error) {
	return s.queryClients(ctx, "true")
}

// queryClients lists the clients that where (a constant condition on c)
// holds for, ordered by id; none is an empty slice.
func (s *Store) queryClients(ctx context.Context, where string, args ...any) ([]storage.Client, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+clientColumns+`
		FROM `+clientsFrom+`
		WHERE `+where+`
		ORDER BY c.id`, args...)
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
