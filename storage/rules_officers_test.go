package storage

import "testing"

// TestOfficerMay: every act, for a counter officer, a supervisor and a
// disabled officer of either role.
func TestOfficerMay(t *testing.T) {
	counter := Officer{ID: 1, Login: "chan.tm", Role: RoleCounter, Status: OfficerActive}
	supervisor := Officer{ID: 2, Login: "lei.kf", Role: RoleSupervisor, Status: OfficerActive}
	disabledSupervisor := Officer{ID: 3, Login: "wong.ss", Role: RoleSupervisor, Status: OfficerDisabled}
	disabledCounter := Officer{ID: 4, Login: "ho.mk", Role: RoleCounter, Status: OfficerDisabled}
	counterMay := map[OperatorAct]bool{
		ActUseDesk: true, ActOpenEntity: true, ActSendCode: true, ActApproveTools: true, ActResetTools: true, ActResetPassword: true,
		ActSignOutLogin: true, ActUnlockLogin: true, ActReadEntities: true, ActReadOperations: true, ActReadAudit: true,
		ActGrantAdmin: false, ActCloseEntity: false, ActManageStaff: false, ActRegisterDepartment: false,
		ActRegisterService: false, ActRegisterClient: false, ActRotateKeys: false, ActManageOfficers: false,
	}
	if len(counterMay) != len(OperatorActs) {
		t.Fatalf("the table has %d acts, the rule book %d", len(counterMay), len(OperatorActs))
	}
	for _, act := range OperatorActs {
		want, listed := counterMay[act]
		if !listed {
			t.Errorf("%s: not in the table", act)
		}
		if err := OfficerMay(counter, act); (err == nil) != want {
			t.Errorf("counter, %s: %v, want allowed=%v", act, err, want)
		} else if err != nil && (CodeOf(err) != EForbidden || err.(*Error).Key != "desk_err_supervisor_only") {
			t.Errorf("counter, %s: %v, want EForbidden desk_err_supervisor_only", act, err)
		}
		if err := OfficerMay(supervisor, act); err != nil {
			t.Errorf("supervisor, %s: %v", act, err)
		}
		for _, o := range []Officer{disabledSupervisor, disabledCounter} {
			if err := OfficerMay(o, act); CodeOf(err) != EForbidden || err.(*Error).Key != "desk_err_officer_disabled" {
				t.Errorf("disabled %s, %s: %v", o.Role, act, err)
			}
		}
	}
	if err := OfficerMay(supervisor, "everything"); CodeOf(err) != EForbidden {
		t.Errorf("an unknown act: %v", err)
	}
	if err := OfficerMay(Officer{Login: "x", Role: "boss", Status: OfficerActive}, ActReadEntities); CodeOf(err) != EForbidden {
		t.Errorf("an unknown role: %v", err)
	}
}

func TestMayCreateFirstOfficer(t *testing.T) {
	for _, c := range []struct {
		existing int
		role     OfficerRole
		ok       bool
	}{{0, RoleSupervisor, true}, {0, RoleCounter, false}, {1, RoleSupervisor, false}, {3, RoleCounter, false}} {
		if err := MayCreateFirstOfficer(c.existing, c.role); (err == nil) != c.ok {
			t.Errorf("%d existing, %s: %v, want ok=%v", c.existing, c.role, err, c.ok)
		}
	}
}

