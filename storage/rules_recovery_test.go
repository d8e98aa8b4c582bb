package storage

import (
	"testing"
	"time"
)

func TestResetPasswordRules(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	staff := StaffLogin{ID: 5, EUID: "CU000000005", EntityID: 1, Status: StatusActive, ActivatedAt: &at}
	admin := staff
	admin.EUID, admin.Admin = "CU000000006", true
	deleted := staff
	deleted.Status = StatusDeleted
	notActivated := staff
	notActivated.ActivatedAt = nil
	adminActor := Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true}
	for _, tc := range []struct {
		name   string
		actor  Actor
		target StaffLogin
		may    bool
	}{
		{"an admin of the entity, for a staff login", adminActor, staff, true},
		{"an admin of the entity, for another admin", adminActor, admin, true},
		{"an admin of the entity, for itself", Actor{Kind: ActorStaff, ID: "CU000000006", EntityID: 1, Admin: true, Active: true}, admin, true},
		{"an admin of the entity, for a deleted login", adminActor, deleted, false},
		{"an admin of the entity, for a login not activated (it gets an activation code)", adminActor, notActivated, false},
		{"an inactive admin", Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true}, staff, false},
		{"an admin of another entity", Actor{Kind: ActorStaff, ID: "CU000000009", EntityID: 2, Admin: true, Active: true}, staff, false},
		{"a plain staff login", Actor{Kind: ActorStaff, ID: "CU000000007", EntityID: 1, Active: true}, staff, false},
		{"the login itself, plain", Actor{Kind: ActorStaff, ID: "CU000000005", EntityID: 1, Active: true}, staff, false},
		{"a service admin", Actor{Kind: ActorStaff, ID: "CU000000002", EntityID: 1, ServiceAdmin: true, Active: true}, staff, false},
		{"the entity account", Actor{Kind: ActorEntityAccount, ID: "EA1", EntityID: 1, Active: true}, staff, false},
		{"the operator", OperatorActor("safp"), staff, true},
		{"the operator, for a deleted login", OperatorActor("safp"), deleted, false},
		{"an inactive operator", Actor{Kind: ActorOperator, ID: "safp"}, staff, false},
		{"a department", DepartmentActor("ias", 7, ""), staff, false},
		{"the public", PublicActor("192.0.2.9"), staff, false},
		{"the system", SystemActor(), staff, false},
	} {
		if got := CanResetPassword(tc.actor, tc.target); got != tc.may {
			t.Errorf("%s: CanResetPassword = %v, want %v", tc.name, got, tc.may)
		}
	}
	for _, tc := range []struct {
		name  string
		actor Actor
		may   bool
	}{
		{"the operator", OperatorActor("safp"), true},
		{"an admin", adminActor, false},
		{"the entity account", Actor{Kind: ActorEntityAccount, ID: "EA1", EntityID: 1, Active: true}, false},
		{"the public", PublicActor("192.0.2.9"), false},
	} {
		if got := CanResetEntityAccountPassword(tc.actor); got != tc.may {
			t.Errorf("%s: CanResetEntityAccountPassword = %v, want %v", tc.name, got, tc.may)
		}
	}
}
