package tools

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
)

// A passkey ceremony keeps no state on the server between its two steps:
// Begin* hands the browser the options and an opaque state, the go-webauthn
// SessionData sealed with AES-256-GCM under a key of its own (derived from
// the master key), and Finish* gets both back. The purpose of the ceremony
// and the login it is for (0 for a passkey-only sign-in, which knows none)
// are the additional data, so a state opens only for the step and the login
// it was made for; its expiry is inside. Finish* then marks the challenge
// used (UsedChallenges) before it checks anything else of the response, so
// a state works once.

// Ceremony purposes.
const (
	purposeRegister = "register" // a login enrols a passkey
	purposeCheck    = "check"    // a passkey as the second factor after the password
	purposeSignIn   = "signin"   // a passkey alone, naming the login
)

// CeremonyTTL is how long a ceremony may take, from Begin* to Finish*.
const CeremonyTTL = 5 * time.Minute

// MaxResponse is the largest credential (the browser's
// PublicKeyCredential.toJSON(), serialised) accepted; larger is invalid.
const MaxResponse = 16 << 10

// maxState bounds the state string before it is decoded.
const maxState = 8 << 10

// ceremony is what a sealed state holds.
type ceremony struct {
	Purpose string               `json:"p"`
	Login   int64                `json:"l,omitempty"`
	Expires time.Time            `json:"e"`
	Session webauthn.SessionData `json:"s"`
}

func newCeremonyAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("tools: the ceremony key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func ceremonyAD(purpose string, loginID int64) []byte {
	return []byte("webauthn-ceremony\x00" + purpose + "\x00" + strconv.FormatInt(loginID, 10))
}

// sealCeremony returns the state of a ceremony: base64url(nonce || sealed).
func sealCeremony(aead cipher.AEAD, c ceremony) (string, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, ceremonyAD(c.Purpose, c.Login))), nil
}

// openCeremony opens a state made for purpose and loginID that has not
// expired at now. Anything else (tampered, another purpose or login, too
// old, not a state at all) is errState.
func openCeremony(aead cipher.AEAD, state, purpose string, loginID int64, now time.Time) (ceremony, error) {
	var c ceremony
	if state == "" || len(state) > maxState {
		return c, errState
	}
	raw, err := base64.RawURLEncoding.DecodeString(state)
	n := aead.NonceSize()
	if err != nil || len(raw) < n+aead.Overhead() {
		return c, errState
	}
	plain, err := aead.Open(nil, raw[:n], raw[n:], ceremonyAD(purpose, loginID))
	if err != nil || json.Unmarshal(plain, &c) != nil {
		return c, errState
	}
	if c.Purpose != purpose || c.Login != loginID || !now.Before(c.Expires) || c.Session.Challenge == "" {
		return c, errState
	}
	return c, nil
}
