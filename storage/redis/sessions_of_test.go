package redis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestSessionsOf: a subject's live sessions are listed newest first, with
// their device and the clients that got tokens in them; another subject's
// are not; an ended or expired session is dropped from the index on the way.
func TestSessionsOf(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	sub := uniq("CU")
	start := time.Now().Truncate(time.Second)

	first := sampleSession(sub, start.Add(8*time.Hour))
	first.CreatedAt = start.Add(-time.Hour)
	first.Device = storage.Device{IP: "192.0.2.1", Browser: "Chrome", System: "Windows"}
	_, err := s.CreateSession(ctx, first, 30*time.Minute)
	mustNoErr(t, err)
	second := sampleSession(sub, start.Add(8*time.Hour))
	second.CreatedAt = start
	second.Device = storage.Device{IP: "2001:db8::1", Browser: "Safari", System: "iPhone"}
	_, err = s.CreateSession(ctx, second, 30*time.Minute)
	mustNoErr(t, err)
	short := sampleSession(sub, start.Add(8*time.Hour))
	shortSecret, err := s.CreateSession(ctx, short, 30*time.Minute)
	mustNoErr(t, err)
	_, err = s.CreateSession(ctx, sampleSession(uniq("CU"), start.Add(time.Hour)), time.Minute) // someone else's
	mustNoErr(t, err)

	for _, client := range []string{"web", "mobile"} {
		at := sampleAccessToken(uniq("at"), sub, uniq("grant"))
		at.ClientID, at.SessionID = client, first.SessionID
		mustNoErr(t, s.SaveAccessToken(ctx, at))
	}
	// The short one's record goes as an idle expiry takes it: its index
	// entry stays behind.
	mustNoErr(t, s.Client().Del(ctx, s.Prefix()+"ss:{"+hashHex(shortSecret)+"}").Err())

	got, err := s.SessionsOf(ctx, sub)
	mustNoErr(t, err)
	if len(got) != 2 || got[0].SessionID != second.SessionID || got[1].SessionID != first.SessionID {
		t.Fatalf("SessionsOf = %+v, want the second then the first", got)
	}
	if got[0].Device != second.Device || got[1].Device != first.Device {
		t.Errorf("devices %+v, %+v; want %+v, %+v", got[0].Device, got[1].Device, second.Device, first.Device)
	}
	if !slices.Equal(got[1].ClientIDs, []string{"mobile", "web"}) || len(got[0].ClientIDs) != 0 {
		t.Errorf("clients %v and %v, want [mobile web] and none", got[1].ClientIDs, got[0].ClientIDs)
	}
	if !got[1].CreatedAt.Equal(first.CreatedAt) || got[1].LastSeenAt.IsZero() {
		t.Errorf("times %v / %v", got[1].CreatedAt, got[1].LastSeenAt)
	}
	sids, err := s.SubjectSessions(ctx, sub)
	mustNoErr(t, err)
	if slices.Contains(sids, short.SessionID) || len(sids) != 2 {
		t.Errorf("the index still holds the ended session: %v", sids)
	}

	mustNoErr(t, s.EndSessionByID(ctx, first.SessionID))
	got, err = s.SessionsOf(ctx, sub)
	mustNoErr(t, err)
	if len(got) != 1 || got[0].SessionID != second.SessionID {
		t.Fatalf("after ending the first: %+v", got)
	}
	if got, err := s.SessionsOf(ctx, uniq("CU")); err != nil || len(got) != 0 {
		t.Fatalf("a subject without sessions: %v, %v", got, err)
	}
}

// TestHeld: a counter is held from its max-th attempt until its window
// ends, and HeldAll answers many at once, in order.
func TestHeld(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	full, partial, none := uniq("full"), uniq("partial"), uniq("none")
	for range 3 {
		wait, err := s.Reserve(ctx, full, 3, 15*time.Minute)
		mustNoErr(t, err)
		if wait != 0 {
			t.Fatal("refused under the limit")
		}
	}
	_, err := s.Reserve(ctx, partial, 3, 15*time.Minute)
	mustNoErr(t, err)

	before := time.Now()
	until, err := s.Held(ctx, full, 3)
	mustNoErr(t, err)
	if until.Before(before.Add(14*time.Minute)) || until.After(before.Add(15*time.Minute+time.Second)) {
		t.Fatalf("held until %v, want about 15 minutes from %v", until, before)
	}
	all, err := s.HeldAll(ctx, []string{partial, full, none}, 3)
	mustNoErr(t, err)
	if len(all) != 3 || !all[0].IsZero() || all[1].IsZero() || !all[2].IsZero() {
		t.Fatalf("HeldAll = %v, want only the second held", all)
	}
	if until, _ := s.Held(ctx, full, 4); !until.IsZero() {
		t.Error("a counter under a higher max is not held")
	}
	mustNoErr(t, s.ResetAttempts(ctx, full))
	if until, _ := s.Held(ctx, full, 3); !until.IsZero() {
		t.Error("held after the reset")
	}
	if all, err := s.HeldAll(ctx, nil, 3); err != nil || len(all) != 0 {
		t.Errorf("HeldAll of nothing: %v, %v", all, err)
	}
}
