package telemetry

import "github.com/prometheus/client_golang/prometheus"

// The sign-in history's writer: what it stored, and what it dropped
// because its queue was full (the database slower than the sign-ins) or
// a batch failed to store.
var (
	signInHistoryWritten = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "idp_signin_history_written_total",
		Help: "Sign-in attempts stored in the sign-in history.",
	})
	signInHistoryDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idp_signin_history_dropped_total",
		Help: "Sign-in attempts left out of the sign-in history, by reason (queue_full, store_failed).",
	}, []string{"reason"})
)

// Why a sign-in attempt was left out of the history.
const (
	HistoryQueueFull   = "queue_full"
	HistoryStoreFailed = "store_failed"
)

func init() {
	registry.MustRegister(signInHistoryWritten, signInHistoryDropped)
	for _, r := range []string{HistoryQueueFull, HistoryStoreFailed} {
		signInHistoryDropped.WithLabelValues(r)
	}
}

// SignInHistoryWritten counts n attempts stored.
func SignInHistoryWritten(n int) { signInHistoryWritten.Add(float64(n)) }

// SignInHistoryDropped counts n attempts left out for reason.
func SignInHistoryDropped(reason string, n int) {
	if reason != HistoryQueueFull && reason != HistoryStoreFailed {
		reason = other
	}
	signInHistoryDropped.WithLabelValues(reason).Add(float64(n))
}
