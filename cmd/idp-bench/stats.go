package main

import (
	"maps"
	"math"
	"slices"
	"time"
)

// recorder collects the outcome of iterations. Each worker owns one, so the
// hot path takes no lock; recorders are merged when the run ends.
type recorder struct {
	latencies []time.Duration   // of successful iterations
	errors    map[string]int    // failed iterations by kind
	samples   map[string]string // first detail seen of each error kind
	requests  int               // HTTP requests sent, successful or not
}

func newRecorder() *recorder {
	return &recorder{errors: map[string]int{}, samples: map[string]string{}}
}

// record notes one finished iteration.
func (r *recorder) record(d time.Duration, err error) {
	if err == nil {
		r.latencies = append(r.latencies, d)
		return
	}
	kind, detail := classify(err)
	r.errors[kind]++
	if _, ok := r.samples[kind]; !ok {
		r.samples[kind] = detail
	}
}

// merge adds o into r.
func (r *recorder) merge(o *recorder) {
	r.latencies = append(r.latencies, o.latencies...)
	for k, n := range o.errors {
		r.errors[k] += n
	}
	for k, s := range o.samples {
		if _, ok := r.samples[k]; !ok {
			r.samples[k] = s
		}
	}
	r.requests += o.requests
}

// Latency is a latency summary of successful iterations.
type Latency struct {
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// summarize sorts ds in place and returns its percentiles.
func summarize(ds []time.Duration) Latency {
	slices.Sort(ds)
	return Latency{
		P50: percentile(ds, 50), P95: percentile(ds, 95), P99: percentile(ds, 99),
		Max: percentile(ds, 100),
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted: the smallest value such that at least p% of the values are ≤ it.
// An empty slice gives 0.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// errorTotal is the number of failed iterations.
func errorTotal(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// sortedKinds returns the error kinds, most frequent first.
func sortedKinds(m map[string]int) []string {
	ks := slices.Collect(maps.Keys(m))
	slices.SortFunc(ks, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		if a < b {
			return -1
		}
		return 1
	})
	return ks
}
