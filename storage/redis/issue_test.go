package redis_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
	rstore "github.com/entity-account/idp/storage/redis"
	"github.com/entity-account/idp/storage/storagetest"
)

// The token issuance of the protocol's hot paths: CreateTokens (a code
// exchange) and RotateTokens (a refresh) index an access token issued with
// a refresh family only under the family, and the family under its session
// and subject. These tests check that every way of ending things still
// reaches those tokens.

// exchange is a code exchange with offline_access under session sid, then
// n refreshes; it returns the current refresh token and every access token.
func exchange(t *testing.T, s *rstore.Store, sub, sid string, n int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	grant := uniq("ar")
	at := sampleAccessToken(uniq("at"), sub, grant)
	at.SessionID = sid
	rt := sampleRefreshToken(sub, grant)
	rt.SessionID, rt.AccessTokenID = sid, at.ID
	tok, err := s.CreateTokens(ctx, at, rt)
	mustNoErr(t, err)
	ats := []string{at.ID}
	for range n {
		prev, err := s.RefreshToken(ctx, tok)
		mustNoErr(t, err)
		next := *prev
		at := sampleAccessToken(uniq("at"), sub, prev.FamilyID)
		at.SessionID = sid
		next.AccessTokenID = at.ID
		tok, err = s.RotateTokens(ctx, prev, &next, at)
		mustNoErr(t, err)
		ats = append(ats, at.ID)
	}
	return tok, ats
}

func alive(t *testing.T, s *rstore.Store, what, rt string, ats []string, want bool) {
	t.Helper()
	ctx := context.Background()
	check := func(kind string, err error) {
		t.Helper()
		if want && err != nil {
			t.Fatalf("%s: %s: want alive, got %v", what, kind, err)
		}
		if !want && err == nil {
			t.Fatalf("%s: %s still alive", what, kind)
		}
	}
	_, err := s.RefreshToken(ctx, rt)
	check("refresh token", err)
	for _, id := range ats {
		_, err := s.AccessToken(ctx, id)
		check("access token "+id, err)
	}
}

func TestCreateAndRotateTokens(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	sess := sampleSession("CU000000001", time.Now().Add(time.Hour))
	_, err := s.CreateSession(ctx, sess, time.Hour)
	mustNoErr(t, err)

	tok, ats := exchange(t, s, "CU000000001", sess.SessionID, 3)
	alive(t, s, "after three refreshes", tok, ats, true)
	got, err := s.RefreshToken(ctx, tok)
	mustNoErr(t, err)
	if got.Generation != 4 || got.AccessTokenID != ats[3] {
		t.Fatalf("record %+v, want generation 4 with the last access token", got)
	}
	parties, err := s.SessionParties(ctx, sess.SessionID)
	mustNoErr(t, err)
	if len(parties) != 1 || parties[0].ClientID != "client-1" || parties[0].Subject != "CU000000001" {
		t.Fatalf("parties %+v, want client-1 for CU000000001", parties)
	}

	// A stale record (rotated meanwhile) is reuse: the family dies, and the
	// access token offered with the refused rotation is not kept.
	stale := *got
	stale.Generation = 3
	late := sampleAccessToken(uniq("at"), "CU000000001", got.FamilyID)
	_, err = s.RotateTokens(ctx, &stale, got, late)
	wantErr(t, "rotation of a stale record", err, storage.ErrRefreshTokenReused)
	alive(t, s, "after reuse", tok, append(ats, late.ID), false)

	// The grant of the family may not be issued again.
	at := sampleAccessToken(uniq("at"), "CU000000001", got.FamilyID)
	_, err = s.CreateTokens(ctx, at, sampleRefreshToken("CU000000001", got.FamilyID))
	wantErr(t, "a second family for a grant", err, storage.ErrConflict)
	_, err = s.AccessToken(ctx, at.ID)
	wantErr(t, "the refused exchange's access token", err, storage.ErrNotFound)
}

