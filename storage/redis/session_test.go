package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
	rstore "github.com/entity-account/idp/storage/redis"
)

func sampleSession(sub string, expires time.Time) *storage.Session {
	a := sampleAuthentication(sub)
	a.SessionID = "" // set by the store
	return &storage.Session{Kind: storage.KindStaff, Authentication: a, ExpiresAt: expires}
}

func TestSessionLifecycle(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()

	sess := sampleSession("CU000000001", time.Now().Add(8*time.Hour))
	secret, err := s.CreateSession(ctx, sess, 30*time.Minute)
	mustNoErr(t, err)
	if len(secret) != 43 {
		t.Fatalf("secret %q: want 32 bytes base64url (43 chars)", secret)
	}
	if len(sess.SessionID) != 22 {
		t.Fatalf("sid %q: want 16 bytes base64url (22 chars)", sess.SessionID)
	}
	if sess.CreatedAt.IsZero() || sess.LastSeenAt.IsZero() {
		t.Fatal("CreatedAt/LastSeenAt not set")
	}

	got, err := s.Session(ctx, secret, 30*time.Minute)
	mustNoErr(t, err)
	if got.SessionID != sess.SessionID || got.Subject != "CU000000001" || got.Kind != storage.KindStaff ||
		got.LoginID != sess.LoginID || !got.AuthTime.Equal(sess.AuthTime) || !got.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("loaded session %+v, want %+v", got, sess)
	}

	_, err = s.Session(ctx, "not-a-secret", time.Minute)
	wantErr(t, "unknown secret", err, storage.ErrNotFound)

	// Another session of the same subject is independent.
	other, err := s.CreateSession(ctx, sampleSession("CU000000001", time.Now().Add(time.Hour)), time.Minute)
	mustNoErr(t, err)

	mustNoErr(t, s.DeleteSession(ctx, secret))
	_, err = s.Session(ctx, secret, time.Minute)
	wantErr(t, "deleted session", err, storage.ErrNotFound)
	mustNoErr(t, s.DeleteSession(ctx, secret))        // twice: fine
	mustNoErr(t, s.DeleteSession(ctx, "never-known")) // unknown: fine
	_, err = s.Session(ctx, other, time.Minute)
	mustNoErr(t, err)
}

func TestSessionIdleExtension(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	start := time.Now()

	sess := sampleSession("CU000000001", start.Add(2*time.Hour))
	secret, err := s.CreateSession(ctx, sess, 10*time.Minute)
	mustNoErr(t, err)
	key := "ss:{" + hashHex(secret) + "}"
	if d := pttl(t, s, key); d <= 9*time.Minute || d > 10*time.Minute {
		t.Fatalf("initial ttl %v, want the idle 10m", d)
	}

	// A visit later extends the idle expiry and records the visit.
	later := start.Add(20 * time.Minute)
	s.Now = func() time.Time { return later }
	got, err := s.Session(ctx, secret, time.Hour)
	mustNoErr(t, err)
	if !got.LastSeenAt.Equal(later) {
		t.Fatalf("LastSeenAt %v, want %v", got.LastSeenAt, later)
	}
	if d := pttl(t, s, key); d <= 59*time.Minute || d > time.Hour {
		t.Fatalf("ttl after visit %v, want 1h", d)
	}
	got, err = s.Session(ctx, secret, 0) // idle 0: look without touching
	mustNoErr(t, err)
	if !got.LastSeenAt.Equal(later) {
		t.Fatalf("stored LastSeenAt %v, want %v", got.LastSeenAt, later)
	}

	// Never past the absolute expiry.
	s.Now = func() time.Time { return start.Add(90 * time.Minute) }
	_, err = s.Session(ctx, secret, 5*time.Hour)
	mustNoErr(t, err)
	if d := pttl(t, s, key); d > 31*time.Minute || d < 29*time.Minute {
		t.Fatalf("ttl near absolute expiry %v, want 30m", d)
	}

	// Past it: gone.
	s.Now = func() time.Time { return start.Add(2*time.Hour + time.Second) }
	_, err = s.Session(ctx, secret, time.Hour)
	wantErr(t, "session past ExpiresAt", err, storage.ErrNotFound)
	s.Now = nil
	_, err = s.Session(ctx, secret, time.Hour)
	wantErr(t, "session deleted at ExpiresAt", err, storage.ErrNotFound)
}

