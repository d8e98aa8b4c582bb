package tools_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
	"github.com/entity-account/idp/storage/storagetest"
)

var (
	operator  = storage.OperatorActor("safp-op")
	entitySeq atomic.Int64
	// t0 is a fixed clock, at the start of a 30 s step.
	t0 = time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
)

type fixture struct {
	pg     *postgres.Store
	rs     *rstore.Store
	svc    *tools.Service
	outbox *notify.Sealer
	entity storage.Entity
	now    time.Time
	woken  atomic.Int32 // calls of the outbox worker's Wake
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pg := storagetest.NewPostgres(t)
	rs := storagetest.NewRedis(t)
	outbox, err := notify.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	texts, err := notify.LoadTexts()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{pg: pg, rs: rs, outbox: outbox, now: t0}
	svc, err := tools.New(pg, rs, bytes.Repeat([]byte{9}, 32), tools.Notices{Sealer: outbox, Texts: texts, Wake: func() { f.woken.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	svc.Now = func() time.Time { return f.now }
	e := storage.Entity{Number: fmt.Sprintf("03-%06d", entitySeq.Add(1)), NameZH: "測試有限公司", NamePT: "Teste", Kind: "company"}
	a := storage.EntityAccount{ApplicationNumber: "APP-" + e.Number, Email: "corp@example.mo", Language: "pt"}
	if err := pg.CreateEntity(t.Context(), operator, &e, &a); err != nil {
		t.Fatal(err)
	}
	f.entity = e
	return f
}

// staff registers and activates a staff login with an identity document of doc.
func (f *fixture) staff(t *testing.T, username, doc string) (storage.StaffLogin, storage.Actor) {
	t.Helper()
	number := "1234567(8)"
	if doc == storage.IDPassport {
		number = "K" + fmt.Sprint(entitySeq.Add(1)) + username
	}
	if username == "admin01" {
		number = "7654321(0)"
	}
	sl := storage.StaffLogin{EntityID: f.entity.ID, NameZH: "陳大文", NameForeign: "Chan", IDDocType: doc, IDDocNumber: number,
		IDDocIssuePlace: "MO", BirthDate: time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), Mobile: "+85366123456",
		Email: username + "@example.mo", Language: "zh-Hant", Admin: username == "admin01"}
	if err := f.pg.CreateStaffLogin(t.Context(), operator, &sl); err != nil {
		t.Fatal(err)
	}
	if err := f.pg.ActivateStaffLogin(t.Context(), storage.Actor{Kind: storage.ActorStaff, ID: sl.EUID}, sl.ID, username, "hash"); err != nil {
		t.Fatal(err)
	}
	sl, err := f.pg.StaffLogin(t.Context(), sl.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sl, storage.Actor{Kind: storage.ActorStaff, ID: sl.EUID, EntityID: sl.EntityID, Admin: sl.Admin, Active: true, IP: "192.0.2.7"}
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrong is a code that is none of the codes of at and the steps beside it.
func wrong(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", i)
		if c != code(t, secret, at) && c != code(t, secret, at.Add(-30*time.Second)) && c != code(t, secret, at.Add(30*time.Second)) {
			return c
		}
	}
}

func actions(t *testing.T, pg *postgres.Store, entityID int64) []string {
	t.Helper()
	events, err := pg.EntityAuditEvents(t.Context(), entityID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if strings.HasPrefix(e.Action, "tool.") {
			out = append(out, e.Action+" "+e.Target)
		}
	}
	return out
}

func TestTOTPMacauIDConfirmsItself(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	sl, me := f.staff(t, "staff01", storage.IDMacauPermanent)
	en, err := f.svc.BeginTOTP(ctx, me, sl.EUID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(en.URL, "otpauth://totp/") || !strings.Contains(en.URL, "secret="+en.Secret) ||
		!strings.Contains(en.URL, f.entity.Number) || !strings.Contains(en.URL, "staff01") || en.Tool.State != storage.ToolUnconfirmed {
		t.Errorf("enrolment %+v", en)
	}
	// The row holds sealed bytes only, never the secret.
	var sealed []byte
	if err := f.pg.Pool().QueryRow(ctx, `SELECT secret_sealed FROM identity_tools WHERE staff_login_id = $1`, sl.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(en.Secret)) || len(sealed) < 28+20 {
		t.Errorf("stored secret %q is not sealed", sealed)
	}
	tool, err := f.svc.ConfirmTOTP(ctx, me, sl.EUID, code(t, en.Secret, f.now))
	if err != nil || tool.State != storage.ToolActive || tool.ConfirmedAt == nil {
		t.Fatalf("ConfirmTOTP = %+v, %v; want active", tool, err)
	}
	// The first code was used by the confirmation: it does not sign in again.
	if err := f.svc.VerifyTOTP(ctx, sl.ID, code(t, en.Secret, f.now)); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("confirmation code replayed at sign-in: %v", err)
	}
	if got := actions(t, f.pg, f.entity.ID); len(got) != 2 || got[0] != "tool.confirm "+sl.EUID || got[1] != "tool.enrol "+sl.EUID {
		t.Errorf("audit %v", got)
	}
	// A second enrolment over an active tool is a conflict.
	if _, err := f.svc.BeginTOTP(ctx, me, sl.EUID); storage.CodeOf(err) != storage.EConflict {
		t.Errorf("BeginTOTP over an active tool: %v", err)
	}
}

func TestTOTPPassportPendingUntilApproved(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	sl, me := f.staff(t, "staff02", storage.IDPassport)
	en, err := f.svc.BeginTOTP(ctx, me, sl.EUID)
	if err != nil {
		t.Fatal(err)
	}
	tool, err := f.svc.ConfirmTOTP(ctx, me, sl.EUID, code(t, en.Secret, f.now))
	if err != nil || tool.State != storage.ToolPending {
		t.Fatalf("ConfirmTOTP = %+v, %v; want pending", tool, err)
	}
	f.now = f.now.Add(time.Minute)
	if err := f.svc.VerifyTOTP(ctx, sl.ID, code(t, en.Secret, f.now)); storage.CodeOf(err) != storage.EConflict {
		t.Errorf("a pending tool signed in: %v", err)
	}
	if _, err := f.svc.ApproveTOTP(ctx, me, f.entity.Number, sl.EUID, code(t, en.Secret, f.now)); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("the login approved itself: %v", err)
	}
	if _, err := f.svc.ApproveTOTP(ctx, operator, f.entity.Number, sl.EUID, wrong(t, en.Secret, f.now)); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("approve with a wrong code: %v", err)
	}
	tool, err = f.svc.ApproveTOTP(ctx, operator, f.entity.Number, sl.EUID, code(t, en.Secret, f.now))
	if err != nil || tool.State != storage.ToolActive || tool.ApprovedAt == nil {
		t.Fatalf("ApproveTOTP = %+v, %v", tool, err)
	}
	f.now = f.now.Add(time.Minute)
	if err := f.svc.VerifyTOTP(ctx, sl.ID, code(t, en.Secret, f.now)); err != nil {
		t.Errorf("sign-in after approval: %v", err)
	}
	if got := actions(t, f.pg, f.entity.ID); len(got) != 3 || got[0] != "tool.approve "+sl.EUID {
		t.Errorf("audit %v", got)
	}
}

// active enrols and confirms a TOTP of a Macau-ID login, returning its secret.
func (f *fixture) active(t *testing.T, username string) (storage.StaffLogin, string) {
	t.Helper()
	sl, me := f.staff(t, username, storage.IDMacauNonPermanent)
	en, err := f.svc.BeginTOTP(t.Context(), me, sl.EUID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ConfirmTOTP(t.Context(), me, sl.EUID, code(t, en.Secret, f.now)); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	return sl, en.Secret
}

func TestTOTPReplayAndSkew(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	sl, secret := f.active(t, "staff03")
	c := code(t, secret, f.now)
	if err := f.svc.VerifyTOTP(ctx, sl.ID, c); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := f.svc.VerifyTOTP(ctx, sl.ID, c); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("replay in the same step: %v", err)
	}
	f.now = f.now.Add(2 * time.Minute)
	if err := f.svc.VerifyTOTP(ctx, sl.ID, code(t, secret, f.now.Add(-30*time.Second))); err != nil {
		t.Errorf("code of the previous step (skew 1): %v", err)
	}
	f.now = f.now.Add(2 * time.Minute)
	if err := f.svc.VerifyTOTP(ctx, sl.ID, code(t, secret, f.now.Add(-90*time.Second))); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("code of 3 steps ago: %v", err)
	}
	if err := f.svc.VerifyTOTP(ctx, sl.ID, "12345"); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("malformed code: %v", err)
	}
	// Of one code sent at once, exactly one is accepted.
	f.now = f.now.Add(time.Minute)
	c = code(t, secret, f.now)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f.svc.VerifyTOTP(ctx, sl.ID, c) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("one code sent 4 times at once accepted %d times", ok.Load())
	}
}

