package storage

import (
	"errors"
	"testing"
)

// TestOfficerPasskeyRules: an active officer adds passkeys below the
// limit; a disabled one neither adds nor removes; the last second factor
// stays.
func TestOfficerPasskeyRules(t *testing.T) {
	active := Officer{ID: 1, Login: "chan.tm", Role: RoleCounter, Status: OfficerActive}
	disabled := Officer{ID: 2, Login: "ho.mk", Role: RoleSupervisor, Status: OfficerDisabled}
	for held := range MaxOfficerPasskeys {
		if err := MayAddOfficerPasskey(active, held); err != nil {
			t.Errorf("add with %d: %v", held, err)
		}
	}
	if err := MayAddOfficerPasskey(active, MaxOfficerPasskeys); CodeOf(err) != EConflict {
		t.Errorf("add past the limit: %v", err)
	}
	if err := MayAddOfficerPasskey(disabled, 0); CodeOf(err) != EForbidden {
		t.Errorf("a disabled officer adds: %v", err)
	}
	if err := MayRemoveOfficerPasskey(disabled, true, 2); CodeOf(err) != EForbidden {
		t.Errorf("a disabled officer removes: %v", err)
	}
	for _, c := range []struct {
		totp bool
		held int
		ok   bool
	}{{true, 1, true}, {false, 2, true}, {false, 1, false}, {true, 5, true}} {
		err := MayRemoveOfficerPasskey(active, c.totp, c.held)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrLastFactor)) {
			t.Errorf("remove with totp %v, %d held: %v", c.totp, c.held, err)
		}
	}
}
