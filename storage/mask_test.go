package storage

import "testing"

func TestMaskDocNumber(t *testing.T) {
	for in, want := range map[string]string{
		"":           "",
		"1":          "*",
		"12":         "*2",
		"1234":       "***4",
		"12345":      "123*5",
		"1234567(8)": "123****(8)",
		"12345678":   "123****8",
		"P12345678":  "P12*****8",
		"(8)":        "*8)",
		"1(8)":       "*(8)",
		"12(8)":      "1*(8)",
		"澳門12345678": "澳門1******8",
	} {
		if got := MaskDocNumber(in); got != want {
			t.Errorf("MaskDocNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"+85366123456": "****3456",
		"6612 3456":    "****3456",
		"123":          "****",
		"abcd":         "****",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStaffMatches(t *testing.T) {
	sl := StaffLogin{Username: "Alice01", NameZH: "陳大文", NameForeign: "CHAN, Tai Man", EUID: "CU000000126", IDDocNumber: "1234567(8)"}
	for q, want := range map[string]bool{
		"": true, "alice": true, "大文": true, "tai man": true, "cu000000126": true, "345678": true, "4567(8)": true,
		"bob": false, "77": false, "9999999": false,
	} {
		if got := StaffMatches(sl, q); got != want {
			t.Errorf("StaffMatches(%q) = %v, want %v", q, got, want)
		}
	}
}
