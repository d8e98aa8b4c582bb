package tools_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
)

// officers creates a supervisor, a counter officer and a disabled counter
// officer in the fixture's database and returns them as actors.
func (f *fixture) officers(t *testing.T) (sup, counter, disabled storage.Actor) {
	t.Helper()
	ctx := t.Context()
	s := storage.Officer{Login: "lei.kf", DisplayName: "Lei", Role: storage.RoleSupervisor, Status: storage.OfficerActive}
	if err := f.pg.CreateOfficer(ctx, nil, &s); err != nil {
		t.Fatal(err)
	}
	c := storage.Officer{Login: "chan.tm", DisplayName: "Chan", Role: storage.RoleCounter, Status: storage.OfficerActive}
	d := storage.Officer{Login: "ho.mk", DisplayName: "Ho", Role: storage.RoleCounter, Status: storage.OfficerActive}
	for _, o := range []*storage.Officer{&c, &d} {
		if err := f.pg.CreateOfficer(ctx, &s, o); err != nil {
			t.Fatal(err)
		}
	}
	d, err := f.pg.DisableOfficer(ctx, s, d.Login)
	if err != nil {
		t.Fatal(err)
	}
	return storage.OfficerActor(s), storage.OfficerActor(c), storage.OfficerActor(d)
}

// pending enrols and confirms a TOTP of a passport-holding login of the
// fixture's entity (pending the in-person check), returning its secret.
func (f *fixture) pending(t *testing.T, username string) (storage.StaffLogin, storage.Actor, string) {
	t.Helper()
	sl, me := f.staff(t, username, storage.IDPassport)
	en, err := f.svc.BeginTOTP(t.Context(), me, sl.EUID)
	if err != nil {
		t.Fatal(err)
	}
	if tl, err := f.svc.ConfirmTOTP(t.Context(), me, sl.EUID, code(t, en.Secret, f.now)); err != nil || tl.State != storage.ToolPending {
		t.Fatalf("confirm: %+v, %v", tl, err)
	}
	f.now = f.now.Add(time.Minute)
	return sl, me, en.Secret
}

func approvalFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	if err := f.svc.EnableApprovals(bytes.Repeat([]byte{5}, 32), f.rs); err != nil {
		t.Fatal(err)
	}
	return f
}

func wantKey(t *testing.T, what string, err error, key string) {
	t.Helper()
	var e *storage.Error
	if !asError(err, &e) || e.Key != key {
		t.Errorf("%s: %v, want the refusal %s", what, err, key)
	}
}

