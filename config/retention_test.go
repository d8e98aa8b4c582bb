package config_test

import (
	"strings"
	"testing"
)

// TestRetentionDays: a year of sign-in history and of deleted logins'
// personal data by default; a history shorter than the 90 days the portal
// shows, or an erasure sooner than 30 days after a deletion (within which
// an admin restores a login deleted by mistake), is refused by name.
func TestRetentionDays(t *testing.T) {
	c, err := load(nil)
	if err != nil || c.SignInHistoryDays != 365 || c.DeletedRetentionDays != 365 {
		t.Fatalf("defaults: %d, %d, %v", c.SignInHistoryDays, c.DeletedRetentionDays, err)
	}
	c, err = load(map[string]string{"IDP_SIGNIN_HISTORY_DAYS": "180", "IDP_DELETED_RETENTION_DAYS": "30"})
	if err != nil || c.SignInHistoryDays != 180 || c.DeletedRetentionDays != 30 {
		t.Fatalf("set: %d, %d, %v", c.SignInHistoryDays, c.DeletedRetentionDays, err)
	}
	_, err = load(map[string]string{"IDP_SIGNIN_HISTORY_DAYS": "89", "IDP_DELETED_RETENTION_DAYS": "a year"})
	for _, name := range []string{"IDP_SIGNIN_HISTORY_DAYS", "IDP_DELETED_RETENTION_DAYS"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("bad %s not named: %v", name, err)
		}
	}
}
