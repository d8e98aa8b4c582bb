package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

// TestToolsApproveAndReset: a staff login registered with a passport enrols
// a 安全驗證碼 and stays pending; `idp tools approve` refuses a wrong code
// and approves with the right one; `idp tools reset` removes it; each step
// is in the entity's audit trail.
func TestToolsApproveAndReset(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	ctx := t.Context()

	staff := idp.login("staff02")
	if _, err := idp.app.pg.Pool().Exec(ctx, `UPDATE staff_logins SET id_doc_type = 'passport' WHERE euid = $1`, staff.EUID); err != nil {
		t.Fatal(err)
	}
	svc, err := newTools(idp.app.cfg, idp.app.pg, idp.app.redis, nil)
	if err != nil {
		t.Fatal(err)
	}
	me := idp.actorOf(t, staff)
	en, err := svc.BeginTOTP(ctx, me, staff.EUID)
	if err != nil {
		t.Fatal(err)
	}
	gen := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(en.Secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	now := time.Now()
	tool, err := svc.ConfirmTOTP(ctx, me, staff.EUID, gen(now))
	if err != nil || tool.State != storage.ToolPending {
		t.Fatalf("ConfirmTOTP = %+v, %v; want pending", tool, err)
	}

	args := func(code string) []string {
		return []string{"tools", "approve", "--entity", demoEntityNumber, "--euid", staff.EUID, "--code", code, "--json"}
	}
	bad := "000000"
	for i := 0; bad == gen(now) || bad == gen(now.Add(30*time.Second)) || bad == gen(now.Add(-30*time.Second)) || bad == gen(now.Add(60*time.Second)); i++ {
		bad = fmt.Sprintf("%06d", i)
	}
	if _, err := captureStdout(t, func() error { return run(args(bad)) }); err == nil || !strings.Contains(err.Error(), "not correct") {
		t.Errorf("approve with a wrong code: %v", err)
	}
	// The next step's code: the confirmation used this one.
	out, err := captureStdout(t, func() error { return run(args(gen(now.Add(30 * time.Second)))) })
	if err != nil {
		t.Fatalf("tools approve: %v", err)
	}
	var row toolRow
	if err := json.Unmarshal([]byte(out), &row); err != nil || row.State != "active" || row.EUID != staff.EUID || row.EntityNumber != demoEntityNumber {
		t.Errorf("tools approve printed %q (%v)", out, err)
	}

	out, err = captureStdout(t, func() error {
		return run([]string{"tools", "reset", "--entity", demoEntityNumber, "--euid", staff.EUID, "--json"})
	})
	if err != nil || !strings.Contains(out, `"removed": 1`) {
		t.Fatalf("tools reset: %q, %v", out, err)
	}
	if err := run([]string{"tools", "reset", "--entity", demoEntityNumber, "--euid", staff.EUID}); err == nil || !strings.Contains(err.Error(), "no identity tool") {
		t.Errorf("second reset: %v", err)
	}
	got := idp.toolAudit(t, staff)
	want := "operator tool.reset,operator tool.approve,staff tool.confirm,staff tool.enrol"
	if strings.Join(got, ",") != want {
		t.Errorf("audit %v, want %s", got, want)
	}
}

// TestToolsEnablePasskeys: a staff login switches its passkeys off and can
// no longer enrol one; `idp tools enable` switches them on again (only when
// they are off), audited as the operator, the holder told both times.
func TestToolsEnablePasskeys(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	ctx := t.Context()

	staff := idp.login("staff01")
	svc, err := newTools(idp.app.cfg, idp.app.pg, idp.app.redis, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The test issuer is an IP address, which browsers refuse as a relying
	// party: the ceremonies run for localhost here.
	err = svc.EnablePasskeys(tools.WebAuthnConfig{RPID: "localhost", Origins: []string{"http://localhost:8080"},
		CeremonyKey: ceremonyKey(idp.app.cfg.MasterKey)}, idp.app.redis)
	if err != nil {
		t.Fatal(err)
	}
	me := idp.actorOf(t, staff)
	if err := svc.SwitchOffPasskeys(ctx, me, staff.EUID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.BeginPasskey(ctx, me, staff.EUID); storage.CodeOf(err) != storage.EConflict {
		t.Fatalf("enrolment while switched off: %v", err)
	}

	args := []string{"tools", "enable", "--entity", demoEntityNumber, "--euid", staff.EUID}
	out, err := captureStdout(t, func() error { return run(append(args, "--json")) })
	if err != nil {
		t.Fatalf("tools enable: %v", err)
	}
	var row toolRow
	if err := json.Unmarshal([]byte(out), &row); err != nil || row.Passkeys != "on" || row.EUID != staff.EUID || row.EntityNumber != demoEntityNumber {
		t.Errorf("tools enable printed %q (%v)", out, err)
	}
	if _, _, err := svc.BeginPasskey(ctx, me, staff.EUID); err != nil {
		t.Errorf("enrolment after tools enable: %v", err)
	}
	if err := run(args); err == nil || !strings.Contains(err.Error(), "not switched off") {
		t.Errorf("tools enable when on: %v", err)
	}
	if err := run([]string{"tools", "enable", "--entity", "2-1", "--euid", staff.EUID}); err == nil || !strings.Contains(err.Error(), "not an entity number") {
		t.Errorf("tools enable with a bad entity number: %v", err)
	}
	if err := run([]string{"tools", "enable", "--entity", demoEntityNumber}); err == nil || !strings.Contains(err.Error(), "--euid is required") {
		t.Errorf("tools enable without --euid: %v", err)
	}

	got := idp.toolAudit(t, staff)
	if want := "operator tool.passkey.enable,staff tool.passkey.off"; strings.Join(got, ",") != want {
		t.Errorf("audit %v, want %s", got, want)
	}
	var notices int
	if err := idp.app.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox WHERE entity_id = $1 AND activation_code_id IS NULL
		AND recipient = (SELECT mobile FROM staff_logins WHERE euid = $2)`, idp.demoEntity(t).ID, staff.EUID).Scan(&notices); err != nil || notices != 2 {
		t.Errorf("notices to the holder: %d, %v; want 2", notices, err)
	}
}

// TestToolsPasskeyConfig: the relying party is the issuer's host, the
// origin its scheme, host and port; an IP address cannot be one.
func TestToolsPasskeyConfig(t *testing.T) {
	pg, rs := storagetest.NewPostgres(t), storagetest.NewRedis(t)
	cfg := &config.Config{Issuer: "https://id.example.gov.mo", MasterKey: make([]byte, 32)}
	svc, err := newTools(cfg, pg, rs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.BeginPasskeySignIn(t.Context()); err == nil {
		t.Error("a passkey ceremony ran before enablePasskeys")
	}
	if err := enablePasskeys(svc, cfg, rs); err != nil {
		t.Fatal(err)
	}
	if opts, _, err := svc.BeginPasskeySignIn(t.Context()); err != nil || !strings.Contains(string(opts), `"rpId":"id.example.gov.mo"`) {
		t.Errorf("sign-in options %s, %v", opts, err)
	}

	for issuer, want := range map[string][2]string{
		"https://id.example.gov.mo":      {"id.example.gov.mo", "https://id.example.gov.mo"},
		"https://id.example.gov.mo/oidc": {"id.example.gov.mo", "https://id.example.gov.mo"},
		"http://localhost:8080":          {"localhost", "http://localhost:8080"},
		"http://127.0.0.1:8080":          {"", ""},
		"https://[::1]:8443":             {"", ""},
	} {
		wa, err := passkeyConfig(&config.Config{Issuer: issuer, MasterKey: make([]byte, 32)})
		if want[0] == "" {
			if err == nil || !strings.Contains(err.Error(), "IP address") {
				t.Errorf("%s: %+v, %v; want an error", issuer, wa, err)
			}
			continue
		}
		if err != nil || wa.RPID != want[0] || len(wa.Origins) != 1 || wa.Origins[0] != want[1] || wa.DisplayName != "澳門公共服務一戶通" ||
			len(wa.CeremonyKey) != 32 {
			t.Errorf("%s: %+v, %v", issuer, wa, err)
		}
	}
}

// toolAudit is the demo entity's audit trail of l's identity tools, newest
// first, as "actor-kind action".
func (idp *testIDP) toolAudit(t *testing.T, l seededLogin) []string {
	t.Helper()
	events, err := idp.app.pg.EntityAuditEvents(t.Context(), idp.demoEntity(t).ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		if strings.HasPrefix(ev.Action, "tool.") && ev.Target == l.EUID {
			got = append(got, ev.ActorKind+" "+ev.Action)
		}
	}
	return got
}
