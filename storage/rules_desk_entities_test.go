package storage

import "testing"

// ActorMay decides as OfficerMay for the officer behind the actor, and
// refuses every actor with no officer behind it.
func TestActorMay(t *testing.T) {
	sup := Officer{ID: 1, Login: "boss", Role: RoleSupervisor, Status: OfficerActive}
	counter := Officer{ID: 2, Login: "desk", Role: RoleCounter, Status: OfficerActive}
	gone := Officer{ID: 3, Login: "gone", Role: RoleSupervisor, Status: OfficerDisabled}
	for _, act := range OperatorActs {
		for _, o := range []Officer{sup, counter, gone} {
			want, got := OfficerMay(o, act), ActorMay(OfficerActor(o), act)
			if (want == nil) != (got == nil) || want != nil && want.(*Error).Key != got.(*Error).Key {
				t.Errorf("%s %s: ActorMay %v, OfficerMay %v", o.Login, act, got, want)
			}
		}
		for _, a := range []Actor{OperatorActor("cli"), {Kind: ActorStaff, ID: "CU000000101", Admin: true, Active: true}, PublicActor("")} {
			if err := ActorMay(a, act); CodeOf(err) != EForbidden || err.(*Error).Key != "desk_err_officer_required" {
				t.Errorf("%s %s: %v", a.Kind, act, err)
			}
		}
	}
}
