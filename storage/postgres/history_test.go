package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

func signIn(at time.Time, entityID int64, subject, number, username string, o storage.SignInOutcome) storage.SignInEvent {
	e := storage.NewSignInEvent(at, number, username, o, storage.MethodPassword, "192.0.2.1", "test", "client")
	e.EntityID, e.Subject = entityID, subject
	return e
}

// TestSignInHistoryRecordAndPage: a batch is stored, 最後登入時間 moves
// only forward and only on a success, an attempt at an unknown username
// belongs to the entity its number names, and pages walk back by (at, id)
// without gaps or repeats.
func TestSignInHistoryRecordAndPage(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, ea := createEntity(t, s)
	other, _ := createEntity(t, s)
	sl := activeStaff(t, s, e.ID, "hist01")
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	batch := []storage.SignInEvent{
		signIn(t0, e.ID, sl.EUID, e.Number, "hist01", storage.SignInSucceeded),
		signIn(t0.Add(-time.Hour), e.ID, sl.EUID, e.Number, "hist01", storage.SignInSucceeded), // older, same batch
		signIn(t0.Add(time.Minute), e.ID, sl.EUID, e.Number, "hist01", storage.SignInWrongCredentials),
		signIn(t0.Add(2*time.Minute), 0, "", e.Number, "nobody", storage.SignInWrongCredentials),
		signIn(t0.Add(3*time.Minute), 0, "", "99-999999", "nobody", storage.SignInWrongCredentials),
		signIn(t0.Add(4*time.Minute), e.ID, ea.Subject, e.Number, "entity01", storage.SignInSucceeded),
		signIn(t0.Add(5*time.Minute), other.ID, "", other.Number, "x", storage.SignInLocked),
	}
	if err := s.RecordSignIns(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var staffLast, accountLast *time.Time
	if err := s.Pool().QueryRow(ctx, `SELECT last_signin_at FROM staff_logins WHERE id = $1`, sl.ID).Scan(&staffLast); err != nil {
		t.Fatal(err)
	}
	if err := s.Pool().QueryRow(ctx, `SELECT last_signin_at FROM entity_accounts WHERE entity_id = $1`, e.ID).Scan(&accountLast); err != nil {
		t.Fatal(err)
	}
	if staffLast == nil || !staffLast.Equal(t0) || accountLast == nil || !accountLast.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("最後登入時間: staff %v, entity account %v", staffLast, accountLast)
	}
	// An older success arriving later does not move it back.
	if err := s.RecordSignIns(ctx, []storage.SignInEvent{signIn(t0.Add(-24*time.Hour), e.ID, sl.EUID, e.Number, "hist01", storage.SignInSucceeded)}); err != nil {
		t.Fatal(err)
	}
	_ = s.Pool().QueryRow(ctx, `SELECT last_signin_at FROM staff_logins WHERE id = $1`, sl.ID).Scan(&staffLast)
	if !staffLast.Equal(t0) {
		t.Errorf("最後登入時間 moved back to %v", staffLast)
	}

	day := storage.SignInQuery{From: t0.Add(-48 * time.Hour), To: t0.Add(time.Hour)}
	q := day
	q.EntityID = e.ID
	all, err := s.SignInEvents(ctx, q)
	if err != nil || len(all) != 6 {
		t.Fatalf("entity's events: %d, %v", len(all), err)
	}
	if all[0].Username != "entity01" || all[1].Username != "nobody" || all[1].EntityID != e.ID {
		t.Errorf("newest first, unknown username in its entity: %+v", all[:2])
	}
	// Pages of 2 walk the same events.
	var walked []storage.SignInEvent
	q.Limit = 2
	for {
		page, err := s.SignInEvents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, page...)
		if len(page) < 2 {
			break
		}
		q.After = storage.SignInCursor{At: page[1].At, ID: page[1].ID}
	}
	if len(walked) != len(all) {
		t.Fatalf("paged %d, all %d", len(walked), len(all))
	}
	for i := range all {
		if walked[i].ID != all[i].ID {
			t.Fatalf("page order differs at %d", i)
		}
	}
	// A login's events, an outcome, and a login of this entity asked under another.
	mine := day
	mine.Subject, mine.EntityID, mine.Outcome = sl.EUID, e.ID, storage.SignInWrongCredentials
	if got, _ := s.SignInEvents(ctx, mine); len(got) != 1 || got[0].Outcome != storage.SignInWrongCredentials {
		t.Errorf("login's failures: %+v", got)
	}
	mine.EntityID, mine.Outcome = other.ID, ""
	if got, _ := s.SignInEvents(ctx, mine); len(got) != 0 {
		t.Errorf("a login found under another entity: %+v", got)
	}
	if _, err := s.SignInEvents(ctx, day); err == nil {
		t.Error("a query of neither login nor entity answered")
	}
}

