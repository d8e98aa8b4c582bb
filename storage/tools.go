package storage

import (
	"fmt"
	"time"
)

// Electronic identity tools (電子身份識別工具): what a staff
// login proves at sign-in beside its password when an e-service needs the
// stricter check. Two kinds: 安全驗證碼, a time-based one-time code
// (RFC 6238) from an authenticator app, and passkeys (WebAuthn), which
// also sign in alone.

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
	// ToolActive: the tool may be used at sign-in. A passkey is active from
	// its enrolment on.
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

// Passkey is a WebAuthn credential of a staff login with what checking its
// assertions needs. Nothing here is secret: the private key never leaves
// the person's device.
type Passkey struct {
	IdentityTool
	CredentialID []byte // as the authenticator names it; unique among all logins
	PublicKey    []byte // COSE_Key
	// SignCount is the authenticator's signature counter at the last use;
	// an assertion with a counter not above it (both zero aside) is refused,
	// as the mark of a cloned authenticator.
	SignCount uint32
	AAGUID    []byte // the authenticator model (zeros when it does not say)
	// BackupEligible: the credential may be synced between devices (a
	// "synced" passkey, amr swk); false for one bound to its device (hwk).
	BackupEligible bool
	BackupState    bool     // it is synced now
	Transports     []string // usb, nfc, ble, internal, hybrid…: hints for the browser
	Attachment     string   // platform, cross-platform, or "" when not told
}

// PasskeyAccount is what passkey ceremonies know of a staff login.
type PasskeyAccount struct {
	Login        StaffLogin
	EntityNumber string
	EntityActive bool
	// Handle is the WebAuthn user handle: 32 random bytes given to the login
	// once and kept, so that it names the login to its passkeys without
	// telling anything of it (neither the EUID nor the row id).
	Handle []byte
	// PasskeysOff is when the holder switched passkeys off (nil: on). While
	// off, the login may not enrol a passkey; the operator switches them on
	// again after seeing the person.
	PasskeysOff *time.Time
	Passkeys    []Passkey
}

// Refusals of a passkey enrolment the store discovers in its transaction.
// They wrap the sentinels, so errors.Is(err, ErrConflict) holds too.
var (
	ErrPasskeysOff      = fmt.Errorf("passkeys are switched off: %w", ErrConflict)
	ErrTooManyPasskeys  = fmt.Errorf("the login holds the most passkeys allowed: %w", ErrConflict)
	ErrPasskeyNameTaken = fmt.Errorf("another passkey of the login has this name: %w", ErrAlreadyExists)
)

// ToolNoticeTo is where the holder of a staff login is told of a change to
// its identity tools: an SMS to the registered mobile, else an e-mail to
// the registered address; ok is false when it registered neither.
func ToolNoticeTo(sl StaffLogin) (ch Channel, to string, ok bool) {
	switch {
	case sl.Mobile != "":
		return ChannelSMS, sl.Mobile, true
	case sl.Email != "":
		return ChannelEmail, sl.Email, true
	}
	return "", "", false
}

// NoticeOf composes the notice that tells the holder of staff login sl (of
// the entity numbered entityNumber), as registered, of a change to it; nil
// when there is nobody to tell. A store calls it inside the transaction of
// the change, so it must not touch the stores.
type NoticeOf func(sl StaffLogin, entityNumber string) (*OutboxMessage, error)
