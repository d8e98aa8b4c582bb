package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one row of the report.
type Result struct {
	Scenario      string            `json:"scenario"`
	Available     bool              `json:"available"`
	Note          string            `json:"note,omitempty"`
	Mode          string            `json:"mode,omitempty"` // closed (back to back) or open (fixed rate)
	Concurrency   int               `json:"concurrency,omitempty"`
	TargetRate    float64           `json:"target_rate,omitempty"`
	Window        time.Duration     `json:"window_ns,omitempty"`
	Iterations    int               `json:"iterations"` // successful, in the window
	IterPerSec    float64           `json:"iterations_per_sec"`
	ReqPerSec     float64           `json:"requests_per_sec"`
	Latency       Latency           `json:"latency"`
	Errors        map[string]int    `json:"errors,omitempty"`
	ErrorSamples  map[string]string `json:"error_samples,omitempty"`
	SetupFailures int               `json:"setup_failures,omitempty"`
	Bound         string            `json:"bound,omitempty"`
	BoundPerSec   float64           `json:"bound_per_sec,omitempty"` // the mean of the two below
	BoundBefore   float64           `json:"bound_before_per_sec,omitempty"`
	BoundAfter    float64           `json:"bound_after_per_sec,omitempty"`
	Ratio         float64           `json:"ratio,omitempty"` // iterations/s ÷ bound
	PeakRSSKiB    int64             `json:"peak_rss_kib,omitempty"`
	CPU           CPUShare          `json:"cpu_cores"` // cores used by each party during the window
	Stores        *StoreCounts      `json:"store_per_iteration,omitempty"`
	Target        string            `json:"target,omitempty"`
	Met           *bool             `json:"target_met,omitempty"`
	Flood         *FloodResult      `json:"flood,omitempty"`
}

// Report is the whole run, as written by -json.
type Report struct {
	Time      time.Time `json:"time"`
	GoVersion string    `json:"go_version"`
	NumCPU    int       `json:"num_cpu"`
	Server    string    `json:"server"` // "own" or the -url given
	ServerPID int       `json:"server_pid,omitempty"`
	HashConc  int       `json:"hash_concurrency"`
	HashWait  string    `json:"hash_queue_wait"`
	Logins    int       `json:"logins"`
	Duration  string    `json:"duration"`
	Bounds    Bounds    `json:"bounds"`
	Results   []Result  `json:"results"`
	ServerHWM int64     `json:"server_hwm_kib,omitempty"`
	Command   string    `json:"command"`
	LoadAvg   string    `json:"loadavg_at_start"` // 1, 5, 15 min: how busy the machine was`
}

func (r *Report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// printBounds prints the bounds measured in this run.
func printBounds(w io.Writer, b Bounds) {
	fmt.Fprintf(w, "bounds (this machine, this run, %d goroutines; measured again just before each scenario that uses one):\n", b.GOMAXPROCS)
	fmt.Fprintf(w, "  argon2id m=%d KiB t=%d p=%d: %.1f verifications/s; one hash %s\n",
		b.Argon2.MemoryKiB, b.Argon2.Iterations, b.Argon2.Threads, b.Argon2PerSec, ms(b.OneHash))
	fmt.Fprintf(w, "  %s ID-token signature (go-jose): %.0f signatures/s; one signature %s\n",
		b.SignAlg, b.SignPerSec, ms(b.OneSign))
}

// printTable prints one row per result.
func printTable(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tc\titer/s\treq/s\tp50\tp95\tp99\terrors\tbound/s\tratio\tpeak RSS\ttarget\t")
	for _, r := range results {
		switch {
		case !r.Available:
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\tnot available\t\n", r.Scenario)
		case r.Flood != nil:
			f := r.Flood
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t%s\t%s\t%s\t%s\t-\t-\t%s\t%s\t\n", r.Scenario, f.Logins,
				ms(r.Latency.P50), ms(r.Latency.P95), ms(r.Latency.P99),
				fmt.Sprintf("ok %d, refused %d, timeout %d, other %d", f.Succeeded, f.Refused, f.Timeouts, errorTotal(f.Errors)),
				mib(f.PeakRSSKiB), verdict(r))
		default:
			c := fmt.Sprint(r.Concurrency)
			if r.Mode == "open" {
				c = fmt.Sprintf("%.0f/s", r.TargetRate)
			}
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Scenario, c, r.IterPerSec, r.ReqPerSec,
				ms(r.Latency.P50), ms(r.Latency.P95), ms(r.Latency.P99), errorSummary(r.Errors),
				boundCell(r), ratioCell(r), mib(r.PeakRSSKiB), verdict(r))
		}
	}
	tw.Flush()
}

// printCPU prints, per scenario, how many cores each party used: what the
// provider got of the machine, and how noisy the machine was.
func printCPU(w io.Writer, results []Result) {
	fmt.Fprintln(w, "cores used during each window (server, this tool, postgres, redis, everything else, idle), and CPU ms per iteration:")
	for _, r := range results {
		if !r.Available || r.CPU == (CPUShare{}) {
			continue
		}
		per := ""
		if r.IterPerSec > 0 {
			c := r.CPU
			perIter := func(cores float64) float64 { return 1000 * cores / r.IterPerSec }
			per = fmt.Sprintf("  | per iteration: srv %.2f bench %.2f pg %.2f redis %.2f ms",
				perIter(c.Server), perIter(c.Bench), perIter(c.Postgres), perIter(c.Redis))
		}
		fmt.Fprintf(w, "  %-12s %s%s\n", r.Scenario, r.CPU, per)
	}
}

