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
	commands, scripts, pipelines atomic.Int64
}

var _ goredis.Hook = (*Traffic)(nil)

// Commands is the number of commands sent so far, script calls included.
func (t *Traffic) Commands() int64 { return t.commands.Load() }

// Scripts is the number of script calls sent so far.
func (t *Traffic) Scripts() int64 { return t.scripts.Load() }

// RoundTrips is the number of single commands and pipelines sent so far:
// what the client waited for. (A Cluster client sends one pipeline to each
// node it touches; this counts it once.)
func (t *Traffic) RoundTrips() int64 { return t.pipelines.Load() }

func (t *Traffic) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (t *Traffic) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		t.pipelines.Add(1)
		t.count(cmd)
		return next(ctx, cmd)
	}
}

func (t *Traffic) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		t.pipelines.Add(1)
		for _, c := range cmds {
			t.count(c)
		}
		return next(ctx, cmds)
	}
}

func (t *Traffic) count(cmd goredis.Cmder) {
	t.commands.Add(1)
	switch name := cmd.Name(); {
	case strings.HasPrefix(name, "eval"), strings.HasPrefix(name, "fcall"):
		t.scripts.Add(1)
	}
}
