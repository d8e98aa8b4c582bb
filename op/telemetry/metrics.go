// Package telemetry is what an operator sees of a running node: Prometheus
// metrics (served by Handler on a listener of their own, never on the
// provider's) and a request id carried by every request, its log lines and
// its error pages.
//
// The metrics live in a registry of this package, not in the client
// library's global default, so nothing a dependency registers there ends up
// on our endpoint by accident. Every label takes its values from a fixed set
// decided here (or by our own code, such as mux route templates): a request
// can never add a series, whatever path, method or form it sends.
//
// The package imports no other package of the project, so op, login and
// their sub-packages may all report to it.
package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var registry = prometheus.NewRegistry()

// Sign-in outcomes, the values of idp_signins_total's outcome label.
const (
	SignInSuccess        = "success"
	SignInBadCredentials = "bad_credentials" // unknown entity, unknown username or wrong password: one answer
	SignInThrottled      = "throttled"       // too many failures for the account or the client IP
	SignInBusy           = "busy"            // the password hasher was saturated
	SignInRefused        = "refused"         // right password, but this login may not sign in here
)

// Outbox delivery outcomes, the values of idp_outbox_deliveries_total's
// outcome label.
const (
	OutboxDelivered = "delivered"
	OutboxRetry     = "retry"
	OutboxFailed    = "failed"
)

// Stores, the values of idp_store_failures_total's store label.
const (
	StorePostgres = "postgres"
	StoreRedis    = "redis"
)

// Why /authorize turned a person away, the values of
// idp_authorize_refused_total's reason label (storage.Refused*).
const (
	RefusedAddress = "address" // the client address's rate
	RefusedBrowser = "browser" // one browser opened too many sign-ins at once
	RefusedBudget  = "budget"  // the budget of open requests is full of young ones
)

// Why open authorization requests were dropped to make room, the values of
// idp_auth_requests_dropped_total's reason label.
const (
	DroppedByBrowser = "browser" // the browser's own oldest
	DroppedByBudget  = "budget"  // the budget's oldest, past the grace
)

// other is the value of any label whose input is outside its fixed set.
const other = "other"

var (
	signIns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_signins_total",
		Help: "Sign-ins with entity number, username and password, by outcome.",
	}, []string{"outcome"})

	tokenGrants = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_token_grants_total",
		Help: "Token endpoint requests by grant_type and outcome (success or the OAuth error code).",
	}, []string{"grant_type", "outcome"})

	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "idp_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route (a page's route template, a provider endpoint, or other), method and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "code"})

	// HashInFlight, HashWaiting and HashWait describe the bounded password
	// hasher (login/password): hashes running, callers queued for a slot,
	// and how long callers waited for one (0 when a slot was free).
	HashInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "idp_password_hash_in_flight",
		Help: "Password hashes being computed now.",
	})
	HashWaiting = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "idp_password_hash_waiting",
		Help: "Callers waiting for a password-hashing slot now.",
	})
	HashWait = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "idp_password_hash_wait_seconds",
		Help:    "Time a caller waited for a password-hashing slot, including waits that ended in 'busy'.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
	})

	outboxDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_outbox_deliveries_total",
		Help: "Attempts to deliver an outbox message (SMS, e-mail, back-channel logout), by channel and outcome.",
	}, []string{"channel", "outcome"})

	storeFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_store_failures_total",
		Help: "Store calls of the protocol engine that failed for another reason than a domain answer (not found, conflict, reuse).",
	}, []string{"store"})

	codeReplays = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "idp_code_replays_total",
		Help: "Authorization codes presented a second time (the grant they gave is revoked).",
	})

	authorizeRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_authorize_refused_total",
		Help: "Authorization requests turned away with a 'try again in N seconds' page, by reason: address (the client address's rate), browser, budget (too many open requests everywhere).",
	}, []string{"reason"})

	authRequestsDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_auth_requests_dropped_total",
		Help: "Open (not signed-in) authorization requests dropped to make room for newer ones, by reason: browser (the same browser's oldest), budget (the oldest anywhere, past the grace).",
	}, []string{"reason"})

	refreshReuse = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "idp_refresh_reuse_total",
		Help: "Rotated-out refresh tokens presented again (their family is revoked).",
	})
)

