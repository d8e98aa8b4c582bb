package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
)

// run sets up the provider, measures the bounds, runs the plan and reports.
func run(ctx context.Context, o options) error {
	cfg, err := config.Load() // the same variables, read the same way as the server
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	steps, err := plan(o)
	if err != nil {
		return err
	}
	w := benchWorld(o.logins, o.password, o.secret)
	params := password.Params{MemoryKiB: cfg.Argon2MemoryKiB, Iterations: cfg.Argon2Iterations, Threads: cfg.Argon2Threads}
	rep := &Report{Time: time.Now().UTC(), GoVersion: runtime.Version(), NumCPU: runtime.NumCPU(), Server: o.url,
		ServerPID: o.pid, HashConc: cfg.HashConcurrency, HashWait: cfg.HashQueueWait.String(), Logins: o.logins,
		Duration: o.duration.String(), Command: command(), LoadAvg: loadAvg()}

	p, err := provide(ctx, o, cfg, params, w, rep)
	if err != nil {
		return err
	}
	defer p.close()
	t, err := discover(ctx, p.issuer, w)
	if err != nil {
		return err
	}
	var prof *profiler
	if o.profileDir != "" {
		if p.pprofAddr == "" {
			return fmt.Errorf("-cpuprofile with -url needs -pprof (the server's IDP_PPROF_LISTEN)")
		}
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
		prof = &profiler{addr: p.pprofAddr, dir: o.profileDir}
	}
	obs := &observer{pid: rep.ServerPID, mon: startRSSMonitor(ctx, rep.ServerPID), prof: prof,
		stores: newStoreWatch(p.metricsAddr, cfg.RedisURL)}
	defer obs.stores.close()
	if obs.db, err = pgx.Connect(ctx, p.dbURL); err == nil {
		defer obs.db.Close(context.Background())
	}

	fmt.Fprintf(os.Stderr, "idp-bench: measuring bounds (%s each)\n", o.boundDur)
	if rep.Bounds, err = measureBounds(params, cfg.SigningAlgorithm, o.boundDur); err != nil {
		return err
	}
	printBounds(os.Stdout, rep.Bounds)
	quick := cfg.HashQueueWait + time.Second
	for _, s := range steps {
		if ctx.Err() != nil {
			break
		}
		r := s.execute(ctx, t, o, rep, obs, quick)
		rep.Results = append(rep.Results, r)
		fmt.Fprintf(os.Stderr, "idp-bench: %-12s %s\n", r.Scenario, oneLine(r))
		sleep(ctx, time.Second) // let the server settle between scenarios
	}
	prof.wait()
	rep.ServerHWM = obs.mon.hwmKiB()

	fmt.Println()
	printTable(os.Stdout, rep.Results)
	printDetails(os.Stdout, rep.Results)
	printCPU(os.Stdout, rep.Results)
	printStores(os.Stdout, rep.Results)
	fmt.Printf("server %s; load average at start %s; server VmHWM %s\n", rep.Server, rep.LoadAvg, mib(rep.ServerHWM))
	fmt.Println("ratios are what to track: absolute numbers drift with whatever else runs on the machine")
	if o.jsonPath != "" {
		if err := rep.writeJSON(o.jsonPath); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// provider is the provider under load and how to let go of it.
type provider struct {
	issuer, pprofAddr, dbURL string
	metricsAddr              string // the server's IDP_METRICS_LISTEN: its store counters
	close                    func()
}

// provide seeds the bench world and starts our own server, or (with -url)
// seeds into IDP_DATABASE_URL and uses the running one.
func provide(ctx context.Context, o options, cfg *config.Config, params password.Params, w world, rep *Report) (provider, error) {
	if o.url != "" {
		p := provider{issuer: o.url, pprofAddr: o.pprofAddr, metricsAddr: o.metricsAddr, dbURL: cfg.DatabaseURL, close: func() {}}
		if o.doSeed {
			return p, seedInto(ctx, p.dbURL, params, w)
		}
		return p, nil
	}
	dbURL, err := ensureDatabase(ctx, cfg.DatabaseURL, o.dbName)
	if err != nil {
		return provider{}, err
	}
	if o.doSeed {
		if err := seedInto(ctx, dbURL, params, w); err != nil {
			return provider{}, err
		}
	}
	prefix := "bench-" + randomHex(6) + ":"
	srv, err := startServer(ctx, o.serverBin, o.serverLog,
		map[string]string{"IDP_DATABASE_URL": dbURL, "IDP_REDIS_PREFIX": prefix}, o.profileDir != "")
	if err != nil {
		cleanRedis(cfg.RedisURL, prefix)
		return provider{}, err
	}
	rep.Server = "own: " + o.serverBin + " serve, database " + o.dbName + ", redis prefix " + prefix
	rep.ServerPID = srv.pid()
	fmt.Fprintf(os.Stderr, "idp-bench: started %s serve at %s (pid %d, log %s)\n", o.serverBin, srv.issuer, srv.pid(), o.serverLog)
	return provider{issuer: srv.issuer, pprofAddr: srv.pprofAddr, metricsAddr: srv.metrics, dbURL: dbURL, close: func() {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "idp-bench: server exit: %v (log: %s)\n", err, srv.logPath)
		}
		cleanRedis(cfg.RedisURL, prefix) // after the server has stopped writing
	}}, nil
}

func oneLine(r Result) string {
	switch {
	case !r.Available:
		return r.Note
	case r.Flood != nil:
		return r.Flood.String()
	}
	return fmt.Sprintf("%.1f iter/s, p50 %s, p99 %s, errors %s, %s", r.IterPerSec, ms(r.Latency.P50), ms(r.Latency.P99), errorSummary(r.Errors), verdict(r))
}

// seedInto opens (and migrates) the database and seeds the bench world.
func seedInto(ctx context.Context, dbURL string, p password.Params, w world) error {
	pg, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("IDP_DATABASE_URL: %w", err)
	}
	defer pg.Close()
	if err := postgres.Migrate(ctx, pg.Pool()); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	t0 := time.Now()
	if err := seed(ctx, pg, password.NewHasher(p, 1, time.Minute), w); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(os.Stderr, "idp-bench: bench world seeded (%d staff logins of %s) in %s\n", len(w.Usernames), w.EntityNumber, time.Since(t0).Round(time.Millisecond))
	return nil
}

var dbNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ensureDatabase returns the URL of database name on the server of admin
// (IDP_DATABASE_URL), creating the database if it does not exist. It is
// kept between runs, so seeding is done once.
func ensureDatabase(ctx context.Context, admin, name string) (string, error) {
	if !dbNameRE.MatchString(name) {
		return "", fmt.Errorf("-db %q: use lower-case letters, digits and _", name)
	}
	u, err := url.Parse(admin)
	if err != nil || !strings.Contains(admin, "://") {
		return "", fmt.Errorf("IDP_DATABASE_URL must be a postgres:// URL for the bench")
	}
	u.Path, u.RawPath = "/"+name, ""
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("IDP_DATABASE_URL: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return "", fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return u.String(), nil
}

// cleanRedis deletes the run's keys (everything under prefix).
func cleanRedis(redisURL, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, rdb, err := rstore.Open(redisURL, "")
	if err != nil {
		return
	}
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			rdb.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Del(ctx, batch...)
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
