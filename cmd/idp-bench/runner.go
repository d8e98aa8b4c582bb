package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// runOptions are the knobs of one scenario run.
type runOptions struct {
	concurrency int           // workers (closed loop) or most iterations in flight (open loop)
	duration    time.Duration // measured window
	warmup      time.Duration // run before the window, not recorded
	rate        float64       // > 0: open loop, iterations started per second
	maxIter     int64         // hard cap on iterations in the window
	timeout     time.Duration // per HTTP request
}

// hooks let the caller watch the measured window (RSS, CPU profile).
type hooks struct {
	windowStart func(d time.Duration) // called when the measured window opens
	windowEnd   func()
}

// measurement is what a run produced, before bounds are attached.
type measurement struct {
	rec        *recorder
	window     time.Duration
	setupFails int
	workers    int
}

// runScenario sets up the workers, warms up, then measures for opt.duration.
func runScenario(ctx context.Context, t *target, sc scenario, opt runOptions, h hooks) (measurement, error) {
	tr := newTransport(opt.concurrency)
	defer tr.CloseIdleConnections()
	workers, fails := setupWorkers(ctx, t, sc, opt, tr)
	if len(workers) == 0 {
		return measurement{setupFails: fails}, fmt.Errorf("%s: every worker failed to set up", sc.name)
	}
	var m measurement
	if opt.rate > 0 {
		m = openLoop(ctx, sc, workers, opt, h)
	} else {
		m = closedLoop(ctx, sc, workers, opt, h)
	}
	m.setupFails, m.workers = fails, len(workers)
	return m, nil
}

// setupWorkers prepares the workers concurrently (at most 16 set-ups at
// once, so that set-up logins do not trip the server's hashing queue).
func setupWorkers(ctx context.Context, t *target, sc scenario, opt runOptions, tr http.RoundTripper) ([]*worker, int) {
	all := make([]*worker, opt.concurrency)
	ok := make([]bool, opt.concurrency)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i := range all {
		all[i] = newWorker(t, tr, opt.timeout)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ok[i] = sc.setup == nil || sc.setup(ctx, all[i]) == nil
		})
	}
	wg.Wait()
	var ready []*worker
	for i, w := range all {
		if ok[i] {
			ready = append(ready, w)
		}
	}
	return ready, len(all) - len(ready)
}

// closedLoop runs every worker back to back: each starts its next iteration
// when the last one ends. Throughput is what the system sustains at this
// concurrency.
func closedLoop(ctx context.Context, sc scenario, workers []*worker, opt runOptions, h hooks) measurement {
	start := time.Now()
	from := start.Add(opt.warmup)
	end := from.Add(opt.duration)
	var started atomic.Int64
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				measured := !t0.Before(from)
				if measured && started.Add(1) > opt.maxIter {
					return
				}
				req0 := w.requests
				err := sc.run(ctx, w)
				if measured {
					w.rec.record(time.Since(t0), err)
					w.rec.requests += w.requests - req0
				}
			}
		})
	}
	watchWindow(ctx, from, opt.duration, h)
	wg.Wait()
	return measurement{rec: mergeWorkers(workers, nil), window: time.Since(from)}
}

// openLoop starts iterations at a fixed rate whatever the answers do (no
// coordinated omission): latency counts from the scheduled start. An arrival
// that finds every worker busy is recorded as client_saturated.
func openLoop(ctx context.Context, sc scenario, workers []*worker, opt runOptions, h hooks) measurement {
	pool := make(chan *worker, len(workers))
	for _, w := range workers {
		pool <- w
	}
	dispatcher := newRecorder()
	interval := time.Duration(float64(time.Second) / opt.rate)
	start := time.Now()
	from := start.Add(opt.warmup)
	end := from.Add(opt.duration)
	var wg sync.WaitGroup
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchWindow(ctx, from, opt.duration, h)
	}()
	var n int64
	for k := int64(0); ctx.Err() == nil; k++ {
		at := start.Add(time.Duration(k) * interval)
		if !at.Before(end) {
			break
		}
		measured := !at.Before(from)
		if measured {
			if n++; n > opt.maxIter {
				break
			}
		}
		if d := time.Until(at); d > 0 {
			sleep(ctx, d)
		}
		select {
		case w := <-pool:
			wg.Go(func() {
				defer func() { pool <- w }()
				req0 := w.requests
				err := sc.run(ctx, w)
				if measured {
					w.rec.record(time.Since(at), err)
					w.rec.requests += w.requests - req0
				}
			})
		default:
			if measured {
				dispatcher.record(0, &failure{kind: "client_saturated", detail: "every worker busy at an arrival; raise -c"})
			}
		}
	}
	wg.Wait()
	<-watched
	return measurement{rec: mergeWorkers(workers, dispatcher), window: time.Since(from)}
}

// watchWindow calls the hooks when the measured window opens and closes.
func watchWindow(ctx context.Context, from time.Time, d time.Duration, h hooks) {
	sleep(ctx, time.Until(from))
	if h.windowStart != nil {
		h.windowStart(d)
	}
	sleep(ctx, d)
	if h.windowEnd != nil {
		h.windowEnd()
	}
}

func mergeWorkers(workers []*worker, extra *recorder) *recorder {
	all := newRecorder()
	for _, w := range workers {
		all.merge(w.rec)
	}
	if extra != nil {
		all.merge(extra)
	}
	return all
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
