//go:build linux

package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	rstore "github.com/entity-account/idp/storage/redis"
	"github.com/entity-account/idp/storage/storagetest"
)

// TestMultiNode runs three `idp serve` processes behind one issuer, sharing
// one database and one Redis key prefix, as stateless nodes behind a load
// balancer (without sticky sessions). The test's clients choose the node of
// every request.
func TestMultiNode(t *testing.T) {
	started := time.Now()
	bin := buildIDP(t)

	prefix := "t-" + randHex(t, 6) + ":"
	redisURL := storagetest.RedisURL(t)
	t.Cleanup(func() { deleteRedisPrefix(t, redisURL, prefix) }) // runs after the nodes are killed
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	env := map[string]string{
		"IDP_ISSUER":       "http://127.0.0.1:" + strconv.Itoa(freePort(t)), // nothing listens there: clients pick nodes
		"IDP_DATABASE_URL": storagetest.PostgresURL(t),
		"IDP_REDIS_URL":    redisURL,
		"IDP_REDIS_PREFIX": prefix,
		"IDP_MASTER_KEY":   base64.StdEncoding.EncodeToString(master), // the same on every node
		"IDP_KEY_REFRESH":  "1s",
		"IDP_LOG_LEVEL":    "warn",
		// Cheap hashes: this test is about nodes, not about argon2.
		"IDP_ARGON2_MEMORY_KIB": "8192", "IDP_ARGON2_ITERATIONS": "1",
		"IDP_DEMO_RP_URL": "http://127.0.0.1:9",
		"IDP_OFFICER":     demoOfficer, // the supervisor the demo seeds as
	}
	var demo demoOutput
	if err := json.Unmarshal([]byte(runIDP(t, bin, env, "demo", "--json")), &demo); err != nil {
		t.Fatalf("idp demo --json: %v", err)
	}

	// Three nodes start at once: they migrate and create the first signing
	// key concurrently, and must end up with one key.
	names := []string{"A", "B", "C"}
	nodes := map[string]*nodeProc{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, name := range names {
		n := launchNode(t, bin, name, env)
		nodes[name] = n
		wg.Go(func() {
			if err := n.waitReady(60 * time.Second); err != nil {
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("node %s: %v\n%s", n.name, err, n.log())
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	addrs := map[string]string{}
	pids := map[string]int{}
	for name, n := range nodes {
		addrs[name], pids[name] = n.addr, n.cmd.Process.Pid
	}
	t.Logf("nodes up after %v: %v, issuer %s", time.Since(started).Round(time.Millisecond), addrs, env["IDP_ISSUER"])
	w := newHopWorld(t, env["IDP_ISSUER"], addrs, demo)
	ctx := t.Context()

	kids := w.jwksKids(t, "A")
	if len(kids) != 1 {
		t.Fatalf("nodes started together published %d signing keys, want 1: %v", len(kids), kids)
	}
	for _, name := range names[1:] {
		if got := w.jwksKids(t, name); !slices.Equal(got, kids) {
			t.Fatalf("JWKS of node %s = %v, node A = %v: signing keys disagree", name, got, kids)
		}
	}
	firstKid := kids[0]

	// One journey, hopping: authorize on A → login page and POST on B →
	// token on C → refresh on A → userinfo on B.
	admin := w.login("admin01")
	b := w.newHop(true)
	rp := w.newHop(false)
	hops := map[string]string{"authorize": "A", "login": "B", "token": "C", "refresh": "A", "userinfo": "B"}
	res, err := w.journey(ctx, b, rp, func(step string) string { return hops[step] }, admin)
	if err != nil {
		t.Fatalf("journey across nodes: %v", err)
	}
	if res.userinfo["euid"] != admin.EUID || res.userinfo["entity_number"] != demo.EntityNumber || !equalStrings(res.userinfo["service_groups"], []string{"admin"}) {
		t.Errorf("userinfo on B = %v", res.userinfo)
	}
	idToken := res.token.Extra("id_token").(string)
	for _, raw := range []string{idToken, res.refreshed.Extra("id_token").(string)} {
		w.verifyOnEveryNode(t, raw, names)
		if kid := kidOf(t, raw); kid != firstKid {
			t.Errorf("ID token kid = %s, want %s", kid, firstKid)
		}
	}

	t.Run("SSO session made on B answers on C and A", func(t *testing.T) {
		conf := w.oauth()
		state, verifier := rand.Text(), oauth2.GenerateVerifier()
		p, err := b.on("C").get(ctx, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
		if err != nil || p.StatusCode != http.StatusFound {
			t.Fatalf("authorize on C: %v %d", err, p.statusCode())
		}
		cb, _ := url.Parse(p.Header.Get("Location"))
		if cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
			t.Fatalf("SSO on C: authorize answered %s; want the code at once", cb)
		}
		if _, err := conf.Exchange(rp.on("B").ctx(ctx), cb.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("token on B: %v", err)
		}
	})

	t.Run("a code is single-use across nodes", func(t *testing.T) {
		conf := w.oauth()
		state, verifier := rand.Text(), oauth2.GenerateVerifier()
		p := mustGet(t, b.on("B"), conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), http.StatusFound) // SSO: the code at once
		cb, _ := url.Parse(p.Header.Get("Location"))
		code := cb.Query().Get("code")
		if _, err := conf.Exchange(rp.on("A").ctx(ctx), code, oauth2.VerifierOption(verifier)); err != nil {
			t.Fatalf("first exchange on A: %v", err)
		}
		_, err := conf.Exchange(rp.on("C").ctx(ctx), code, oauth2.VerifierOption(verifier))
		if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" {
			t.Fatalf("replay on C = %v, want invalid_grant", err)
		}
	})

	t.Run("a node with another IDP_MASTER_KEY refuses to start", func(t *testing.T) {
		other := map[string]string{}
		for k, v := range env {
			other[k] = v
		}
		other["IDP_MASTER_KEY"] = base64.StdEncoding.EncodeToString(make([]byte, 32))
		n := launchNode(t, bin, "D", other)
		select {
		case <-n.exited:
		case <-time.After(60 * time.Second):
			t.Fatal("a node with a different master key is still running after 60s")
		}
		if !strings.Contains(n.log(), "cannot unseal") {
			t.Errorf("node D exited (%v) without naming the cause:\n%s", n.waitErr, n.log())
		}
	})

	t.Run("key rotation reaches every node without restart", func(t *testing.T) {
		out := runIDP(t, bin, env, "keys", "rotate", "--keep-old", "1h")
		m := regexp.MustCompile(`new signing key (\S+) is active`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("keys rotate said %q", out)
		}
		newKid := m[1]
		rotated := time.Now()
		// Every node reloads within IDP_KEY_REFRESH (1s): both keys published.
		if !waitFor(15*time.Second, func() bool {
			for _, name := range names {
				got := w.jwksKids(t, name)
				if !slices.Contains(got, newKid) || !slices.Contains(got, firstKid) {
					return false
				}
			}
			return true
		}) {
			t.Fatalf("after 15s not every node publishes both keys %s and %s", newKid, firstKid)
		}
		t.Logf("every node published the new key %v after the rotation", time.Since(rotated).Round(time.Millisecond))
		// And each signs with the new one: a refresh on each node.
		rt := res.refreshed.RefreshToken
		for _, name := range names {
			tok, err := w.oauth().TokenSource(rp.on(name).ctx(ctx), &oauth2.Token{RefreshToken: rt}).Token()
			if err != nil {
				t.Fatalf("refresh on %s: %v", name, err)
			}
			rt = tok.RefreshToken
			raw := tok.Extra("id_token").(string)
			if kid := kidOf(t, raw); kid != newKid {
				t.Errorf("node %s signs with %s, want the new key %s", name, kid, newKid)
			}
			w.verifyOnEveryNode(t, raw, names)
		}
		// Tokens signed with the old key still verify everywhere.
		w.verifyOnEveryNode(t, idToken, names)
		for name, n := range nodes {
			if !n.running() || n.cmd.Process.Pid != pids[name] {
				t.Errorf("node %s was restarted", name)
			}
		}
	})

	t.Run("a client's rotated secret and its disabling reach every node at once", func(t *testing.T) {
		runIDP(t, bin, env, "department", "create", "--code", "NODES", "--name-zh", "節點局")
		var m machineClientOutput
		if err := json.Unmarshal([]byte(runIDP(t, bin, env, "client", "create", "--department", "NODES", "--kind", "machine", "--json")), &m); err != nil {
			t.Fatal(err)
		}
		grant := func(node, secret string) bool {
			status, _, _ := clientPost(t, "http://"+addrs[node]+"/oauth/token", m.ClientID, secret, url.Values{"grant_type": {"client_credentials"}})
			return status == http.StatusOK
		}
		for _, name := range names { // every node caches the client
			if !grant(name, m.ClientSecret) {
				t.Fatalf("node %s refuses the registered secret", name)
			}
		}
		var r rotatedOutput
		if err := json.Unmarshal([]byte(runIDP(t, bin, env, "client", "rotate-secret", "--client", m.ClientID, "--grace", "0", "--json")), &r); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			if grant(name, m.ClientSecret) || !grant(name, r.ClientSecret) {
				t.Errorf("node %s after rotate-secret --grace 0: the old secret works, or the new one does not", name)
			}
		}
		runIDP(t, bin, env, "client", "disable", "--client", m.ClientID)
		for _, name := range names {
			if grant(name, r.ClientSecret) {
				t.Errorf("node %s grants a disabled client", name)
			}
		}
	})

	t.Run("a node killed mid-run", func(t *testing.T) {
		// The load balancer's list of live nodes; C leaves it when it dies.
		var live atomic.Pointer[[]string]
		live.Store(&names)
		var rr atomic.Uint64
		roundRobin := func(string) string {
			l := *live.Load()
			return l[rr.Add(1)%uint64(len(l))]
		}
		// Background load: journeys whose every step goes to the next live node.
		loadCtx, stopLoad := context.WithTimeout(ctx, 60*time.Second)
		defer stopLoad()
		var killedAt atomic.Int64
		var okBefore, okAfter, inFlightToC atomic.Int64
		var failures []string
		var fmu sync.Mutex
		var workers sync.WaitGroup
		for i, user := range []string{"staff01", "staff02"} {
			l := w.login(user)
			workers.Go(func() {
				for n := 0; n < 200 && loadCtx.Err() == nil; n++ {
					_, err := w.journey(loadCtx, w.newHop(true), w.newHop(false), roundRobin, l)
					after := killedAt.Load() != 0
					switch {
					case err == nil && after:
						okAfter.Add(1)
					case err == nil:
						okBefore.Add(1)
					case loadCtx.Err() != nil:
						return
					case transportFailed(err) && strings.Contains(err.Error(), "on node C"):
						inFlightToC.Add(1) // a request that was on its way to C when it died
					default:
						fmu.Lock()
						failures = append(failures, "worker "+strconv.Itoa(i)+": "+err.Error())
						fmu.Unlock()
					}
				}
			})
		}
		if !waitFor(30*time.Second, func() bool { return okBefore.Load() >= 2 }) {
			t.Fatalf("the load did not get going: %d journeys", okBefore.Load())
		}

		// A user starts signing in on C (authorize, login page, password)...
		bc, rpc := w.newHop(true), w.newHop(false)
		conf := w.oauth()
		state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
		p := mustGet(t, bc.on("C"), conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
		p = mustGet(t, bc, p.Header.Get("Location"), http.StatusOK)
		staff := w.login("staff01")
		p, err := bc.postForm(ctx, "/login", url.Values{
			"authRequestID": {submatch(arField, p.Body)}, "csrf_token": {submatch(csrfField, p.Body)},
			"entity_number": {demo.EntityNumber}, "username": {staff.Username}, "password": {staff.Password},
		})
		if err != nil || p.StatusCode != http.StatusFound {
			t.Fatalf("login POST on C: %v %d", err, p.statusCode())
		}
		// The answer carries the code: the callback was a hop of the POST.
		cb, _ := url.Parse(p.Header.Get("Location"))
		if cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
			t.Fatalf("login POST on C answered %s", cb)
		}

		// ...then C dies: out of the balancer, SIGKILL.
		live.Store(&[]string{"A", "B"})
		killedAt.Store(time.Now().UnixNano())
		nodes["C"].kill()
		t.Logf("node C killed (%v)", nodes["C"].waitErr)
		if _, err := bc.on("C").get(ctx, "/healthz"); err == nil {
			t.Fatal("node C still answers after SIGKILL: requests are not going where the test sends them")
		}

		// The user's flow goes on on the other nodes: token on B, refresh on
		// A, userinfo on B, and SSO on B with the session C made.
		tok, err := conf.Exchange(rpc.on("B").ctx(ctx), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("token on B after C died: %v", err)
		}
		w.verifyOnEveryNode(t, tok.Extra("id_token").(string), []string{"A", "B"})
		tok, err = conf.TokenSource(rpc.on("A").ctx(ctx), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh on A after C died: %v", err)
		}
		if status, _, ui, err := rpc.on("B").api(ctx, http.MethodGet, "/userinfo", nil, tok.AccessToken); err != nil || status != http.StatusOK || ui["sub"] != staff.EUID {
			t.Fatalf("userinfo on B after C died: %v %d %v", err, status, ui)
		}
		p = mustGet(t, bc.on("B"), conf.AuthCodeURL(rand.Text(), oauth2.S256ChallengeOption(verifier)), http.StatusFound)
		// SSO: the session answers /authorize itself, with the code.
		if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, conf.RedirectURL) || !strings.Contains(loc, "code=") {
			t.Fatalf("SSO on B with the session made on C: redirect to %s", p.Header.Get("Location"))
		}

		// The background journeys keep succeeding on A and B.
		if !waitFor(30*time.Second, func() bool { return okAfter.Load() >= 4 }) {
			t.Errorf("only %d journeys succeeded after C died", okAfter.Load())
		}
		stopLoad()
		workers.Wait()
		t.Logf("background journeys: %d before the kill, %d after, %d cut by the kill (request in flight to C)",
			okBefore.Load(), okAfter.Load(), inFlightToC.Load())
		for _, f := range failures {
			t.Errorf("journey failed: %s", f)
		}
	})

	counts, bad := w.statuses.snapshot()
	t.Logf("statuses seen: %v; whole test %v", counts, time.Since(started).Round(time.Millisecond))
	for _, b := range bad {
		t.Errorf("unexpected answer: %s", b)
	}
}

func mustGet(t *testing.T, h *hop, u string, want int) page {
	t.Helper()
	p, err := h.get(t.Context(), u)
	if err != nil {
		t.Fatalf("GET %s on %s: %v", u, h.node.Load(), err)
	}
	if p.StatusCode != want {
		t.Fatalf("GET %s on %s = %d, want %d: %.300s", u, h.node.Load(), p.StatusCode, want, p.Body)
	}
	return p
}

// jwksKids returns the kids a node publishes, sorted.
func (w *hopWorld) jwksKids(t *testing.T, node string) []string {
	t.Helper()
	p := mustGet(t, w.newHop(false).on(node), "/keys", http.StatusOK)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(p.Body), &set); err != nil {
		t.Fatalf("JWKS of node %s: %v", node, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KeyID)
	}
	slices.Sort(kids)
	return kids
}

// verifyOnEveryNode checks an ID token with go-oidc against the JWKS of each node.
func (w *hopWorld) verifyOnEveryNode(t *testing.T, raw string, nodes []string) {
	t.Helper()
	for _, name := range nodes {
		ctx := w.newHop(false).on(name).ctx(t.Context())
		v := oidc.NewVerifier(w.issuer, oidc.NewRemoteKeySet(ctx, w.issuer+"/keys"), &oidc.Config{ClientID: w.web.ClientID})
		if _, err := v.Verify(ctx, raw); err != nil {
			t.Errorf("ID token does not verify against the JWKS of node %s: %v", name, err)
		}
	}
}

// kidOf returns the key id in a JWS header.
func kidOf(t *testing.T, raw string) string {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil || len(jws.Signatures) != 1 {
		t.Fatalf("parse ID token: %v", err)
	}
	return jws.Signatures[0].Header.KeyID
}

// deleteRedisPrefix removes a test's keys; everything else is untouched.
func deleteRedisPrefix(t *testing.T, redisURL, prefix string) {
	_, rdb, err := rstore.Open(redisURL, "")
	if err != nil {
		t.Errorf("redis: %v", err)
		return
	}
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}
