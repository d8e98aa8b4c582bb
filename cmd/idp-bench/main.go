// Command idp-bench is the load tool of the provider. It seeds a bench world
// (entity 99-000001, e-service "bench", clients bench-mobile and bench-web, N
// staff logins), drives a provider over real HTTP (its own `idp serve`
// process, or one given by -url, on loopback only), and prints each
// scenario's throughput and latency beside the hardware bound measured in
// the same run: argon2id verifications/s for login, ID-token signatures/s
// for sso and refresh.
//
//	idp-bench                          start bin/idp on a free port, run every scenario
//	idp-bench -scenario login -c 8     one scenario, closed loop, 8 workers
//	idp-bench -scenario login -rate 30 open loop: 30 sign-ins started per second
//	idp-bench -url http://127.0.0.1:8080 -pid 1234   drive a running provider
//
// See the README's "Performance" section.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type options struct {
	url         string
	serverBin   string
	serverLog   string
	dbName      string
	pid         int
	pprofAddr   string
	metricsAddr string
	doSeed      bool
	logins      int
	password    string
	secret      string
	scenarios   string
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	rate        float64
	rateFrac    float64
	floodN      int
	timeout     time.Duration
	boundDur    time.Duration
	maxIter     int64
	jsonPath    string
	profileDir  string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("idp-bench", flag.ContinueOnError)
	fs.StringVar(&o.url, "url", "", "issuer of a running provider on loopback (default: start -server on a free port)")
	fs.StringVar(&o.serverBin, "server", "bin/idp", "idp binary to start when -url is not given")
	fs.StringVar(&o.serverLog, "server-log", ".run/bench-server.log", "where the started server's log goes")
	fs.StringVar(&o.dbName, "db", "idp_bench", "database the started server uses (created next to IDP_DATABASE_URL's, kept between runs)")
	fs.IntVar(&o.pid, "pid", 0, "with -url: the server's PID, to report its RSS")
	fs.StringVar(&o.pprofAddr, "pprof", "", "with -url: the server's IDP_PPROF_LISTEN address, for -cpuprofile")
	fs.StringVar(&o.metricsAddr, "metrics", "", "with -url: the server's IDP_METRICS_LISTEN address, for its store round trips per iteration")
	fs.BoolVar(&o.doSeed, "seed", true, "seed the bench world first (idempotent); with -url, into IDP_DATABASE_URL")
	fs.IntVar(&o.logins, "logins", 400, "staff logins to seed and rotate over")
	fs.StringVar(&o.password, "password", "Bench-Only-Pa55word", "password of every bench staff login")
	fs.StringVar(&o.secret, "client-secret", "bench-only-client-secret-0123456789abcdef", "secret of the confidential client bench-web")
	fs.StringVar(&o.scenarios, "scenario", "all", "all, or a comma list of: login, sso, refresh, userinfo, introspect, client_credentials, flood")
	fs.IntVar(&o.concurrency, "c", 0, "workers per scenario (0: the scenario's default: login 8, sso/refresh 16, userinfo/introspect/client_credentials 32)")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "measured duration per scenario")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unrecorded run before each measurement")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: start this many iterations per second (0: closed loop)")
	fs.Float64Var(&o.rateFrac, "rate-frac", 0.8, "in -scenario all: also run login open-loop at this fraction of its measured peak (0: skip)")
	fs.IntVar(&o.floodN, "flood", 1000, "sign-ins the flood submits at once")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per HTTP request; a slower answer counts as a timeout")
	fs.DurationVar(&o.boundDur, "bound-d", 3*time.Second, "duration of each bound measurement")
	fs.Int64Var(&o.maxIter, "max-iter", 1_000_000, "at most this many iterations per scenario")
	fs.StringVar(&o.jsonPath, "json", "", "also write the report as JSON to this file")
	fs.StringVar(&o.profileDir, "cpuprofile", "", "write a CPU profile of the server per scenario to DIR/<scenario>.pprof (own server, or -url with -pprof)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch {
	case o.logins < 1 || o.logins > 100_000:
		return o, fmt.Errorf("-logins must be 1..100000")
	case o.concurrency < 0 || o.concurrency > 5000:
		return o, fmt.Errorf("-c must be 0..5000")
	case o.floodN < 1 || o.floodN > 10_000:
		return o, fmt.Errorf("-flood must be 1..10000")
	case o.duration <= 0 || o.duration > time.Hour || o.warmup < 0:
		return o, fmt.Errorf("-d must be in (0, 1h], -warmup ≥ 0")
	case o.rate < 0 || o.rate > 100_000 || o.rateFrac < 0 || o.rateFrac > 1:
		return o, fmt.Errorf("-rate must be 0..100000 and -rate-frac 0..1")
	case o.maxIter < 1:
		return o, fmt.Errorf("-max-iter must be positive")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err == flag.ErrHelp {
		return
	}
	if err == nil {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = run(ctx, o)
		stop()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "idp-bench:", err)
		os.Exit(1)
	}
}

// command is how this run can be reproduced.
func command() string { return "idp-bench " + strings.Join(os.Args[1:], " ") }
