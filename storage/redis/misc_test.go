package redis_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rstore "github.com/entity-account/idp/storage/redis"
	"github.com/entity-account/idp/storage/storagetest"
)

func TestCounters(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()

	n, left, err := s.Attempts(ctx, "login:02-000021:alice")
	mustNoErr(t, err)
	if n != 0 || left != 0 {
		t.Fatalf("fresh counter %d/%v", n, left)
	}
	for i := 1; i <= 3; i++ {
		wait, err := s.Reserve(ctx, "login:02-000021:alice", 3, time.Minute)
		mustNoErr(t, err)
		if wait != 0 {
			t.Fatalf("attempt %d refused (wait %v)", i, wait)
		}
	}
	wait, err := s.Reserve(ctx, "login:02-000021:alice", 3, time.Minute)
	mustNoErr(t, err)
	if wait <= 59*time.Second || wait > time.Minute {
		t.Fatalf("fourth attempt: wait %v, want the rest of the window", wait)
	}
	wait, err = s.Reserve(ctx, "login:02-000021:bob", 3, time.Minute)
	mustNoErr(t, err)
	if wait != 0 {
		t.Fatal("another key is limited too")
	}
	n, left, err = s.Attempts(ctx, "login:02-000021:alice")
	mustNoErr(t, err)
	if n != 3 || left <= 59*time.Second || left > time.Minute {
		t.Fatalf("attempts %d, resets in %v (a refused attempt must not count)", n, left)
	}

	// A released attempt can be taken again; never below zero.
	mustNoErr(t, s.Release(ctx, "login:02-000021:alice"))
	if wait, _ := s.Reserve(ctx, "login:02-000021:alice", 3, time.Minute); wait != 0 {
		t.Fatal("a released attempt is not available")
	}
	mustNoErr(t, s.Release(ctx, "nobody"))
	if n, _, _ := s.Attempts(ctx, "nobody"); n != 0 {
		t.Fatalf("release of nothing left %d", n)
	}

	// Fixed window: later attempts do not push the reset back.
	mustNoErr(t, s.Client().PExpire(ctx, s.Prefix()+"cnt:{login:02-000021:alice}", 10*time.Second).Err())
	_, err = s.Reserve(ctx, "login:02-000021:alice", 10, time.Minute)
	mustNoErr(t, err)
	_, left, err = s.Attempts(ctx, "login:02-000021:alice")
	mustNoErr(t, err)
	if left > 10*time.Second {
		t.Fatalf("an attempt extended the window to %v", left)
	}

	mustNoErr(t, s.ResetAttempts(ctx, "login:02-000021:alice"))
	n, _, err = s.Attempts(ctx, "login:02-000021:alice")
	mustNoErr(t, err)
	if n != 0 {
		t.Fatalf("after reset %d", n)
	}
	n, _, _ = s.Attempts(ctx, "login:02-000021:bob")
	if n != 1 {
		t.Fatalf("reset touched another key: %d", n)
	}
}

