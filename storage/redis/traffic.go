package redis

import (
	"context"
	"net"
	"strings"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// Traffic counts what a Redis client sends, as a go-redis hook: every
// command, those of a pipeline or a transaction one by one (MULTI and EXEC
// included), and among them the script calls (EVAL, EVALSHA and their
// read-only forms). A script call is one command here: the commands the
// script runs inside Redis are not seen by the client (Redis counts them
// in INFO commandstats, and MONITOR shows them). A retry inside the client
// counts once.
//
// It is installed by Open on every store's client (a few atomic additions
// per command), so that a node can report its round trips per request.
type Traffic struct {
	inRequest atomic.Pointer[func(context.Context) bool]
	all, req  tally
}

// TrafficCounts are the counts of a Traffic.
type TrafficCounts struct {
	Commands   int64 // commands sent, script calls included
	Scripts    int64 // script calls among them
	RoundTrips int64 // single commands and pipelines: what the client waited for (a Cluster client's pipeline to several nodes counts once)
}

type tally struct{ commands, scripts, roundTrips atomic.Int64 }

func (t *tally) counts() TrafficCounts {
	return TrafficCounts{Commands: t.commands.Load(), Scripts: t.scripts.Load(), RoundTrips: t.roundTrips.Load()}
}

var _ goredis.Hook = (*Traffic)(nil)

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

func (t *Traffic) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (t *Traffic) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		t.count(ctx, cmd)
		return next(ctx, cmd)
	}
}

func (t *Traffic) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		t.count(ctx, cmds...)
		return next(ctx, cmds)
	}
}

func (t *Traffic) count(ctx context.Context, cmds ...goredis.Cmder) {
	var scripts int64
	for _, c := range cmds {
		if name := c.Name(); strings.HasPrefix(name, "eval") || strings.HasPrefix(name, "fcall") {
			scripts++
		}
	}
	add := func(t *tally) {
		t.roundTrips.Add(1)
		t.commands.Add(int64(len(cmds)))
		t.scripts.Add(scripts)
	}
	add(&t.all)
	if t.isRequest(ctx) {
		add(&t.req)
	}
}