func TestSessionIdleExpiry(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	secret, err := s.CreateSession(ctx, sampleSession("CU000000001", time.Now().Add(time.Hour)), 150*time.Millisecond)
	mustNoErr(t, err)
	time.Sleep(300 * time.Millisecond)
	_, err = s.Session(ctx, secret, time.Hour)
	wantErr(t, "idle session", err, storage.ErrNotFound)
}

func TestSessionAbsoluteExpiry(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	secret, err := s.CreateSession(ctx, sampleSession("CU000000001", time.Now().Add(400*time.Millisecond)), time.Hour)
	mustNoErr(t, err)
	if d := pttl(t, s, "ss:{"+hashHex(secret)+"}"); d > 400*time.Millisecond {
		t.Fatalf("ttl %v beyond absolute expiry", d)
	}
	_, err = s.Session(ctx, secret, time.Hour)
	mustNoErr(t, err)
	time.Sleep(600 * time.Millisecond)
	_, err = s.Session(ctx, secret, time.Hour)
	wantErr(t, "expired session", err, storage.ErrNotFound)
}

func TestCreateSessionRejectsBadExpiry(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.CreateSession(ctx, sampleSession("CU000000001", time.Time{}), time.Hour); err == nil {
		t.Fatal("session without ExpiresAt accepted")
	}
	if _, err := s.CreateSession(ctx, sampleSession("CU000000001", time.Now().Add(-time.Second)), time.Hour); err == nil {
		t.Fatal("session already expired accepted")
	}
}

// world is one subject's state: a session, an access token and a refresh family under it.
type world struct {
	secret  string
	sid     string
	atID    string
	rt      string
	family  string
	freeAT  string // access token of the subject outside any session
	freeRT  string // refresh token of the subject outside any session
	subject string
}

func makeWorld(t *testing.T, s *rstore.Store, sub string) world {
	t.Helper()
	ctx := context.Background()
	w := world{subject: sub}
	sess := sampleSession(sub, time.Now().Add(time.Hour))
	var err error
	w.secret, err = s.CreateSession(ctx, sess, time.Hour)
	mustNoErr(t, err)
	w.sid = sess.SessionID

	at := sampleAccessToken(uniq("at"), sub, uniq("grant"))
	at.SessionID = w.sid
	mustNoErr(t, s.SaveAccessToken(ctx, at))
	w.atID = at.ID

	rt := sampleRefreshToken(sub, "")
	rt.SessionID = w.sid
	w.rt, err = startFamily(ctx, s, rt)
	mustNoErr(t, err)
	w.family = rt.FamilyID

	free := sampleAccessToken(uniq("at"), sub, uniq("grant"))
	free.SessionID = ""
	mustNoErr(t, s.SaveAccessToken(ctx, free))
	w.freeAT = free.ID
	frt := sampleRefreshToken(sub, "")
	frt.SessionID = ""
	frt.AccessTokenID = ""
	w.freeRT, err = startFamily(ctx, s, frt)
	mustNoErr(t, err)
	return w
}

// check asserts whether each piece of w is alive.
func (w world) check(t *testing.T, s *rstore.Store, session, sessionTokens, freeTokens bool) {
	t.Helper()
	ctx := context.Background()
	alive := func(what string, err error, want bool) {
		t.Helper()
		if want && err != nil {
			t.Fatalf("%s of %s: want alive, got %v", what, w.subject, err)
		}
		if !want && err == nil {
			t.Fatalf("%s of %s: still alive", what, w.subject)
		}
	}
	_, err := s.Session(ctx, w.secret, time.Hour)
	alive("session", err, session)
	_, err = s.AccessToken(ctx, w.atID)
	alive("session access token", err, sessionTokens)
	_, err = s.RefreshToken(ctx, w.rt)
	alive("session refresh token", err, sessionTokens)
	_, err = s.AccessToken(ctx, w.freeAT)
	alive("other access token", err, freeTokens)
	_, err = s.RefreshToken(ctx, w.freeRT)
	alive("other refresh token", err, freeTokens)
}