func init() {
	registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		signIns, tokenGrants, httpDuration, HashInFlight, HashWaiting, HashWait,
		outboxDeliveries, storeFailures, codeReplays, refreshReuse, authorizeRefused, authRequestsDropped,
	)
	for _, r := range []string{RefusedAddress, RefusedBrowser, RefusedBudget} {
		authorizeRefused.WithLabelValues(r)
	}
	for _, r := range []string{DroppedByBrowser, DroppedByBudget} {
		authRequestsDropped.WithLabelValues(r)
	}
	// Every outcome is a series from the start, so that a rate over a
	// counter that has not moved yet is 0 rather than absent.
	for _, o := range []string{SignInSuccess, SignInBadCredentials, SignInThrottled, SignInBusy, SignInRefused} {
		signIns.WithLabelValues(o)
	}
	for _, s := range []string{StorePostgres, StoreRedis} {
		storeFailures.WithLabelValues(s)
	}
}

// SignIn counts one sign-in attempt by its outcome (SignInSuccess, ...).
// Call it once per submitted sign-in form, where the answer is decided.
func SignIn(outcome string) {
	switch outcome {
	case SignInSuccess, SignInBadCredentials, SignInThrottled, SignInBusy, SignInRefused:
	default:
		outcome = other
	}
	signIns.WithLabelValues(outcome).Inc()
}

// OutboxDelivery counts one delivery attempt of an outbox message.
func OutboxDelivery(channel, outcome string) {
	switch channel {
	case "sms", "email", "backchannel":
	default:
		channel = other
	}
	switch outcome {
	case OutboxDelivered, OutboxRetry, OutboxFailed:
	default:
		outcome = other
	}
	outboxDeliveries.WithLabelValues(channel, outcome).Inc()
}

// StoreFailure counts one failed store call (StorePostgres or StoreRedis).
func StoreFailure(store string) {
	if store != StorePostgres && store != StoreRedis {
		store = other
	}
	storeFailures.WithLabelValues(store).Inc()
}

// CodeReplay counts an authorization code presented a second time.
func CodeReplay() { codeReplays.Inc() }

// RefreshReuse counts a rotated-out refresh token presented again.
func RefreshReuse() { refreshReuse.Inc() }

// Handler serves the metrics in the Prometheus text format. backlog, when
// not nil, counts the outbox messages waiting for delivery; it is asked at
// each scrape (so the number is the database's, shared by every node), with
// at most a second to answer. A scrape whose backlog query fails still
// serves everything else.
func Handler(backlog func(context.Context) (int64, error)) http.Handler {
	var g prometheus.Gatherer = registry
	if backlog != nil {
		node := prometheus.NewRegistry()
		node.MustRegister(backlogCollector{count: backlog})
		g = prometheus.Gatherers{registry, node}
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}

var backlogDesc = prometheus.NewDesc("idp_outbox_backlog",
	"Outbox messages not yet delivered, failed for good or cancelled (counted in the database at scrape time).", nil, nil)

// backlogCollector asks the database at scrape time: a gauge kept by the
// worker would only know what this node's worker saw.
type backlogCollector struct {
	count func(context.Context) (int64, error)
}

func (c backlogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- backlogDesc }

func (c backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, err := c.count(ctx)
	if err != nil {
		// No sample rather than a wrong one; the scrape goes on.
		slog.Warn("metrics: outbox backlog", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n))
}

// AuthorizeRefused counts one authorization request turned away at
// admission (RefusedAddress, ...).
func AuthorizeRefused(reason string) {
	switch reason {
	case RefusedAddress, RefusedBrowser, RefusedBudget:
	default:
		reason = other
	}
	authorizeRefused.WithLabelValues(reason).Inc()
}

// AuthRequestsDropped counts n open authorization requests dropped to make
// room (DroppedByBrowser, DroppedByBudget).
func AuthRequestsDropped(reason string, n int) {
	switch reason {
	case DroppedByBrowser, DroppedByBudget:
	default:
		reason = other
	}
	authRequestsDropped.WithLabelValues(reason).Add(float64(n))
}
