package password

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// PolicyError says why a new password is refused. Key names the message in
// the page catalogues (templates/i18n), so pages can explain it in the
// user's language.
type PolicyError struct{ Key string }

func (e *PolicyError) Error() string { return "password policy: " + e.Key }

// Length limits after NIST SP 800-63B §5.1.1.2: at least 8 characters, long
// passphrases welcome, no composition rules.
const (
	MinLength = 8
	MaxLength = 128
)

// The catalogue keys of the refusals CheckPolicy gives.
const (
	KeyTooShort         = "pw_too_short"
	KeyTooLong          = "pw_too_long"
	KeyContainsIdentity = "pw_contains_identity"
	KeyCommon           = "pw_common"
)

// CheckPolicy decides whether pw may become a password, after NIST SP
// 800-63B §5.1.1.2: MinLength to MaxLength characters (counted as Unicode
// code points, spaces included), no composition rules, and not a value that
// attackers try first. forbidden are values it must not contain, compared
// case-insensitively, such as the username and the entity number (values
// shorter than 3 characters are ignored).
//
// A password is common when, ignoring case, it is on the embedded list of
// common passwords (common_passwords.txt), is one character repeated, or is
// a listed password of at least 4 characters followed only by digits and
// punctuation ("Sunshine2024!"): appending a year or a "!" is the first
// thing a guesser tries.
func CheckPolicy(pw string, forbidden ...string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinLength {
		return &PolicyError{Key: KeyTooShort}
	}
	if n > MaxLength {
		return &PolicyError{Key: KeyTooLong}
	}
	lower := strings.ToLower(pw)
	for _, f := range forbidden {
		if f = strings.ToLower(strings.TrimSpace(f)); utf8.RuneCountInString(f) >= 3 && strings.Contains(lower, f) {
			return &PolicyError{Key: KeyContainsIdentity}
		}
	}
	if IsCommon(pw) {
		return &PolicyError{Key: KeyCommon}
	}
	return nil
}

// IsCommon reports whether pw is a common password in the sense of
// CheckPolicy.
func IsCommon(pw string) bool {
	lower := strings.ToLower(strings.TrimSpace(pw))
	if lower == "" || repeated(lower) {
		return true
	}
	list := commonPasswords()
	if _, ok := list[lower]; ok {
		return true
	}
	base := strings.TrimRightFunc(lower, func(r rune) bool {
		return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
	})
	if base != lower && utf8.RuneCountInString(base) >= 4 {
		if _, ok := list[base]; ok {
			return true
		}
	}
	return false
}

// repeated reports whether s is one character over and over.
func repeated(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(first)) == ""
}

// commonPasswordsFile is the list, with its origin and licence in the
// comment lines at its top.
//
//go:embed common_passwords.txt
var commonPasswordsFile string

// commonPasswords parses the embedded list once, on first use.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 8192)
	for line := range strings.Lines(commonPasswordsFile) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})
