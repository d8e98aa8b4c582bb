package storage

import "slices"

// Assurance levels: how strongly a sign-in proved who is signing in. The
// acr claim names the level; an e-service may demand a minimum, and a
// relying party may ask for one (acr_values, or an essential acr claim).

// Level is an assurance level; a higher one satisfies every lower one.
type Level int

const (
	// LevelNone: nothing proven (no session).
	LevelNone Level = 0
	// LevelPassword: entity number, username and password.
	LevelPassword Level = 1
	// LevelTool: the password and an electronic identity tool (安全驗證碼 or
	// a passkey), or a passkey alone: a passkey with user verification is
	// itself two factors (the device, and the face, fingerprint or PIN).
	LevelTool Level = 2
)

// The acr values of the levels, advertised in discovery.
const (
	ACRPassword = "urn:entity-account:acr:password"
	ACRTool     = "urn:entity-account:acr:tool"
)

// ACRValues are the acr values this provider can satisfy, lowest first.
var ACRValues = []string{ACRPassword, ACRTool}

// Authentication method references (RFC 8176) the sign-in records.
const (
	AMRPassword    = "pwd"  // the password
	AMROTP         = "otp"  // 安全驗證碼, a one-time code from an authenticator app
	AMRHardwareKey = "hwk"  // a passkey bound to its device
	AMRSoftwareKey = "swk"  // a passkey that may be synced between devices
	AMRUser        = "user" // the authenticator verified the user (biometric or PIN)
	AMRMulti       = "mfa"  // more than one factor
)

// Known reports whether l is one of the levels above.
func (l Level) Known() bool { return l >= LevelNone && l <= LevelTool }

// ACR is the acr value of l ("" for LevelNone).
func (l Level) ACR() string {
	switch l {
	case LevelPassword:
		return ACRPassword
	case LevelTool:
		return ACRTool
	}
	return ""
}

// LevelOfACR returns the level an acr value names; false for a value this
// provider does not know.
func LevelOfACR(acr string) (Level, bool) {
	switch acr {
	case ACRPassword:
		return LevelPassword, true
	case ACRTool:
		return LevelTool, true
	}
	return LevelNone, false
}

// LowestKnownLevel is the lowest level among acr values a relying party
// listed (any of them satisfies it); false when it named none we know.
func LowestKnownLevel(acrs []string) (Level, bool) {
	best, found := LevelNone, false
	for _, v := range acrs {
		if l, ok := LevelOfACR(v); ok && (!found || l < best) {
			best, found = l, true
		}
	}
	return best, found
}

// LevelOfAMR is the level a set of authentication methods reaches: a
// second factor (a code, or a passkey) on top of the password, or a
// passkey alone, is LevelTool.
func LevelOfAMR(amr []string) Level {
	key := slices.Contains(amr, AMRHardwareKey) || slices.Contains(amr, AMRSoftwareKey)
	switch {
	case key || slices.Contains(amr, AMRPassword) && slices.Contains(amr, AMROTP):
		return LevelTool
	case slices.Contains(amr, AMRPassword):
		return LevelPassword
	}
	return LevelNone
}
