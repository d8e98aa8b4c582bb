package redis_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
	rstore "github.com/entity-account/idp/storage/redis"
	"github.com/entity-account/idp/storage/storagetest"
)

// rtCounter counts client round trips: one per command or pipeline sent.
type rtCounter struct {
	n atomic.Int64
}

func (c *rtCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (c *rtCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c *rtCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestRoundTrips reports (and bounds) the round trips of the hot paths, with
// the scripts already loaded.
func TestRoundTrips(t *testing.T) {
	t.Run("single", func(t *testing.T) { testRoundTrips(t, false) })
	t.Run("sharded", func(t *testing.T) { testRoundTrips(t, true) })
}

// shardedClient hides the concrete client type, as a Cluster client would
// be: the store may then not rely on one pipeline running in order.
type shardedClient struct{ goredis.UniversalClient }

// asSharded returns s over a shardedClient when sharded, else s.
func asSharded(s *rstore.Store, sharded bool) *rstore.Store {
	if !sharded {
		return s
	}
	return rstore.New(shardedClient{s.Client()}, s.Prefix())
}

func testRoundTrips(t *testing.T, sharded bool) {
	s := newStore(t)
	ctx := context.Background()
	c := &rtCounter{}
	s.Client().AddHook(c)
	s = asSharded(s, sharded)
	exp := time.Now().Add(time.Hour)
	a := storage.Authentication{Subject: uniq("sub"), AuthTime: time.Now()}

	results := map[string]int64{}
	limits := map[string]int64{
		"CreateSession": 1, "Session(idle)": 2, "SaveAuthRequest": 1, "AuthRequest": 1, "CompleteAuthRequest": 1,
		"SaveAuthCode": 1, "ConsumeAuthCode": 1, "DeleteAuthRequest": 1, "SaveAccessToken": 1,
		"CreateTokens": 1, "RefreshToken": 2, "RotateTokens": 1,
	}
	if sharded { // the record (or the index entries) first, in a round trip of its own
		for _, name := range []string{"CreateSession", "SaveAccessToken", "CreateTokens", "RotateTokens"} {
			limits[name]++
		}
	}
	run := func(name string, max int64, f func() error) {
		t.Helper()
		if max == 0 {
			max = limits[name]
		}
		before := c.n.Load()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		n := c.n.Load() - before
		if _, seen := results[name]; !seen {
			results[name] = n
		}
		if n > max {
			t.Errorf("%s: %d round trips, want at most %d", name, n, max)
		}
	}
	// Two rounds: the first loads the scripts, the second is measured.
	for round := range 2 {
		lim := int64(100) // first round: scripts may not be loaded yet
		if round == 1 {
			lim = 0 // second round: the limits above
			clear(results)
		}
		var sess storage.Session
		sess.Authentication = a
		sess.ExpiresAt = exp
		var secret string
		run("CreateSession", lim, func() (err error) {
			secret, err = s.CreateSession(ctx, &sess, time.Hour)
			return err
		})
		run("Session(idle)", lim, func() error {
			_, err := s.Session(ctx, secret, time.Hour)
			return err
		})
		ar := &storage.AuthRequest{ClientID: "c"}
		run("SaveAuthRequest", lim, func() error { return s.SaveAuthRequest(ctx, ar, time.Minute) })
		aa := a
		aa.SessionID = sess.SessionID
		run("CompleteAuthRequest", lim, func() error { return s.CompleteAuthRequest(ctx, ar.ID, aa) })
		run("AuthRequest", lim, func() error { _, err := s.AuthRequest(ctx, ar.ID); return err })
		code := uniq("code")
		run("SaveAuthCode", lim, func() error { return s.SaveAuthCode(ctx, ar.ID, code, time.Minute) })
		run("ConsumeAuthCode", lim, func() error { _, err := s.ConsumeAuthCode(ctx, code); return err })
		run("DeleteAuthRequest", lim, func() error { return s.DeleteAuthRequest(ctx, ar.ID) })
		at := &storage.AccessToken{ID: uniq("at"), ClientID: "c", Subject: a.Subject, GrantID: ar.ID, ExpiresAt: exp, Authentication: aa}
		run("SaveAccessToken", lim, func() error { return s.SaveAccessToken(ctx, at) })
		var tok string
		// The hot paths: a code exchange with offline_access, a refresh.
		grant := uniq("ar")
		at3 := &storage.AccessToken{ID: uniq("at"), ClientID: "c", Subject: a.Subject, GrantID: grant, ExpiresAt: exp, Authentication: aa}
		run("CreateTokens", lim, func() (err error) {
			tok, err = s.CreateTokens(ctx, at3, &storage.RefreshToken{ClientID: "c", Subject: a.Subject, ExpiresAt: exp.Add(time.Hour), AccessTokenID: at3.ID, Authentication: aa})
			return err
		})
		var prev *storage.RefreshToken
		run("RefreshToken", lim, func() (err error) { prev, err = s.RefreshToken(ctx, tok); return err })
		at4 := &storage.AccessToken{ID: uniq("at"), ClientID: "c", Subject: a.Subject, GrantID: grant, ExpiresAt: exp, Authentication: aa}
		run("RotateTokens", lim, func() error {
			next := *prev
			next.AccessTokenID = at4.ID
			_, err := s.RotateTokens(ctx, prev, &next, at4)
			return err
		})
	}
	for _, name := range []string{"CreateSession", "Session(idle)", "SaveAuthRequest", "AuthRequest", "CompleteAuthRequest",
		"SaveAuthCode", "ConsumeAuthCode", "DeleteAuthRequest", "SaveAccessToken",
		"CreateTokens", "RefreshToken", "RotateTokens"} {
		t.Logf("%-26s %d", name, results[name])
	}
}

// TestPipelinedNoScript checks that the pipelined index updates still work
// when Redis has forgotten the scripts (EVALSHA fails with NOSCRIPT).
// Not parallel: SCRIPT FLUSH would disturb the round-trip counts of others.
func TestPipelinedNoScript(t *testing.T) {
	t.Run("single", func(t *testing.T) { testPipelinedNoScript(t, false) })
	t.Run("sharded", func(t *testing.T) { testPipelinedNoScript(t, true) })
}

func testPipelinedNoScript(t *testing.T, sharded bool) {
	s := asSharded(storagetest.NewRedis(t), sharded)
	ctx := context.Background()
	if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	sub, sid, grant := uniq("sub"), uniq("sid"), uniq("grant")
	at := &storage.AccessToken{ID: uniq("at"), Subject: sub, GrantID: grant, ExpiresAt: exp,
		Authentication: storage.Authentication{SessionID: sid}}
	mustNoErr(t, s.SaveAccessToken(ctx, at))
	for _, k := range []string{"grant:{" + grant + "}:ats", "sid:{" + sid + "}:ats", "sub:{" + sub + "}:ats"} {
		ids, err := s.Client().ZRange(ctx, s.Prefix()+k, 0, -1).Result()
		mustNoErr(t, err)
		if len(ids) != 1 || ids[0] != at.ID {
			t.Fatalf("%s = %v, want [%s]", k, ids, at.ID)
		}
	}
	mustNoErr(t, s.RevokeGrant(ctx, grant))
	if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	at2 := &storage.AccessToken{ID: uniq("at"), Subject: sub, GrantID: grant, ExpiresAt: exp}
	wantErr(t, "save after revoke", s.SaveAccessToken(ctx, at2), storage.ErrConflict)
	_, err := s.AccessToken(ctx, at2.ID)
	wantErr(t, "load after revoke", err, storage.ErrNotFound)
}
