package storage

import (
	"net/netip"
	"strings"
	"unicode"
)

// Device is where a browser session was opened: the client address and the
// browser and system its User-Agent names ("Chrome", "Windows"), already
// parsed, so that the session record keeps a few words, not the header.
type Device struct {
	IP      string `json:"ip,omitempty"`
	Browser string `json:"b,omitempty"`
	System  string `json:"os,omitempty"`
}

// deviceWordMax bounds each word of a Device, in characters.
const deviceWordMax = 40

// CleanDevice is d as a session may keep it: the address in its canonical
// form (an IPv4 address mapped into IPv6 unmapped; anything that is not an
// address dropped), and browser and system cut to deviceWordMax printable
// characters, spaces folded. Whatever a client sends, the record stays small.
func CleanDevice(d Device) Device {
	out := Device{Browser: cleanWord(d.Browser), System: cleanWord(d.System)}
	if a, err := netip.ParseAddr(strings.TrimSpace(d.IP)); err == nil {
		out.IP = a.Unmap().WithZone("").String()
	}
	return out
}

func cleanWord(s string) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if n == deviceWordMax {
			break
		}
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r == unicode.ReplacementChar || !unicode.IsPrint(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
			if n == deviceWordMax {
				break
			}
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
