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
