package postgres_test

import (
	"testing"

	"github.com/entity-account/idp/storage"
)

// TestDeleteVoidsOpenCode: deleting a staff login voids its open activation
// code and cancels the message carrying it, in the deletion's transaction.
func TestDeleteVoidsOpenCode(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	sl := createStaff(t, s, e.ID)
	issue := codeIssue("open", sl.Mobile)
	if err := s.IssueActivationCode(ctx, operator, staffRef(sl), issue); err != nil {
		t.Fatal(err)
	}
	if err := setStatus(ctx, s, operator, sl, storage.StatusDeleted); err != nil {
		t.Fatal(err)
	}
	ev := wantAudit(t, s, operator, "staff.delete", sl.EUID, &e.ID)
	if ev.Details["voided_codes"] == nil {
		t.Errorf("the audit event does not name the voided code: %v", ev.Details)
	}
	codes, err := s.ActivationCodes(ctx, staffRef(sl), 5)
	if err != nil || len(codes) != 1 || codes[0].VoidedAt == nil || codes[0].VoidReason != storage.VoidAccountDeleted {
		t.Fatalf("codes after delete = %+v, %v", codes, err)
	}
	if m, _ := s.OutboxMessage(ctx, issue.Message.ID); m.CancelledAt == nil {
		t.Error("the deleted login's code is still to be delivered")
	}
	// Restoring brings no code back.
	if err := setStatus(ctx, s, operator, sl, storage.StatusActive); err != nil {
		t.Fatal(err)
	}
	if codes, _ := s.ActivationCodes(ctx, staffRef(sl), 5); codes[0].VoidedAt == nil {
		t.Error("restore revived the voided code")
	}
}

// TestSetStaffAdmin: admin rights given and taken with their audit events;
// repeats are conflicts; another entity's login is unknown.
func TestSetStaffAdmin(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	sl := activeStaff(t, s, e.ID, "carol")
	got, err := s.SetStaffAdmin(ctx, operator, e.ID, sl.EUID, true, nil)
	if err != nil || !got.Admin {
		t.Fatalf("grant: %+v, %v", got, err)
	}
	wantAudit(t, s, operator, "staff.admin_grant", sl.EUID, &e.ID)
	_, err = s.SetStaffAdmin(ctx, operator, e.ID, sl.EUID, true, nil)
	wantErr(t, "grant again", err, storage.ErrConflict)

	self := staffActor(sl)
	if got, err = s.SetStaffAdmin(ctx, self, e.ID, sl.EUID, false, nil); err != nil || got.Admin {
		t.Fatalf("remove own rights: %+v, %v", got, err)
	}
	wantAudit(t, s, self, "staff.admin_remove", sl.EUID, &e.ID)
	if fresh, _ := s.StaffLogin(ctx, sl.ID); fresh.Admin {
		t.Error("still admin after removal")
	}

	other, _ := createEntity(t, s)
	_, err = s.SetStaffAdmin(ctx, operator, other.ID, sl.EUID, true, nil)
	wantErr(t, "another entity's login", err, storage.ErrNotFound)
	if err := setStatus(ctx, s, operator, sl, storage.StatusDeleted); err != nil {
		t.Fatal(err)
	}
	_, err = s.SetStaffAdmin(ctx, operator, e.ID, sl.EUID, true, nil)
	wantErr(t, "grant to a deleted login", err, storage.ErrConflict)
}
