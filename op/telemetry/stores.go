package telemetry

import (
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

var storeTraffic atomic.Pointer[func() StoreTraffic]

// SetStoreTraffic makes the idp_redis_* and idp_postgres_* counters report
// what read returns (the node's store clients' counts). Until it is called
// they are 0.
func SetStoreTraffic(read func() StoreTraffic) { storeTraffic.Store(&read) }

func readStoreTraffic() StoreTraffic {
	if f := storeTraffic.Load(); f != nil {
		return (*f)()
	}
	return StoreTraffic{}
}

func storeCounter(name, help string, field func(StoreTraffic) int64) prometheus.CounterFunc {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
		func() float64 { return float64(field(readStoreTraffic())) })
}

func init() {
	registry.MustRegister(
		storeCounter("idp_redis_commands_total",
			"Commands this node sent to Redis: each command of a pipeline or transaction counted, a script call counted as one (not the commands it runs inside Redis).",
			func(s StoreTraffic) int64 { return s.RedisCommands }),
		storeCounter("idp_redis_scripts_total",
			"Script calls (EVAL, EVALSHA) among idp_redis_commands_total.",
			func(s StoreTraffic) int64 { return s.RedisScripts }),
		storeCounter("idp_redis_round_trips_total",
			"Single commands and pipelines this node sent to Redis: what it waited for.",
			func(s StoreTraffic) int64 { return s.RedisRoundTrips }),
		storeCounter("idp_postgres_queries_total",
			"Statements this node sent to Postgres, BEGIN and COMMIT included.",
			func(s StoreTraffic) int64 { return s.PostgresQueries }),
		storeCounter("idp_postgres_round_trips_total",
			"Round trips to Postgres: one per statement sent alone, one per batch.",
			func(s StoreTraffic) int64 { return s.PostgresRoundTrips }),
	)
}
