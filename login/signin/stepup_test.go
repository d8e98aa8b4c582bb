package signin

import (
	"slices"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// The level a session proves for a request: a tool counts only within
// max_age; a passkey-only session whose passkey is too old proves nothing.
func TestSessionLevel(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	maxAge := func(s uint) *uint { return &s }
	pwd := []string{storage.AMRPassword}
	pwdOTP := []string{storage.AMRPassword, storage.AMROTP, storage.AMRMulti}
	key := []string{storage.AMRHardwareKey, storage.AMRUser, storage.AMRMulti}
	for _, c := range []struct {
		name    string
		amr     []string
		toolAgo time.Duration
		maxAge  *uint
		want    storage.Level
		wantAMR []string
	}{
		{"password", pwd, 0, nil, storage.LevelPassword, pwd},
		{"password and code", pwdOTP, time.Hour, nil, storage.LevelTool, pwdOTP},
		{"code within max_age", pwdOTP, 30 * time.Second, maxAge(60), storage.LevelTool, pwdOTP},
		{"code older than max_age", pwdOTP, 2 * time.Minute, maxAge(60), storage.LevelPassword, pwd},
		{"passkey alone", key, time.Minute, nil, storage.LevelTool, key},
		{"passkey older than max_age", key, 2 * time.Minute, maxAge(60), storage.LevelNone, nil},
	} {
		sess := &storage.Session{Authentication: storage.Authentication{AMR: c.amr}, ToolAt: now.Add(-c.toolAgo)}
		got, amr := sessionLevel(sess, &storage.AuthRequest{MaxAge: c.maxAge}, now)
		if got != c.want || !slices.Equal(amr, c.wantAMR) {
			t.Errorf("%s: level %v amr %v, want %v %v", c.name, got, amr, c.want, c.wantAMR)
		}
	}
}

func TestWithMethods(t *testing.T) {
	if got := withMethods([]string{"pwd"}, "otp"); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("pwd + otp = %v", got)
	}
	if got := withMethods([]string{"pwd", "otp", "mfa"}, "otp"); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("twice = %v", got)
	}
	if got := withMethods(nil, "swk", "user"); !slices.Equal(got, []string{"swk", "user", "mfa"}) {
		t.Errorf("passkey = %v", got)
	}
}