// TestStaffListLastSignIn: the list carries 最後登入時間, and the filter of
// logins unused since a time keeps those not signed in since, and the
// never signed in.
func TestStaffListLastSignIn(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	recent := activeStaff(t, s, e.ID, "recent1")
	stale := activeStaff(t, s, e.ID, "stale01")
	never := activeStaff(t, s, e.ID, "never01")
	now := time.Now().UTC().Truncate(time.Second)
	if err := s.RecordSignIns(ctx, []storage.SignInEvent{
		signIn(now.Add(-time.Hour), e.ID, recent.EUID, e.Number, "recent1", storage.SignInSucceeded),
		signIn(now.Add(-100*24*time.Hour), e.ID, stale.EUID, e.Number, "stale01", storage.SignInSucceeded),
	}); err != nil {
		t.Fatal(err)
	}
	rows, _, err := s.StaffList(ctx, storage.StaffQuery{EntityID: e.ID})
	if err != nil || len(rows) != 3 || rows[0].LastSignInAt == nil || !rows[0].LastSignInAt.Equal(now.Add(-time.Hour)) || rows[2].LastSignInAt != nil {
		t.Fatalf("list: %+v, %v", rows, err)
	}
	rows, n, err := s.StaffList(ctx, storage.StaffQuery{EntityID: e.ID, UnusedSince: now.Add(-90 * 24 * time.Hour)})
	if err != nil || n != 2 || rows[0].EUID != stale.EUID || rows[1].EUID != never.EUID {
		t.Errorf("unused 90 days: %d %+v, %v", n, rows, err)
	}
}

