package postgres_test

import (
	"reflect"
	"testing"

	"github.com/entity-account/idp/storage"
)

// TestAssignInEntity: assignments made for an entity find the login, the
// e-service and the group within that entity only; a change is audited in
// its transaction, no change writes nothing; taking a login off an
// e-service takes it out of its groups there; EntityServices shows it all.
func TestAssignInEntity(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	other, _ := createEntity(t, s)
	alice := activeStaff(t, s, e.ID, "alice")
	bob := activeStaff(t, s, e.ID, "bob")
	outsider := activeStaff(t, s, other.ID, "outsider")
	parking := createService(t, s, "parking", storage.PolicyAssigned)
	closed := createService(t, s, "closed", storage.PolicyAssigned)
	permits := createService(t, s, "permits", storage.PolicyEnrolled)
	createGroup(t, s, parking.ID, "admin")
	createGroup(t, s, parking.ID, "operator")
	createGroup(t, s, permits.ID, "clerk")
	for _, id := range []int64{parking.ID, permits.ID} {
		if _, err := s.EnrollEntity(ctx, operator, id, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.EnrollEntity(ctx, operator, closed.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	admin := staffActor(alice)

	// Not of the entity: not found, nothing written.
	before := auditCount(t, s)
	for what, args := range map[string][3]string{
		"another entity's login":    {outsider.EUID, "parking", ""},
		"an unknown login":          {"CU999999999", "parking", ""},
		"an e-service not opened":   {bob.EUID, "closed", ""},
		"an unknown e-service":      {bob.EUID, "nosuch", ""},
		"another e-service's group": {bob.EUID, "parking", "clerk"},
	} {
		_, err := s.AssignInEntity(ctx, admin, e.ID, args[0], args[1], args[2])
		wantErr(t, what, err, storage.ErrNotFound)
		_, err = s.UnassignInEntity(ctx, admin, e.ID, args[0], args[1], args[2])
		wantErr(t, what+" (unassign)", err, storage.ErrNotFound)
	}
	if got := auditCount(t, s); got != before {
		t.Fatalf("audit rows %d → %d for refusals", before, got)
	}

	// Into a group: assigned to the e-service as well, once.
	if changed, err := s.AssignInEntity(ctx, admin, e.ID, bob.EUID, "parking", "admin"); err != nil || !changed {
		t.Fatalf("assign to group: %v %v", changed, err)
	}
	ev := wantAudit(t, s, admin, "group.add_member", bob.EUID, &e.ID)
	if ev.Details["group"] != "admin" || ev.Details["assigned"] != true {
		t.Errorf("group.add_member details %v", ev.Details)
	}
	if changed, err := s.AssignInEntity(ctx, admin, e.ID, bob.EUID, "parking", "admin"); err != nil || changed {
		t.Errorf("assigning again: %v %v, want no change", changed, err)
	}
	if changed, err := s.AssignInEntity(ctx, admin, e.ID, bob.EUID, "parking", "operator"); err != nil || !changed {
		t.Fatalf("second group: %v %v", changed, err)
	}
	if changed, err := s.AssignInEntity(ctx, admin, e.ID, alice.EUID, "permits", ""); err != nil || !changed {
		t.Fatalf("assign to e-service: %v %v", changed, err)
	}
	wantAudit(t, s, admin, "service.assign", alice.EUID, &e.ID)

	all, err := s.EntityServices(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, sv := range all {
		codes = append(codes, sv.Code)
	}
	if !reflect.DeepEqual(codes, []string{"parking", "permits"}) {
		t.Fatalf("EntityServices = %v", codes)
	}
	if g, _ := all[0].Group("admin"); !reflect.DeepEqual(g.Members, []string{bob.EUID}) {
		t.Errorf("parking/admin members = %v", g.Members)
	}
	if !reflect.DeepEqual(all[0].Assigned, []string{bob.EUID}) || !reflect.DeepEqual(all[1].Assigned, []string{alice.EUID}) {
		t.Errorf("assigned: %v %v", all[0].Assigned, all[1].Assigned)
	}
	if g, _ := all[1].Group("clerk"); g.Members == nil || len(g.Members) != 0 {
		t.Errorf("an empty group's members = %#v, want []", g.Members)
	}

	// Out of one group, then off the e-service: its other group goes too.
	if changed, err := s.UnassignInEntity(ctx, admin, e.ID, bob.EUID, "parking", "admin"); err != nil || !changed {
		t.Fatalf("unassign from group: %v %v", changed, err)
	}
	wantAudit(t, s, admin, "group.remove_member", bob.EUID, &e.ID)
	if changed, err := s.UnassignInEntity(ctx, admin, e.ID, bob.EUID, "parking", ""); err != nil || !changed {
		t.Fatalf("unassign from e-service: %v %v", changed, err)
	}
	ev = wantAudit(t, s, admin, "service.unassign", bob.EUID, &e.ID)
	if groups, _ := ev.Details["groups"].([]any); len(groups) != 1 || groups[0] != "operator" {
		t.Errorf("service.unassign details %v", ev.Details)
	}
	a, err := s.ServiceAccess(ctx, bob.ID, parking.ID)
	if err != nil || a.Assigned || len(a.Groups) != 0 {
		t.Errorf("after unassign: %+v %v", a, err)
	}
	before = auditCount(t, s)
	if changed, err := s.UnassignInEntity(ctx, admin, e.ID, bob.EUID, "parking", ""); err != nil || changed {
		t.Errorf("unassigning again: %v %v, want no change", changed, err)
	}
	if got := auditCount(t, s); got != before {
		t.Errorf("audit rows %d → %d for no change", before, got)
	}

	// A deleted login cannot be assigned, but can be taken off.
	if err := setStatus(ctx, s, operator, alice, storage.StatusDeleted); err != nil {
		t.Fatal(err)
	}
	before = auditCount(t, s)
	_, err = s.AssignInEntity(ctx, operator, e.ID, alice.EUID, "permits", "clerk")
	wantErr(t, "assign a deleted login", err, storage.ErrInvalid)
	if got := auditCount(t, s); got != before {
		t.Errorf("audit rows %d → %d", before, got)
	}
	if changed, err := s.UnassignInEntity(ctx, operator, e.ID, alice.EUID, "permits", ""); err != nil || !changed {
		t.Errorf("unassign a deleted login: %v %v", changed, err)
	}
}
