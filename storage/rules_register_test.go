package storage

import "testing"

// TestRegisterRules: the register is the operator's alone.
func TestRegisterRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		actor Actor
		want  bool
	}{
		{"operator", OperatorActor("safp"), true},
		{"operator without a name (inactive)", Actor{Kind: ActorOperator}, false},
		{"department", DepartmentActor("ias-machine-1", 7, "192.0.2.1"), false},
		{"admin staff login", Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, ServiceAdmin: true, Active: true}, false},
		{"entity account", Actor{Kind: ActorEntityAccount, ID: "EA1", EntityID: 1, Active: true}, false},
		{"public", PublicActor("192.0.2.9"), false},
		{"system", SystemActor(), false},
	} {
		for rule, can := range map[string]func(Actor) bool{
			"CanRegisterDepartment":     CanRegisterDepartment,
			"CanRegisterService":        CanRegisterService,
			"CanRegisterClient":         CanRegisterClient,
			"CanRenameDepartment":       CanRenameDepartment,
			"CanSetServiceAccessPolicy": CanSetServiceAccessPolicy,
		} {
			if got := can(tc.actor); got != tc.want {
				t.Errorf("%s: %s = %v, want %v", tc.name, rule, got, tc.want)
			}
		}
	}
}
