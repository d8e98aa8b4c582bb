package storage

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
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
	deletedServiceAdmin := staff(false, true)
	deletedServiceAdmin.Active = false
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
		// A department actor that carries an entity and a staff login's
		// flags still administers nothing of it: the rules go by kind.
		{"department with the entity's flags", Actor{Kind: ActorDepartment, ID: "ias-backend", DepartmentID: 7,
			EntityID: own, Admin: true, ServiceAdmin: true, Active: true}},
		{"inactive department", Actor{Kind: ActorDepartment, ID: "ias-backend", DepartmentID: 7}},
		{"deleted service admin", deletedServiceAdmin},
		{"public", PublicActor("192.0.2.1")},
		{"system", SystemActor()},
		{"operator without a name", Actor{Kind: ActorOperator}},
	}
	// want[role] lists the actions allowed on the own entity; on another
	// entity only the operator may do anything.
	want := map[string][]string{
		"operator":                           {"entity", "manage", "view", "remove admin", "grant admin", "service admin", "assign", "audit", "open", "close"},
		"entity account":                     {"entity", "view", "remove admin"},
		"admin":                              {"entity", "manage", "view", "remove admin", "service admin", "assign", "audit"},
		"admin and service admin":            {"entity", "manage", "view", "remove admin", "service admin", "assign", "audit"},
		"service admin":                      {"entity", "view", "assign"},
		"staff":                              nil,
		"deleted admin":                      nil,
		"entity account of a closed entity":  nil,
		"department":                         nil,
		"department with the entity's flags": nil,
		"inactive department":                nil,
		"deleted service admin":              nil,
		"public":                             nil,
		"system":                             nil,
		"operator without a name":            nil,
	}
	for _, r := range roles {
		if _, ok := want[r.name]; !ok {
			t.Errorf("role %q has no row in want", r.name)
		}
		allowed := map[string]bool{}
		for _, a := range want[r.name] {
			allowed[a] = true
		}
		for _, action := range entityActions {
			for _, entity := range []int64{own, other, 0} {
				expect := allowed[action.name] && (entity == own || r.name == "operator")
				if got := action.can(r.actor, entity); got != expect {
					t.Errorf("%s may %s on %s: %v, want %v", r.name, action.name, entityName(entity, own), got, expect)
				}
			}
		}
	}
	for role, actions := range want {
		for _, a := range actions {
			if !slices.ContainsFunc(entityActions, func(e entityAction) bool { return e.name == a }) {
				t.Errorf("want gives %s the unknown action %q", role, a)
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

// entityAction is one action of the rule book (rules.go) on an entity, as
// the matrix asks it: rule names the function that decides it.
type entityAction struct {
	name, rule string
	can        func(a Actor, entity int64) bool
}

// entityActions are the actions of rules.go, each asked of the entity, or
// of a staff login of it; TestRuleBookCoversRules checks that none is left
// out.
var entityActions = []entityAction{
	{"entity", "CanViewEntity", CanViewEntity},
	{"manage", "CanManageStaff", CanManageStaff},
	{"view", "CanViewStaff", CanViewStaff},
	{"remove admin", "CanRemoveAdmin", CanRemoveAdmin},
	{"grant admin", "CanGrantAdmin", func(a Actor, _ int64) bool { return CanGrantAdmin(a) }},
	{"service admin", "CanDesignateServiceAdmin", CanDesignateServiceAdmin},
	{"assign", "CanAssignServices", CanAssignServices},
	{"audit", "CanViewAudit", CanViewAudit},
	{"open", "CanOpenEntity", func(a Actor, _ int64) bool { return CanOpenEntity(a) }},
	{"close", "CanCloseEntity", func(a Actor, _ int64) bool { return CanCloseEntity(a) }},
}

// TestRuleBookCoversRules: every exported rule of rules.go is a column of
// the matrix of TestRuleBook, so a new rule cannot go untested. (The
// departments' rules, rules_department.go, have a test of their own.)
func TestRuleBookCoversRules(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "rules.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && fn.Name.IsExported() {
			rules = append(rules, fn.Name.Name)
		}
	}
	if len(rules) == 0 {
		t.Fatal("no exported rule in rules.go")
	}
	for _, rule := range rules {
		if !slices.ContainsFunc(entityActions, func(e entityAction) bool { return e.rule == rule }) {
			t.Errorf("%s of rules.go is not in the matrix of TestRuleBook (entityActions)", rule)
		}
	}
	for _, e := range entityActions {
		if !slices.Contains(rules, e.rule) {
			t.Errorf("the matrix names %s, which rules.go does not define", e.rule)
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
