package kit

import (
	"net/http/httptest"
	"testing"
	"time"
)

// TestUntil: the end of a wait in Macau time, rounded up to the minute,
// with the date only when it is not today there.
func TestUntil(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC) // 14:00 in Macau
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(15 * time.Minute), "14:15"},
		{now.Add(15*time.Minute + time.Second), "14:16"},
		{now.Add(10 * time.Hour), "2026-12-08 00:00"},
	} {
		if got := Until(c.at, now); got != c.want {
			t.Errorf("Until(%v) = %q, want %q", c.at, got, c.want)
		}
	}
}

// TestLockedUntilMessage: the refusal names the time and sets Retry-After.
func TestLockedUntilMessage(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	w := httptest.NewRecorder()
	msg := LockedUntil("k", 90*time.Second, now).Message(w, map[string]string{"k": "locked until %s"})
	if msg != "locked until 14:02" || w.Header().Get("Retry-After") != "90" {
		t.Errorf("message %q, Retry-After %q", msg, w.Header().Get("Retry-After"))
	}
}

// TestDeviceOf: a request's device in plain words, its address normalised.
func TestDeviceOf(t *testing.T) {
	k := &Kit{}
	for _, c := range []struct{ ua, browser, system string }{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome", "Windows"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Safari", "iPhone"},
		{"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome", "Android"},
		{"", "", ""},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "[::ffff:192.0.2.7]:5555"
		r.Header.Set("User-Agent", c.ua)
		d := k.DeviceOf(r)
		if d.Browser != c.browser || d.System != c.system || d.IP != "192.0.2.7" {
			t.Errorf("DeviceOf(%q) = %+v", c.ua, d)
		}
	}
}