func asError(err error, e **storage.Error) bool {
	for err != nil {
		if x, ok := err.(*storage.Error); ok {
			*e = x
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// TestApprovalInPerson: the person proves the device and shows the QR
// code; a counter officer resolves it (by token and by typed code), sees
// the document whole (audited) and approves with the document checked;
// the tool is active, the holder told, the audit names the officer and
// the document, and the token works once.
func TestApprovalInPerson(t *testing.T) {
	f := approvalFixture(t)
	ctx := t.Context()
	_, counter, disabled := f.officers(t)
	sl, me, secret := f.pending(t, "staff21")

	if _, err := f.svc.ShowApproval(ctx, me, sl.EUID, wrong(t, secret, f.now)); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("QR code for a wrong code: %v", err)
	}
	other, otherMe := f.staff(t, "staff22", storage.IDPassport)
	if _, err := f.svc.ShowApproval(ctx, otherMe, sl.EUID, code(t, secret, f.now)); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("another login made the QR code: %v", err)
	}
	if _, err := f.svc.ShowApproval(ctx, otherMe, other.EUID, "123456"); storage.CodeOf(err) != storage.EConflict {
		t.Errorf("QR code of a login with no pending tool: %v", err)
	}
	c := code(t, secret, f.now)
	qr, err := f.svc.ShowApproval(ctx, me, sl.EUID, c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(qr.Token, "DA1."+f.entity.Number+"."+sl.EUID+".") || len(qr.Code) != 14 || qr.Code[4] != '-' ||
		!qr.ExpiresAt.Equal(f.now.Add(tools.ApprovalTTL)) {
		t.Errorf("QR %+v", qr)
	}
	if _, err := f.svc.ShowApproval(ctx, me, sl.EUID, c); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("the same app code made a second QR code: %v", err)
	}

	a, err := f.svc.ResolveApproval(ctx, counter, qr.Token)
	if err != nil {
		t.Fatal(err)
	}
	if a.EntityNumber != f.entity.Number || a.EUID != sl.EUID || a.NameZH != "陳大文" || a.DocType != storage.IDPassport ||
		a.DocMasked != storage.MaskDocNumber(sl.IDDocNumber) || a.DocNumber != "" || a.Tool.State != storage.ToolPending {
		t.Errorf("resolved %+v", a)
	}
	typed := strings.ToLower(strings.ReplaceAll(qr.Code, "-", " "))
	if b, err := f.svc.ResolveApproval(ctx, counter, typed); err != nil || b.Token != qr.Token {
		t.Errorf("typed code %q: %+v, %v", typed, b, err)
	}
	f.refusedBeforeApproval(t, qr.Token, sl, counter, map[string]storage.Actor{"disabled officer": disabled, "staff": me})

	woken := f.woken.Load()
	done, err := f.svc.ApproveInPerson(ctx, counter, typed, tools.CheckedDocument{Type: storage.IDPassport, Number: " " + strings.ToLower(sl.IDDocNumber)})
	if err != nil || done.Tool.State != storage.ToolActive || done.Tool.ApprovedAt == nil {
		t.Fatalf("approve: %+v, %v", done, err)
	}
	if f.woken.Load() == woken {
		t.Error("the holder was not told")
	}
	var doc, method string
	var officerID int64
	var step int64
	err = f.pg.Pool().QueryRow(ctx, `SELECT details->'document'->>'number', details->>'method', officer_id, (details->>'proven_step')::bigint
		FROM audit_events WHERE action = 'tool.approve' AND target = $1`, sl.EUID).Scan(&doc, &method, &officerID, &step)
	if err != nil || doc != storage.NormalizeIDDocNumber(sl.IDDocNumber) || method != "in_person_qr" || officerID != counter.OfficerID ||
		step != f.now.Unix()/30 {
		t.Errorf("tool.approve: document %q, method %q, officer %d, step %d (want %d), %v", doc, method, officerID, step, f.now.Unix()/30, err)
	}
	_, err = f.svc.ApproveInPerson(ctx, counter, qr.Token, tools.CheckedDocument{Type: storage.IDPassport, Number: sl.IDDocNumber})
	wantKey(t, "replayed", err, "toolsqr_error_used")
	_, err = f.svc.ResolveApproval(ctx, counter, qr.Token)
	wantKey(t, "resolved after use", err, "toolsqr_error_used")

	// The code proven for the QR code does not sign in; the next one does.
	if err := f.svc.VerifyTOTP(ctx, sl.ID, c); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("the QR code's app code signed in: %v", err)
	}
	f.now = f.now.Add(time.Minute)
	if err := f.svc.VerifyTOTP(ctx, sl.ID, code(t, secret, f.now)); err != nil {
		t.Errorf("sign-in after the approval: %v", err)
	}
}