// TestReserveUnderConcurrency: a hundred attempts at once get exactly the
// limit through.
func TestReserveUnderConcurrency(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var got atomic.Int64
	for range 100 {
		wg.Go(func() {
			wait, err := s.Reserve(ctx, "race", 7, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if wait == 0 {
				got.Add(1)
			}
		})
	}
	wg.Wait()
	if got.Load() != 7 {
		t.Fatalf("%d of 100 concurrent attempts reserved, want 7", got.Load())
	}
}

// TestCounterKeysStayBounded: a counter name built from hostile input never
// becomes a large key or breaks the hash tag.
func TestCounterKeysStayBounded(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, name := range []string{strings.Repeat("x", 100_000), "a}b{c", "nul\x00byte", "bad\xff"} {
		_, err := s.Reserve(ctx, name, 5, time.Minute)
		mustNoErr(t, err)
	}
	for k := range dump(t, s) {
		if len(k) > 200 || strings.Count(k, "{") != 1 || strings.Count(k, "}") != 1 {
			t.Fatalf("counter key %q", k)
		}
	}
}

func TestCounterWindowEnds(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for range 2 {
		_, err := s.Reserve(ctx, "k", 2, 150*time.Millisecond)
		mustNoErr(t, err)
	}
	if wait, _ := s.Reserve(ctx, "k", 2, 150*time.Millisecond); wait == 0 {
		t.Fatal("third attempt in the window reserved")
	}
	time.Sleep(300 * time.Millisecond)
	wait, err := s.Reserve(ctx, "k", 2, 150*time.Millisecond)
	mustNoErr(t, err)
	if wait != 0 {
		t.Fatalf("new window refused (wait %v)", wait)
	}
}

func TestPing(t *testing.T) {
	s := newStore(t)
	mustNoErr(t, s.Ping(context.Background()))
}

// TestNoRawSecrets runs every kind of secret through the store and checks
// that none of them appears in any key or value.
func TestNoRawSecrets(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	var secrets []string

	completedRequest(t, ctx, s, "ar1")
	code := "code-" + uniq("secret")
	mustNoErr(t, s.SaveAuthCode(ctx, "ar1", code, time.Minute))
	secrets = append(secrets, code)
	_, err := s.ConsumeAuthCode(ctx, code)
	mustNoErr(t, err)

	sess := sampleSession("CU000000001", time.Now().Add(time.Hour))
	cookie, err := s.CreateSession(ctx, sess, time.Hour)
	mustNoErr(t, err)
	_, err = s.Session(ctx, cookie, time.Hour)
	mustNoErr(t, err)
	secrets = append(secrets, cookie)

	rt := sampleRefreshToken("CU000000001", "ar1")
	rt.SessionID = sess.SessionID
	tok1, err := startFamily(ctx, s, rt)
	mustNoErr(t, err)
	tok2, err := rotateToken(ctx, s, tok1, sampleRefreshToken("CU000000001", ""))
	mustNoErr(t, err)
	secrets = append(secrets, tok1, tok2)
	at := sampleAccessToken(uniq("at"), "CU000000001", "ar1")
	at.SessionID = sess.SessionID
	mustNoErr(t, s.SaveAccessToken(ctx, at))

	keys := dump(t, s)
	if len(keys) < 8 {
		t.Fatalf("only %d keys: %v", len(keys), keys)
	}
	for k, v := range keys {
		for _, secret := range secrets {
			if strings.Contains(k, secret) || strings.Contains(v, secret) {
				t.Fatalf("raw secret %q stored in %s = %s", secret, k, v)
			}
		}
	}
	// And the hashes are what keys are made of.
	for _, secret := range secrets[:3] {
		found := false
		for k := range keys {
			if strings.Contains(k, hashHex(secret)) {
				found = true
			}
		}
		if !found {
			t.Fatalf("no key holds the hash of %q", secret)
		}
	}
}

// TestKeyLayout checks that every key has the documented shape, with one hash tag.
func TestKeyLayout(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	w := makeWorld(t, s, "CU000000001")
	completedRequest(t, ctx, s, "ar1")
	mustNoErr(t, s.SaveAuthCode(ctx, "ar1", "c", time.Minute))
	_, err := s.Reserve(ctx, "ip:192.0.2.1", 5, time.Minute)
	mustNoErr(t, err)
	_ = w

	shapes := regexp.MustCompile(`^(ar:\{[^{}]+\}(:code|:auth)?|code:\{[0-9a-f]{64}\}|ss:\{[0-9a-f]{64}\}|` +
		`sid:\{[\w-]{22}\}(:ats|:rtf|:rps)?|at:\{[^{}]+\}|rt:\{[0-9a-f]{64}\}|rtf:\{[^{}]+\}|` +
		`grant:\{[^{}]+\}:ats|sub:\{[^{}]+\}:(sessions|ats|rtf)|cnt:\{[^{}]+\})$`)
	seen := map[string]bool{}
	for k := range dump(t, s) {
		rest, ok := strings.CutPrefix(k, s.Prefix())
		if !ok || !shapes.MatchString(rest) {
			t.Fatalf("unexpected key %q", k)
		}
		seen[regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(rest, "{}")] = true
	}
	for _, want := range []string{"ar:{}", "ar:{}:code", "ar:{}:auth", "code:{}", "ss:{}", "sid:{}", "sid:{}:ats", "sid:{}:rtf", "sid:{}:rps",
		"at:{}", "rt:{}", "rtf:{}", "grant:{}:ats", "sub:{}:sessions", "sub:{}:ats", "sub:{}:rtf", "cnt:{}"} {
		if !seen[want] {
			t.Errorf("no key of shape %s among %v", want, seen)
		}
	}
}

func TestIndexesExpire(t *testing.T) {
	s := newStore(t)
	s.PruneEvery = 1 // prune on every write, so the test sees it
	ctx := context.Background()
	at := sampleAccessToken(uniq("at"), "CU000000009", "g")
	at.ExpiresAt = time.Now().Add(10 * time.Minute)
	mustNoErr(t, s.SaveAccessToken(ctx, at))
	at2 := sampleAccessToken(uniq("at"), "CU000000009", "g")
	at2.ExpiresAt = time.Now().Add(20 * time.Minute)
	mustNoErr(t, s.SaveAccessToken(ctx, at2))
	if d := pttl(t, s, "sub:{CU000000009}:ats"); d <= 19*time.Minute || d > 20*time.Minute {
		t.Fatalf("index ttl %v, want the latest member's 20m", d)
	}
	// A shorter-lived token does not shorten the index.
	at3 := sampleAccessToken(uniq("at"), "CU000000009", "g")
	at3.ExpiresAt = time.Now().Add(time.Minute)
	mustNoErr(t, s.SaveAccessToken(ctx, at3))
	if d := pttl(t, s, "grant:{g}:ats"); d <= 19*time.Minute {
		t.Fatalf("index ttl shrank to %v", d)
	}
	// Expired members are pruned on insert.
	s.Now = func() time.Time { return time.Now().Add(15 * time.Minute) }
	at4 := sampleAccessToken(uniq("at"), "CU000000009", "g")
	at4.ExpiresAt = time.Now().Add(30 * time.Minute)
	mustNoErr(t, s.SaveAccessToken(ctx, at4))
	members, err := s.Client().ZRange(ctx, s.Prefix()+"sub:{CU000000009}:ats", 0, -1).Result()
	mustNoErr(t, err)
	if len(members) != 2 || members[0] != at2.ID || members[1] != at4.ID {
		t.Fatalf("index members %v, want [%s %s]", members, at2.ID, at4.ID)
	}
}

func TestParseURL(t *testing.T) {
	o, err := rstore.ParseURL("redis://u:p@db.example:6380/2?dial_timeout=3s&pool_size=7")
	mustNoErr(t, err)
	if len(o.Addrs) != 1 || o.Addrs[0] != "db.example:6380" || o.DB != 2 || o.Username != "u" ||
		o.Password != "p" || o.DialTimeout != 3*time.Second || o.PoolSize != 7 || o.TLSConfig != nil {
		t.Fatalf("plain URL: %+v", o)
	}
	o, err = rstore.ParseURL("rediss://db.example")
	mustNoErr(t, err)
	if o.TLSConfig == nil || o.TLSConfig.ServerName != "db.example" || o.Addrs[0] != "db.example:6379" {
		t.Fatalf("TLS URL: %+v", o)
	}
	o, err = rstore.ParseURL("redis://:secret@sentinel-1:26379/0?master_name=mymaster&addr=sentinel-2:26379&sentinel_password=sp")
	mustNoErr(t, err)
	if o.MasterName != "mymaster" || len(o.Addrs) != 2 || o.Addrs[1] != "sentinel-2:26379" ||
		o.SentinelPassword != "sp" || o.Password != "secret" {
		t.Fatalf("sentinel URL: %+v", o)
	}
	o, err = rstore.ParseURL("redis://node-1:7000?cluster=true")
	mustNoErr(t, err)
	if !o.IsClusterMode {
		t.Fatalf("cluster URL: %+v", o)
	}
	for _, bad := range []string{"http://x", "unix:///tmp/redis.sock", "redis://x?cluster=maybe", "redis://x?bogus=1", "redis://x/notadb"} {
		if _, err := rstore.ParseURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if _, _, err := rstore.Open("redis://x", "p{x}:"); err == nil {
		t.Error("prefix with braces accepted")
	}
}

func TestRedisURLHelper(t *testing.T) {
	t.Parallel()
	u := storagetest.RedisURL(t)
	if !strings.HasPrefix(u, "redis") {
		t.Fatalf("URL %q", u)
	}
}

// TestCleanup checks that the test helper removes its keys.
func TestCleanup(t *testing.T) {
	t.Parallel()
	var prefix string
	t.Run("inner", func(t *testing.T) {
		s := storagetest.NewRedis(t)
		prefix = s.Prefix()
		mustNoErr(t, s.SaveAuthRequest(context.Background(), sampleAuthRequest("x"), time.Minute))
		if !strings.HasPrefix(prefix, "t-") || !strings.HasSuffix(prefix, ":") {
			t.Fatalf("prefix %q", prefix)
		}
	})
	s := storagetest.NewRedis(t)
	keys, err := s.Client().Keys(context.Background(), prefix+"*").Result()
	mustNoErr(t, err)
	if len(keys) != 0 {
		t.Fatalf("keys left behind: %v", keys)
	}
}
