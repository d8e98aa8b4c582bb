package storage

import "testing"

// TestStaffSessionRules: 強制登出 and 解除鎖定 are the operator's and the
// entity's admins' only.
func TestStaffSessionRules(t *testing.T) {
	admin := Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true}
	for _, tc := range []struct {
		name   string
		actor  Actor
		entity int64
		want   bool
	}{
		{"an admin of the entity", admin, 1, true},
		{"an admin of another entity", admin, 2, false},
		{"an admin, no entity named", admin, 0, false},
		{"an inactive admin", Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true}, 1, false},
		{"a service admin", Actor{Kind: ActorStaff, ID: "CU000000002", EntityID: 1, ServiceAdmin: true, Active: true}, 1, false},
		{"a plain staff login", Actor{Kind: ActorStaff, ID: "CU000000003", EntityID: 1, Active: true}, 1, false},
		{"the entity account", Actor{Kind: ActorEntityAccount, ID: "EA1", EntityID: 1, Active: true}, 1, false},
		{"the operator", OperatorActor("safp"), 1, true},
		{"an operator actor without a name is no operator", Actor{Kind: ActorOperator}, 1, false},
		{"a department", Actor{Kind: ActorDepartment, ID: "c1", DepartmentID: 1, Active: true}, 1, false},
		{"the public", PublicActor("192.0.2.1"), 1, false},
	} {
		if got := CanForceSignOut(tc.actor, tc.entity); got != tc.want {
			t.Errorf("CanForceSignOut: %s: %v, want %v", tc.name, got, tc.want)
		}
		if got := CanLiftLockout(tc.actor, tc.entity); got != tc.want {
			t.Errorf("CanLiftLockout: %s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOwnsSession: a browser session is seen and ended in 已登入的裝置 by
// its own account only.
func TestOwnsSession(t *testing.T) {
	me := Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Active: true}
	for _, tc := range []struct {
		name    string
		actor   Actor
		subject string
		want    bool
	}{
		{"its own session", me, "CU000000001", true},
		{"another login's", me, "CU000000002", false},
		{"an admin, another login's", Actor{Kind: ActorStaff, ID: "CU000000009", EntityID: 1, Admin: true, Active: true}, "CU000000001", false},
		{"an inactive account's own", Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1}, "CU000000001", false},
		{"the entity account's own", Actor{Kind: ActorEntityAccount, ID: "EA1", EntityID: 1, Active: true}, "EA1", true},
		{"no subject", Actor{Kind: ActorStaff, EntityID: 1, Active: true}, "", false},
		{"the operator", OperatorActor("safp"), "safp", false},
	} {
		if got := OwnsSession(tc.actor, tc.subject); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
