package postgres_test

import (
	"testing"

	"github.com/entity-account/idp/storage"
)

// TestResetCodesApart: a reset code goes only to an activated login, is
// not among its activation codes, resets the password once (audited, the
// notice written in the same transaction), and activates nothing; an
// activation code resets nothing.
func TestResetCodesApart(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	fresh := createStaff(t, s, e.ID)
	active := activeStaff(t, s, e.ID, "reset.me")

	if err := s.IssueResetCode(ctx, operator, staffRef(fresh), codeIssue("reset-fresh", fresh.Mobile), nil); err == nil {
		t.Error("a reset code was issued to a login not activated")
	}
	act := codeIssue("activation", fresh.Mobile)
	if err := s.IssueActivationCode(ctx, operator, staffRef(fresh), act); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CompleteReset(ctx, public, act.Code.ID, "new-hash", nil); err == nil {
		t.Error("an activation code reset a password")
	}

	reset := codeIssue("reset", active.Mobile)
	notice := &storage.OutboxMessage{Channel: storage.ChannelSMS, Recipient: active.Mobile, Language: "en", Body: []byte("sealed notice")}
	if err := s.IssueResetCode(ctx, operator, staffRef(active), reset, nil); err != nil {
		t.Fatal(err)
	}
	if codes, err := s.ActivationCodes(ctx, staffRef(active), 10); err != nil || len(codes) != 0 {
		t.Errorf("the reset code is among the activation codes: %v %v", codes, err)
	}
	if err := s.CompleteActivation(ctx, public, reset.Code.ID, "other", "hash"); err == nil {
		t.Error("a reset code completed an activation")
	}
	a, err := s.CompleteReset(ctx, public, reset.Code.ID, "new-hash", notice)
	if err != nil || a.Subject != active.EUID {
		t.Fatalf("CompleteReset = %+v, %v", a, err)
	}
	ev := wantAudit(t, s, public, "staff.password_reset", active.EUID, &e.ID)
	if ev.Details["notice"] == nil || notice.ID == 0 {
		t.Errorf("the notice was not written with the reset: %v", ev.Details)
	}
	sl, err := s.StaffLogin(ctx, active.ID)
	if err != nil || sl.PasswordHash != "new-hash" || sl.Username != "reset.me" || sl.EUID != active.EUID {
		t.Errorf("after the reset: %+v %v", sl, err)
	}
	wantErr(t, "the code used twice", func() error { _, err := s.CompleteReset(ctx, public, reset.Code.ID, "again", nil); return err }(), storage.ErrConflict)
}
