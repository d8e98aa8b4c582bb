package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/entity-account/idp/storage"
)

// TestToolsApproveAndReset: a staff login registered with a passport enrols
// a 安全驗證碼 and stays pending; `idp tools approve` refuses a wrong code
// and approves with the right one; `idp tools reset` removes it; each step
// is in the entity's audit trail.
func TestToolsApproveAndReset(t *testing.T) {
	idp := startIDP(t, nil)
	t.Setenv("IDP_DATABASE_URL", idp.app.cfg.DatabaseURL)
	t.Setenv("IDP_REDIS_URL", idp.app.cfg.RedisURL)
	t.Setenv("IDP_REDIS_PREFIX", idp.app.cfg.RedisPrefix)
	t.Setenv("IDP_MASTER_KEY", hex.EncodeToString(idp.app.cfg.MasterKey))
	t.Setenv("IDP_LOG_LEVEL", "warn")
	logger := slog.Default()
	t.Cleanup(func() { slog.SetDefault(logger) })
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
	e := idp.demoEntity(t)
	events, err := idp.app.pg.EntityAuditEvents(ctx, e.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		if strings.HasPrefix(ev.Action, "tool.") && ev.Target == staff.EUID {
			got = append(got, ev.ActorKind+" "+ev.Action)
		}
	}
	want := "operator tool.reset,operator tool.approve,staff tool.confirm,staff tool.enrol"
	if strings.Join(got, ",") != want {
		t.Errorf("audit %v, want %s", got, want)
	}
}
