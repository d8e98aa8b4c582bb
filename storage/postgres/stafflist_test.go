package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

// seedStaff registers n staff logins of entity e in one statement (the
// database assigns their EUIDs), every tenth activated as user0000… and
// every seventh deleted.
func seedStaff(t testing.TB, s *postgres.Store, entityID int64, n int) {
	t.Helper()
	_, err := s.Pool().Exec(context.Background(), `
		INSERT INTO staff_logins (entity_id, name_zh, name_foreign, id_doc_type, id_doc_number, birth_date, mobile, language)
		SELECT $1, '員工' || i, 'STAFF ' || i, 'macau_permanent_id', lpad(i::text, 7, '0') || '(1)', DATE '1990-01-01',
			'+8536' || lpad(i::text, 7, '0'), 'zh-Hant'
		FROM generate_series(1, $2) AS i`, entityID, n)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Pool().Exec(context.Background(), `
		UPDATE staff_logins SET username = 'user' || lpad(id::text, 6, '0'), password_hash = 'h', activated_at = now()
		WHERE entity_id = $1 AND id % 10 = 0`, entityID)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Pool().Exec(context.Background(), `
		UPDATE staff_logins SET status = 'deleted', deleted_at = now() WHERE entity_id = $1 AND id % 7 = 0`, entityID)
	if err != nil {
		t.Fatal(err)
	}
}

func TestStaffList(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	other, _ := createEntity(t, s)
	seedStaff(t, s, e.ID, 120)
	seedStaff(t, s, other.ID, 5)
	sl := createStaff(t, s, e.ID) // 1234567(8), with an open code below
	if err := s.IssueActivationCode(ctx, operator, staffRef(sl), codeIssue("list", sl.Mobile)); err != nil {
		t.Fatal(err)
	}

	page, total, err := s.StaffList(ctx, storage.StaffQuery{EntityID: e.ID, Limit: 50})
	if err != nil || total != 121 || len(page) != 50 {
		t.Fatalf("first page: %d rows of %d, %v", len(page), total, err)
	}
	last, _, _ := s.StaffList(ctx, storage.StaffQuery{EntityID: e.ID, Offset: 100, Limit: 50})
	if len(last) != 21 || last[20].EUID != sl.EUID || !last[20].CodeOutstanding || last[0].CodeOutstanding {
		t.Errorf("last page: %d rows, last %+v", len(last), last[len(last)-1])
	}
	for _, r := range append(page, last...) {
		if r.EntityID != e.ID || r.PasswordHash != "" {
			t.Fatalf("row of another entity or with a hash: %+v", r)
		}
	}
	for search, want := range map[string]int{
		"員工7": 11, "staff 11": 11, "STAFF 11": 11, sl.EUID: 1, "1234567 (8)": 1, "12345678": 1,
		"user": 12, "%": 0, "_": 0, "nobody": 0,
	} {
		_, n, err := s.StaffList(ctx, storage.StaffQuery{EntityID: e.ID, Search: search})
		if err != nil || n != want {
			t.Errorf("search %q: %d, %v; want %d", search, n, err, want)
		}
	}
	if _, n, _ := s.StaffList(ctx, storage.StaffQuery{EntityID: other.ID, Search: sl.EUID}); n != 0 {
		t.Error("another entity's list finds this login")
	}
}

// BenchmarkStaffList: one page and one search of an entity with 5,000 staff
// logins; the time per operation is the server's answer time plus a round
// trip on loopback.
func BenchmarkStaffList(b *testing.B) {
	s := storagetest.NewPostgres(b)
	ctx := context.Background()
	e, _ := createEntity(b, s)
	seedStaff(b, s, e.ID, 5000)
	if _, err := s.Pool().Exec(ctx, `ANALYZE staff_logins`); err != nil {
		b.Fatal(err)
	}
	for _, q := range []storage.StaffQuery{
		{EntityID: e.ID, Limit: 50},
		{EntityID: e.ID, Limit: 50, Offset: 4950},
		{EntityID: e.ID, Search: "員工4321", Limit: 50},
		{EntityID: e.ID, Search: "0004321(1)", Limit: 50},
	} {
		b.Run(fmt.Sprintf("search=%q,offset=%d", q.Search, q.Offset), func(b *testing.B) {
			var worst time.Duration
			for b.Loop() {
				start := time.Now()
				if _, _, err := s.StaffList(ctx, q); err != nil {
					b.Fatal(err)
				}
				worst = max(worst, time.Since(start))
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
		})
	}
}
