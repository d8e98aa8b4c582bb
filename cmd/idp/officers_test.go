package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

// auditCount is how many audit events the node's database holds.
func (idp *testIDP) auditCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// refused runs a command that must be refused with a sentence containing
// want, writing no audit event.
func (idp *testIDP) refused(t *testing.T, what, want string, fn func() error) {
	t.Helper()
	before := idp.auditCount(t)
	_, err := captureStdout(t, fn)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: %v, want a refusal saying %q", what, err, want)
	}
	if after := idp.auditCount(t); after != before {
		t.Errorf("%s: %d audit events written", what, after-before)
	}
}

// TestCommandsAuditTheOfficer: the commands act as the officer IDP_OFFICER
// (or --officer) names, and the audit trail records its login name and id.
func TestCommandsAuditTheOfficer(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	ctx := context.Background()
	boss, err := idp.app.pg.OfficerByLogin(ctx, demoOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := captureStdout(t, func() error { return departmentCreate([]string{"--code", "LAB", "--name-zh", "勞工局"}) }); err != nil {
		t.Fatal(err)
	}
	if _, err := captureStdout(t, func() error {
		return officerCreate([]string{"--name", "Chan.TM", "--display-name", "陳大文", "--role", "supervisor"})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := captureStdout(t, func() error {
		return serviceCreate([]string{"--officer", "CHAN.tm", "--code", "jobs", "--name-zh", "就業", "--department", "LAB", "--group", "a=甲"})
	}); err != nil {
		t.Fatal(err)
	}
	chan_, err := idp.app.pg.OfficerByLogin(ctx, "chan.tm")
	if err != nil || chan_.CreatedBy != boss.ID {
		t.Fatalf("chan.tm = %+v, %v", chan_, err)
	}
	rows, err := idp.app.pg.Pool().Query(ctx, `
		SELECT action || ' ' || actor_kind || ' ' || actor_id || ' ' || coalesce(officer_id, 0)
		FROM audit_events WHERE action IN ('department.create', 'officer.create', 'service.create', 'group.create')
		AND target IN ('LAB', 'chan.tm', 'jobs', 'jobs/a') ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	b, c := strconv.FormatInt(boss.ID, 10), strconv.FormatInt(chan_.ID, 10)
	want := []string{"department.create operator demo.supervisor " + b, "officer.create operator demo.supervisor " + b,
		"service.create operator chan.tm " + c, "group.create operator chan.tm " + c}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audited %q, want %q", got, want)
	}
}

// TestCommandsRefuseWithoutAnAllowedOfficer: with no officer named, an
// unknown one, a disabled one, or a counter officer for a supervisor's
// act, a command is refused, changes nothing and writes no audit event; a
// counter officer does the counter's acts.
func TestCommandsRefuseWithoutAnAllowedOfficer(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	ctx := context.Background()
	staff01 := idp.login("staff01")
	if _, err := captureStdout(t, func() error {
		return officerCreate([]string{"--name", "chan.tm", "--display-name", "陳大文", "--role", "counter", "--mobile", "66123456"})
	}); err != nil {
		t.Fatal(err)
	}

	t.Setenv("IDP_OFFICER", "")
	idp.refused(t, "no officer", "--officer NAME or IDP_OFFICER", func() error {
		return departmentCreate([]string{"--code", "LAB", "--name-zh", "勞工局"})
	})
	var n int
	if err := idp.app.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM departments WHERE code = 'LAB'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("the department was registered without an officer: %d, %v", n, err)
	}
	idp.refused(t, "no officer, a read of personal data", "--officer NAME or IDP_OFFICER", func() error {
		return entityShow([]string{"--entity", demoEntityNumber}, io.Discard)
	})
	idp.refused(t, "an unknown officer", "there is no officer nobody", func() error {
		return entityShow([]string{"--officer", "nobody", "--entity", demoEntityNumber}, io.Discard)
	})
	// A harmless read needs no officer.
	if _, err := captureStdout(t, func() error { return departmentList(nil, io.Discard) }); err != nil {
		t.Errorf("department list without an officer: %v", err)
	}

	t.Setenv("IDP_OFFICER", "chan.tm")
	supervisorOnly := "only a supervisor may do this"
	idp.refused(t, "a counter officer grants admin rights", supervisorOnly, func() error {
		return adminGrant([]string{"--entity", demoEntityNumber, "--euid", staff01.EUID})
	})
	idp.refused(t, "a counter officer closes an entity", supervisorOnly, func() error {
		return entityClose([]string{"--entity", demoEntityNumber})
	})
	idp.refused(t, "a counter officer reopens an entity", supervisorOnly, func() error {
		return entityReopen([]string{"--entity", demoEntityNumber, "--reason", "not mine to say"})
	})
	idp.refused(t, "a counter officer registers a client", supervisorOnly, func() error {
		return clientCreate([]string{"--service", demoService, "--redirect-uri", "https://rp.example.mo/cb"})
	})
	idp.refused(t, "a counter officer creates an officer", supervisorOnly, func() error {
		return officerCreate([]string{"--name", "lei.kf", "--display-name", "李", "--role", "supervisor"})
	})
	sl, err := idp.app.pg.StaffLoginByEUID(ctx, staff01.EUID)
	if err != nil || sl.Admin {
		t.Errorf("staff01 after the refusals: admin=%v, %v", sl.Admin, err)
	}
	e, err := idp.app.pg.EntityByNumber(ctx, demoEntityNumber)
	if err != nil || e.Status != "active" {
		t.Errorf("the entity after the refusals: %q, %v", e.Status, err)
	}
	if _, err := captureStdout(t, func() error { return entityShow([]string{"--entity", demoEntityNumber}, io.Discard) }); err != nil {
		t.Errorf("a counter officer reads an entity: %v", err)
	}
	before := idp.auditCount(t)
	if _, err := captureStdout(t, func() error { return passwordReset([]string{"--entity", demoEntityNumber, "--euid", staff01.EUID}) }); err != nil {
		t.Errorf("a counter officer sends a reset code: %v", err)
	}
	var by string
	if err := idp.app.pg.Pool().QueryRow(ctx, `SELECT actor_id FROM audit_events WHERE id > (SELECT max(id) - 1 FROM audit_events)`).Scan(&by); err != nil ||
		idp.auditCount(t) <= before || by != "chan.tm" {
		t.Errorf("the reset was audited as %q (%d events before, %d after), %v", by, before, idp.auditCount(t), err)
	}

	if _, err := captureStdout(t, func() error { return officerDisable([]string{"--officer", demoOfficer, "--name", "chan.tm"}) }); err != nil {
		t.Fatal(err)
	}
	idp.refused(t, "a disabled officer", "disabled and may do nothing", func() error {
		return entityShow([]string{"--entity", demoEntityNumber}, io.Discard)
	})
	idp.refused(t, "the demo supervisor disables itself", "cannot disable itself", func() error {
		return officerDisable([]string{"--officer", demoOfficer, "--name", demoOfficer})
	})
	out, err := captureStdout(t, func() error { return officerList([]string{"--officer", demoOfficer}, os.Stdout) })
	if err != nil || !strings.Contains(out, "chan.tm") || !strings.Contains(out, "disabled") || !strings.Contains(out, "demo.supervisor") {
		t.Errorf("officer list = %q, %v", out, err)
	}
}

// TestOfficerBootstrap: in a database without officers, officer create
// runs without --officer exactly once, for a supervisor; afterwards only a
// supervisor creates officers.
func TestOfficerBootstrap(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	t.Setenv("IDP_DATABASE_URL", storagetest.PostgresURL(t)) // no officer there
	t.Setenv("IDP_OFFICER", "")
	create := func(args ...string) (string, error) {
		return captureStdout(t, func() error { return officerCreate(args) })
	}
	if _, err := create("--name", "chan.tm", "--display-name", "陳大文", "--role", "counter"); err == nil || !strings.Contains(err.Error(), "must be a supervisor") {
		t.Errorf("a counter officer first: %v", err)
	}
	out, err := create("--name", "lei.kf", "--display-name", "李家輝", "--role", "supervisor", "--email", "lei@safp.gov.mo")
	if err != nil || !strings.Contains(out, "IDP_OFFICER=lei.kf") {
		t.Fatalf("the first officer: %q, %v", out, err)
	}
	if _, err := create("--name", "wong.ss", "--display-name", "黃", "--role", "supervisor"); err == nil || !strings.Contains(err.Error(), "officers already") {
		t.Errorf("a second first officer: %v", err)
	}
	if _, err := create("--officer", "nobody", "--name", "wong.ss", "--display-name", "黃", "--role", "supervisor"); err == nil || !strings.Contains(err.Error(), "no officer nobody") {
		t.Errorf("created by an unknown officer: %v", err)
	}
	if _, err := create("--officer", "lei.kf", "--name", "chan.tm", "--display-name", "陳大文", "--role", "counter"); err != nil {
		t.Errorf("the supervisor creates a counter officer: %v", err)
	}
	if _, err := create("--officer", "chan.tm", "--name", "wong.ss", "--display-name", "黃", "--role", "counter"); err == nil || !strings.Contains(err.Error(), "only a supervisor") {
		t.Errorf("a counter officer creates one: %v", err)
	}
	if _, err := captureStdout(t, func() error { return officerDisable([]string{"--officer", "lei.kf", "--name", "lei.kf"}) }); err == nil {
		t.Error("the only supervisor disabled itself")
	}
}

// TestEveryOfficerCommandTakesTheOfficerFlag: a command with an act says
// --officer in its -h; one without has no such flag.
func TestEveryOfficerCommandTakesTheOfficerFlag(t *testing.T) {
	for _, c := range commands {
		if c.name == "serve" || c.name == "migrate" {
			continue
		}
		fs := newFlags(c.name)
		if has := fs.Lookup(officerFlag) != nil; has != (c.act != "") {
			t.Errorf("idp %s: --officer declared %v, act %q", c.name, has, c.act)
		}
		if c.act != "" {
			fs.SetOutput(io.Discard)
			if err := fs.Parse([]string{"-h"}); !errors.Is(err, flag.ErrHelp) {
				t.Errorf("idp %s -h: %v", c.name, err)
			}
		}
	}
	if actOf("officer create") != storage.ActManageOfficers || actOf("department list") != "" {
		t.Error("actOf does not read the command table")
	}
}

// TestRunNamesTheDemoOfficer: `make run` tells the operator which officer
// the demo seeded, by the name the demo gives it.
func TestRunNamesTheDemoOfficer(t *testing.T) {
	for _, path := range []string{"../../scripts/run.sh", "../../README.md"} {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "export IDP_OFFICER="+demoOfficer+"\n") {
			t.Errorf("%s does not say export IDP_OFFICER=%s", path, demoOfficer)
		}
	}
}
