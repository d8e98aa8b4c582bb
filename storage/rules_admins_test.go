package storage

import "testing"

// TestAdminRemovalNeedsConfirmation: removing the rights of every active
// admin of an entity needs the confirmation of its account; removing some,
// or only deleted admins' rights, or the operator removing them, does not.
func TestAdminRemovalNeedsConfirmation(t *testing.T) {
	admin := func(euid string, status AssociationStatus) StaffLogin {
		return StaffLogin{EUID: euid, EntityID: 1, Admin: true, Status: status}
	}
	staff := []StaffLogin{
		admin("CU000000001", StatusActive),
		admin("CU000000002", StatusActive),
		admin("CU000000003", StatusDeleted), // a deleted admin administers nothing
		{EUID: "CU000000004", EntityID: 1, Status: StatusActive},
	}
	account := Actor{Kind: ActorEntityAccount, ID: "EA1", EntityID: 1, Active: true}
	self := Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true}
	for _, tc := range []struct {
		name     string
		actor    Actor
		staff    []StaffLogin
		removing []string
		want     bool
	}{
		{"one of two admins", account, staff, []string{"CU000000001"}, false},
		{"both active admins", account, staff, []string{"CU000000001", "CU000000002"}, true},
		{"both active admins and the deleted one", account, staff, []string{"CU000000001", "CU000000002", "CU000000003"}, true},
		{"an admin its own rights, the other left", self, staff, []string{"CU000000001"}, false},
		{"an admin its own and the other's", self, staff, []string{"CU000000002", "CU000000001"}, true},
		{"the deleted admin only", account, staff, []string{"CU000000003"}, false},
		{"a login without admin rights", account, staff, []string{"CU000000004"}, false},
		{"EUIDs of no login of the entity", account, staff, []string{"CU999999999", "CU000000001"}, false},
		{"nothing chosen", account, staff, nil, false},
		{"the only admin", account, []StaffLogin{admin("CU000000001", StatusActive)}, []string{"CU000000001"}, true},
		{"an entity with no active admin left already", account, []StaffLogin{admin("CU000000003", StatusDeleted)}, []string{"CU000000003"}, false},
		{"the operator removes the only admin", OperatorActor("safp"), []StaffLogin{admin("CU000000001", StatusActive)}, []string{"CU000000001"}, false},
		{"an operator actor without a name is no operator", Actor{Kind: ActorOperator}, []StaffLogin{admin("CU000000001", StatusActive)}, []string{"CU000000001"}, true},
	} {
		if got := AdminRemovalNeedsConfirmation(tc.actor, tc.staff, tc.removing); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