// TestRetention: events past the limit go, in batches, the others stay;
// the personal data of logins deleted before the limit is erased, their
// EUID and names kept and the erasure audited; a second node finds the
// lock taken and does nothing.
func TestRetention(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	old := activeStaff(t, s, e.ID, "old0001")
	young := activeStaff(t, s, e.ID, "young01")
	kept := activeStaff(t, s, e.ID, "kept001")
	never := createStaff(t, s, e.ID) // deleted before activation, its code still on record
	if err := s.IssueActivationCode(ctx, operator, staffRef(never), codeIssue("erase", never.Mobile)); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	if _, err := s.Pool().Exec(ctx, `
		INSERT INTO signin_events (at, entity_id, subject, outcome, method)
		SELECT $1::timestamptz - i * interval '1 minute', $2, $3, 'signed_in', 'password' FROM generate_series(1, 25) AS i`,
		now.Add(-400*24*time.Hour), e.ID, old.EUID); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSignIns(ctx, []storage.SignInEvent{signIn(now, e.ID, kept.EUID, e.Number, "kept001", storage.SignInSucceeded)}); err != nil {
		t.Fatal(err)
	}
	for _, sl := range []storage.StaffLogin{old, young, never} {
		if err := setStatus(ctx, s, operator, sl, storage.StatusDeleted); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE staff_logins SET deleted_at = now() - interval '400 days' WHERE id = ANY($1)`, []int64{old.ID, never.ID}); err != nil {
		t.Fatal(err)
	}

	// Another node holds the lock: this one does nothing.
	other, err := s.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(0x1d95e7e0001)); err != nil {
		t.Fatal(err)
	}
	policy := storage.RetentionPolicy{EventsBefore: now.Add(-365 * 24 * time.Hour), DeletedBefore: now.Add(-365 * 24 * time.Hour), Batch: 10}
	if res, err := s.ApplyRetention(ctx, policy); err != nil || res.Ran || res.EventsDeleted != 0 {
		t.Fatalf("with the lock held elsewhere: %+v, %v", res, err)
	}
	_, _ = other.Exec(ctx, `SELECT pg_advisory_unlock($1)`, int64(0x1d95e7e0001))
	other.Release()

	res, err := s.ApplyRetention(ctx, policy)
	if err != nil || !res.Ran || res.EventsDeleted != 25 || res.LoginsErased != 2 {
		t.Fatalf("retention: %+v, %v", res, err)
	}
	var left int
	_ = s.Pool().QueryRow(ctx, `SELECT count(*) FROM signin_events WHERE entity_id = $1`, e.ID).Scan(&left)
	if left != 1 {
		t.Errorf("%d events left, want the young one", left)
	}
	gone, err := s.StaffLogin(ctx, old.ID)
	if err != nil || gone.EUID != old.EUID || gone.NameZH != old.NameZH || gone.NameForeign != old.NameForeign ||
		gone.IDDocNumber != "" || !gone.BirthDate.IsZero() || gone.Mobile != "" || gone.Email != "" {
		t.Errorf("erased login: %+v, %v", gone, err)
	}
	still, _ := s.StaffLogin(ctx, young.ID)
	if still.IDDocNumber == "" || still.Mobile == "" {
		t.Errorf("a login deleted lately was erased: %+v", still)
	}
	var codes, messages int
	_ = s.Pool().QueryRow(ctx, `SELECT count(*), (SELECT count(*) FROM outbox WHERE recipient = $2) FROM activation_codes WHERE staff_login_id = $1`,
		never.ID, never.Mobile).Scan(&codes, &messages)
	if codes != 0 || messages != 0 {
		t.Errorf("an erased login's activation codes (%d) and their messages (%d) stay", codes, messages)
	}
	var erasures int
	_ = s.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'staff.erase' AND actor_kind = 'system' AND entity_id = $1
		AND target = ANY($2)`, e.ID, []string{old.EUID, never.EUID}).Scan(&erasures)
	if erasures != 2 {
		t.Errorf("%d erasures audited, want 2", erasures)
	}
	if res, _ := s.ApplyRetention(ctx, policy); res.LoginsErased != 0 || res.EventsDeleted != 0 {
		t.Errorf("a second run did more: %+v", res)
	}
	// An erased login cannot come back.
	if _, err := s.SetStaffStatus(ctx, operator, e.ID, old.EUID, storage.StatusActive, nil); storage.CodeOf(err) != storage.EConflict {
		t.Errorf("restore of an erased login: %v", err)
	}
	// The erased login is listed still, by its names.
	if rows, n, err := s.StaffList(ctx, storage.StaffQuery{EntityID: e.ID, Search: old.EUID}); err != nil || n != 1 || rows[0].NameForeign != old.NameForeign {
		t.Errorf("staff list after erasure: %d, %v", n, err)
	}
}

