package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/entity-account/idp/storage/storagetest"
)

// Store round trips per journey, counted: unlike times, these counts do not
// depend on the machine, so a change that adds a command to a hot path
// fails here. Three counts per step:
//
//   - redis: the commands the node sent (the Traffic hook; a pipeline's
//     commands one by one, a script call as one);
//   - in redis: what Redis ran for this node's keys, as MONITOR shows it:
//     every command sent plus every command a script ran inside Redis
//     (MULTI/EXEC, which name no key, are not in it), without the pruning
//     of indexes (ZREMRANGEBYSCORE), which runs on a random eighth of the
//     index writes and is shown apart;
//   - postgres: the round trips the node took (the Traffic tracer; a batch
//     of statements is one), and in brackets the statements.
//
// The targets: a sign-in journey sends at most 25 Redis commands and takes
// at most 2 Postgres round trips; a refresh makes Redis run at most 12
// commands, scripts' included. The other bounds are today's counts, so
// that a regression fails.
//
// The admission of authorization requests (storage/redis/admission.go)
// costs one script at /authorize, in place of the per-address counter, and
// one at the sign-in, sent in the completion's round trip (the request
// leaves the budget of open requests): +1 command sent per journey or
// single sign-on (23 → 24, 13 → 14), and 8 (journey: 56 → 64) or 15
// (single sign-on, where both run: 34 → 49)
// commands run inside Redis, each O(1) or O(log n) on small keys.
type storeBounds struct{ sent, inRedis, postgres int64 }

var (
	journeyMax = storeBounds{sent: 24, inRedis: 64, postgres: 2}
	ssoMax     = storeBounds{sent: 14, inRedis: 49, postgres: 1}
	refreshMax = storeBounds{sent: 5, inRedis: 12, postgres: 1}
)

func TestStoreRoundTrips(t *testing.T) {
	idp := startIDP(t, nil)
	mobile := idp.client(demoMobileClient)
	r := idp.rp(mobile, mobile.RedirectURIs[0])
	mon := startRedisMonitor(t, idp.app.cfg.RedisPrefix)

	// A first journey loads the scripts into Redis and the client into the
	// node's cache, as a node that has been serving for a while has them.
	warm := idp.browser()
	p := newAuthParams(t)
	cb := warm.signIn(r, p, "admin01")
	if _, err := r.exchange(cb.Get("code"), p.Verifier); err != nil {
		t.Fatal(err)
	}

	var c *storeCounts
	var journey, sso, refresh stepCount
	for attempt := 1; ; attempt++ {
		c = &storeCounts{idp: idp, mon: mon}
		journey, sso, refresh = measureJourneys(t, idp, r, c)
		if !journey.flushed() && !sso.flushed() && !refresh.flushed() {
			break
		}
		if attempt == 5 {
			t.Fatalf("the shared Redis's scripts were flushed during every attempt:\n%s", c.report.String())
		}
		t.Logf("scripts flushed by another test meanwhile; measuring again")
	}
	t.Logf("store round trips (redis: commands sent, scripts; in redis: commands run incl. inside scripts; postgres: round trips (statements))\n%s", c.report.String())
	check := func(name string, got stepCount, max storeBounds) {
		t.Helper()
		if got.redis > max.sent {
			t.Errorf("%s: %d Redis commands sent, want at most %d", name, got.redis, max.sent)
		}
		if got.inRedis > max.inRedis {
			t.Errorf("%s: Redis runs %d commands, want at most %d", name, got.inRedis, max.inRedis)
		}
		if got.postgres > max.postgres {
			t.Errorf("%s: %d Postgres round trips, want at most %d", name, got.postgres, max.postgres)
		}
	}
	check("sign-in journey", journey, journeyMax)
	check("sso", sso, ssoMax)
	check("refresh", refresh, refreshMax)
}

