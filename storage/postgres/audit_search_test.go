package postgres_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// TestSearchAuditEvents: each filter of the audit search, the range, the
// limit and the keyset pages (newest first, ties at the same instant by id).
func TestSearchAuditEvents(t *testing.T) {
	s, ctx := newStore(t)
	ent, _ := createEntity(t, s)
	other, _ := createEntity(t, s)
	base := time.Date(2031, 3, 10, 12, 0, 0, 0, time.UTC)
	insert := func(at time.Time, entityID *int64, actor, action, target string) {
		t.Helper()
		if _, err := s.Pool().Exec(ctx, `INSERT INTO audit_events (at, actor_kind, actor_id, entity_id, action, target, ip, details)
			VALUES ($1, 'operator', $2, $3, $4, $5, '192.0.2.1', '{"k": "v"}')`, at, actor, entityID, action, target); err != nil {
			t.Fatal(err)
		}
	}
	insert(base, &ent.ID, "chan.tm", "staff.create", "CU1")
	insert(base.Add(time.Hour), &ent.ID, "chan.tm", "staff.delete", "CU1")
	insert(base.Add(time.Hour), &ent.ID, "CU9", "staffing.x", "CU2") // same instant: the later id first
	insert(base.Add(2*time.Hour), &other.ID, "lei.kf", "staff.create", "CU3")
	insert(base.Add(3*time.Hour), nil, "lei.kf", "department.create", "LAB")
	insert(base.AddDate(0, 0, -40), &ent.ID, "chan.tm", "staff.create", "CU0") // before the range below

	window := storage.AuditQuery{From: base.AddDate(0, 0, -30), To: base.AddDate(0, 0, 1), Limit: 100}
	search := func(q storage.AuditQuery) string {
		t.Helper()
		events, err := s.SearchAuditEvents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range events {
			got = append(got, e.Action+" "+e.Target+" "+e.EntityNumber)
		}
		return strings.Join(got, "; ")
	}
	q := func(edit func(*storage.AuditQuery)) storage.AuditQuery { c := window; edit(&c); return c }
	for _, c := range []struct {
		name string
		q    storage.AuditQuery
		want string
	}{
		{"everything in range", window, fmt.Sprintf("department.create LAB ; staff.create CU3 %s; staffing.x CU2 %[2]s; staff.delete CU1 %[2]s; staff.create CU1 %[2]s", other.Number, ent.Number)},
		{"entity", q(func(q *storage.AuditQuery) { q.EntityID = ent.ID }), "staffing.x CU2 " + ent.Number + "; staff.delete CU1 " + ent.Number + "; staff.create CU1 " + ent.Number},
		{"actor, any case", q(func(q *storage.AuditQuery) { q.ActorID = "LEI.KF" }), "department.create LAB ; staff.create CU3 " + other.Number},
		{"action prefix", q(func(q *storage.AuditQuery) { q.Action = "staff." }), "staff.create CU3 " + other.Number + "; staff.delete CU1 " + ent.Number + "; staff.create CU1 " + ent.Number},
		{"action exact", q(func(q *storage.AuditQuery) { q.Action = "staff" }), ""},
		{"target", q(func(q *storage.AuditQuery) { q.Target = "CU1"; q.Action = "staff.delete" }), "staff.delete CU1 " + ent.Number},
		{"range", q(func(q *storage.AuditQuery) { q.From = base.Add(time.Hour); q.To = base.Add(2 * time.Hour) }), "staffing.x CU2 " + ent.Number + "; staff.delete CU1 " + ent.Number},
		{"older range", q(func(q *storage.AuditQuery) {
			q.From = base.AddDate(0, 0, -41)
			q.EntityID = ent.ID
			q.Limit = 1
			q.After = storage.AuditCursor{At: base}
		}), "staff.create CU0 " + ent.Number},
		{"limit", q(func(q *storage.AuditQuery) { q.Limit = 2 }), "department.create LAB ; staff.create CU3 " + other.Number},
	} {
		if got := search(c.q); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}

	// Pages of one event walk the range newest first, ties included, each once.
	var walked []string
	page := q(func(q *storage.AuditQuery) { q.Limit = 1 })
	for range 10 {
		events, err := s.SearchAuditEvents(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 0 {
			break
		}
		walked = append(walked, events[0].Action+" "+events[0].Target)
		page.After = storage.AuditCursor{At: events[0].At, ID: events[0].ID}
	}
	if got, want := strings.Join(walked, "; "), "department.create LAB; staff.create CU3; staffing.x CU2; staff.delete CU1; staff.create CU1"; got != want {
		t.Errorf("pages: %q, want %q", got, want)
	}

	for name, bad := range map[string]storage.AuditQuery{
		"no range":    {Limit: 10},
		"over a year": q(func(q *storage.AuditQuery) { q.From = q.To.AddDate(0, 0, -368) }),
		"no limit":    q(func(q *storage.AuditQuery) { q.Limit = 0 }),
		"over limit":  q(func(q *storage.AuditQuery) { q.Limit = storage.MaxAuditPage + 1 }),
	} {
		if _, err := s.SearchAuditEvents(ctx, bad); storage.CodeOf(err) != storage.EInvalid {
			t.Errorf("%s: %v, want EInvalid", name, err)
		}
	}
}

// TestSearchAuditEventsUsesTheIndexes: an entity's search walks the
// (entity_id, at) index and a search by time alone the (at) index, never a
// scan of the whole trail (sequential scans off, as on a large table).
func TestSearchAuditEventsUsesTheIndexes(t *testing.T) {
	s, ctx := newStore(t)
	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	plan := func(where string) string {
		t.Helper()
		rows, err := tx.Query(ctx, `EXPLAIN SELECT a.id FROM audit_events a LEFT JOIN entities e ON e.id = a.entity_id
			WHERE a.at >= now() - interval '30 days' AND a.at < now() `+where+` ORDER BY a.at DESC, a.id DESC LIMIT 100`)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		return strings.Join(lines, "\n")
	}
	if p := plan("AND a.entity_id = 7"); !strings.Contains(p, "audit_events_entity_id_at_idx") && !strings.Contains(p, "entity_id, at") {
		t.Errorf("an entity's search does not use its index:\n%s", p)
	}
	if p := plan(""); !strings.Contains(p, "audit_events_at_idx") {
		t.Errorf("a search by time does not use the (at) index:\n%s", p)
	}
}
