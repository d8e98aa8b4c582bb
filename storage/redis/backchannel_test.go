package redis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestSessionParties: every client that gets an access token under a
// session is on record for the session's whole life (not only its token's),
// the record survives the session's end so that it can be read again, and
// a subject's sessions can be listed without ending them.
func TestSessionParties(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	sub := uniq("CU")
	sess := sampleSession(sub, time.Now().Add(8*time.Hour))
	_, err := s.CreateSession(ctx, sess, 30*time.Minute)
	mustNoErr(t, err)
	sid := sess.SessionID

	for i, client := range []string{"web", "mobile", "web"} {
		at := sampleAccessToken(uniq("at"), sub, uniq("grant"))
		at.ClientID, at.SessionID = client, sid
		at.ExpiresAt = time.Now().Add(time.Duration(i+1) * time.Minute)
		mustNoErr(t, s.SaveAccessToken(ctx, at))
	}
	other := sampleAccessToken(uniq("at"), sub, uniq("grant"))
	other.ClientID, other.SessionID = "elsewhere", "" // not issued under a session
	mustNoErr(t, s.SaveAccessToken(ctx, other))

	want := []storage.SessionParty{{SessionID: sid, Subject: sub, ClientID: "mobile"}, {SessionID: sid, Subject: sub, ClientID: "web"}}
	parties := func() []storage.SessionParty {
		t.Helper()
		got, err := s.SessionParties(ctx, sid, "no-such-session")
		mustNoErr(t, err)
		slices.SortFunc(got, func(a, b storage.SessionParty) int {
			if a.ClientID < b.ClientID {
				return -1
			}
			return 1
		})
		return got
	}
	if got := parties(); !slices.Equal(got, want) {
		t.Fatalf("parties = %+v, want %+v", got, want)
	}
	if ttl := pttl(t, s, "sid:{"+sid+"}:rps"); ttl < 7*time.Hour {
		t.Errorf("the parties of an 8 h session live %v, want the session's life", ttl)
	}

	sids, err := s.SubjectSessions(ctx, sub)
	mustNoErr(t, err)
	if !slices.Equal(sids, []string{sid}) {
		t.Fatalf("SubjectSessions = %v, want [%s]", sids, sid)
	}
	if sids, _ := s.SubjectSessions(ctx, sub); len(sids) != 1 {
		t.Fatal("SubjectSessions changed the index")
	}

	mustNoErr(t, s.EndSessionByID(ctx, sid))
	if got := parties(); !slices.Equal(got, want) {
		t.Errorf("after the end, parties = %+v, want %+v", got, want)
	}
	if sids, _ := s.SubjectSessions(ctx, sub); len(sids) != 0 {
		t.Errorf("an ended session is still listed: %v", sids)
	}
	// A token issued after the session ended keeps its client on record for its own life.
	late := sampleAccessToken(uniq("at"), sub, uniq("grant"))
	late.ClientID, late.SessionID = "late", sid
	mustNoErr(t, s.SaveAccessToken(ctx, late))
	if ttl := pttl(t, s, "sid:{"+sid+"}:rps"); ttl < 7*time.Hour {
		t.Errorf("a later, shorter token cut the record's life to %v", ttl)
	}
}