// measureJourneys runs, step by step, the journeys of the load test's
// login, sso and refresh scenarios, for a staff login whose claims the node
// has not read yet.
func measureJourneys(t *testing.T, idp *testIDP, r *rp, c *storeCounts) (journey, sso, refresh stepCount) {
	staff := idp.login("staff01")
	idp.app.st.ForgetClaims([]string{staff.EUID})
	b := idp.browser()
	p := newAuthParams(t)
	c.begin()
	first := b.get(r.authURL(p))
	c.step("authorize")
	login := b.get(first.location(t))
	c.step("login page")
	done := b.submit(login.form(t), idp.demo.EntityNumber, staff.Username, staff.Password)
	c.step("POST login (and its callback hop)")
	tok, err := r.exchange(rpQuery(t, done).Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	c.step("token")
	if _, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err != nil {
		t.Fatal(err)
	}
	c.step("userinfo")
	journey = c.total("sign-in journey")

	// Single sign-on: the same browser, a new authorization request, the
	// scopes of the load test's sso scenario (no refresh token).
	p = newAuthParams(t)
	p.Extra = url.Values{"scope": {"openid profile"}}
	c.begin()
	answered := b.get(r.authURL(p))
	c.step("authorize (and its sign-in and callback hops)")
	if _, err := r.exchange(rpQuery(t, answered).Get("code"), p.Verifier); err != nil {
		t.Fatal(err)
	}
	c.step("token")
	sso = c.total("sso")

	// Refresh with rotation.
	c.begin()
	status, refreshed := r.postForm(t, r.oauth.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, false)
	if status != http.StatusOK || refreshed["refresh_token"] == nil {
		t.Fatalf("refresh = %d %v", status, refreshed)
	}
	c.step("refresh")
	refresh = c.total("refresh")
	return journey, sso, refresh
}

// rpQuery is the query of a redirect that leaves for the relying party.
func rpQuery(t *testing.T, p page) url.Values {
	t.Helper()
	u, err := url.Parse(p.location(t))
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

type stepCount struct {
	redis, scripts, inRedis, prunes, postgres, statements int64
	ran                                                   []string // commands Redis ran, by name
}

// storeCounts takes the counts between steps.
type storeCounts struct {
	idp    *testIDP
	mon    *redisMonitor
	last   stepCount
	sum    stepCount
	report strings.Builder
}

func (c *storeCounts) now() stepCount {
	rt, pt := c.idp.app.redis.Traffic().All(), c.idp.app.pg.Traffic().All()
	return stepCount{redis: rt.Commands, scripts: rt.Scripts, postgres: pt.RoundTrips, statements: pt.Queries}
}

func (c *storeCounts) begin() {
	c.mon.sync()
	c.last, c.sum = c.now(), stepCount{}
}

func (c *storeCounts) step(name string) {
	ran := c.mon.sync()
	n := c.now()
	prunes := int64(0)
	for _, cmd := range ran {
		if cmd == "ZREMRANGEBYSCORE" {
			prunes++
		}
	}
	d := stepCount{redis: n.redis - c.last.redis, scripts: n.scripts - c.last.scripts, inRedis: int64(len(ran)) - prunes,
		prunes: prunes, postgres: n.postgres - c.last.postgres, statements: n.statements - c.last.statements, ran: ran}
	c.last = n
	c.sum.redis += d.redis
	c.sum.scripts += d.scripts
	c.sum.inRedis += d.inRedis
	c.sum.prunes += d.prunes
	c.sum.postgres += d.postgres
	c.sum.statements += d.statements
	c.sum.ran = append(c.sum.ran, ran...)
	fmt.Fprintf(&c.report, "  %-24s redis %3d (scripts %2d)  in redis %3d (+%d prunes)  postgres %d (%d)   %s\n",
		name, d.redis, d.scripts, d.inRedis, d.prunes, d.postgres, d.statements, tally(ran))
}

func (c *storeCounts) total(name string) stepCount {
	fmt.Fprintf(&c.report, "  %-24s redis %3d (scripts %2d)  in redis %3d (+%d prunes)  postgres %d (%d)\n\n",
		"= "+name, c.sum.redis, c.sum.scripts, c.sum.inRedis, c.sum.prunes, c.sum.postgres, c.sum.statements)
	return c.sum
}

// flushed reports whether a script had to be sent again in full (EVAL):
// another test flushed the shared Redis's scripts meanwhile, so the counts
// are not the steady state's.
func (s stepCount) flushed() bool { return slices.Contains(s.ran, "EVAL") }

// tally is "NAME×n ..." of commands, in the order first seen.
func tally(cmds []string) string {
	var order []string
	n := map[string]int{}
	for _, c := range cmds {
		if n[c] == 0 {
			order = append(order, c)
		}
		n[c]++
	}
	parts := make([]string, len(order))
	for i, c := range order {
		parts[i] = fmt.Sprintf("%s×%d", c, n[c])
	}
	return strings.Join(parts, " ")
}

// redisMonitor reads MONITOR on its own connection and keeps the commands
// that name a key under prefix: on a Redis shared with other tests, exactly
// this node's, including those its scripts run.
type redisMonitor struct {
	t      *testing.T
	prefix string
	marker *goredis.Client
	marks  int

	mu    sync.Mutex
	lines []string // command names since the last sync
	seen  map[string]bool
	cond  *sync.Cond
}

func startRedisMonitor(t *testing.T, prefix string) *redisMonitor {
	t.Helper()
	opts, err := goredis.ParseURL(storagetest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", opts.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(conn)
	send := func(args ...string) {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := conn.Write([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		line, err := rd.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "+") {
			t.Fatalf("redis %s: %q %v", args[0], line, err)
		}
	}
	if opts.Password != "" {
		if opts.Username != "" {
			send("AUTH", opts.Username, opts.Password)
		} else {
			send("AUTH", opts.Password)
		}
	}
	send("MONITOR")
	m := &redisMonitor{t: t, prefix: prefix, marker: goredis.NewClient(opts), seen: map[string]bool{}}
	m.cond = sync.NewCond(&m.mu)
	go func() {
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				m.mu.Lock()
				m.seen["closed"] = true
				m.cond.Broadcast()
				m.mu.Unlock()
				return
			}
			if !strings.Contains(line, `"`+prefix) {
				continue
			}
			// +1796285787.664138 [0 127.0.0.1:50232] "EVAL" "..." ...
			_, rest, _ := strings.Cut(line, `] "`)
			name, _, _ := strings.Cut(rest, `"`)
			m.mu.Lock()
			if strings.Contains(line, `"`+prefix+"monitor-mark:") {
				_, mark, _ := strings.Cut(line, prefix+"monitor-mark:")
				mark, _, _ = strings.Cut(mark, `"`)
				m.seen[mark] = true
				m.cond.Broadcast()
			} else {
				m.lines = append(m.lines, strings.ToUpper(name))
			}
			m.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		m.marker.Close()
	})
	return m
}

// sync waits until MONITOR has shown everything sent before it, and
// returns the commands seen since the last sync.
func (m *redisMonitor) sync() []string {
	m.t.Helper()
	m.marks++
	mark := fmt.Sprint(m.marks)
	if err := m.marker.Exists(context.Background(), m.prefix+"monitor-mark:"+mark).Err(); err != nil {
		m.t.Fatal(err)
	}
	deadline := time.AfterFunc(10*time.Second, func() {
		m.mu.Lock()
		m.seen["timeout"] = true
		m.cond.Broadcast()
		m.mu.Unlock()
	})
	defer deadline.Stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	for !m.seen[mark] {
		if m.seen["timeout"] || m.seen["closed"] {
			m.t.Fatal("MONITOR did not show the mark")
		}
		m.cond.Wait()
	}
	out := slices.Clone(m.lines)
	m.lines = m.lines[:0]
	return out
}
