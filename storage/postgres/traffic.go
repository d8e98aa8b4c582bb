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
	inRequest atomic.Pointer[func(context.Context) bool]
	all, req  tally
}

// TrafficCounts are the counts of a Traffic.
type TrafficCounts struct {
	Queries    int64 // statements sent
	RoundTrips int64 // statements sent alone, and batches
}

type tally struct{ queries, roundTrips atomic.Int64 }

func (t *tally) counts() TrafficCounts {
	return TrafficCounts{Queries: t.queries.Load(), RoundTrips: t.roundTrips.Load()}
}

var (
	_ pgx.QueryTracer = (*Traffic)(nil)
	_ pgx.BatchTracer = (*Traffic)(nil)
)

// CountRequests makes the traffic sent with a context for which inRequest
// is true (a request's) also counted apart, in Requests: the round trips of
// requests without the background work (a worker's polls).
func (t *Traffic) CountRequests(inRequest func(context.Context) bool) { t.inRequest.Store(&inRequest) }

func (t *Traffic) isRequest(ctx context.Context) bool {
	f := t.inRequest.Load()
	return f != nil && (*f)(ctx)
}

// All returns the counts of everything sent so far.
func (t *Traffic) All() TrafficCounts { return t.all.counts() }

// Requests returns the counts of what was sent while serving requests (see CountRequests).
func (t *Traffic) Requests() TrafficCounts { return t.req.counts() }

func (t *Traffic) add(ctx context.Context, queries, roundTrips int64) {
	t.all.queries.Add(queries)
	t.all.roundTrips.Add(roundTrips)
	if t.isRequest(ctx) {
		t.req.queries.Add(queries)
		t.req.roundTrips.Add(roundTrips)
	}
}

func (t *Traffic) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.add(ctx, 1, 1)
	return ctx
}

func (t *Traffic) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (t *Traffic) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.add(ctx, 0, 1)
	return ctx
}

func (t *Traffic) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchQueryData) {
	t.add(ctx, 1, 0)
}

func (t *Traffic) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
