package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// secondNode starts another node of idp in this process: its own stores'
// connections, caches and subscriptions, on idp's database and Redis key
// prefix, as a second `idp serve` behind the same issuer.
func (idp *testIDP) secondNode(t *testing.T) *app {
	t.Helper()
	ctx := context.Background()
	cfg := *idp.app.cfg
	pg, rs, rdb, err := openStores(ctx, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newApp(ctx, &cfg, pg, rs, rdb)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// servicesHeard collects the e-service changes published on the stores'
// channel, as every node's followChanges hears them.
type servicesHeard struct {
	mu  sync.Mutex
	ids []int64
}

func (h *servicesHeard) hear(ids []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids = append(h.ids, ids...)
}

// take waits up to 5 s for want, then returns what was heard and forgets it.
func (h *servicesHeard) take(want []int64) []int64 {
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		h.mu.Lock()
		done := slices.Equal(h.ids, want)
		h.mu.Unlock()
		if done {
			break
		}
	}
	if len(want) == 0 {
		time.Sleep(200 * time.Millisecond) // time for a publication that should not come
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.ids
	h.ids = nil
	return out
}

// TestDeskServiceSettingsNodes: the desk's e-service settings form sets the
// minimum level and the access policy in one use case: one event per
// setting changed, and one publication that reaches every node at once
// (the second node's cached client follows the level well within its
// cache's TTL); a change of the policy alone is published too, at the desk
// and by `idp service policy`; nothing changed is neither audited nor
// published; a counter officer's or a forged form changes nothing.
func TestDeskServiceSettingsNodes(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	w := idp.startDesk(t)
	nodeB := idp.secondNode(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	heard := &servicesHeard{}
	if err := idp.app.redis.SubscribeServicesChanged(ctx, heard.hear); err != nil {
		t.Fatal(err)
	}
	sv, err := idp.app.pg.ServiceByCode(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	levelOnB := func(want storage.Level) {
		t.Helper()
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			c, err := nodeB.st.Client(ctx, "other-web")
			if err != nil {
				t.Fatal(err)
			}
			if c.MinLevel == want {
				return
			}
			if time.Now().After(end) {
				t.Fatalf("node B's client other-web has MinLevel %v 5 s after the change, want %v", c.MinLevel, want)
			}
		}
	}
	events := func() (level, policy int) {
		t.Helper()
		err := idp.app.pg.Pool().QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'service.min_level'),
			count(*) FILTER (WHERE action = 'service.access_policy') FROM audit_events WHERE target = 'other'`).Scan(&level, &policy)
		if err != nil {
			t.Fatal(err)
		}
		return level, policy
	}
	levelOnB(storage.LevelNone) // cached on B
	l0, p0 := events()

	sup := w.signedIn(t, w.officer(t, "lei.sv", storage.RoleSupervisor))
	csrf := sup.token()
	sup.want(http.StatusSeeOther, "/services/other/settings", url.Values{"level": {"tool"}, "policy": {"assigned"}}, csrf)
	if got := heard.take([]int64{sv.ID}); !slices.Equal(got, []int64{sv.ID}) {
		t.Errorf("both settings changed: heard %v, want [%d] once", got, sv.ID)
	}
	levelOnB(storage.LevelTool)
	if l, p := events(); l != l0+1 || p != p0+1 {
		t.Errorf("both settings changed: %d service.min_level and %d service.access_policy events, want one each", l-l0, p-p0)
	}
	if got, _ := idp.app.pg.ServiceByCode(ctx, "other"); got.MinLevel != storage.LevelTool || got.AccessPolicy != storage.PolicyAssigned {
		t.Errorf("after the form: %v, %v", got.MinLevel, got.AccessPolicy)
	}

	// The policy alone, at the desk then by the command.
	sup.want(http.StatusSeeOther, "/services/other/settings", url.Values{"level": {"tool"}, "policy": {"enrolled"}}, csrf)
	if got := heard.take([]int64{sv.ID}); !slices.Equal(got, []int64{sv.ID}) {
		t.Errorf("the policy alone at the desk: heard %v", got)
	}
	if _, err := captureStdout(t, func() error {
		return run([]string{"service", "policy", "--service", "other", "--policy", "assigned"})
	}); err != nil {
		t.Fatal(err)
	}
	if got := heard.take([]int64{sv.ID}); !slices.Equal(got, []int64{sv.ID}) {
		t.Errorf("idp service policy: heard %v", got)
	}
	if l, p := events(); l != l0+1 || p != p0+3 {
		t.Errorf("after the policy alone twice: %d and %d events, want 1 and 3", l-l0, p-p0)
	}

	settingsRefused(t, w, sup, csrf, heard)
	if l, p := events(); l != l0+1 || p != p0+3 {
		t.Errorf("after refusals: %d and %d events, want 1 and 3", l-l0, p-p0)
	}
	levelOnB(storage.LevelTool)
}

// settingsRefused: the same settings again, a counter officer's form and a
// forged one: nothing published.
func settingsRefused(t *testing.T, w *deskWorld, sup *deskBrowser, csrf string, heard *servicesHeard) {
	t.Helper()
	sup.want(http.StatusSeeOther, "/services/other/settings", url.Values{"level": {"tool"}, "policy": {"assigned"}}, csrf)
	counter := w.signedIn(t, w.officer(t, "chan.tm", storage.RoleCounter))
	counter.want(http.StatusForbidden, "/services/other/settings", url.Values{"level": {"none"}, "policy": {"enrolled"}}, counter.token())
	sup.want(http.StatusForbidden, "/services/other/settings", url.Values{"level": {"none"}, "policy": {"enrolled"}}, "forged")
	if got := heard.take(nil); len(got) != 0 {
		t.Errorf("nothing changed, yet heard %v", got)
	}
}
