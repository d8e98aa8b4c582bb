package storage

import "testing"

func TestCheckOfficerNote(t *testing.T) {
	for in, want := range map[string]string{" APP-1 ": "APP-1", "同意書 2026/7": "同意書 2026/7", "": "", "\t": "", "a\nb": ""} {
		got, err := CheckOfficerNote(in, "reason", "k")
		if got != want || (want == "") != (err != nil) {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
}

func TestValidEUID(t *testing.T) {
	for s, want := range map[string]bool{"CU000000126": true, "cu000000126": false, "CU00000012": false, "CU00000012X": false, "EA000000001": false} {
		if ValidEUID(s) != want {
			t.Errorf("%q: %v", s, !want)
		}
	}
}
