package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// A refusal to terminate another backend (as an autovacuum worker gives a
// role without pg_signal_backend) is waited out, not reported as a failure.
func TestDropDatabaseRetriesARefusedTermination(t *testing.T) {
	refusals := []error{
		&pgconn.PgError{Code: "42501", Message: "must be a member of the role whose process is being terminated or member of pg_signal_backend"},
		&pgconn.PgError{Code: "55006", Message: `database "x" is being accessed by other users`},
	}
	calls := 0
	exec := func(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
		calls++
		if calls <= len(refusals) {
			return pgconn.CommandTag{}, refusals[calls-1]
		}
		return pgconn.NewCommandTag("DROP DATABASE"), nil
	}
	if err := dropDatabase(context.Background(), exec, `"x"`, time.Millisecond); err != nil {
		t.Fatalf("drop: %v", err)
	}
	if calls != 3 {
		t.Fatalf("drop tried %d times, want 3", calls)
	}
}

func TestDropDatabaseGivesUpWithItsContext(t *testing.T) {
	refused := &pgconn.PgError{Code: "42501", Message: "must be a member of pg_signal_backend"}
	exec := func(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
		return pgconn.CommandTag{}, refused
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := dropDatabase(ctx, exec, `"x"`, time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("drop = %v, want the context's deadline", err)
	}
}

func TestDropDatabaseReportsOtherErrorsAtOnce(t *testing.T) {
	syntax := &pgconn.PgError{Code: "42601", Message: "syntax error"}
	calls := 0
	exec := func(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
		calls++
		return pgconn.CommandTag{}, syntax
	}
	if err := dropDatabase(context.Background(), exec, `"x"`, time.Millisecond); !errors.Is(err, syntax) || calls != 1 {
		t.Fatalf("drop = %v after %d calls, want the syntax error after 1", err, calls)
	}
}

// Against the real server: a database another session of the same role is
// still connected to is dropped (FORCE ends that session).
func TestDropDatabaseEndsALeakedSession(t *testing.T) {
	admin := postgresAdminURL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn := connectAdmin(ctx, t, admin)
	defer conn.Close(ctx)
	name := "idp_test_" + randomHex(t, 8)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		t.Fatal(err)
	}
	u, err := withDatabase(admin, name)
	if err != nil {
		t.Fatal(err)
	}
	leaked, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer leaked.Close(context.Background())
	if err := dropDatabase(ctx, conn.Exec, ident, 100*time.Millisecond); err != nil {
		t.Fatalf("drop: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil || n != 0 {
		t.Fatalf("database still there: n=%d err=%v", n, err)
	}
}
