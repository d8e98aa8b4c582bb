package storage

import "testing"

func TestCanManageService(t *testing.T) {
	mine := Service{ID: 1, Code: "social", DepartmentID: 7}
	theirs := Service{ID: 2, Code: "other", DepartmentID: 8}
	dept := DepartmentActor("ias-machine-1", 7, "192.0.2.1")
	for _, tc := range []struct {
		name  string
		actor Actor
		sv    Service
		want  bool
	}{
		{"department, its own e-service", dept, mine, true},
		{"department, another department's e-service", dept, theirs, false},
		{"another department", DepartmentActor("x", 8, ""), mine, false},
		{"department without a department id", Actor{Kind: ActorDepartment, ID: "x", Active: true}, Service{DepartmentID: 0}, false},
		{"inactive department", Actor{Kind: ActorDepartment, ID: "x", DepartmentID: 7}, mine, false},
		{"department, its own e-service demanding a tool", dept, Service{ID: 3, Code: "tax", DepartmentID: 7, MinLevel: LevelTool}, true},
		{"department, another's e-service demanding a tool", dept, Service{ID: 4, Code: "lab", DepartmentID: 8, MinLevel: LevelTool}, false},
		{"operator", OperatorActor("safp"), mine, true},
		{"operator, any department", OperatorActor("safp"), theirs, true},
		{"admin staff login", Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true, DepartmentID: 7}, mine, false},
		{"service admin", Actor{Kind: ActorStaff, ID: "CU000000002", EntityID: 1, ServiceAdmin: true, Active: true}, mine, false},
		{"plain staff login", Actor{Kind: ActorStaff, ID: "CU000000003", EntityID: 1, Active: true}, mine, false},
		{"entity account", Actor{Kind: ActorEntityAccount, ID: "EA1", EntityID: 1, Active: true, DepartmentID: 7}, mine, false},
		{"public", PublicActor("192.0.2.9"), mine, false},
		{"system", SystemActor(), mine, false},
	} {
		if got := CanManageService(tc.actor, tc.sv); got != tc.want {
			t.Errorf("%s: CanManageService = %v, want %v", tc.name, got, tc.want)
		}
		if got := CanSetServiceMinLevel(tc.actor, tc.sv); got != tc.want {
			t.Errorf("%s: CanSetServiceMinLevel = %v, want %v", tc.name, got, tc.want)
		}
		if got := CanViewDepartmentChanges(tc.actor, tc.sv.DepartmentID); got != tc.want {
			t.Errorf("%s: CanViewDepartmentChanges = %v, want %v", tc.name, got, tc.want)
		}
	}
}