// printDetails prints what the table has no room for: flood breakdown and
// one sample of each error kind.
func printDetails(w io.Writer, results []Result) {
	for _, r := range results {
		if r.Note != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Scenario, r.Note)
		}
		if f := r.Flood; f != nil {
			fmt.Fprintf(w, "flood: %d prepared of %d; released at once: %d signed in (p50 %s, p99 %s), %d refused with Retry-After (p50 %s, p99 %s), %d timeouts, other %v; all answered in %s; server alive %v, ready after %v; peak RSS %s during, VmHWM %s\n",
				f.Prepared, f.Logins, f.Succeeded, ms(f.SuccessLatency.P50), ms(f.SuccessLatency.P99),
				f.Refused, ms(f.RefusalLatency.P50), ms(f.RefusalLatency.P99), f.Timeouts, f.Errors, ms(f.Elapsed),
				f.ServerAlive, f.ReadyAfter, mib(f.PeakRSSKiB), mib(f.HWMKiB))
			if f.Settled {
				fmt.Fprintf(w, "  after the flood: RSS %s %s after the last answer\n", mib(f.RSSAfterKiB), ms(f.SettledAfter))
			} else if f.RSSAfterKiB > 0 {
				fmt.Fprintf(w, "  after the flood: RSS still %s after %s\n", mib(f.RSSAfterKiB), settleWithin)
			}
			for k, s := range f.Samples {
				fmt.Fprintf(w, "  flood %s e.g. %s\n", k, s)
			}
		}
		for _, k := range sortedKinds(r.Errors) {
			fmt.Fprintf(w, "  %s %s ×%d e.g. %s\n", r.Scenario, k, r.Errors[k], r.ErrorSamples[k])
		}
		if r.BoundBefore > 0 && r.BoundAfter > 0 {
			drift := math.Abs(r.BoundBefore-r.BoundAfter) / r.BoundPerSec
			fmt.Fprintf(w, "  %s: bound %.0f/s before, %.0f/s after (%.0f%% apart)%s\n", r.Scenario, r.BoundBefore, r.BoundAfter,
				100*drift, map[bool]string{true: ": the machine's speed drifted, the ratio is uncertain by as much", false: ""}[drift > 0.1])
		}
		if r.SetupFailures > 0 {
			fmt.Fprintf(w, "  %s: %d workers failed to set up\n", r.Scenario, r.SetupFailures)
		}
	}
}

func errorSummary(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range sortedKinds(m) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func boundCell(r Result) string {
	if r.Bound == "" {
		return "-"
	}
	return fmt.Sprintf("%.0f %s", r.BoundPerSec, r.Bound)
}

func ratioCell(r Result) string {
	if r.Bound == "" {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*r.Ratio)
}

func verdict(r Result) string {
	switch {
	case r.Target == "":
		return "-"
	case r.Met == nil:
		return r.Target
	case *r.Met:
		return r.Target + " ok"
	default:
		return r.Target + " MISSED"
	}
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func mib(kib int64) string {
	if kib == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(kib)/1024)
}

// storeTargets are the store round trips an iteration may take: Redis
// commands the server sends (a script call as one) and Postgres round trips.
var storeTargets = map[string]struct{ redis, postgres float64 }{
	"login":   {redis: 25, postgres: 2},
	"refresh": {redis: 12, postgres: 2},
}

// printStores prints, per scenario, the store commands per iteration: the
// server's own counts (deterministic), and what the Redis server ran in
// all (commands inside scripts included, but every client of that Redis).
func printStores(w io.Writer, results []Result) {
	any := false
	for _, r := range results {
		any = any || r.Stores != nil
	}
	if !any {
		return
	}
	fmt.Fprintln(w, "store round trips per iteration (counted by the server for requests; 'redis ran' is the whole Redis server, scripts' commands included):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tredis cmds\tscripts\tredis RTs\tredis ran\tpg queries\tpg RTs\ttarget\t")
	for _, r := range results {
		s := r.Stores
		if !r.Available || s == nil {
			continue
		}
		ran := "-"
		if s.RedisRun > 0 {
			ran = fmt.Sprintf("%.1f", s.RedisRun)
		}
		target := "-"
		if t, ok := storeTargets[r.Scenario]; ok && r.Mode == "closed" && r.Iterations > 0 {
			// The counters are read at the window's edges, where up to c
			// iterations are half done: that much slack.
			slack := 1 + float64(r.Concurrency)/float64(r.Iterations)
			verdict := "ok"
			if s.RedisCommands > t.redis*slack || s.PostgresRoundTrips > t.postgres*slack {
				verdict = "MISSED"
			}
			target = fmt.Sprintf("redis≤%.0f pg≤%.0f %s", t.redis, t.postgres, verdict)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%s\t%.2f\t%.2f\t%s\t\n", r.Scenario, s.RedisCommands, s.RedisScripts,
			s.RedisRoundTrips, ran, s.PostgresQueries, s.PostgresRoundTrips, target)
	}
	tw.Flush()
}
