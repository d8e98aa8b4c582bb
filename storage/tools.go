package storage

import "time"

// Electronic identity tools (電子身份識別工具): what a staff
// login proves at sign-in beside its password when an e-service needs the
// stricter check. Today one kind: 安全驗證碼, a time-based one-time code
// (RFC 6238) from an authenticator app, and passkeys (WebAuthn).

// ToolKind is the kind of an identity tool.
type ToolKind string

const (
	// ToolTOTP is 安全驗證碼: a TOTP (30 s, 6 digits, SHA-1). One per login.
	ToolTOTP ToolKind = "totp"
	// ToolPasskey is a WebAuthn credential with user verification (the
	// face, fingerprint or PIN check of the person's own device). A login
	// may hold several, each named.
	ToolPasskey ToolKind = "passkey"
)

// ToolState is where an identity tool stands.
type ToolState string

const (
	// ToolUnconfirmed: the secret was shown to the login, which has not yet
	// proved with a first code that its authenticator app holds it.
	ToolUnconfirmed ToolState = "unconfirmed"
	// ToolPending: confirmed by the login, waiting for the operator's check
	// of the identity document in person (a document other than a Macau
	// resident ID card).
	ToolPending ToolState = "pending"
	// ToolActive: the tool may be used at sign-in.
	ToolActive ToolState = "active"
)

// IdentityTool is one identity tool of a staff login. Its secret is never
// here: the store keeps it sealed and hands the sealed bytes to the use
// case alone.
type IdentityTool struct {
	ID           int64
	StaffLoginID int64
	Kind         ToolKind
	State        ToolState
	Name         string
	CreatedAt    time.Time
	ConfirmedAt  *time.Time // the login's first code
	ApprovedAt   *time.Time // the operator's approval (non-Macau documents)
	LastUsedAt   *time.Time
	// LastStep is the last TOTP time step accepted (unix time / 30): a code
	// of that step or an earlier one is refused, so no code works twice.
	LastStep int64
}

// SelfConfirmsTools reports whether a staff login confirms its own TOTP
// enrolment: a login registered with a Macau resident ID,
// permanent or not. Any other document leaves the enrolment pending until
// the operator has seen the document in person.
func SelfConfirmsTools(sl StaffLogin) bool {
	return sl.IDDocType == IDMacauPermanent || sl.IDDocType == IDMacauNonPermanent
}
