package storage

import (
	"fmt"
	"testing"
)

// TestRuleBook is the whole matrix: every role, every action, on its own
// entity and on another's.
func TestRuleBook(t *testing.T) {
	const own, other = int64(1), int64(2)
	staff := func(admin, serviceAdmin bool) Actor {
		return Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: own, Admin: admin, ServiceAdmin: serviceAdmin, Active: true}
	}
	deleted := staff(true, true)
	deleted.Active = false
	closedAccount := Actor{Kind: ActorEntityAccount, ID: "EA1", EntityID: own}
	roles := []struct {
		name  string
		actor Actor
	}{
		{"operator", OperatorActor("safp")},
		{"entity account", Actor{Kind: ActorEntityAccount, ID: "EA1", EntityID: own, Active: true}},
		{"admin", staff(true, false)},
		{"admin and service admin", staff(true, true)},
		{"service admin", staff(false, true)},
		{"staff", staff(false, false)},
		{"deleted admin", deleted},
		{"entity account of a closed entity", closedAccount},
		{"department", Actor{Kind: ActorDepartment, ID: "ias-backend", DepartmentID: 7, Active: true}},
		{"public", PublicActor("192.0.2.1")},
		{"system", SystemActor()},
		{"operator without a name", Actor{Kind: ActorOperator}},
	}
	// want[role] lists the actions allowed on the own entity; on another
	// entity only the operator may do anything.
	want := map[string][]string{
		"operator":                          {"manage", "view", "remove admin", "grant admin", "service admin", "assign", "audit", "open/close"},
		"entity account":                    {"view", "remove admin"},
		"admin":                             {"manage", "view", "remove admin", "service admin", "assign", "audit"},
		"admin and service admin":           {"manage", "view", "remove admin", "service admin", "assign", "audit"},
		"service admin":                     {"view", "assign"},
		"staff":                             nil,
		"deleted admin":                     nil,
		"entity account of a closed entity": nil,
		"department":                        nil,
		"public":                            nil,
		"system":                            nil,
		"operator without a name":           nil,
	}
	actions := map[string]func(a Actor, entity int64) bool{
		"manage":        CanManageStaff,
		"view":          CanViewStaff,
		"remove admin":  func(a Actor, e int64) bool { return CanRemoveAdmin(a, StaffLogin{EntityID: e, Admin: true}) },
		"grant admin":   func(a Actor, _ int64) bool { return CanGrantAdmin(a) },
		"service admin": func(a Actor, e int64) bool { return CanDesignateServiceAdmin(a, StaffLogin{EntityID: e}) },
		"assign":        CanAssignServices,
		"audit":         CanViewAudit,
		"open/close":    func(a Actor, _ int64) bool { return CanOpenOrCloseEntity(a) },
	}
	for _, r := range roles {
		allowed := map[string]bool{}
		for _, a := range want[r.name] {
			allowed[a] = true
		}
		for action, can := range actions {
			for _, entity := range []int64{own, other, 0} {
				expect := allowed[action] && (entity == own || r.name == "operator")
				if got := can(r.actor, entity); got != expect {
					t.Errorf("%s may %s on %s: %v, want %v", r.name, action, entityName(entity, own), got, expect)
				}
			}
		}
	}
	for role := range want {
		found := false
		for _, r := range roles {
			found = found || r.name == role
		}
		if !found {
			t.Errorf("want lists unknown role %q", role)
		}
	}
}

func entityName(e, own int64) string {
	switch e {
	case own:
		return "its own entity"
	case 0:
		return "no entity"
	}
	return fmt.Sprintf("another entity (%d)", e)
}

// TestActorOf: rights come from the principal as read now.
func TestActorOf(t *testing.T) {
	p := Principal{Kind: KindStaff, Subject: "CU000000001", EntityID: 3, Activated: true, PasswordHash: "h",
		Status: StatusActive, EntityActive: true, Admin: true}
	a := ActorOf(p, "192.0.2.9")
	if a.Kind != ActorStaff || !a.Admin || !a.Active || a.EntityID != 3 || a.ID != "CU000000001" || a.IP != "192.0.2.9" {
		t.Fatalf("ActorOf(admin) = %+v", a)
	}
	p.Status = StatusDeleted
	if ActorOf(p, "").Active || CanManageStaff(ActorOf(p, ""), 3) {
		t.Fatal("a deleted admin may act")
	}
	ea := ActorOf(Principal{Kind: KindEntityAccount, Subject: "EA1", EntityID: 3, Activated: true, PasswordHash: "h",
		Status: StatusActive, EntityActive: true, Admin: true}, "")
	if ea.Kind != ActorEntityAccount || ea.Admin {
		t.Fatalf("ActorOf(entity account) = %+v", ea)
	}
}
