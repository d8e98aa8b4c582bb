// Package postgres is the durable store of the identity provider: entities,
// entity accounts, staff logins, departments, e-services and their groups,
// OIDC clients, signing keys and the audit trail. It implements
// storage.Directory with hand-written SQL over pgx/v5, and adds the operator
// and administration methods the portal, the management API and the operator
// tool use.
//
// Every method that changes accounts, rights or assignments runs in one
// transaction and writes its audit event in that same transaction, so the
// trail never misses a change and never records one that did not happen.
//
// Errors: pgx.ErrNoRows becomes storage.ErrNotFound, unique_violation becomes
// storage.ErrAlreadyExists, and foreign_key_violation (an id that names
// nothing) becomes storage.ErrNotFound. Test them with errors.Is; the driver
// error stays in the chain for the logs.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/entity-account/idp/storage"
)

var _ storage.Directory = (*Store)(nil)

// Store is the Postgres implementation of storage.Directory.
type Store struct {
	pool *pgxpool.Pool
	// Now stamps every row the store writes and decides which signing keys
	// have expired. It defaults to time.Now; tests replace it to move time.
	Now func() time.Time
	// traffic counts the statements sent (Open installs it); nil for New.
	traffic *Traffic
}

// Open connects to the database at url (a postgres:// URL or key=value DSN)
// and checks that it answers. The pool can be tuned with pgxpool's URL
// parameters (pool_max_conns, pool_max_conn_lifetime, ...); without them it
// gets defaults sized for a request-serving node.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database url: %w", err)
	}
	applyPoolDefaults(cfg)
	traffic := &Traffic{}
	if cfg.ConnConfig.Tracer == nil {
		cfg.ConnConfig.Tracer = traffic
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	s := New(pool)
	s.traffic = traffic
	return s, nil
}

// applyPoolDefaults fills in pool settings the URL left unset. pgxpool's
// default of max(4, NumCPU) connections makes requests queue on the small
// machines nodes often run on; idle connections are returned sooner so that
// many nodes do not pin the server's connection slots.
func applyPoolDefaults(cfg *pgxpool.Config) {
	if !strings.Contains(cfg.ConnString(), "pool_max_conns") {
		cfg.MaxConns = int32(max(10, 2*runtime.NumCPU()))
	}
	if !strings.Contains(cfg.ConnString(), "pool_max_conn_idle_time") {
		cfg.MaxConnIdleTime = 5 * time.Minute
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		// Names our sessions in pg_stat_activity.
		cfg.ConnConfig.RuntimeParams["application_name"] = "idp"
	}
}

// New wraps an existing pool; Store.Close closes it.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, Now: time.Now}
}

// Traffic returns the counts of what the store's pool sent (see Traffic);
// nil for a store made by New, whose pool the caller configured.
func (s *Store) Traffic() *Traffic { return s.traffic }

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool returns the underlying pool, for migrations and for tests that need
// to look at rows directly.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// now is the one clock of the store, read once per operation so that every
// row written by one transaction carries the same time.
func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// inTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{}, fn)
}

// SQLSTATE codes this package translates.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// wrap names the failed operation and translates driver errors into the
// storage sentinels, keeping the driver error in the chain.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrNotFound)
	}
	if kind := classify(err); kind != nil {
		return fmt.Errorf("postgres: %s: %w: %w", op, kind, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// classify maps a driver error to the storage sentinel it means, or nil for
// a fault of ours (a bug in a query), which stays unclassified.
func classify(err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrAlreadyExists) || errors.Is(err, storage.ErrConflict) ||
		errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrInvalid) {
		return nil // already a domain answer
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == codeUniqueViolation:
			return storage.ErrAlreadyExists
		case pgErr.Code == codeForeignKeyViolation:
			return storage.ErrNotFound
		case strings.HasPrefix(pgErr.Code, "22"), pgErr.Code == "23514", pgErr.Code == "23502":
			// Data exceptions (bad encoding, out of range) and check or
			// not-null violations: the value, not the server.
			return storage.ErrInvalid
		case strings.HasPrefix(pgErr.Code, "08"), strings.HasPrefix(pgErr.Code, "53"), strings.HasPrefix(pgErr.Code, "58"),
			pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", pgErr.Code == "57014",
			pgErr.Code == "40001", pgErr.Code == "40P01", pgErr.Code == "25006":
			// Connection trouble, no resources, shutting down or starting up,
			// a statement timeout, a serialisation failure or deadlock (retry
			// later), a read-only standby after a failover.
			return storage.ErrUnavailable
		}
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return nil // the caller went away; nothing is wrong with the store
	}
	// Anything else pgx returns is about reaching the server: connect
	// errors, a lost connection, a timeout, a closed pool.
	return storage.ErrUnavailable
}

// nullIfEmpty maps Go's "" to SQL NULL for columns where NULL means "not yet".
func nullIfEmpty(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// nonNil returns v, or an empty slice: pgx writes a nil slice as NULL, and
// readers of the domain types are promised non-nil lists.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
