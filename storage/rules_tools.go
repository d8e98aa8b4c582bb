package storage

import (
	"strings"
	"time"
)

// The rule book of identity tools. A tool is the
// person's own: nobody enrols one for someone else, an admin included. The
// operator (行政公職局) approves an enrolment after checking the identity
// document in person, and resets a login's tools (a lost phone).
//
// Passkeys are for logins registered with a Macau resident ID, which enrol
// them themselves; any other document uses the security verification code
// (安全驗證碼), approved in person. A holder may switch passkeys off: that
// removes them all and keeps the login from enrolling another until the
// operator switches them on again, in person.

// CanEnrolTool: enrol (or confirm) an identity tool for target. Only the
// active, activated staff login itself.
func CanEnrolTool(a Actor, target StaffLogin) bool {
	return a.Active && a.Kind == ActorStaff && a.ID != "" && a.ID == target.EUID &&
		actsFor(a, target.EntityID) && target.Status == StatusActive && target.ActivatedAt != nil
}

// CanHoldTools: hold identity tools of one's own and open their pages (the
// portal's 電子身份識別工具): an active staff login, for itself alone. The
// entity account signs in to no e-service and so holds none.
func CanHoldTools(a Actor) bool {
	return a.Active && a.Kind == ActorStaff && a.ID != "" && a.EntityID != 0
}

// CanApproveTool: approve a pending enrolment after the in-person check.
func CanApproveTool(a Actor) bool { return isOperator(a) }

// CanResetTools: remove every identity tool of a staff login.
func CanResetTools(a Actor) bool { return isOperator(a) }

// MaxPasskeys is the most passkeys one staff login holds at once.
const MaxPasskeys = 10

// MaxPasskeyName is the longest name of a passkey, in characters.
const MaxPasskeyName = 40

// PasskeysAllowed reports whether a staff login may hold passkeys at all:
// only one registered with a Macau resident ID, permanent or not.
func PasskeysAllowed(sl StaffLogin) bool { return SelfConfirmsTools(sl) }

// CanEnrolPasskey: add a passkey to target: the login itself (as
// CanEnrolTool), registered with a Macau resident ID, its passkeys not
// switched off.
func CanEnrolPasskey(a Actor, target StaffLogin, switchedOff bool) bool {
	return CanEnrolTool(a, target) && PasskeysAllowed(target) && !switchedOff
}

// CanRemovePasskeys: remove one of target's passkeys, or switch its
// passkeys off: the login itself only, whatever its document.
func CanRemovePasskeys(a Actor, target StaffLogin) bool { return CanEnrolTool(a, target) }

// CanViewTools: list target's identity tools: the login itself only.
func CanViewTools(a Actor, target StaffLogin) bool { return CanEnrolTool(a, target) }

// CanEnablePasskeys: switch passkeys on again for a login whose holder
// switched them off: the operator only, after seeing the person.
func CanEnablePasskeys(a Actor) bool { return isOperator(a) }

// PasskeysUsable reports whether a's passkeys may be used at sign-in now:
// the login is active and activated, its entity open, its document one
// that allows passkeys, and passkeys are not switched off.
func PasskeysUsable(a PasskeyAccount) bool {
	sl := a.Login
	return sl.Status == StatusActive && sl.ActivatedAt != nil && a.EntityActive &&
		PasskeysAllowed(sl) && a.PasskeysOff == nil
}

// PasskeyName returns the name a person gives a passkey, trimmed, and
// whether it is acceptable: 1 to MaxPasskeyName characters of clean text
// (CleanText: valid UTF-8, no control characters).
func PasskeyName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	return s, s != "" && CleanText(s, MaxPasskeyName)
}

// DocumentChanged reports whether a registration's identity document
// differs between old and new: its type, or its number compared
// normalised (the same number typed with other spacing or brackets is the
// same document).
func DocumentChanged(old, new StaffLogin) bool {
	return old.IDDocType != new.IDDocType || NormalizeIDDocNumber(old.IDDocNumber) != NormalizeIDDocNumber(new.IDDocNumber)
}

// DocumentChangeVoidsTools reports whether a change of a staff login's
// registration from old to new by a voids the login's identity tools. The
// document decides how a tool is enrolled (self-confirmed with a Macau
// resident ID, checked in person otherwise) and whether passkeys are
// allowed, so tools enrolled under one document do not carry over to
// another: a change of the document's type or number by anyone but the
// operator (an admin at the 編輯 form) removes every tool of the login,
// pending ones included, and the login enrols again by the route its new
// document requires. The operator changes a document only after seeing the
// person with it, so its change keeps the tools.
func DocumentChangeVoidsTools(a Actor, old, new StaffLogin) bool {
	return DocumentChanged(old, new) && !isOperator(a)
}

// PasswordTypedWithin reports whether the account's password was typed in
// session s no longer than window before now: what enrolling or removing
// an identity tool asks of the session. A session opened with a passkey
// alone never had it typed, and passes only after it is typed again: a
// tool does not vouch for adding or removing tools, so that a device
// someone else holds cannot enrol its own or remove the holder's, and the
// change rests on the password and the session's passkey together.
func PasswordTypedWithin(s Session, now time.Time, window time.Duration) bool {
	return !s.PasswordAt.IsZero() && now.Sub(s.PasswordAt) <= window
}