// refusedBeforeApproval: the actors refused may neither resolve nor
// approve token; counter sees the document whole (audited) and is refused
// another document than sl's.
func (f *fixture) refusedBeforeApproval(t *testing.T, token string, sl storage.StaffLogin, counter storage.Actor, refused map[string]storage.Actor) {
	t.Helper()
	ctx := t.Context()
	for name, actor := range refused {
		if _, err := f.svc.ResolveApproval(ctx, actor, token); storage.CodeOf(err) != storage.EForbidden {
			t.Errorf("%s resolved: %v", name, err)
		}
		if _, err := f.svc.ApproveInPerson(ctx, actor, token, tools.CheckedDocument{Type: storage.IDPassport, Number: sl.IDDocNumber}); storage.CodeOf(err) != storage.EForbidden {
			t.Errorf("%s approved: %v", name, err)
		}
	}
	full, err := f.svc.RevealDocument(ctx, counter, token)
	if err != nil || full.DocNumber != sl.IDDocNumber {
		t.Errorf("reveal: %+v, %v", full, err)
	}
	if got := auditOf(t, f, "staff.document.show"); got != "chan.tm "+sl.EUID {
		t.Errorf("the reveal audited as %q", got)
	}
	_, err = f.svc.ApproveInPerson(ctx, counter, token, tools.CheckedDocument{Type: storage.IDPassport, Number: "X0000000"})
	wantKey(t, "another document's number", err, "toolsqr_error_document")
	_, err = f.svc.ApproveInPerson(ctx, counter, token, tools.CheckedDocument{Type: storage.IDOther, Number: sl.IDDocNumber})
	wantKey(t, "another document type", err, "toolsqr_error_document")
	_, err = f.svc.ApproveInPerson(ctx, counter, token, tools.CheckedDocument{Type: "card", Number: sl.IDDocNumber})
	wantKey(t, "no document type", err, "toolsqr_error_document_type")
}

// auditOf is the actor and target of the one audit event of action.
func auditOf(t *testing.T, f *fixture, action string) string {
	t.Helper()
	var actor, target string
	if err := f.pg.Pool().QueryRow(t.Context(), `SELECT actor_id, target FROM audit_events WHERE action = $1`, action).Scan(&actor, &target); err != nil {
		t.Fatal(err)
	}
	return actor + " " + target
}

// TestApprovalRefusals: expired, altered (another entity's token edited),
// unknown, replaced by a newer one, and a tool reset meanwhile.
func TestApprovalRefusals(t *testing.T) {
	f := approvalFixture(t)
	ctx := t.Context()
	sup, counter, _ := f.officers(t)
	sl, me, secret := f.pending(t, "staff31")
	qr, err := f.svc.ShowApproval(ctx, me, sl.EUID, code(t, secret, f.now))
	if err != nil {
		t.Fatal(err)
	}

	// Altered: a character of the MAC, the expiry, or another entity's
	// number put in place of the token's.
	last := qr.Token[len(qr.Token)-1]
	flip := byte('A')
	if last == 'A' {
		flip = 'B'
	}
	f2 := f.secondEntity(t)
	for name, bad := range map[string]string{
		"mac":         qr.Token[:len(qr.Token)-1] + string(flip),
		"expiry":      strings.Replace(qr.Token, fmt.Sprint(qr.ExpiresAt.Unix()), fmt.Sprint(qr.ExpiresAt.Add(time.Hour).Unix()), 1),
		"entity":      strings.Replace(qr.Token, f.entity.Number, f2.Number, 1),
		"not a token": "DA1.nonsense",
	} {
		_, err := f.svc.ResolveApproval(ctx, counter, bad)
		wantKey(t, "altered "+name, err, "toolsqr_error_invalid")
	}
	_, err = f.svc.ResolveApproval(ctx, counter, "0000-0000-0000")
	wantKey(t, "unknown typed code", err, "toolsqr_error_unknown")
	_, err = f.svc.ResolveApproval(ctx, counter, "hello")
	wantKey(t, "no code at all", err, "toolsqr_error_unknown")

	// Expired, by token and by typed code.
	f.now = f.now.Add(tools.ApprovalTTL)
	_, err = f.svc.ResolveApproval(ctx, counter, qr.Token)
	wantKey(t, "expired", err, "toolsqr_error_expired")
	_, err = f.svc.ApproveInPerson(ctx, sup, qr.Token, tools.CheckedDocument{Type: storage.IDPassport, Number: sl.IDDocNumber})
	wantKey(t, "approved expired", err, "toolsqr_error_expired")

	// A newer QR code replaces the older.
	old, err := f.svc.ShowApproval(ctx, me, sl.EUID, code(t, secret, f.now))
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	newer, err := f.svc.ShowApproval(ctx, me, sl.EUID, code(t, secret, f.now))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ResolveApproval(ctx, counter, old.Token)
	wantKey(t, "replaced", err, "toolsqr_error_replaced")
	_, err = f.svc.ResolveApproval(ctx, counter, old.Code)
	wantKey(t, "replaced, typed", err, "toolsqr_error_replaced")

	// Reset meanwhile, then enrolled and confirmed again: the QR code of the
	// old tool approves neither.
	if _, err := f.svc.ResetTools(ctx, sup, f.entity.Number, sl.EUID); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ResolveApproval(ctx, counter, newer.Token)
	wantKey(t, "reset meanwhile", err, "toolsqr_error_not_pending")
	en, err := f.svc.BeginTOTP(ctx, me, sl.EUID)
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	if _, err := f.svc.ConfirmTOTP(ctx, me, sl.EUID, code(t, en.Secret, f.now)); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.ApproveInPerson(ctx, counter, newer.Token, tools.CheckedDocument{Type: storage.IDPassport, Number: sl.IDDocNumber})
	wantKey(t, "the old tool's QR code for the new tool", err, "toolsqr_error_not_pending")
	if tl, _, err := f.pg.TOTP(ctx, sl.ID); err != nil || tl.State != storage.ToolPending {
		t.Errorf("the new tool: %+v, %v", tl, err)
	}
}