func TestMayDisableOfficer(t *testing.T) {
	sup := Officer{ID: 1, Login: "lei.kf", Role: RoleSupervisor, Status: OfficerActive}
	sup2 := Officer{ID: 2, Login: "wong.ss", Role: RoleSupervisor, Status: OfficerActive}
	counter := Officer{ID: 3, Login: "chan.tm", Role: RoleCounter, Status: OfficerActive}
	gone := Officer{ID: 4, Login: "ho.mk", Role: RoleCounter, Status: OfficerDisabled}
	for _, c := range []struct {
		name        string
		by, target  Officer
		supervisors int
		key         string
	}{
		{"a supervisor disables a counter officer", sup, counter, 1, ""},
		{"a supervisor disables another of two supervisors", sup, sup2, 2, ""},
		{"the last active supervisor", sup, sup2, 1, "desk_err_last_supervisor"},
		{"itself", sup, sup, 2, "desk_err_officer_self"},
		{"a counter officer", counter, gone, 2, "desk_err_supervisor_only"},
		{"one disabled already", sup, gone, 2, "desk_err_officer_already_disabled"},
		{"by a disabled supervisor", Officer{ID: 5, Login: "x.y", Role: RoleSupervisor, Status: OfficerDisabled}, counter, 2, "desk_err_officer_disabled"},
	} {
		err := MayDisableOfficer(c.by, c.target, c.supervisors)
		got := ""
		if e, ok := err.(*Error); ok {
			got = e.Key
		} else if err != nil {
			got = err.Error()
		}
		if got != c.key {
			t.Errorf("%s: %v, want %q", c.name, err, c.key)
		}
	}
}

