package storage

import (
	"fmt"
	"time"
)

// OfficerPasskey is a passkey (a WebAuthn credential) of an officer: a
// second factor at the desk, after the password, beside the 安全驗證碼.
// Kept apart from the staff logins' passkeys (Passkey).
type OfficerPasskey struct {
	ID             int64
	OfficerID      int64
	Name           string
	CredentialID   []byte
	PublicKey      []byte
	SignCount      uint32
	AAGUID         []byte
	BackupEligible bool
	BackupState    bool
	Transports     []string
	Attachment     string
	CreatedAt      time.Time
	LastUsedAt     *time.Time
}

// OfficerPasskeyAccount is an officer as WebAuthn sees it: its user handle
// (32 random bytes, telling nothing of it) and its passkeys, oldest first.
type OfficerPasskeyAccount struct {
	Officer  Officer
	Handle   []byte
	HasTOTP  bool
	Passkeys []OfficerPasskey
}

// MaxOfficerPasskeys is how many passkeys an officer holds at most.
const MaxOfficerPasskeys = 5

// ErrLastFactor: the change would leave the officer without a second
// factor (neither a 安全驗證碼 nor a passkey).
var ErrLastFactor = fmt.Errorf("the officer's last second factor: %w", ErrConflict)

// MayAddOfficerPasskey: an officer adds passkeys to itself only, while it
// may be at the desk, below MaxOfficerPasskeys.
func MayAddOfficerPasskey(o Officer, held int) error {
	if err := OfficerMay(o, ActUseDesk); err != nil {
		return err
	}
	if held >= MaxOfficerPasskeys {
		return Errorf(EConflict, "an officer holds at most %d passkeys; remove one first", MaxOfficerPasskeys).
			WithKey("desk_passkeys_err_limit")
	}
	return nil
}

// MayRemoveOfficerPasskey: an officer removes its own passkeys, but never
// its last second factor: after the removal it must still hold a 安全驗證碼
// or another passkey.
func MayRemoveOfficerPasskey(o Officer, hasTOTP bool, held int) error {
	if err := OfficerMay(o, ActUseDesk); err != nil {
		return err
	}
	if !hasTOTP && held <= 1 {
		e := Errorf(EConflict, "this is the officer's last second factor: it is kept").WithKey("desk_passkeys_err_last")
		e.Err = ErrLastFactor
		return e
	}
	return nil
}
