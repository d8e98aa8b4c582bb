package password

import (
	"strings"
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

// CheckPolicy decides whether pw may become a password. forbidden are
// values it must not contain, such as the username and the entity number.
//
// TODO(issue 3): reject passwords from a list of common ones.
func CheckPolicy(pw string, forbidden ...string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinLength {
		return &PolicyError{Key: "pw_too_short"}
	}
	if n > MaxLength {
		return &PolicyError{Key: "pw_too_long"}
	}
	lower := strings.ToLower(pw)
	for _, f := range forbidden {
		if f = strings.ToLower(strings.TrimSpace(f)); len(f) >= 3 && strings.Contains(lower, f) {
			return &PolicyError{Key: "pw_contains_identity"}
		}
	}
	return nil
}
