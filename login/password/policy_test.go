package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/entity-account/idp/login/password"
)

func TestCheckPolicy(t *testing.T) {
	forbidden := []string{"staff01", "02-000021", "02000021"}
	for _, tc := range []struct {
		name, pw string
		want     string // catalogue key, "" for accepted
	}{
		{"empty", "", password.KeyTooShort},
		{"seven characters", "Xq7#pL2", password.KeyTooShort},
		{"seven CJK characters are seven, not 21 bytes", "澳門一戶通密碼", password.KeyTooShort},
		{"eight characters, no composition rules", "vqzkmtwb", ""},
		{"eight CJK characters", "澳門一戶通新密碼", ""},
		{"long passphrase with spaces", "correct horse battery staple on the praia grande", ""},
		{"exactly the maximum", strings.Repeat("ab", password.MaxLength/2), ""},
		{"one over the maximum", strings.Repeat("ab", password.MaxLength/2) + "c", password.KeyTooLong},
		{"contains the username", "my-staff01-pass", password.KeyContainsIdentity},
		{"contains the username in other case", "xxSTAFF01yy", password.KeyContainsIdentity},
		{"contains the entity number", "zz02-000021zz", password.KeyContainsIdentity},
		{"contains the entity number without dash", "pw02000021!", password.KeyContainsIdentity},
		{"common", "password", password.KeyCommon},
		{"common in other case", "PassWord", password.KeyCommon},
		{"common, numeric", "12345678", password.KeyCommon},
		{"common, eight letters", "sunshine", password.KeyCommon},
		{"common with a year and a bang", "Sunshine2024!", password.KeyCommon},
		{"common with digits", "football123", password.KeyCommon},
		{"one character repeated", "zzzzzzzzzzzz", password.KeyCommon},
		{"common word inside a longer phrase is fine", "my sunshine lives in Taipa", ""},
		{"unlisted", "Tr4vessa-da-Se", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := password.CheckPolicy(tc.pw, forbidden...)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckPolicy(%q) = %v, want accepted", tc.pw, err)
				}
				return
			}
			var pe *password.PolicyError
			if !errors.As(err, &pe) || pe.Key != tc.want {
				t.Fatalf("CheckPolicy(%q) = %v, want %s", tc.pw, err, tc.want)
			}
		})
	}
}

// Forbidden values too short to mean anything, or blank, are ignored.
func TestCheckPolicyShortForbidden(t *testing.T) {
	if err := password.CheckPolicy("ab-vqzkmtwb", "ab", "", "  "); err != nil {
		t.Fatalf("short forbidden values refused a password: %v", err)
	}
}

// The embedded list is loaded and is the one its header says.
func TestCommonList(t *testing.T) {
	for _, pw := range []string{"password", "123456", "qwerty", "iloveyou", "trustno1", "baseball"} {
		if !password.IsCommon(pw) {
			t.Errorf("%q is not on the common list", pw)
		}
	}
	for _, pw := range []string{"Tr4vessa-da-Se", "praia grande 1999 azul"} {
		if password.IsCommon(pw) {
			t.Errorf("%q is on the common list", pw)
		}
	}
}
