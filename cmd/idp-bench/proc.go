package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// memStatus reads VmRSS (resident now) and VmHWM (peak resident so far) of a
// process from /proc/PID/status, in KiB.
func memStatus(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kib
		} else {
			hwm = kib
		}
	}
	return rss, hwm, sc.Err()
}

// rssMonitor samples a process's RSS every 50 ms and keeps the peak since
// the last reset. pid 0 means "unknown" (an external server without -pid).
type rssMonitor struct {
	pid  int
	mu   sync.Mutex
	peak int64
}

func startRSSMonitor(ctx context.Context, pid int) *rssMonitor {
	m := &rssMonitor{pid: pid}
	if pid == 0 {
		return m
	}
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := memStatus(pid); err == nil {
				m.mu.Lock()
				m.peak = max(m.peak, rss)
				m.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return m
}

// reset starts a new peak from the current RSS.
func (m *rssMonitor) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.peak = 0
	if m.pid != 0 {
		m.peak, _, _ = memStatus(m.pid)
	}
}

// peakKiB is the highest RSS seen since reset; 0 when unknown.
func (m *rssMonitor) peakKiB() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

// hwmKiB is the process's lifetime peak RSS (VmHWM); 0 when unknown.
func (m *rssMonitor) hwmKiB() int64 {
	if m.pid == 0 {
		return 0
	}
	_, hwm, _ := memStatus(m.pid)
	return hwm
}

// profiler fetches CPU profiles from the server's pprof listener
// (IDP_PPROF_LISTEN) and writes them to dir/<scenario>.pprof.
type profiler struct {
	addr string
	dir  string
	wg   sync.WaitGroup
}

// capture profiles the next d seconds in the background.
func (p *profiler) capture(name string, d time.Duration) {
	if p == nil || p.addr == "" {
		return
	}
	p.wg.Go(func() {
		secs := max(1, int(d.Seconds()))
		path := filepath.Join(p.dir, name+".pprof")
		if err := fetchProfile(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.addr, secs), path, d+30*time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "idp-bench: cpu profile of %s: %v\n", name, err)
		}
	})
}

// wait waits for the profiles in flight.
func (p *profiler) wait() {
	if p != nil {
		p.wg.Wait()
	}
}

func fetchProfile(u, path string, timeout time.Duration) error {
	resp, err := (&http.Client{Timeout: timeout}).Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// observer watches the server during each window: its RSS, its CPU and that
// of the Postgres backends of the bench database, and optionally its CPU
// profile.
type observer struct {
	pid    int
	mon    *rssMonitor
	prof   *profiler
	db     *pgx.Conn   // to list the bench database's backends; nil: none
	stores *storeWatch // the server's store counters; nil: none
}

// pgBackends lists the pids of the sessions on the bench database (the
// server's pool), so that their CPU is told apart from other databases'.
func (o *observer) pgBackends(ctx context.Context) []int {
	if o.db == nil {
		return nil
	}
	rows, err := o.db.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		return nil
	}
	pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
	out := make([]int, len(pids))
	for i, p := range pids {
		out[i] = int(p)
	}
	return out
}

// window returns hooks that snapshot CPU and the store counters when the
// measured window opens and closes (and start a CPU profile named name), a
// func for the CPU share and one for the store commands per iteration.
func (o *observer) window(ctx context.Context, name string) (hooks, func() CPUShare, func(iterations int) *StoreCounts) {
	var a, b cpuSnapshot
	var sa, sb storeSnapshot
	var pids []int

	h := hooks{
		windowStart: func(d time.Duration) {
			pids = o.pgBackends(ctx)
			sa = o.stores.take(ctx)
			a = takeCPU(o.pid, pids)
			if d > 0 {
				o.prof.capture(name, d)
			}
		},
		windowEnd: func() {
			b = takeCPU(o.pid, pids)
			sb = o.stores.take(ctx)
		},
	}
	return h, func() CPUShare { return share(a, b) }, func(n int) *StoreCounts { return perIteration(sa, sb, n) }
}
