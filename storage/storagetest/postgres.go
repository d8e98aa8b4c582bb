package storagetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/entity-account/idp/storage/postgres"
)

// DefaultPostgresURL is the Postgres the tests use when IDP_TEST_DATABASE_URL
// is unset. Its role must be allowed to create databases.
const DefaultPostgresURL = "postgres://idp:idp@127.0.0.1:5432/idp?sslmode=disable"

func postgresAdminURL() string {
	if u := os.Getenv("IDP_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// NewPostgres returns a store on a fresh, migrated database of its own, so
// that tests can run in parallel and repeatedly. When the test ends the store
// is closed and the database dropped. It fails the test if Postgres
// (IDP_TEST_DATABASE_URL, default DefaultPostgresURL) does not answer.
func NewPostgres(t testing.TB) *postgres.Store {
	t.Helper()
	u := PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatalf("storagetest: open test database: %v", err)
	}
	// Registered after the drop, so it runs before it.
	t.Cleanup(store.Close)
	return store
}

// PostgresURL returns the URL of a fresh, migrated database of the test's
// own, for tests that start the whole server on it. The database is dropped
// when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := EmptyPostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatalf("storagetest: open test database: %v", err)
	}
	defer store.Close()
	if err := postgres.Migrate(ctx, store.Pool()); err != nil {
		t.Fatalf("storagetest: migrate test database: %v", err)
	}
	return u
}

// EmptyPostgresURL returns the URL of a fresh database with no schema, for
// tests of migration itself. The database is dropped when the test ends.
func EmptyPostgresURL(t testing.TB) string {
	t.Helper()
	admin := postgresAdminURL()
	name := "idp_test_" + randomHex(t, 8)
	dbURL, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("storagetest: IDP_TEST_DATABASE_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := connectAdmin(ctx, t, admin)
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatalf("storagetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn := connectAdmin(ctx, t, admin)
		defer conn.Close(ctx)
		if err := dropDatabase(ctx, conn.Exec, ident, time.Second); err != nil {
			// A test never fails on its own clean-up: the database is only left behind.
			t.Logf("storagetest: database %s left behind: %v", name, err)
		}
	})
	return dbURL
}

// execFunc is the shape of pgx.Conn.Exec.
type execFunc func(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)

// dropDatabase drops a test database, retrying until ctx ends.
//
// FORCE, so that a pool the test leaked does not keep the database alive. It
// terminates every other backend in the database, and Postgres may have put
// one of its own there (an autovacuum worker): a role that is not a superuser
// needs pg_signal_backend for that (scripts/services.sh grants it). Where it
// is missing, or the other backend belongs to a superuser, the drop is
// refused and tried again, as such a backend leaves by itself.
func dropDatabase(ctx context.Context, exec execFunc, ident string, pause time.Duration) error {
	for {
		_, err := exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		if err == nil || !retryableDrop(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (still refused when giving up: %v)", ctx.Err(), err)
		case <-time.After(pause):
		}
	}
}

// retryableDrop tells the refusals that pass by themselves: another backend
// that may not be terminated (insufficient_privilege) or that is still there
// (object_in_use).
func retryableDrop(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	return pgErr.Code == "42501" || pgErr.Code == "55006"
}

// connectAdmin connects to the database named by the admin URL, failing the
// test with directions when Postgres does not answer.
func connectAdmin(ctx context.Context, t testing.TB, admin string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("storagetest: Postgres at %s does not answer: %v\n"+
			"Start the test services with `make services` (or set IDP_TEST_DATABASE_URL).", redact(admin), err)
	}
	return conn
}

// withDatabase returns the connection string admin with its database
// replaced by name. It takes both URL and key=value forms.
func withDatabase(admin, name string) (string, error) {
	if !strings.Contains(admin, "://") {
		// In key=value form the last occurrence of a key wins.
		return admin + " dbname=" + name, nil
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

// redact hides the password of a URL for error messages.
func redact(s string) string {
	if u, err := url.Parse(s); err == nil && strings.Contains(s, "://") {
		return u.Redacted()
	}
	return s
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storagetest: random: %v", err)
	}
	return hex.EncodeToString(b)
}
