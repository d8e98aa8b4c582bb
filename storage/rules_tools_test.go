package storage

import (
	"strings"
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
		// Passkeys: the same people as any tool, the operator only to switch
		// them on again.
		if got := CanRemovePasskeys(tc.actor, tc.target); got != tc.enrol {
			t.Errorf("%s: CanRemovePasskeys = %v, want %v", tc.name, got, tc.enrol)
		}
		if got := CanViewTools(tc.actor, tc.target); got != tc.enrol {
			t.Errorf("%s: CanViewTools = %v, want %v", tc.name, got, tc.enrol)
		}
		if got := CanEnablePasskeys(tc.actor); got != tc.approve {
			t.Errorf("%s: CanEnablePasskeys = %v, want %v", tc.name, got, tc.approve)
		}
	}
}

func TestPasskeyRules(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	macau := StaffLogin{ID: 5, EUID: "CU000000005", EntityID: 1, Status: StatusActive, ActivatedAt: &at, IDDocType: IDMacauPermanent}
	nonPermanent := macau
	nonPermanent.IDDocType = IDMacauNonPermanent
	passport := macau
	passport.IDDocType = IDPassport
	other := macau
	other.IDDocType = IDOther
	deleted := macau
	deleted.Status = StatusDeleted
	self := Actor{Kind: ActorStaff, ID: "CU000000005", EntityID: 1, Active: true}
	admin := Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true}
	for _, tc := range []struct {
		name        string
		actor       Actor
		target      StaffLogin
		off         bool
		enrol, drop bool
	}{
		{"itself, Macau permanent ID", self, macau, false, true, true},
		{"itself, Macau non-permanent ID", self, nonPermanent, false, true, true},
		{"itself, passport", self, passport, false, false, true},
		{"itself, other document", self, other, false, false, true},
		{"itself, switched off", self, macau, true, false, true},
		{"itself, deleted", self, deleted, false, false, false},
		{"an admin of the entity", admin, macau, false, false, false},
		{"the operator", OperatorActor("safp"), macau, false, false, false},
		{"the public", PublicActor("192.0.2.1"), macau, false, false, false},
	} {
		if got := CanEnrolPasskey(tc.actor, tc.target, tc.off); got != tc.enrol {
			t.Errorf("%s: CanEnrolPasskey = %v, want %v", tc.name, got, tc.enrol)
		}
		if got := CanRemovePasskeys(tc.actor, tc.target); got != tc.drop {
			t.Errorf("%s: CanRemovePasskeys = %v, want %v", tc.name, got, tc.drop)
		}
	}
}

