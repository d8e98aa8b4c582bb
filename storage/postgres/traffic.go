package postgres

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// Traffic counts what the pool sends to Postgres, as a pgx tracer: every
// statement (BEGIN and COMMIT of a transaction included, each statement of
// a batch included), and the round trips they take: one per statement sent
// on its own, one per batch. Not counted: the statement descriptions pgx
// fetches the first time a connection runs a query (its statement cache
// keeps them), and the pool's pings of connections idle for a while.
//
// It is installed by Open (an atomic addition per statement), so that a
// node can report its round trips per request.
type Traffic struct {
	queries, roundTrips atomic.Int64
}

var (
	_ pgx.QueryTracer = (*Traffic)(nil)
	_ pgx.BatchTracer = (*Traffic)(nil)
)

// Queries is the number of statements sent so far.
func (t *Traffic) Queries() int64 { return t.queries.Load() }

// RoundTrips is the number of round trips taken so far.
func (t *Traffic) RoundTrips() int64 { return t.roundTrips.Load() }

func (t *Traffic) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.queries.Add(1)
	t.roundTrips.Add(1)
	return ctx
}

func (t *Traffic) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t *Traffic) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.roundTrips.Add(1)
	return ctx
}

func (t *Traffic) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {
	t.queries.Add(1)
}

func (t *Traffic) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
