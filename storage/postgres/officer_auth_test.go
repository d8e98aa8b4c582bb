package postgres_test

import (
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestOfficerSignInsRetention: the officers' sign-ins older than the
// policy's limit go with the entities' sign-in events; the young stay;
// a success is the officer's last sign-in.
func TestOfficerSignInsRetention(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	o := storage.Officer{Login: "boss", DisplayName: "主管", Role: storage.RoleSupervisor, Status: storage.OfficerActive}
	if err := s.CreateOfficer(ctx, nil, &o); err != nil {
		t.Fatal(err)
	}
	for _, outcome := range []storage.DeskOutcome{storage.DeskWrongPassword, storage.DeskSignedIn} {
		if err := s.RecordOfficerSignIn(ctx, &storage.OfficerSignIn{OfficerID: o.ID, IP: "10.0.0.1", Outcome: outcome}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RecordOfficerSignIn(ctx, &storage.OfficerSignIn{IP: "10.0.0.2", Outcome: storage.DeskWrongPassword}); err != nil {
		t.Fatal(err) // no such officer: no officer id
	}
	if cur, err := s.OfficerByID(ctx, o.ID); err != nil || cur.LastSignInAt == nil {
		t.Errorf("last sign-in: %+v, %v", cur, err)
	}
	if _, err := s.Pool().Exec(ctx, `INSERT INTO officer_signins (officer_id, at, outcome)
		SELECT $1, now() - interval '400 days' - i * interval '1 minute', 'wrong_code' FROM generate_series(1, 12) AS i`, o.ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	res, err := s.ApplyRetention(ctx, storage.RetentionPolicy{EventsBefore: now.Add(-365 * 24 * time.Hour), Batch: 5})
	if err != nil || !res.Ran || res.EventsDeleted != 12 {
		t.Fatalf("retention: %+v, %v", res, err)
	}
	list, err := s.OfficerSignIns(ctx, o.ID, now.Add(-time.Hour), 10)
	if err != nil || len(list) != 2 || list[0].Outcome != storage.DeskSignedIn {
		t.Errorf("the officer's young sign-ins: %+v, %v", list, err)
	}
}