func TestEndSessionByID(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a := makeWorld(t, s, "CU000000001")
	b := makeWorld(t, s, "CU000000002")
	a.check(t, s, true, true, true)

	mustNoErr(t, s.EndSessionByID(ctx, a.sid))
	a.check(t, s, false, false, true)
	b.check(t, s, true, true, true)
	_, err := s.RefreshToken(ctx, a.rt)
	wantErr(t, "refresh token of ended session", err, storage.ErrNotFound)

	mustNoErr(t, s.EndSessionByID(ctx, a.sid))     // twice: fine
	mustNoErr(t, s.EndSessionByID(ctx, "unknown")) // unknown: fine
}

func TestEndAllForSubject(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	a := makeWorld(t, s, "CU000000001")
	a2 := makeWorld(t, s, "CU000000001") // a second session of the same subject
	b := makeWorld(t, s, "CU000000002")

	mustNoErr(t, s.EndAllForSubject(ctx, "CU000000001"))
	a.check(t, s, false, false, false)
	a2.check(t, s, false, false, false)
	b.check(t, s, true, true, true)

	// A new sign-in afterwards works normally.
	c := makeWorld(t, s, "CU000000001")
	c.check(t, s, true, true, true)
	mustNoErr(t, s.EndAllForSubject(ctx, "nobody"))
}

func TestProveInSession(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	sess := sampleSession("CU000000001", time.Now().Add(time.Hour))
	secret, err := s.CreateSession(ctx, sess, 30*time.Minute)
	mustNoErr(t, err)

	at := time.Now().UTC().Truncate(time.Second)
	got, err := s.ProveInSession(ctx, secret, func(x *storage.Session) {
		x.AMR = append(x.AMR, storage.AMROTP, storage.AMRMulti)
		x.ACR, x.ToolAt = storage.ACRTool, at
		x.Subject, x.SessionID = "CU999999999", "forged" // not the caller's to change
	})
	mustNoErr(t, err)
	if got.Subject != "CU000000001" || got.SessionID != sess.SessionID || got.ACR != storage.ACRTool {
		t.Fatalf("proven session %+v", got)
	}
	// A visit (which writes the record again) keeps what was proven.
	seen, err := s.Session(ctx, secret, 30*time.Minute)
	mustNoErr(t, err)
	if seen.ACR != storage.ACRTool || !seen.ToolAt.Equal(at) || storage.LevelOfAMR(seen.AMR) != storage.LevelTool {
		t.Fatalf("after a visit: %+v", seen)
	}

	// Concurrent visits and proofs: every proof lands.
	done := make(chan error, 20)
	for i := range 20 {
		go func() {
			if i%2 == 0 {
				_, err := s.Session(ctx, secret, 30*time.Minute)
				done <- err
				return
			}
			_, err := s.ProveInSession(ctx, secret, func(x *storage.Session) { x.AMR = append(x.AMR, "n") })
			done <- err
		}()
	}
	for range 20 {
		mustNoErr(t, <-done)
	}
	final, err := s.Session(ctx, secret, 0)
	mustNoErr(t, err)
	n := 0
	for _, m := range final.AMR {
		if m == "n" {
			n++
		}
	}
	if n != 10 {
		t.Fatalf("%d of 10 concurrent proofs landed: %v", n, final.AMR)
	}

	mustNoErr(t, s.DeleteSession(ctx, secret))
	_, err = s.ProveInSession(ctx, secret, func(*storage.Session) {})
	wantErr(t, "deleted session", err, storage.ErrNotFound)
}
