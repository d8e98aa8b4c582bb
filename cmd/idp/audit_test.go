package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAuditCommand: after a few acts, `idp audit` finds them for a counter
// officer, newest first, naming the officer who did them; the CSV export
// escapes a formula cell; a bad date, a range over 366 days or no officer
// is refused in a sentence.
func TestAuditCommand(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	ctx := context.Background()
	staff01 := idp.login("staff01")
	for _, act := range []func([]string) error{staffDelete, staffRestore} {
		if _, err := captureStdout(t, func() error { return act([]string{"--entity", demoEntityNumber, "--euid", staff01.EUID}) }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := captureStdout(t, func() error {
		return officerCreate([]string{"--name", "chan.tm", "--display-name", "陳大文", "--role", "counter", "--mobile", "66123456"})
	}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IDP_OFFICER", "chan.tm") // a counter officer reads the trail

	var out bytes.Buffer
	if err := auditCommand([]string{"--entity", demoEntityNumber, "--action", "staff.", "--limit", "2"}, &out); err != nil {
		t.Fatalf("idp audit: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "\toperator "+demoOfficer+"\t"+demoEntityNumber+"\tstaff.restore\t"+staff01.EUID+"\t") ||
		!strings.Contains(lines[1], "\toperator "+demoOfficer+"\t"+demoEntityNumber+"\tstaff.delete\t"+staff01.EUID+"\t") ||
		!strings.HasPrefix(lines[2], "2 audit events, newest first") {
		t.Errorf("idp audit --entity --action staff.:\n%s", out.String())
	}

	out.Reset()
	if err := auditCommand([]string{"--actor", strings.ToUpper(demoOfficer), "--target", staff01.EUID, "--action", "staff.delete", "--json"}, &out); err != nil {
		t.Fatal(err)
	}
	var found []auditEventJSON
	if err := json.Unmarshal(out.Bytes(), &found); err != nil || len(found) != 1 || found[0].Action != "staff.delete" || found[0].EntityNumber != demoEntityNumber {
		t.Errorf("idp audit --actor --target --json: %v\n%s", err, out.String())
	}

	// An event whose target and actor a spreadsheet would read as formulas.
	if _, err := idp.app.pg.Pool().Exec(ctx, `INSERT INTO audit_events (at, actor_kind, actor_id, entity_id, action, target, ip, details)
		VALUES (now(), 'staff', '@SUM(A1)', (SELECT id FROM entities WHERE number = $1), 'test.formula', '=HYPERLINK("http://x")', '', '{"note": "=1+1"}')`,
		demoEntityNumber); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := auditCommand([]string{"--entity", demoEntityNumber, "--csv"}, &out); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(rows) < 4 || strings.Join(rows[0], ",") != "time,actor_kind,actor_id,entity_number,action,target,ip,details" {
		t.Fatalf("idp audit --csv: %v %q", err, rows)
	}
	formula := rows[1]
	if formula[2] != "'@SUM(A1)" || formula[4] != "test.formula" || formula[5] != `'=HYPERLINK("http://x")` || formula[7] != `{"note":"=1+1"}` {
		t.Errorf("the formula event's row: %q", formula)
	}
	if _, err := time.Parse(time.RFC3339, formula[0]); err != nil || !strings.HasSuffix(formula[0], "+08:00") {
		t.Errorf("time %q: not Macau time (%v)", formula[0], err)
	}

	idp.refused(t, "a bad date", "is no date: write it as YYYY-MM-DD", func() error {
		return auditCommand([]string{"--from", "2026-13-01"}, &out)
	})
	idp.refused(t, "over 366 days", "search at most 366 days at a time", func() error {
		return auditCommand([]string{"--from", "2025-01-01", "--to", "2026-01-02"}, &out)
	})
	if err := auditCommand([]string{"--from", "2025-01-01", "--to", "2026-01-01"}, &out); err != nil {
		t.Errorf("366 days (2025-01-01 to 2026-01-01): %v", err)
	}
	idp.refused(t, "--from after --to", "is after --to", func() error {
		return auditCommand([]string{"--from", "2026-02-02", "--to", "2026-02-01"}, &out)
	})
	t.Setenv("IDP_OFFICER", "")
	idp.refused(t, "no officer", "--officer NAME or IDP_OFFICER", func() error {
		return auditCommand([]string{"--entity", demoEntityNumber}, &out)
	})
}
