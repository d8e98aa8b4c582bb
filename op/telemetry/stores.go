package telemetry

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// StoreTraffic is what a node's store clients have sent since it started:
// the Redis client's commands (a pipeline's one by one; a script call is
// one command), its script calls and its round trips, and the Postgres
// pool's statements and round trips. Divided by the requests served, they
// are the node's store round trips per request: deterministic numbers, unlike
// times, so a change that adds a command shows up whatever the machine.
type StoreTraffic struct {
	RedisCommands, RedisScripts, RedisRoundTrips int64
	PostgresQueries, PostgresRoundTrips          int64
}

// Origins of store traffic, the values of the origin label of the
// idp_redis_* and idp_postgres_* counters.
const (
	OriginRequest    = "request"    // sent while serving a request (InRequest)
	OriginBackground = "background" // anything else: workers, cache refreshes
)

// InRequest reports whether ctx is a request's (it carries a request id,
// see RequestID): the store clients' traffic hooks use it to count the
// traffic of requests apart from the background's.
func InRequest(ctx context.Context) bool { return RequestIDFrom(ctx) != "" }

var storeTraffic atomic.Pointer[func() (all, requests StoreTraffic)]

// SetStoreTraffic makes the idp_redis_* and idp_postgres_* counters report
// what read returns: the node's store clients' counts, in all and for
// requests. Until it is called they are 0.
func SetStoreTraffic(read func() (all, requests StoreTraffic)) { storeTraffic.Store(&read) }

type storeCollector struct{}

var storeDescs = []struct {
	desc  *prometheus.Desc
	field func(StoreTraffic) int64
}{
	{prometheus.NewDesc("idp_redis_commands_total",
		"Commands this node sent to Redis: each command of a pipeline or transaction counted, a script call counted as one (not the commands it runs inside Redis); origin: request or background.",
		[]string{"origin"}, nil), func(s StoreTraffic) int64 { return s.RedisCommands }},
	{prometheus.NewDesc("idp_redis_scripts_total", "Script calls (EVAL, EVALSHA) among idp_redis_commands_total.",
		[]string{"origin"}, nil), func(s StoreTraffic) int64 { return s.RedisScripts }},
	{prometheus.NewDesc("idp_redis_round_trips_total", "Single commands and pipelines this node sent to Redis: what it waited for.",
		[]string{"origin"}, nil), func(s StoreTraffic) int64 { return s.RedisRoundTrips }},
	{prometheus.NewDesc("idp_postgres_queries_total", "Statements this node sent to Postgres, BEGIN and COMMIT included.",
		[]string{"origin"}, nil), func(s StoreTraffic) int64 { return s.PostgresQueries }},
	{prometheus.NewDesc("idp_postgres_round_trips_total", "Round trips to Postgres: one per statement sent alone, one per batch.",
		[]string{"origin"}, nil), func(s StoreTraffic) int64 { return s.PostgresRoundTrips }},
}

func (storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range storeDescs {
		ch <- d.desc
	}
}

func (storeCollector) Collect(ch chan<- prometheus.Metric) {
	var all, req StoreTraffic
	if f := storeTraffic.Load(); f != nil {
		all, req = (*f)()
	}
	for _, d := range storeDescs {
		r := d.field(req)
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.CounterValue, float64(r), OriginRequest)
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.CounterValue, float64(d.field(all)-r), OriginBackground)
	}
}

func init() { registry.MustRegister(storeCollector{}) }
