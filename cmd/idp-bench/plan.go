package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// step is one entry of the run's sequence.
type step struct {
	name        string
	sc          scenario
	rate        float64 // open loop at this rate
	rateFrac    float64 // open loop at this fraction of the login peak measured earlier in the run
	flood       bool
	unavailable string // not measurable (yet): why
}

// plan turns -scenario (and -rate) into steps. "all" is login, login at
// -rate-frac of its peak, sso, refresh, userinfo, introspect,
// client_credentials and the flood.
func plan(o options) ([]step, error) {
	names := strings.Split(o.scenarios, ",")
	if o.scenarios == "all" {
		names = []string{"login", "login@", "sso", "refresh", "userinfo", "introspect", "client_credentials", "flood"}
	}
	var steps []step
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch n {
		case "flood":
			steps = append(steps, step{name: "flood", flood: true})
		case "login@":
			if o.rateFrac > 0 {
				sc, _ := scenarioByName("login")
				steps = append(steps, step{name: fmt.Sprintf("login@%.0f%%", 100*o.rateFrac), sc: sc, rateFrac: o.rateFrac})
			}
		default:
			sc, ok := scenarioByName(n)
			if !ok {
				return nil, fmt.Errorf("-scenario: unknown scenario %q", n)
			}
			steps = append(steps, step{name: n, sc: sc, rate: o.rate})
		}
	}
	return steps, nil
}

// execute runs one step and returns its row.
func (s step) execute(ctx context.Context, t *target, o options, rep *Report, obs *observer, quick time.Duration) Result {
	switch {
	case s.unavailable != "":
		return Result{Scenario: s.name, Note: s.unavailable}
	case s.flood:
		return floodResult(ctx, t, o, obs, quick)
	}
	opt := runOptions{concurrency: o.concurrency, duration: o.duration, warmup: o.warmup, rate: s.rate,
		maxIter: o.maxIter, timeout: o.timeout}
	if s.rateFrac > 0 {
		peak := loginPeak(rep.Results)
		if peak <= 0 {
			return Result{Scenario: s.name, Note: "skipped: no login peak measured in this run"}
		}
		opt.rate = s.rateFrac * peak
	}
	if opt.concurrency == 0 {
		opt.concurrency = s.sc.defaultC
		if opt.rate > 0 {
			// Open loop: enough workers that the client never holds arrivals back.
			opt.concurrency = max(4*s.sc.defaultC, 64)
		}
	}
	// The bound is measured again just before the scenario and just after
	// it, with the server idle, and the scenario is compared with their
	// mean: a machine whose speed drifts (a shared host) shows as the two
	// differing, instead of as a ratio that moves for no reason of ours.
	var boundName string
	measureBound := func() float64 { return 0 }
	switch s.sc.bound {
	case boundArgon2:
		boundName = "argon2id"
		measureBound = func() float64 { return argon2Rate(rep.Bounds.Argon2, o.boundDur) }
	case boundSign:
		boundName = rep.Bounds.SignAlg
		measureBound = func() float64 {
			if rate, err := signRate(rep.Bounds.SignAlg, o.boundDur); err == nil {
				return rate
			}
			return rep.Bounds.SignPerSec
		}
	}
	boundBefore := measureBound()
	obs.mon.reset()
	h, cpu, stores := obs.window(ctx, fileName(s.name))
	m, err := runScenario(ctx, t, s.sc, opt, h)
	r := Result{Scenario: s.name, Available: true, Concurrency: opt.concurrency, Mode: "closed", SetupFailures: m.setupFails}
	if opt.rate > 0 {
		r.Mode, r.TargetRate = "open", opt.rate
	}
	if err != nil {
		r.Note = err.Error()
		return r
	}
	secs := m.window.Seconds()
	r.Window = m.window
	r.Iterations = len(m.rec.latencies)
	r.IterPerSec = float64(r.Iterations) / secs
	r.ReqPerSec = float64(m.rec.requests) / secs
	r.Latency = summarize(m.rec.latencies)
	r.Errors, r.ErrorSamples = m.rec.errors, m.rec.samples
	r.PeakRSSKiB = obs.mon.peakKiB()
	r.CPU = cpu()
	r.Stores = stores(r.Iterations)
	if boundName != "" {
		boundAfter := measureBound()
		r.Bound, r.BoundBefore, r.BoundAfter = boundName, boundBefore, boundAfter
		r.BoundPerSec = (boundBefore + boundAfter) / 2
	}
	if r.BoundPerSec > 0 {
		r.Ratio = r.IterPerSec / r.BoundPerSec
	}
	setTarget(&r, s, rep.Bounds)
	return r
}

// setTarget states the target for the row and whether it was met.
func setTarget(r *Result, s step, b Bounds) {
	var met bool
	switch {
	case s.sc.name == "login" && r.Mode == "open":
		limit := 4 * b.OneHash
		r.Target, met = fmt.Sprintf("p99<4×hash=%s", ms(limit)), r.Latency.P99 > 0 && r.Latency.P99 < limit
	case s.sc.name == "login":
		r.Target, met = "≥80% bound", r.Ratio >= 0.8
	case s.sc.name == "sso":
		r.Target, met = "≥60% bound", r.Ratio >= 0.6
	case s.sc.name == "refresh":
		r.Target, met = "≥65% bound", r.Ratio >= 0.65
	case s.sc.name == "userinfo":
		r.Target, met = "≥5000 req/s", r.ReqPerSec >= 5000
	case s.sc.name == "client_credentials":
		// Opaque tokens: no signature bounds it, only an AES-GCM
		// encryption and a Redis write per grant.
		r.Target, met = "≥3000 grants/s (opaque)", r.IterPerSec >= 3000
	default:
		return
	}
	r.Met = &met
}

func floodResult(ctx context.Context, t *target, o options, obs *observer, quick time.Duration) Result {
	h, cpu, _ := obs.window(ctx, "flood")
	f := runFlood(ctx, t, o.floodN, o.timeout, obs.mon, h)
	f.ServerAlive, f.ReadyAfter = checkHealth(ctx, t.origin)
	met := f.ServerAlive && f.ReadyAfter && f.Timeouts == 0 && errorTotal(f.Errors) == 0 &&
		f.Succeeded+f.Refused == f.Logins && f.RefusalLatency.P99 <= quick
	if obs.pid != 0 {
		met = met && f.PeakRSSKiB < floodPeakKiB && f.Settled
	}
	return Result{Scenario: "flood", Available: true, Concurrency: f.Logins, Flood: &f, Latency: f.Latency,
		PeakRSSKiB: f.PeakRSSKiB, CPU: cpu(), Met: &met,
		Target: fmt.Sprintf("alive, refusals<%s, 0 timeouts, RSS<%s, then <%s within %s", quick, mib(floodPeakKiB), mib(settleRSSKiB), settleWithin)}
}

// loginPeak is the closed-loop login throughput measured earlier in the run.
func loginPeak(results []Result) float64 {
	for _, r := range results {
		if r.Scenario == "login" && r.Mode == "closed" {
			return r.IterPerSec
		}
	}
	return 0
}

func fileName(s string) string {
	return strings.NewReplacer("@", "-at-", "%", "pct").Replace(s)
}
