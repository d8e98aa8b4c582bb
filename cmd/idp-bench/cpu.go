package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc CPU times (100 on Linux).
const clockTicks = 100

// CPUShare is how many cores each party used on average during a window:
// the provider, this tool (the load generator), the Postgres backends of the
// bench database, Redis (the whole server) and the rest of the machine
// (other jobs and other databases: what makes a shared machine noisy).
type CPUShare struct {
	Server   float64 `json:"server"`
	Bench    float64 `json:"bench"`
	Postgres float64 `json:"postgres"`
	Redis    float64 `json:"redis"`
	Other    float64 `json:"other"`
	Idle     float64 `json:"idle"`
}

// cpuSnapshot is cumulative CPU ticks by party at one instant.
type cpuSnapshot struct {
	at                   time.Time
	server, bench, redis int64
	pg                   map[int]int64 // ticks of each Postgres backend of the bench database
	busy, idle           int64         // whole machine, from /proc/stat
	ok                   bool
}

// takeCPU reads the counters. serverPID 0 means unknown (external server
// without -pid): its time is then part of "other". pgPIDs are the backends
// serving the bench database.
func takeCPU(serverPID int, pgPIDs []int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), pg: map[int]int64{}}
	var err error
	if s.busy, s.idle, err = machineTicks(); err != nil {
		return s
	}
	s.ok = true
	s.bench, _ = procTicks(os.Getpid())
	if serverPID != 0 {
		s.server, _ = procTicks(serverPID)
	}
	for _, pid := range pgPIDs {
		if t, err := procTicks(pid); err == nil {
			s.pg[pid] = t
		}
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		if comm, ticks, err := readStat(p); err == nil && strings.HasPrefix(comm, "redis-server") {
			s.redis += ticks
		}
	}
	return s
}

// share turns two snapshots into cores used per party. Postgres counts the
// backends seen in both snapshots.
func share(a, b cpuSnapshot) CPUShare {
	secs := b.at.Sub(a.at).Seconds()
	if !a.ok || !b.ok || secs <= 0 {
		return CPUShare{}
	}
	var pg int64
	for pid, t := range b.pg {
		if t0, ok := a.pg[pid]; ok {
			pg += t - t0
		}
	}
	cores := func(d int64) float64 { return max(0, float64(d)/clockTicks/secs) }
	c := CPUShare{Server: cores(b.server - a.server), Bench: cores(b.bench - a.bench),
		Postgres: cores(pg), Redis: cores(b.redis - a.redis), Idle: cores(b.idle - a.idle)}
	c.Other = max(0, cores(b.busy-a.busy)-c.Server-c.Bench-c.Postgres-c.Redis)
	return c
}

func (c CPUShare) String() string {
	return fmt.Sprintf("srv %.2f bench %.2f pg %.2f redis %.2f other %.2f idle %.2f",
		c.Server, c.Bench, c.Postgres, c.Redis, c.Other, c.Idle)
}

// procTicks is utime+stime of a process, in ticks.
func procTicks(pid int) (int64, error) {
	_, t, err := readStat(fmt.Sprintf("/proc/%d/stat", pid))
	return t, err
}

// readStat parses /proc/PID/stat: the command name and utime+stime of the
// process (its threads included).
func readStat(path string) (string, int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0, err
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return "", 0, fmt.Errorf("%s: unexpected format", path)
	}
	f := strings.Fields(s[closing+1:])
	// After the name: state(0) ppid(1) ... utime(11) stime(12).
	if len(f) < 13 {
		return "", 0, fmt.Errorf("%s: too few fields", path)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, fmt.Errorf("%s: bad times", path)
	}
	return s[open+1 : closing], ut + st, nil
}

// machineTicks returns busy and idle ticks of all CPUs from /proc/stat.
func machineTicks() (busy, idle int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected format")
	}
	// user nice system idle iowait irq softirq steal
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if i == 3 || i == 4 {
			idle += n
		} else {
			busy += n
		}
	}
	return busy, idle, nil
}
