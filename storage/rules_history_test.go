package storage

import (
	"strings"
	"testing"
	"time"
)

// TestSignInHistoryRules: an account sees its own history; an admin its
// entity's; the operator any; nobody another entity's; the entity
// account, a service admin and a plain staff login only their own.
func TestSignInHistoryRules(t *testing.T) {
	admin := Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true}
	staff := Actor{Kind: ActorStaff, ID: "CU000000002", EntityID: 1, Active: true}
	serviceAdmin := Actor{Kind: ActorStaff, ID: "CU000000003", EntityID: 1, ServiceAdmin: true, Active: true}
	account := Actor{Kind: ActorEntityAccount, ID: "EA000000001", EntityID: 1, Active: true}
	otherAdmin := Actor{Kind: ActorStaff, ID: "CU000000009", EntityID: 2, Admin: true, Active: true}
	deleted := Actor{Kind: ActorStaff, ID: "CU000000004", EntityID: 1, Admin: true}
	department := Actor{Kind: ActorDepartment, ID: "ias-api", DepartmentID: 1, Active: true}
	for _, tc := range []struct {
		name    string
		actor   Actor
		entity  int64
		subject string
		login   bool // CanViewSignInsOf
		entire  bool // CanViewEntitySignIns
	}{
		{"staff: itself", staff, 1, staff.ID, true, false},
		{"staff: another login of its entity", staff, 1, admin.ID, false, false},
		{"staff: itself, named under another entity", staff, 2, staff.ID, false, false},
		{"service admin: itself", serviceAdmin, 1, serviceAdmin.ID, true, false},
		{"service admin: another login", serviceAdmin, 1, staff.ID, false, false},
		{"admin: itself", admin, 1, admin.ID, true, true},
		{"admin: a login of its entity", admin, 1, staff.ID, true, true},
		{"admin: its entity account", admin, 1, account.ID, true, true},
		{"admin: a login of another entity", admin, 2, otherAdmin.ID, false, false},
		{"another entity's admin: this entity's login", otherAdmin, 1, staff.ID, false, false},
		{"entity account: itself", account, 1, account.ID, true, false},
		{"entity account: a staff login", account, 1, staff.ID, false, false},
		{"deleted admin: nothing", deleted, 1, deleted.ID, false, false},
		{"operator: any", OperatorActor("safp"), 2, otherAdmin.ID, true, true},
		{"department: nothing", department, 1, staff.ID, false, false},
		{"public: nothing", PublicActor("192.0.2.1"), 1, "", false, false},
	} {
		if got := CanViewSignInsOf(tc.actor, tc.entity, tc.subject); got != tc.login {
			t.Errorf("%s: CanViewSignInsOf = %v, want %v", tc.name, got, tc.login)
		}
		if got := CanViewEntitySignIns(tc.actor, tc.entity); got != tc.entire {
			t.Errorf("%s: CanViewEntitySignIns = %v, want %v", tc.name, got, tc.entire)
		}
	}
}

// TestNewSignInEventBoundsInput: what an anonymous caller typed is
// normalised when it can be and bounded always.
func TestNewSignInEventBoundsInput(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	e := NewSignInEvent(at, " 02-000021 ", "Admin01", SignInSucceeded, MethodPassword, "192.0.2.1", "Mozilla\x00/5.0\n", "c")
	if e.EntityNumber != "02-000021" || e.Username != "admin01" || e.UserAgent != "Mozilla/5.0" || !e.At.Equal(at) || e.At.Location() != time.UTC {
		t.Errorf("normalised: %+v", e)
	}
	long := NewSignInEvent(at, strings.Repeat("9", 100), strings.Repeat("é", 100)+"\xff", SignInWrongCredentials, MethodPassword, "", strings.Repeat("a", 1000), "")
	if len(long.EntityNumber) > 32 || len(long.Username) > 64 || len(long.UserAgent) > 256 || strings.ContainsRune(long.Username, '\uFFFD') {
		t.Errorf("not bounded: %d %d %d", len(long.EntityNumber), len(long.Username), len(long.UserAgent))
	}
}