func TestOfficerValidateAndActor(t *testing.T) {
	o := Officer{Login: "  Chan.TM ", DisplayName: " 陳大文 ", Role: RoleCounter, Mobile: "66123456", Email: "chan@safp.gov.mo"}
	if err := o.Validate(); err != nil || o.Login != "chan.tm" || o.DisplayName != "陳大文" || o.Status != OfficerActive {
		t.Fatalf("Validate = %v, %+v", err, o)
	}
	for name, bad := range map[string]Officer{
		"login":  {Login: "a", DisplayName: "x", Role: RoleCounter},
		"spaces": {Login: "chan tm", DisplayName: "x", Role: RoleCounter},
		"role":   {Login: "chan.tm", DisplayName: "x", Role: "boss"},
		"name":   {Login: "chan.tm", Role: RoleCounter},
		"mobile": {Login: "chan.tm", DisplayName: "x", Role: RoleCounter, Mobile: "123"},
		"email":  {Login: "chan.tm", DisplayName: "x", Role: RoleCounter, Email: "Chan <c@x.mo>"},
	} {
		if err := bad.Validate(); CodeOf(err) != EInvalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	o.ID = 7
	a := OfficerActor(o)
	if a.Kind != ActorOperator || a.ID != "chan.tm" || a.Name != "chan.tm" || a.OfficerID != 7 || a.OfficerRole != RoleCounter || !isOperator(a) {
		t.Errorf("OfficerActor = %+v", a)
	}
	o.Status = OfficerDisabled
	if isOperator(OfficerActor(o)) {
		t.Error("a disabled officer acts as the operator")
	}
}

func keyOfErr(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Key
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestMayResetEnableChangeRole(t *testing.T) {
	sup := Officer{ID: 1, Login: "lei.kf", Role: RoleSupervisor, Status: OfficerActive}
	sup2 := Officer{ID: 2, Login: "wong.ss", Role: RoleSupervisor, Status: OfficerActive, Mobile: "66000002"}
	counter := Officer{ID: 3, Login: "chan.tm", Role: RoleCounter, Status: OfficerActive, Mobile: "66000003"}
	gone := Officer{ID: 4, Login: "ho.mk", Role: RoleCounter, Status: OfficerDisabled, Mobile: "66000004"}
	mute := Officer{ID: 5, Login: "no.phone", Role: RoleCounter, Status: OfficerActive}
	deadSup := Officer{ID: 6, Login: "x.y", Role: RoleSupervisor, Status: OfficerDisabled}
	for _, c := range []struct {
		name string
		err  error
		key  string
	}{
		{"reset a counter officer", MayResetOfficer(sup, counter), ""},
		{"reset another supervisor", MayResetOfficer(sup, sup2), ""},
		{"reset itself", MayResetOfficer(sup2, sup2), "desk_auth_err_reset_self"},
		{"reset by a counter officer", MayResetOfficer(counter, sup2), "desk_err_supervisor_only"},
		{"reset by a disabled supervisor", MayResetOfficer(deadSup, counter), "desk_err_officer_disabled"},
		{"reset a disabled officer", MayResetOfficer(sup, gone), "desk_auth_err_reset_disabled"},
		{"reset an officer without contact", MayResetOfficer(sup, mute), "desk_auth_err_no_contact"},
		{"enable a disabled officer", MayEnableOfficer(sup, gone), ""},
		{"enable an active officer", MayEnableOfficer(sup, counter), "desk_auth_err_already_active"},
		{"enable by a counter officer", MayEnableOfficer(counter, gone), "desk_err_supervisor_only"},
		{"enable by a disabled supervisor", MayEnableOfficer(deadSup, gone), "desk_err_officer_disabled"},
		{"promote a counter officer", MayChangeOfficerRole(sup, counter, RoleSupervisor, 1), ""},
		{"demote one of two supervisors", MayChangeOfficerRole(sup, sup2, RoleCounter, 2), ""},
		{"demote oneself, another left", MayChangeOfficerRole(sup, sup, RoleCounter, 2), ""},
		{"demote the last supervisor", MayChangeOfficerRole(sup, sup, RoleCounter, 1), "desk_auth_err_last_supervisor_role"},
		{"demote a disabled supervisor", MayChangeOfficerRole(sup, deadSup, RoleCounter, 1), ""},
		{"the same role", MayChangeOfficerRole(sup, counter, RoleCounter, 2), "desk_auth_err_same_role"},
		{"an unknown role", MayChangeOfficerRole(sup, counter, "boss", 2), "desk_err_officer_role"},
		{"by a counter officer", MayChangeOfficerRole(counter, counter, RoleSupervisor, 2), "desk_err_supervisor_only"},
		{"by a disabled supervisor", MayChangeOfficerRole(deadSup, counter, RoleSupervisor, 2), "desk_err_officer_disabled"},
	} {
		if got := keyOfErr(c.err); got != c.key {
			t.Errorf("%s: %v, want %q", c.name, c.err, c.key)
		}
	}
}

// TestActorMay: a use case asks the rule book again about the officer its
// actor names: the role and status the actor carries decide, as for the
// officer; the operator without an officer (the use cases' tests) may; no
// other actor may.
func TestActorMay(t *testing.T) {
	counter := Officer{ID: 1, Login: "chan.tm", Role: RoleCounter, Status: OfficerActive}
	disabled := Officer{ID: 2, Login: "ho.mk", Role: RoleSupervisor, Status: OfficerDisabled}
	for _, c := range []struct {
		name string
		a    Actor
		act  OperatorAct
		ok   bool
	}{
		{"counter opens", OfficerActor(counter), ActOpenEntity, true},
		{"counter closes", OfficerActor(counter), ActCloseEntity, false},
		{"disabled supervisor", OfficerActor(disabled), ActOpenEntity, false},
		{"operator without officer", OperatorActor("ops"), ActOpenEntity, true},
		{"inactive operator", Actor{Kind: ActorOperator, ID: "ops"}, ActOpenEntity, false},
		{"staff admin", Actor{Kind: ActorStaff, ID: "CU000000001", Admin: true, Active: true, EntityID: 1}, ActOpenEntity, false},
		{"public", PublicActor("192.0.2.1"), ActOpenEntity, false},
	} {
		err := ActorMay(c.a, c.act)
		if (err == nil) != c.ok {
			t.Errorf("%s: ActorMay = %v, want allowed %v", c.name, err, c.ok)
		}
		if err != nil && CodeOf(err) != EForbidden {
			t.Errorf("%s: code %s, want forbidden", c.name, CodeOf(err))
		}
	}
}