func TestTOTPThrottledConcurrentWrongCodes(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	sl, secret := f.active(t, "staff04")
	bad := wrong(t, secret, f.now)
	var checked, throttled atomic.Int32
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f.svc.VerifyTOTP(ctx, sl.ID, bad)
			var e *storage.Error
			switch {
			case err == nil:
				t.Error("a wrong code was accepted")
			case storage.CodeOf(err) == storage.EInvalid:
				checked.Add(1)
			case storage.CodeOf(err) == storage.EConflict && errorsAs(err, &e) && e.Key == "tool_error_throttled":
				throttled.Add(1)
			default:
				t.Errorf("wrong code: %v", err)
			}
		}()
	}
	wg.Wait()
	if checked.Load() != int32(f.svc.TriesPerLogin) || throttled.Load() != 30-int32(f.svc.TriesPerLogin) {
		t.Errorf("30 wrong codes at once: %d checked, %d throttled; want %d checked", checked.Load(), throttled.Load(), f.svc.TriesPerLogin)
	}
	// Even the right code waits for the window now.
	if err := f.svc.VerifyTOTP(ctx, sl.ID, code(t, secret, f.now)); storage.CodeOf(err) != storage.EConflict {
		t.Errorf("right code while throttled: %v", err)
	}
}

func TestTOTPNobodyEnrolsForSomeoneElse(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	sl, _ := f.staff(t, "staff05", storage.IDMacauPermanent)
	_, admin := f.staff(t, "admin01", storage.IDMacauPermanent)
	if _, err := f.svc.BeginTOTP(ctx, admin, sl.EUID); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("an admin enrolled for someone else: %v", err)
	}
	if _, err := f.svc.BeginTOTP(ctx, operator, sl.EUID); storage.CodeOf(err) == "" {
		t.Error("the operator enrolled for a login")
	}
	if _, err := f.svc.ConfirmTOTP(ctx, admin, sl.EUID, "123456"); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("an admin confirmed for someone else: %v", err)
	}
	if _, err := f.svc.ResetTools(ctx, admin, f.entity.Number, sl.EUID); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("an admin reset tools: %v", err)
	}
}