func TestTokensEndWithSessionAndSubject(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	newSession := func(sub string) string {
		sess := sampleSession(sub, time.Now().Add(time.Hour))
		_, err := s.CreateSession(ctx, sess, time.Hour)
		mustNoErr(t, err)
		return sess.SessionID
	}
	sid1, sid2, other := newSession("CU000000001"), newSession("CU000000001"), newSession("CU000000002")
	tok1, ats1 := exchange(t, s, "CU000000001", sid1, 2)
	tok2, ats2 := exchange(t, s, "CU000000001", sid2, 1)
	tokO, atsO := exchange(t, s, "CU000000002", other, 1)

	mustNoErr(t, s.EndSessionByID(ctx, sid1))
	alive(t, s, "ended session", tok1, ats1, false)
	alive(t, s, "other session of the subject", tok2, ats2, true)

	mustNoErr(t, s.EndAllForSubject(ctx, "CU000000001"))
	alive(t, s, "subject ended", tok2, ats2, false)
	alive(t, s, "another subject", tokO, atsO, true)

	// A family with no session (the session expired long ago): the subject
	// still finds it.
	tok3, ats3 := exchange(t, s, "CU000000001", "", 2)
	mustNoErr(t, s.EndAllForSubject(ctx, "CU000000001"))
	alive(t, s, "sessionless family", tok3, ats3, false)
}

// TestSweepBeforeFamily: a sweep that takes a subject's index after the
// exchange indexed its family there, but before the family exists, leaves
// a tombstone, so the family is never created.
func TestSweepBeforeFamily(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	grant := uniq("ar")
	// What the exchange's first writes leave: the family in the subject's index.
	exp := time.Now().Add(time.Hour).UnixMilli()
	mustNoErr(t, s.Client().ZAdd(ctx, s.Prefix()+"sub:{CU000000001}:rtf", goredis.Z{Score: float64(exp), Member: grant}).Err())
	mustNoErr(t, s.EndAllForSubject(ctx, "CU000000001"))
	at := sampleAccessToken(uniq("at"), "CU000000001", grant)
	_, err := s.CreateTokens(ctx, at, sampleRefreshToken("CU000000001", grant))
	wantErr(t, "family created after the sweep", err, storage.ErrConflict)
	_, err = s.AccessToken(ctx, at.ID)
	wantErr(t, "its access token", err, storage.ErrNotFound)
}

// TestIssueNoScript: the issuing pipelines still work when Redis has
// forgotten the scripts, and what has run is not undone by running it
// again (a family created twice would be a conflict, a rotation run twice
// would be reuse). Not parallel with the others of its kind: SCRIPT FLUSH.
func TestIssueNoScript(t *testing.T) {
	t.Run("single", func(t *testing.T) { testIssueNoScript(t, false) })
	t.Run("sharded", func(t *testing.T) { testIssueNoScript(t, true) })
}

func testIssueNoScript(t *testing.T, sharded bool) {
	s := asSharded(storagetest.NewRedis(t), sharded)
	ctx := context.Background()
	flush := func() { mustNoErr(t, s.Client().ScriptFlush(ctx).Err()) }
	for i := range 2 {
		sess := sampleSession("CU000000001", time.Now().Add(time.Hour))
		_, err := s.CreateSession(ctx, sess, time.Hour)
		mustNoErr(t, err)
		flush()
		if i == 1 {
			// Only the family scripts are known: the exchange's pipeline
			// meets unknown scripts before a known one, which has run.
			mustNoErr(t, rstore.LoadFamilyScripts(ctx, s.Client()))
		}
		tok, ats := exchange(t, s, "CU000000001", sess.SessionID, 0)
		flush()
		prev, err := s.RefreshToken(ctx, tok)
		mustNoErr(t, err)
		next := *prev
		at := sampleAccessToken(uniq("at"), "CU000000001", prev.FamilyID)
		at.SessionID = sess.SessionID
		tok, err = s.RotateTokens(ctx, prev, &next, at)
		mustNoErr(t, err)
		alive(t, s, "round "+strconv.Itoa(i), tok, append(ats, at.ID), true)
		mustNoErr(t, s.EndSessionByID(ctx, sess.SessionID))
		alive(t, s, "round "+strconv.Itoa(i)+" after the session's end", tok, append(ats, at.ID), false)
	}
}