// seedSignIns writes n sign-in events spread over logins logins of
// entities entities (login i of entity i % entities, EUIDs CU9…), over the
// last days days, in one statement.
func seedSignIns(b testing.TB, s *postgres.Store, n, logins, entities, days int) {
	b.Helper()
	_, err := s.Pool().Exec(context.Background(), `
		INSERT INTO signin_events (at, entity_id, subject, entity_number, username, outcome, method, address, user_agent, client_id)
		SELECT now() - (random() * $4 * interval '1 day'), 1000000 + (i % $2) % $3, 'CU9' || lpad(((i % $2))::text, 8, '0'),
			'02-' || lpad(((i % $2) % $3)::text, 6, '0'), 'user' || (i % $2),
			(ARRAY['signed_in', 'signed_in', 'signed_in', 'bad_credentials', 'step_passed'])[1 + (i / $2) % 5], 'password',
			'192.0.2.' || (i % 250), 'Mozilla/5.0 (bench)', 'bench-client'
		FROM generate_series(1, $1) AS i`, n, logins, entities, days)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool().Exec(context.Background(), `ANALYZE signin_events`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSignInHistory: a page (50) of one login's history over 90
// days, and of one entity's over a year, with 1,000,000 events in the
// table (20,000 logins of 500 entities, a year of them); the time per
// operation is the server's answer plus one round trip.
func BenchmarkSignInHistory(b *testing.B) {
	s := storagetest.NewPostgres(b)
	ctx := context.Background()
	seedSignIns(b, s, 1_000_000, 20_000, 500, 365)
	now := time.Now().UTC()
	for _, bc := range []struct {
		name string
		q    storage.SignInQuery
	}{
		{"login", storage.SignInQuery{Subject: "CU900000042", EntityID: 1000042, From: now.Add(-90 * 24 * time.Hour), To: now.Add(time.Hour), Limit: 50}},
		{"entity", storage.SignInQuery{EntityID: 1000042, From: now.Add(-365 * 24 * time.Hour), To: now.Add(time.Hour), Limit: 50}},
		{"entity-failures", storage.SignInQuery{EntityID: 1000042, Outcome: storage.SignInWrongCredentials, From: now.Add(-365 * 24 * time.Hour), To: now.Add(time.Hour), Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var worst time.Duration
			var n int
			for b.Loop() {
				start := time.Now()
				got, err := s.SignInEvents(ctx, bc.q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(got)
				worst = max(worst, time.Since(start))
			}
			if n == 0 {
				b.Fatal("no events found")
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
			b.ReportMetric(float64(n), "rows")
		})
	}
}

// TestSignInHistoryPlans: a page of a login's history, of an entity's, and
// of an entity's failures reads about a page of rows through its index,
// however many events the table holds (200,000 here): the work counted in
// rows by EXPLAIN ANALYZE, which does not depend on the machine's speed. A
// sequential scan or a sort of the table would count them all.
func TestSignInHistoryPlans(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	seedSignIns(t, s, 200_000, 4_000, 100, 365)
	now := time.Now().UTC()
	year := storage.SignInQuery{From: now.Add(-365 * 24 * time.Hour), To: now.Add(time.Hour), Limit: 51}
	login, entity, failures := year, year, year
	login.Subject, login.EntityID = "CU900000042", 1000042
	entity.EntityID = 1000042
	failures.EntityID, failures.Outcome = 1000042, storage.SignInWrongCredentials
	entity.After = storage.SignInCursor{At: now.Add(-100 * 24 * time.Hour), ID: 1 << 40} // a page further on
	for name, q := range map[string]storage.SignInQuery{"login": login, "entity": entity, "entity failures": failures} {
		sql, args := postgres.SignInEventsSQL(q)
		var raw []byte
		if err := s.Pool().QueryRow(ctx, `EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) `+sql, args...).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		var plans []struct{ Plan planNode }
		if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
			t.Fatalf("EXPLAIN: %v", err)
		}
		var work float64
		var walk func(n planNode)
		walk = func(n planNode) {
			work += (n.ActualRows + n.RemovedByFilter + n.RemovedByJoinFilter) * n.ActualLoops
			for _, c := range n.Plans {
				walk(c)
			}
		}
		walk(plans[0].Plan)
		if work > 600 {
			t.Errorf("%s: %v rows handled for a page of 51:\n%s", name, work, raw)
		}
	}
}
