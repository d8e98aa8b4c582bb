package storage

import "testing"

// TestServiceUseRefusal is the whole matrix of the e-service rule: every
// kind of account, every access policy, enrolled or not, assigned or not,
// every level reached against every minimum. The expected refusal is the
// first that applies, in the order the sign-in answers them: the account,
// the enrolment, the assignment, the level.
func TestServiceUseRefusal(t *testing.T) {
	staff := Principal{Kind: KindStaff, ID: 7, Subject: "CU000000007", EntityID: 1, Activated: true,
		PasswordHash: "h", Status: StatusActive, EntityActive: true}
	with := func(change func(*Principal)) Principal {
		p := staff
		change(&p)
		return p
	}
	accounts := []struct {
		name string
		p    Principal
		want ServiceRefusal // the account's own refusal, whatever the access
	}{
		{"active staff login", staff, ServiceAllowed},
		{"admin staff login", with(func(p *Principal) { p.Admin, p.ServiceAdmin = true, true }), ServiceAllowed},
		{"deleted staff login", with(func(p *Principal) { p.Status = StatusDeleted }), RefusedAccountInactive},
		{"staff login not activated", with(func(p *Principal) { p.Activated, p.PasswordHash = false, "" }), RefusedAccountInactive},
		{"staff login of a closed entity", with(func(p *Principal) { p.EntityActive = false }), RefusedAccountInactive},
		{"entity account", with(func(p *Principal) { p.Kind, p.Subject = KindEntityAccount, "EA1" }), RefusedEntityAccount},
		{"entity account of a closed entity", with(func(p *Principal) { p.Kind, p.EntityActive = KindEntityAccount, false }), RefusedAccountInactive},
		{"no account (zero value)", Principal{}, RefusedAccountInactive},
	}
	levels := []Level{LevelNone, LevelPassword, LevelTool}
	for _, acct := range accounts {
		if got := AccountServiceRefusal(acct.p); got != acct.want {
			t.Errorf("AccountServiceRefusal(%s) = %v, want %v", acct.name, got, acct.want)
		}
		for _, policy := range []AccessPolicy{PolicyAssigned, PolicyEnrolled} {
			for _, enrolled := range []bool{false, true} {
				for _, assigned := range []bool{false, true} {
					access := ServiceAccess{Policy: policy, Enrolled: enrolled, Assigned: assigned, Groups: []string{}}
					for _, reached := range levels {
						for _, minimum := range levels {
							want := acct.want
							switch {
							case want != ServiceAllowed:
							case !enrolled:
								want = RefusedNotEnrolled
							case policy == PolicyAssigned && !assigned:
								want = RefusedNotAssigned
							case reached < minimum:
								want = RefusedLevelTooLow
							}
							if got := ServiceUseRefusal(acct.p, access, reached, minimum); got != want {
								t.Errorf("%s, %s e-service, enrolled %v, assigned %v, level %d of %d: %v, want %v",
									acct.name, policy, enrolled, assigned, reached, minimum, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// TestServiceUseRefusalExamples pins a few rows of the matrix by hand, so
// that the matrix's own expectation cannot drift with the rule.
func TestServiceUseRefusalExamples(t *testing.T) {
	staff := Principal{Kind: KindStaff, ID: 7, Subject: "CU000000007", EntityID: 1, Activated: true,
		PasswordHash: "h", Status: StatusActive, EntityActive: true}
	deleted := staff
	deleted.Status = StatusDeleted
	account := staff
	account.Kind = KindEntityAccount
	open := ServiceAccess{Policy: PolicyEnrolled, Enrolled: true}
	for _, tc := range []struct {
		name             string
		p                Principal
		access           ServiceAccess
		reached, minimum Level
		want             ServiceRefusal
	}{
		{"any staff of an enrolled entity, password enough", staff, open, LevelPassword, LevelPassword, ServiceAllowed},
		{"assigned login of an assigned-only e-service", staff, ServiceAccess{Policy: PolicyAssigned, Enrolled: true, Assigned: true}, LevelTool, LevelPassword, ServiceAllowed},
		{"not assigned", staff, ServiceAccess{Policy: PolicyAssigned, Enrolled: true}, LevelTool, LevelPassword, RefusedNotAssigned},
		{"assigned, but the e-service closed to the entity", staff, ServiceAccess{Policy: PolicyAssigned, Assigned: true}, LevelTool, LevelPassword, RefusedNotEnrolled},
		{"tool needed, password given", staff, open, LevelPassword, LevelTool, RefusedLevelTooLow},
		{"not assigned and below the level: not assigned first", staff, ServiceAccess{Policy: PolicyAssigned, Enrolled: true}, LevelPassword, LevelTool, RefusedNotAssigned},
		{"deleted login with every access", deleted, ServiceAccess{Policy: PolicyAssigned, Enrolled: true, Assigned: true}, LevelTool, LevelNone, RefusedAccountInactive},
		{"entity account with every access", account, open, LevelTool, LevelNone, RefusedEntityAccount},
	} {
		if got := ServiceUseRefusal(tc.p, tc.access, tc.reached, tc.minimum); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestLevelSatisfies: a higher level satisfies every lower one, never the
// other way.
func TestLevelSatisfies(t *testing.T) {
	for _, tc := range []struct {
		l, minimum Level
		want       bool
	}{
		{LevelNone, LevelNone, true}, {LevelNone, LevelPassword, false}, {LevelNone, LevelTool, false},
		{LevelPassword, LevelNone, true}, {LevelPassword, LevelPassword, true}, {LevelPassword, LevelTool, false},
		{LevelTool, LevelNone, true}, {LevelTool, LevelPassword, true}, {LevelTool, LevelTool, true},
	} {
		if got := tc.l.Satisfies(tc.minimum); got != tc.want {
			t.Errorf("level %d satisfies %d: %v, want %v", tc.l, tc.minimum, got, tc.want)
		}
	}
}
