package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// Migration 00013 leaves the clients that exist as they authenticated (a
// secret, Basic or in the body; a public client none), takes
// private_key_jwt clients with exactly one source of keys and no secret,
// refuses an http jwks_uri, and goes back down cleanly.
func TestMigrationClientAuth(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, p := migratedTo(t, ctx, 12)
	_, err := s.Pool().Exec(ctx, `
		INSERT INTO departments (code) VALUES ('D');
		INSERT INTO services (code, department_id) VALUES ('svc', (SELECT id FROM departments));
		INSERT INTO clients (id, kind, service_id, grant_types, name, secret_hash, public, redirect_uris)
		VALUES ('w', 'web', (SELECT id FROM services), '{authorization_code}', 'w', '\x00', false, '{https://w/cb}'),
		       ('n', 'native', (SELECT id FROM services), '{authorization_code}', 'n', NULL, true, '{http://127.0.0.1/cb}')`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 13); err != nil {
		t.Fatalf("up to 13: %v", err)
	}
	for id, want := range map[string]storage.TokenAuthMethod{"w": storage.TokenAuthBasic, "n": storage.TokenAuthNone} {
		// Read as the schema stands at 00013 (Store.Client reads the columns
		// of later migrations too).
		var c storage.Client
		var method string
		err := s.Pool().QueryRow(ctx, `SELECT id, coalesce(token_auth_method, ''), public, secret_hash FROM clients WHERE id = $1`, id).
			Scan(&c.ID, &method, &c.Public, &c.SecretHash)
		c.TokenAuth = storage.TokenAuthMethod(method)
		if err != nil || c.TokenAuth != storage.TokenAuthSecret || !c.AcceptsAuth(want) {
			t.Errorf("client %s after 00013 = %+v, %v", id, c, err)
		}
	}
	insert := func(id, method string, secret, jwks, uri any) error {
		_, err := s.Pool().Exec(ctx, `INSERT INTO clients (id, kind, service_id, grant_types, name, secret_hash, public, redirect_uris,
			token_auth_method, jwks, jwks_uri)
			VALUES ($1, 'web', (SELECT id FROM services), '{authorization_code}', $1, $3, false, '{https://w/cb}', $2, $4, $5)`,
			id, method, secret, jwks, uri)
		return err
	}
	jwks := []byte(`{"keys":[]}`)
	if err := insert("pk1", "private_key_jwt", nil, jwks, nil); err != nil {
		t.Errorf("private_key_jwt with an inline JWKS: %v", err)
	}
	if err := insert("pk2", "private_key_jwt", nil, nil, "https://keys.example/jwks"); err != nil {
		t.Errorf("private_key_jwt with a jwks_uri: %v", err)
	}
	for name, row := range map[string][]any{
		"a secret too":     {"private_key_jwt", []byte{0}, jwks, nil},
		"no keys":          {"private_key_jwt", nil, nil, nil},
		"both key sources": {"private_key_jwt", nil, jwks, "https://keys.example/jwks"},
		"http jwks_uri":    {"private_key_jwt", nil, nil, "http://keys.example/jwks"},
		"basic with keys":  {"client_secret_basic", []byte{0}, jwks, nil},
		"unknown method":   {"tls_client_auth", []byte{0}, nil, nil},
	} {
		if err := insert("bad", row[0].(string), row[1], row[2], row[3]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := p.DownTo(ctx, 12); err != nil {
		t.Fatalf("down to 12: %v", err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM clients`).Scan(&n); err != nil || n != 2 {
		t.Errorf("after down: %d clients, %v; want the 2 of before", n, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}
