package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	rstore "github.com/entity-account/idp/storage/redis"
)

// Store round trips per iteration. The server counts what its store clients
// send while serving requests (idp_redis_* and idp_postgres_* with
// origin="request" on its metrics listener, IDP_METRICS_LISTEN, which the
// bench turns on for its own server; the background's polls are apart):
// those counts are the node's own and deterministic, so a change that adds a
// command to a hot path shows up whatever else runs on the machine. Redis
// itself counts every command it runs, those inside scripts included
// (INFO commandstats); that count is the whole Redis server's, so it is
// exact only when nothing else uses that Redis.

// StoreCounts are store commands per successful iteration.
type StoreCounts struct {
	RedisCommands      float64 `json:"redis_commands"`         // sent by the server, a script call as one
	RedisScripts       float64 `json:"redis_scripts"`          // script calls among them
	RedisRoundTrips    float64 `json:"redis_round_trips"`      // commands and pipelines waited for
	RedisRun           float64 `json:"redis_run_whole_server"` // commands Redis ran, inside scripts too (every client of that Redis)
	PostgresQueries    float64 `json:"postgres_queries"`
	PostgresRoundTrips float64 `json:"postgres_round_trips"`
}

// storeSnapshot is the counters at one instant.
type storeSnapshot struct {
	redisCmds, redisScripts, redisRT, pgQueries, pgRT float64
	redisRun                                          float64
	ok, runOK                                         bool
}

// storeWatch reads the server's counters and Redis's commandstats.
type storeWatch struct {
	metricsAddr string // "" when unknown: no counts
	rdb         goredis.UniversalClient
}

func newStoreWatch(metricsAddr, redisURL string) *storeWatch {
	w := &storeWatch{metricsAddr: metricsAddr}
	if _, rdb, err := rstore.Open(redisURL, ""); err == nil {
		w.rdb = rdb
	}
	return w
}

func (w *storeWatch) close() {
	if w != nil && w.rdb != nil {
		w.rdb.Close()
	}
}

func (w *storeWatch) take(ctx context.Context) storeSnapshot {
	var s storeSnapshot
	if w == nil {
		return s
	}
	if w.metricsAddr != "" {
		s.ok = w.scrape(ctx, &s) == nil
	}
	if w.rdb != nil {
		if n, err := commandsRun(ctx, w.rdb); err == nil {
			s.redisRun, s.runOK = n, true
		}
	}
	return s
}

func (w *storeWatch) scrape(ctx context.Context, s *storeSnapshot) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+w.metricsAddr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("metrics: HTTP %d", resp.StatusCode)
	}
	fields := map[string]*float64{
		`idp_redis_commands_total{origin="request"}`: &s.redisCmds, `idp_redis_scripts_total{origin="request"}`: &s.redisScripts,
		`idp_redis_round_trips_total{origin="request"}`: &s.redisRT, `idp_postgres_queries_total{origin="request"}`: &s.pgQueries,
		`idp_postgres_round_trips_total{origin="request"}`: &s.pgRT,
	}
	found := 0
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if p, want := fields[line[:i]]; want {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				*p = v
				found++
			}
		}
	}
	if found != len(fields) {
		return fmt.Errorf("metrics: store counters missing")
	}
	return sc.Err()
}

// commandsRun is the sum of calls in INFO commandstats: every command the
// Redis server ran since its start (or CONFIG RESETSTAT), inside scripts too.
func commandsRun(ctx context.Context, rdb goredis.UniversalClient) (float64, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, err
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		// cmdstat_get:calls=123,usec=...
		_, rest, ok := strings.Cut(strings.TrimSpace(line), "calls=")
		if !ok || !strings.HasPrefix(line, "cmdstat_") {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		if v, err := strconv.ParseFloat(n, 64); err == nil {
			total += v
		}
	}
	return total, nil
}

// perIteration divides the difference of two snapshots by the
// iterations. The INFO call of the first snapshot is itself counted by
// Redis: one is taken off.
func perIteration(a, b storeSnapshot, iterations int) *StoreCounts {
	if !a.ok || !b.ok || iterations <= 0 {
		return nil
	}
	n := float64(iterations)
	c := &StoreCounts{
		RedisCommands: (b.redisCmds - a.redisCmds) / n, RedisScripts: (b.redisScripts - a.redisScripts) / n,
		RedisRoundTrips: (b.redisRT - a.redisRT) / n,
		PostgresQueries: (b.pgQueries - a.pgQueries) / n, PostgresRoundTrips: (b.pgRT - a.pgRT) / n,
	}
	if a.runOK && b.runOK {
		c.RedisRun = (b.redisRun - a.redisRun - 1) / n
	}
	return c
}