// secondEntity opens another entity.
func (f *fixture) secondEntity(t *testing.T) storage.Entity {
	t.Helper()
	e := storage.Entity{Number: fmt.Sprintf("03-%06d", entitySeq.Add(1)), NameZH: "第二有限公司", Kind: "company"}
	a := storage.EntityAccount{ApplicationNumber: "APP-" + e.Number, Email: "two@example.mo", Language: "pt"}
	if err := f.pg.CreateEntity(t.Context(), operator, &e, &a); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestApprovalPerEntity: a person with logins in two entities shows one QR
// code per login; each approves its own login only.
func TestApprovalPerEntity(t *testing.T) {
	f := approvalFixture(t)
	ctx := t.Context()
	_, counter, _ := f.officers(t)
	slA, meA, secretA := f.pending(t, "staff41")
	first := f.entity
	f.entity = f.secondEntity(t)
	slB, meB, secretB := f.pending(t, "staff41")
	f.entity = first
	qrA, err := f.svc.ShowApproval(ctx, meA, slA.EUID, code(t, secretA, f.now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ShowApproval(ctx, meB, slB.EUID, code(t, secretB, f.now)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ApproveInPerson(ctx, counter, qrA.Token, tools.CheckedDocument{Type: storage.IDPassport, Number: slA.IDDocNumber}); err != nil {
		t.Fatal(err)
	}
	a, _, _ := f.pg.TOTP(ctx, slA.ID)
	b, _, _ := f.pg.TOTP(ctx, slB.ID)
	if a.State != storage.ToolActive || b.State != storage.ToolPending {
		t.Errorf("entity A's QR code: A %s, B %s", a.State, b.State)
	}
}

// TestApprovalOnce: of one token approved at once by several desks,
// exactly one approval goes through.
func TestApprovalOnce(t *testing.T) {
	f := approvalFixture(t)
	ctx := t.Context()
	sup, counter, _ := f.officers(t)
	sl, me, secret := f.pending(t, "staff51")
	qr, err := f.svc.ShowApproval(ctx, me, sl.EUID, code(t, secret, f.now))
	if err != nil {
		t.Fatal(err)
	}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			who := counter
			if i%2 == 0 {
				who = sup
			}
			if _, err := f.svc.ApproveInPerson(ctx, who, qr.Token, tools.CheckedDocument{Type: storage.IDPassport, Number: sl.IDDocNumber}); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	var n int
	if err := f.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'tool.approve'`).Scan(&n); err != nil || ok.Load() != 1 || n != 1 {
		t.Errorf("one token approved %d times at once, %d audit events (%v)", ok.Load(), n, err)
	}
}
