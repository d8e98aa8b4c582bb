package storage

import "testing"

// TestOfficerActorMay: the rule book over the officer an actor carries,
// and no one else.
func TestOfficerActorMay(t *testing.T) {
	counter := OfficerActor(Officer{ID: 1, Login: "chan.tm", Role: RoleCounter, Status: OfficerActive})
	supervisor := OfficerActor(Officer{ID: 2, Login: "lei.kf", Role: RoleSupervisor, Status: OfficerActive})
	disabled := OfficerActor(Officer{ID: 3, Login: "ho.mk", Role: RoleSupervisor, Status: OfficerDisabled})
	staff := Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true}
	cases := []struct {
		name string
		a    Actor
		act  OperatorAct
		key  string // "" allowed
	}{
		{"counter approves", counter, ActApproveTools, ""},
		{"counter resets", counter, ActResetTools, ""},
		{"counter grants", counter, ActGrantAdmin, "desk_err_supervisor_only"},
		{"supervisor grants", supervisor, ActGrantAdmin, ""},
		{"disabled officer", disabled, ActApproveTools, "desk_err_officer_disabled"},
		{"operator with no officer", OperatorActor("safp-op"), ActApproveTools, "desk_err_officer_required"},
		{"an admin staff login", staff, ActApproveTools, "desk_err_officer_required"},
		{"the public", PublicActor("192.0.2.1"), ActApproveTools, "desk_err_officer_required"},
	}
	for _, c := range cases {
		err := OfficerActorMay(c.a, c.act)
		switch {
		case c.key == "" && err != nil:
			t.Errorf("%s: %v, want allowed", c.name, err)
		case c.key != "" && (CodeOf(err) != EForbidden || err.(*Error).Key != c.key):
			t.Errorf("%s: %v, want EForbidden %s", c.name, err, c.key)
		}
	}
}
