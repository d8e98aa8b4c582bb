package postgres_test

import (
	"context"
	"testing"
	"time"
)

// Migration 00007 gives the clients that exist a kind (web or native) and
// the code and refresh grants, and goes back down cleanly.
func TestMigrationMachineClients(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, p := migratedTo(t, ctx, 6)
	_, err := s.Pool().Exec(ctx, `
		INSERT INTO departments (code) VALUES ('D');
		INSERT INTO services (code, department_id) VALUES ('svc', (SELECT id FROM departments));
		INSERT INTO clients (id, service_id, name, secret_hash, public, redirect_uris)
		VALUES ('w', (SELECT id FROM services), 'w', '\x00', false, '{https://w/cb}'),
		       ('n', (SELECT id FROM services), 'n', NULL, true, '{http://127.0.0.1/cb}')`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatalf("up to 7: %v", err)
	}
	for id, kind := range map[string]string{"w": "web", "n": "native"} {
		// Read with SQL of that schema: the store's reads follow the newest.
		var c struct {
			kind, service  string
			grants, scopes []string
		}
		err := s.Pool().QueryRow(ctx, `SELECT c.kind, s.code, c.grant_types, c.scopes FROM clients c JOIN services s ON s.id = c.service_id
			WHERE c.id = $1`, id).Scan(&c.kind, &c.service, &c.grants, &c.scopes)
		if err != nil || c.kind != kind || len(c.grants) != 2 || c.grants[0] != "authorization_code" ||
			c.grants[1] != "refresh_token" || c.service != "svc" || len(c.scopes) != 0 {
			t.Errorf("client %s after 00007 = %+v, %v", id, c, err)
		}
	}
	_, err = s.Pool().Exec(ctx, `INSERT INTO clients (id, kind, department_id, grant_types, scopes, name, secret_hash, public, redirect_uris)
		VALUES ('m', 'machine', (SELECT id FROM departments), '{client_credentials}', '{department.read}', 'm', '\x00', false, '{}')`)
	if err != nil {
		t.Fatalf("machine client: %v", err)
	}
	if _, err := p.DownTo(ctx, 6); err != nil {
		t.Fatalf("down to 6: %v", err)
	}
	var n int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM clients`).Scan(&n); err != nil || n != 2 {
		t.Errorf("after down: %d clients, %v; want the 2 of before", n, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
}
