package storage

import "testing"

func TestValidBrowserID(t *testing.T) {
	for v, want := range map[string]bool{
		"bRowser0000000000000aA":  true,
		"a-_0000000000000000000":  true,
		"":                        false,
		"bRowser0000000000000a":   false, // 21 characters
		"bRowser0000000000000aAB": false, // 23
		"{not-an-id}00000000000":  false,
		"bRowser00000000000+/aA":  false, // standard base64, not ours
	} {
		if got := ValidBrowserID(v); got != want {
			t.Errorf("ValidBrowserID(%q) = %v, want %v", v, got, want)
		}
	}
}
