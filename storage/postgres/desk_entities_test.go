package postgres_test

import (
	"strings"
	"testing"

	"github.com/entity-account/idp/storage/postgres"
)

// TestDeskSearchPlans: the desk's searches by a prefix use their indexes
// (migration 00020) in the generic plan a prepared statement settles on,
// as well as in a custom one: the prefixes are ranges, never a LIKE whose
// pattern the planner cannot see.
func TestDeskSearchPlans(t *testing.T) {
	pg, ctx := newStore(t)
	tx, err := pg.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, set := range []string{`SET LOCAL enable_seqscan = off`, `SET LOCAL plan_cache_mode = force_generic_plan`} {
		if _, err := tx.Exec(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	plan := func(name, sql, args string) string {
		t.Helper()
		if _, err := tx.Exec(ctx, `PREPARE `+name+` AS `+sql); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(ctx, `EXPLAIN EXECUTE `+name+`(`+args+`)`)
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
	p := plan("entities", postgres.SearchEntitiesSQL, `'02-0000', '02-0001', '%02-0000%', 50`)
	if !strings.Contains(p, "entities_number_prefix_idx") {
		t.Errorf("the search by entity number does not use its index:\n%s", p)
	}
	p = plan("staff", postgres.SearchStaffSQL, `'CU000000101', 'chan', 'chao', '1234', '1235', '%chan%', 50`)
	for _, idx := range []string{"staff_logins_euid_key", "staff_logins_username_prefix_idx", "staff_logins_doc_key_prefix_idx"} {
		if !strings.Contains(p, idx) {
			t.Errorf("the search of staff does not use %s:\n%s", idx, p)
		}
	}
}