func TestPasskeysUsable(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ok := PasskeyAccount{Login: StaffLogin{Status: StatusActive, ActivatedAt: &at, IDDocType: IDMacauNonPermanent}, EntityActive: true}
	for _, tc := range []struct {
		name   string
		change func(a *PasskeyAccount)
		want   bool
	}{
		{"active login of an open entity", func(*PasskeyAccount) {}, true},
		{"deleted", func(a *PasskeyAccount) { a.Login.Status = StatusDeleted }, false},
		{"not activated", func(a *PasskeyAccount) { a.Login.ActivatedAt = nil }, false},
		{"entity closed", func(a *PasskeyAccount) { a.EntityActive = false }, false},
		{"document now a passport", func(a *PasskeyAccount) { a.Login.IDDocType = IDPassport }, false},
		{"switched off", func(a *PasskeyAccount) { a.PasskeysOff = &at }, false},
	} {
		a := ok
		tc.change(&a)
		if got := PasskeysUsable(a); got != tc.want {
			t.Errorf("%s: PasskeysUsable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPasskeyName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"iPhone", "iPhone", true},
		{"  辦公室電腦  ", "辦公室電腦", true},
		{"a", "a", true},
		{strings.Repeat("鑰", 40), strings.Repeat("鑰", 40), true},
		{strings.Repeat("鑰", 41), "", false},
		{strings.Repeat("k", 41), "", false},
		{"", "", false},
		{"   ", "", false},
		{"line\nbreak", "", false},
		{"tab\there", "", false},
		{"bad \xff byte", "", false},
	} {
		got, ok := PasskeyName(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("PasskeyName(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestToolNoticeTo(t *testing.T) {
	for _, tc := range []struct {
		mobile, email string
		ch            Channel
		to            string
		ok            bool
	}{
		{"+85366123456", "a@example.mo", ChannelSMS, "+85366123456", true},
		{"", "a@example.mo", ChannelEmail, "a@example.mo", true},
		{"", "", "", "", false},
	} {
		ch, to, ok := ToolNoticeTo(StaffLogin{Mobile: tc.mobile, Email: tc.email})
		if ch != tc.ch || to != tc.to || ok != tc.ok {
			t.Errorf("ToolNoticeTo(%q, %q) = %q, %q, %v", tc.mobile, tc.email, ch, to, ok)
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

// TestDocumentChangeVoidsTools: a change of the document's type or number
// (compared normalised) by anyone but the operator voids the tools; other
// fields, a retyping of the same number, and the operator's change do not.
func TestDocumentChangeVoidsTools(t *testing.T) {
	old := StaffLogin{EUID: "CU000000005", EntityID: 1, NameZH: "陳大文", IDDocType: IDPassport, IDDocNumber: "K1234567", Mobile: "+85366000001"}
	with := func(f func(*StaffLogin)) StaffLogin { s := old; f(&s); return s }
	admin := Actor{Kind: ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true}
	for _, tc := range []struct {
		name    string
		actor   Actor
		new     StaffLogin
		changed bool
		voids   bool
	}{
		{"passport to Macau ID, by an admin", admin, with(func(s *StaffLogin) { s.IDDocType, s.IDDocNumber = IDMacauPermanent, "1234567(8)" }), true, true},
		{"the type alone", admin, with(func(s *StaffLogin) { s.IDDocType = IDOther }), true, true},
		{"the number alone", admin, with(func(s *StaffLogin) { s.IDDocNumber = "K7654321" }), true, true},
		{"the same number typed otherwise", admin, with(func(s *StaffLogin) { s.IDDocNumber = "k 1234567" }), false, false},
		{"the name and mobile", admin, with(func(s *StaffLogin) { s.NameZH, s.Mobile = "陳小文", "+85366000002" }), false, false},
		{"the place of issue", admin, with(func(s *StaffLogin) { s.IDDocIssuePlace = "葡萄牙" }), false, false},
		{"passport to Macau ID, by the operator", OperatorActor("safp"), with(func(s *StaffLogin) { s.IDDocType, s.IDDocNumber = IDMacauPermanent, "1234567(8)" }), true, false},
		{"by an inactive operator", Actor{Kind: ActorOperator, ID: "safp"}, with(func(s *StaffLogin) { s.IDDocNumber = "K7654321" }), true, true},
		{"by the system", SystemActor(), with(func(s *StaffLogin) { s.IDDocNumber = "K7654321" }), true, true},
	} {
		if got := DocumentChanged(old, tc.new); got != tc.changed {
			t.Errorf("%s: DocumentChanged = %v, want %v", tc.name, got, tc.changed)
		}
		if got := DocumentChangeVoidsTools(tc.actor, old, tc.new); got != tc.voids {
			t.Errorf("%s: DocumentChangeVoidsTools = %v, want %v", tc.name, got, tc.voids)
		}
	}
}

// TestPasswordTypedWithin: only a session whose password was typed within
// the window may change tools; a passkey-only session (no password typed),
// however new, may not.
func TestPasswordTypedWithin(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	window := 5 * time.Minute
	for _, tc := range []struct {
		name string
		s    Session
		want bool
	}{
		{"password typed a minute ago", Session{PasswordAt: now.Add(-time.Minute)}, true},
		{"password typed at the window's edge", Session{PasswordAt: now.Add(-window)}, true},
		{"password typed before the window", Session{PasswordAt: now.Add(-window - time.Second)}, false},
		{"a passkey sign-in just now", Session{Authentication: Authentication{AuthTime: now, AMR: []string{AMRHardwareKey, AMRUser, AMRMulti}}, ToolAt: now}, false},
		{"a passkey sign-in then the password", Session{Authentication: Authentication{AuthTime: now}, ToolAt: now.Add(-time.Hour), PasswordAt: now}, true},
	} {
		if got := PasswordTypedWithin(tc.s, now, window); got != tc.want {
			t.Errorf("%s: PasswordTypedWithin = %v, want %v", tc.name, got, tc.want)
		}
	}
}
