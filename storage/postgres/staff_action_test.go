package postgres_test

import (
	"testing"

	"github.com/entity-account/idp/storage"
)

// TestAuditStaffAction: an act on a login recorded outside a change of its
// row is audited with its actor and details; a login of another entity, or
// none, is not found and nothing is written.
func TestAuditStaffAction(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	sl := createStaff(t, s, e.ID)
	admin := staffActor(activeStaff(t, s, e.ID, "admin"))

	got, err := s.AuditStaffAction(ctx, admin, e.ID, sl.EUID, "staff.unlock", map[string]any{"locked_until": "2030-01-01T00:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	if got.EUID != sl.EUID || got.PasswordHash != "" {
		t.Errorf("returned %+v", got)
	}
	ev := wantAudit(t, s, admin, "staff.unlock", sl.EUID, &e.ID)
	if ev.Details["locked_until"] != "2030-01-01T00:00:00Z" {
		t.Errorf("details %v", ev.Details)
	}

	other, _ := createEntity(t, s)
	n := auditCount(t, s)
	_, err = s.AuditStaffAction(ctx, admin, other.ID, sl.EUID, "staff.sign_out", nil)
	wantErr(t, "another entity's login", err, storage.ErrNotFound)
	_, err = s.AuditStaffAction(ctx, admin, e.ID, "CU999999999", "staff.sign_out", nil)
	wantErr(t, "no such login", err, storage.ErrNotFound)
	if auditCount(t, s) != n {
		t.Error("a refused act was audited")
	}
}
