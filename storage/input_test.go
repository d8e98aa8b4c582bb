package storage

import (
	"strings"
	"testing"
	"time"
)

// A limit is counted in characters, as the person reading it counts: 67
// Chinese characters (201 bytes) pass a limit of 200, 201 characters of any
// script do not; bad bytes and control characters never pass.
func TestCleanTextCountsCharacters(t *testing.T) {
	for _, c := range []struct {
		name string
		s    string
		max  int
		want bool
	}{
		{"67 Chinese characters (201 bytes) under 200", strings.Repeat("稽", 67), 200, true},
		{"200 Chinese characters (600 bytes) under 200", strings.Repeat("稽", 200), 200, true},
		{"201 Chinese characters under 200", strings.Repeat("稽", 201), 200, false},
		{"200 ASCII under 200", strings.Repeat("a", 200), 200, true},
		{"201 ASCII under 200", strings.Repeat("a", 201), 200, false},
		{"50 emoji (200 bytes) under 50", strings.Repeat("😀", 50), 50, true},
		{"51 emoji under 50", strings.Repeat("😀", 51), 50, false},
		{"a Chinese name of 40 characters under 100", strings.Repeat("黃", 40), 100, true},
		{"invalid UTF-8", "ab\xffcd", 200, false},
		{"NUL", "ab\x00cd", 200, false},
		{"C1 control", "ab\u0085cd", 200, false},
		{"empty", "", 200, true},
	} {
		if got := CleanText(c.s, c.max); got != c.want {
			t.Errorf("%s: CleanText = %v, want %v", c.name, got, c.want)
		}
	}
}

// A staff login's names are limited in characters: a Chinese name of 50
// characters (150 bytes) is a name, one of 101 characters is not.
func TestStaffRegistrationNameInCharacters(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	reg := StaffRegistration{NameZH: strings.Repeat("黃", 50), IDDocType: IDMacauPermanent, IDDocNumber: "1234567(8)",
		IDDocIssuePlace: strings.Repeat("澳", 60), BirthDate: "1990-01-02", Language: "zh-Hant"}
	if _, err := reg.Validate(now); err != nil {
		t.Fatalf("a name of 50 Chinese characters, a place of 60: %v", err)
	}
	reg.NameZH = strings.Repeat("黃", 101)
	if _, err := reg.Validate(now); err == nil {
		t.Fatal("a name of 101 characters was accepted")
	}
}

func TestNormalizeEntityNumber(t *testing.T) {
	for in, want := range map[string]string{
		"02-000021": "02-000021", "02000021": "02-000021", "０２-００００２１": "02-000021", "０２－００００２１": "02-000021",
		" 02 000021 ": "02-000021", "02.000021": "02-000021", "02/000021": "02-000021",
		"2-000021": "", "02-0000211": "", "02-00002x": "", "٠٢-٠٠٠٠٢١": "", "": "", "02-000021\x00": "",
		strings.Repeat(" ", MaxEntityNumberInput-8) + "02000021": "02-000021",
		strings.Repeat(" ", MaxEntityNumberInput-7) + "02000021": "",
	} {
		got, ok := NormalizeEntityNumber(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeEntityNumber(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestRepeatedParameter(t *testing.T) {
	for _, c := range []struct {
		form map[string][]string
		want string
	}{
		{map[string][]string{"scope": {"openid"}, "state": {"x"}}, ""},
		{map[string][]string{"scope": {"a", "b"}}, "parameter scope"},
		{map[string][]string{"code_verifier": {"", ""}}, "parameter code_verifier"},
		// A name no client would send is never echoed.
		{map[string][]string{"<script>": {"1", "2"}}, "a parameter"},
		{map[string][]string{strings.Repeat("a", 65): {"1", "2"}}, "a parameter"},
	} {
		if got := RepeatedParameter(c.form); got != c.want {
			t.Errorf("RepeatedParameter(%v) = %q, want %q", c.form, got, c.want)
		}
	}
}
