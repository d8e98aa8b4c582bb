package storage

import "time"

// OfficerCode is an activation code of an officer: sent to its mobile (or
// e-mail) when it is created or reset, it lets the officer choose a
// password and enrol a 安全驗證碼 at the desk. Stored only as a keyed hash;
// single use, short-lived, void after MaxAttempts wrong tries and voided
// by a newer code.
type OfficerCode struct {
	ID          int64
	OfficerID   int64
	Hash        []byte
	Channel     Channel
	CreatedAt   time.Time
	ExpiresAt   time.Time
	MaxAttempts int
	Attempts    int
	UsedAt      *time.Time
	VoidedAt    *time.Time
	VoidReason  string
}

// Live reports whether the code may still be used at now.
func (c OfficerCode) Live(now time.Time) bool {
	return c.UsedAt == nil && c.VoidedAt == nil && now.Before(c.ExpiresAt) && c.Attempts < c.MaxAttempts
}

// OfficerCodeIssue is a new officer code and the outbox message that
// carries it, written together.
type OfficerCodeIssue struct {
	Code    OfficerCode
	Message OutboxMessage
}

// OfficerStaged is what the activation's first step left on a live code:
// the password's hash and the sealed TOTP secret, waiting for the TOTP's
// first code.
type OfficerStaged struct {
	Code         OfficerCode
	PasswordHash string
	TOTPSealed   []byte
}

// OfficerSecrets are what proves an officer at the desk's sign-in.
type OfficerSecrets struct {
	PasswordHash string // "" before activation
	TOTPSealed   []byte // nil before activation
	TOTPLastStep int64
}

// DeskOutcome is how a desk sign-in attempt ended.
type DeskOutcome string

const (
	DeskSignedIn      DeskOutcome = "success"
	DeskWrongPassword DeskOutcome = "wrong_password" // or no such officer, or not activated
	DeskWrongCode     DeskOutcome = "wrong_code"     // the 安全驗證碼 wrong or replayed
	DeskWrongPasskey  DeskOutcome = "wrong_passkey"  // a passkey's assertion refused
	DeskLocked        DeskOutcome = "locked"         // over a limit of tries
	DeskDisabled      DeskOutcome = "disabled"       // the right password of a disabled officer
)

// OfficerSignIn is one attempt to sign in at the desk.
type OfficerSignIn struct {
	ID int64
	// OfficerID is 0 when the login name named no officer.
	OfficerID int64
	At        time.Time
	IP        string
	// UserAgent is a short summary (browser and system), never the whole header.
	UserAgent string
	Outcome   DeskOutcome
}

// OfficerHistoryDays is how far back an officer reads its own sign-ins.
const OfficerHistoryDays = 90
