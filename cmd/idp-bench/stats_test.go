package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		var ds []time.Duration
		for _, v := range vs {
			ds = append(ds, time.Duration(v)*time.Millisecond)
		}
		return ds
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1 // 1..100 ms
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one value is every percentile", ms(7), 1, 7 * time.Millisecond},
		{"one value p100", ms(7), 100, 7 * time.Millisecond},
		{"median of odd count", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"median of even count is the lower middle", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p95 of 1..100", ms(hundred...), 95, 95 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p99 of 10 values is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"tiny p is the min", ms(5, 6, 7), 0.001, 5 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.in, tc.p); got != tc.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tc.in, tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarizeSortsAndReports(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3}
	got := summarize(ds)
	if want := (Latency{P50: 3, P95: 5, P99: 5, Max: 5}); got != want {
		t.Fatalf("summarize = %+v, want %+v", got, want)
	}
	if !slices.IsSorted(ds) {
		t.Fatalf("summarize did not sort its input: %v", ds)
	}
	if (summarize(nil) != Latency{}) {
		t.Fatal("empty summary is not zero")
	}
}

func TestRecorderClassifiesAndMerges(t *testing.T) {
	a, b := newRecorder(), newRecorder()
	a.record(time.Millisecond, nil)
	a.record(0, &failure{kind: "http_500", detail: "first"})
	a.record(0, &failure{kind: "http_500", detail: "second"})
	b.record(2*time.Millisecond, nil)
	b.record(0, fmt.Errorf("dial: %w", os.ErrDeadlineExceeded))
	b.record(0, &url.Error{Op: "Get", URL: "http://127.0.0.1", Err: context.Canceled})
	a.requests, b.requests = 3, 4
	a.merge(b)
	if len(a.latencies) != 2 || a.requests != 7 {
		t.Fatalf("latencies %v requests %d", a.latencies, a.requests)
	}
	want := map[string]int{"http_500": 2, "timeout": 1, "canceled": 1}
	for k, n := range want {
		if a.errors[k] != n {
			t.Errorf("errors[%s] = %d, want %d (all: %v)", k, a.errors[k], n, a.errors)
		}
	}
	if a.samples["http_500"] != "first" {
		t.Errorf("sample = %q, want the first one seen", a.samples["http_500"])
	}
	if errorTotal(a.errors) != 4 {
		t.Errorf("errorTotal = %d", errorTotal(a.errors))
	}
	if got := sortedKinds(a.errors); got[0] != "http_500" {
		t.Errorf("sortedKinds = %v, want the most frequent first", got)
	}
}

func TestStatusFailureKinds(t *testing.T) {
	resp := func(status int, header http.Header, body string) *response {
		if header == nil {
			header = http.Header{}
		}
		return &response{status: status, header: header, body: []byte(body), url: &url.URL{Path: "/x"}}
	}
	for _, tc := range []struct {
		r    *response
		want string
	}{
		{resp(503, http.Header{"Retry-After": {"2"}}, "busy"), "refused_503"},
		{resp(429, http.Header{"Retry-After": {"60"}}, "slow down"), "refused_429"},
		{resp(503, nil, "no retry-after"), "http_503"},
		{resp(400, http.Header{"Content-Type": {"application/json"}}, `{"error":"invalid_grant"}`), "oauth_invalid_grant"},
		{resp(500, nil, "boom"), "http_500"},
	} {
		var f *failure
		if err := statusFailure("step", tc.r); !errors.As(err, &f) || f.kind != tc.want {
			t.Errorf("status %d %v: kind %v, want %s", tc.r.status, tc.r.header, err, tc.want)
		}
	}
}

func TestOnlyLoopbackTargets(t *testing.T) {
	for u, ok := range map[string]bool{
		"http://127.0.0.1:8080/x": true, "http://localhost/x": true, "http://[::1]:80/": true,
		"http://10.0.0.1/": false, "https://example.org/": false,
	} {
		pu, _ := url.Parse(u)
		if got := onLoopback(pu) == nil; got != ok {
			t.Errorf("onLoopback(%s) = %v, want %v", u, got, ok)
		}
	}
}

func TestCPUShareAddsUp(t *testing.T) {
	t0 := time.Unix(0, 0)
	a := cpuSnapshot{at: t0, ok: true, server: 100, bench: 50, pg: map[int]int64{1: 10, 2: 7}, redis: 5, busy: 1000, idle: 500}
	// Backend 2 went away and 3 is new: only backends seen twice count.
	b := cpuSnapshot{at: t0.Add(2 * time.Second), ok: true, server: 200, bench: 100, pg: map[int]int64{1: 30, 3: 99}, redis: 15, busy: 1300, idle: 600}
	got := share(a, b)
	want := CPUShare{Server: 0.5, Bench: 0.25, Postgres: 0.1, Redis: 0.05, Other: 0.6, Idle: 0.5}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("share = %v, want %v", got, want)
	}
	if (share(cpuSnapshot{}, b) != CPUShare{}) {
		t.Fatal("a failed snapshot must give an empty share")
	}
}

func TestProcReaders(t *testing.T) {
	rss, hwm, err := memStatus(os.Getpid())
	if err != nil || rss <= 0 || hwm < rss {
		t.Fatalf("memStatus = %d, %d, %v", rss, hwm, err)
	}
	comm, ticks, err := readStat(fmt.Sprintf("/proc/%d/stat", os.Getpid()))
	if err != nil || comm == "" || ticks < 0 {
		t.Fatalf("readStat = %q, %d, %v", comm, ticks, err)
	}
	if busy, idle, err := machineTicks(); err != nil || busy+idle <= 0 {
		t.Fatalf("machineTicks = %d, %d, %v", busy, idle, err)
	}
}
