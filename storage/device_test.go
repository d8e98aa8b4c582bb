package storage

import (
	"strings"
	"testing"
)

func TestCleanDevice(t *testing.T) {
	for _, c := range []struct {
		name string
		in   Device
		want Device
	}{
		{"plain", Device{IP: "203.0.113.7", Browser: "Chrome", System: "Windows"}, Device{IP: "203.0.113.7", Browser: "Chrome", System: "Windows"}},
		{"mapped v4", Device{IP: "::ffff:192.0.2.1"}, Device{IP: "192.0.2.1"}},
		{"v6 canonical", Device{IP: "2001:DB8:0:0::1"}, Device{IP: "2001:db8::1"}},
		{"zone dropped", Device{IP: "fe80::1%eth0"}, Device{IP: "fe80::1"}},
		{"not an address", Device{IP: "10.0.0.1, 10.0.0.2"}, Device{}},
		{"controls and spaces", Device{Browser: "  Safari\x00 \t on\n iPhone  ", System: "i\x1bOS"}, Device{Browser: "Safari on iPhone", System: "iOS"}},
		{"invalid utf-8", Device{Browser: "Fire\xfffox"}, Device{Browser: "Firefox"}},
		{"long", Device{Browser: strings.Repeat("瀏", 100)}, Device{Browser: strings.Repeat("瀏", deviceWordMax)}},
	} {
		if got := CleanDevice(c.in); got != c.want {
			t.Errorf("%s: CleanDevice(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}