func TestTOTPReset(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	sl, _ := f.active(t, "staff06")
	n, err := f.svc.ResetTools(ctx, operator, f.entity.Number, sl.EUID)
	if err != nil || n != 1 {
		t.Fatalf("ResetTools = %d, %v", n, err)
	}
	if list, err := f.pg.Tools(ctx, sl.ID); err != nil || len(list) != 0 {
		t.Errorf("tools after reset: %v, %v", list, err)
	}
	if got := actions(t, f.pg, f.entity.ID); len(got) == 0 || got[0] != "tool.reset "+sl.EUID {
		t.Errorf("audit %v", got)
	}
	if _, err := f.svc.ResetTools(ctx, operator, f.entity.Number, sl.EUID); storage.CodeOf(err) != storage.ENotFound {
		t.Errorf("second reset: %v", err)
	}
	// Enrolling again works after a reset.
	me := storage.Actor{Kind: storage.ActorStaff, ID: sl.EUID, EntityID: sl.EntityID, Active: true}
	if _, err := f.svc.BeginTOTP(ctx, me, sl.EUID); err != nil {
		t.Errorf("enrol after reset: %v", err)
	}
}

func TestSealerBindsLogin(t *testing.T) {
	s, err := tools.NewSealer(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal(1, "JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(1, sealed); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(2, sealed); err == nil {
		t.Error("a secret sealed for login 1 opened for login 2")
	}
	other, _ := tools.NewSealer(bytes.Repeat([]byte{2}, 32))
	if _, err := other.Open(1, sealed); err == nil {
		t.Error("opened under another key")
	}
	if _, err := tools.NewSealer([]byte("short")); err == nil {
		t.Error("short key accepted")
	}
}

func errorsAs(err error, target **storage.Error) bool { return errors.As(err, target) }

// TestSealerOpensEarlierSecrets opens a TOTP secret sealed by an earlier
// release (before the cipher moved to package seal): the sealed form must
// never change, or every enrolled authenticator stops working.
func TestSealerOpensEarlierSecrets(t *testing.T) {
	s, err := tools.NewSealer(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := hex.DecodeString("eb3d99441ebb5d849c6819ab8fe0b1522ca9788e2e183a70eafdb0dd01253f8d9a2589a4e2744a44543ba5f4")
	if got, err := s.Open(42, sealed); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(43, sealed); err == nil {
		t.Error("the earlier secret opened for another login")
	}
}
