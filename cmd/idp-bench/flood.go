package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// FloodResult is the outcome of n sign-ins submitted at the same instant.
type FloodResult struct {
	Logins    int `json:"logins"`
	Prepared  int `json:"prepared"` // browsers that reached the login form
	Succeeded int `json:"succeeded"`
	// Refused: answered 429 or 503 with Retry-After (the busy page).
	Refused  int               `json:"refused"`
	Timeouts int               `json:"timeouts"`
	Errors   map[string]int    `json:"errors"` // other failures by kind
	Samples  map[string]string `json:"error_samples,omitempty"`
	// Latency (every answer), SuccessLatency and RefusalLatency time the
	// POST /login from the release.
	Latency        Latency       `json:"latency"`
	SuccessLatency Latency       `json:"success_latency"`
	RefusalLatency Latency       `json:"refusal_latency"`
	Elapsed        time.Duration `json:"elapsed_ns"`   // release to the last answer
	PeakRSSKiB     int64         `json:"peak_rss_kib"` // sampled VmRSS during the flood
	HWMKiB         int64         `json:"hwm_kib"`      // VmHWM after the flood: lifetime peak
	// SettledAfter is how long after the last answer the server's RSS first
	// sampled under settleRSSKiB (0 with Settled false: not within
	// settleWithin); RSSAfter is its RSS then, or at the end of the wait.
	SettledAfter time.Duration `json:"settled_after_ns,omitempty"`
	Settled      bool          `json:"settled"`
	RSSAfterKiB  int64         `json:"rss_after_kib,omitempty"`
	ServerAlive  bool          `json:"server_alive"`
	ReadyAfter   bool          `json:"ready_after"` // /readyz answered 200 after the flood
}

// runFlood brings n browsers to the login form, then submits all n forms at
// once, each on its own connection, and classifies the answers.
func runFlood(ctx context.Context, t *target, n int, timeout time.Duration, mon *rssMonitor, h hooks) FloodResult {
	res := FloodResult{Logins: n, Errors: map[string]int{}, Samples: map[string]string{}}
	tr := newTransport(n)
	tr.MaxConnsPerHost = 0
	defer tr.CloseIdleConnections()

	// Prepare: authorize and the login page, 32 at a time (cheap requests).
	type prepared struct {
		b    *browser
		a    authorization
		form *loginForm
		user string
	}
	ready := make([]*prepared, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			b := newBrowser(tr, timeout, true, new(int))
			a, start := t.authorizeURL(t.world.Public, scopeLogin)
			form, _, err := t.walk(ctx, b, a, start)
			if err == nil && form == nil {
				err = protocolError("no login form")
			}
			if err != nil {
				mu.Lock()
				res.note(&failure{kind: "prepare_" + kindOf(err), detail: err.Error()})
				mu.Unlock()
				return
			}
			ready[i] = &prepared{b: b, a: a, form: form, user: t.nextLogin()}
		})
	}
	wg.Wait()

	// Release every POST at once.
	mon.reset()
	release := make(chan struct{})
	var ok, refused []time.Duration
	for _, p := range ready {
		if p == nil {
			continue
		}
		res.Prepared++
		wg.Go(func() {
			<-release
			t0 := time.Now()
			r, err := t.postLogin(ctx, p.b, p.form, p.user)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				res.note(err)
			case r.status == http.StatusFound || r.status == http.StatusSeeOther:
				res.Succeeded++
				ok = append(ok, d)
			case r.isRefusal():
				res.Refused++
				refused = append(refused, d)
			default:
				res.note(statusFailure("POST /login", r))
			}
		})
	}
	h.windowStart(5 * time.Second) // the length of the CPU profile, when asked for
	t0 := time.Now()
	close(release)
	wg.Wait()
	res.Elapsed = time.Since(t0)
	h.windowEnd()
	res.Latency = summarize(append(append([]time.Duration{}, ok...), refused...))
	res.SuccessLatency, res.RefusalLatency = summarize(ok), summarize(refused)
	res.PeakRSSKiB, res.HWMKiB = mon.peakKiB(), mon.hwmKiB()
	res.SettledAfter, res.Settled, res.RSSAfterKiB = settle(ctx, mon.pid)
	return res
}

// What the server's memory must come back to after the flood, and how soon.
const (
	settleRSSKiB = 64 << 10
	settleWithin = 10 * time.Second
	floodPeakKiB = 256 << 10
)

// settle samples the server's RSS every 100 ms until it is under
// settleRSSKiB or settleWithin has passed.
func settle(ctx context.Context, pid int) (time.Duration, bool, int64) {
	if pid == 0 {
		return 0, false, 0
	}
	t0 := time.Now()
	var rss int64
	for {
		rss, _, _ = memStatus(pid)
		if rss > 0 && rss < settleRSSKiB {
			return time.Since(t0), true, rss
		}
		if time.Since(t0) >= settleWithin || ctx.Err() != nil {
			return 0, false, rss
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// note counts a failed sign-in; timeouts have their own count.
func (r *FloodResult) note(err error) {
	kind, detail := classify(err)
	if kind == "timeout" {
		r.Timeouts++
		return
	}
	r.Errors[kind]++
	if _, seen := r.Samples[kind]; !seen {
		r.Samples[kind] = detail
	}
}

func kindOf(err error) string {
	k, _ := classify(err)
	return k
}

// checkHealth asks /healthz and /readyz of the provider after the flood.
func checkHealth(ctx context.Context, issuerOrigin string) (alive, ready bool) {
	b := newBrowser(http.DefaultTransport, 5*time.Second, false, new(int))
	if r, err := b.get(ctx, issuerOrigin+"/healthz", nil); err == nil && r.status == http.StatusOK {
		alive = true
	}
	if r, err := b.get(ctx, issuerOrigin+"/readyz", nil); err == nil && r.status == http.StatusOK {
		ready = true
	}
	return alive, ready
}

func (r FloodResult) String() string {
	return fmt.Sprintf("%d logins: %d ok, %d refused, %d timeouts, %d other", r.Logins, r.Succeeded, r.Refused, r.Timeouts, errorTotal(r.Errors))
}
