package storage

import (
	"testing"
	"time"
)

func TestToolRules(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	target := StaffLogin{ID: 5, EUID: "CU000000005", EntityID: 1, Status: StatusActive, ActivatedAt: &at}
	self := Actor{Kind: ActorStaff, ID: "CU000000005", EntityID: 1, Active: true}
	deleted := target
	deleted.Status = StatusDeleted
	notActivated := target
	notActivated.ActivatedAt = nil
	op := OperatorActor("safp")
	for _, tc := range []struct {
		name           string
		actor          Actor
		target         StaffLogin
		enrol, approve bool
		hold           bool // CanHoldTools of the actor, whatever the target
	}{
		{"the login itself", self, target, true, false, true},
		{"the login itself, inactive", Actor{Kind: ActorStaff, ID: "CU000000005", EntityID: 1}, target, false, false, false},
		{"the login itself, deleted", self, deleted, false, false, true},
		{"the login itself, not activated", self, notActivated, false, false, true},
		{"same EUID, another entity", Actor{Kind: ActorStaff, ID: "CU000000005", EntityID: 2, Active: true}, target, false, false, true},
		{"an admin of the entity, for someone else", Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true}, target, false, false, true},
		{"a service admin", Actor{Kind: ActorStaff, ID: "CU000000002", EntityID: 1, ServiceAdmin: true, Active: true}, target, false, false, true},
		{"a staff login without an EUID", Actor{Kind: ActorStaff, EntityID: 1, Active: true}, target, false, false, false},
		{"a staff login of no entity", Actor{Kind: ActorStaff, ID: "CU000000005", Active: true}, target, false, false, false},
		{"the entity account", Actor{Kind: ActorEntityAccount, ID: "CU000000005", EntityID: 1, Active: true}, target, false, false, false},
		{"the operator", op, target, false, true, false},
		{"an inactive operator", Actor{Kind: ActorOperator, ID: "safp"}, target, false, false, false},
		{"a department", DepartmentActor("ias", 7, ""), target, false, false, false},
		{"the public", PublicActor("192.0.2.9"), target, false, false, false},
		{"the system", SystemActor(), target, false, false, false},
	} {
		if got := CanEnrolTool(tc.actor, tc.target); got != tc.enrol {
			t.Errorf("%s: CanEnrolTool = %v, want %v", tc.name, got, tc.enrol)
		}
		if got := CanHoldTools(tc.actor); got != tc.hold {
			t.Errorf("%s: CanHoldTools = %v, want %v", tc.name, got, tc.hold)
		}
		if got := CanApproveTool(tc.actor); got != tc.approve {
			t.Errorf("%s: CanApproveTool = %v, want %v", tc.name, got, tc.approve)
		}
		if got := CanResetTools(tc.actor); got != tc.approve {
			t.Errorf("%s: CanResetTools = %v, want %v", tc.name, got, tc.approve)
		}
	}
}

func TestSelfConfirmsTools(t *testing.T) {
	for doc, want := range map[string]bool{IDMacauPermanent: true, IDMacauNonPermanent: true, IDPassport: false, IDOther: false, "": false} {
		if got := SelfConfirmsTools(StaffLogin{IDDocType: doc}); got != want {
			t.Errorf("SelfConfirmsTools(%q) = %v, want %v", doc, got, want)
		}
	}
}
