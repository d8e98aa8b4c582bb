package credential_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/entity-account/idp/login/credential"
	"github.com/entity-account/idp/storage"
)

// TestChangeRefusesTheFormFirst: a form the change refuses reserves no
// attempt on the sign-in counters, hashes and writes nothing, and names
// the fields at fault with the catalogue key. (The whole change, over the
// real stores, is cmd/idp's TestChangePassword*.)
func TestChangeRefusesTheFormFirst(t *testing.T) {
	p := credential.New(nil, nil, nil) // nothing of them may be touched
	account := storage.Principal{Kind: storage.KindStaff, ID: 1, Subject: "CU000000001", Username: "chan01", EntityNumber: "02-000021"}
	reserved := false
	reserve := func(context.Context) (credential.Attempt, time.Duration, error) {
		reserved = true
		return nil, time.Minute, nil
	}
	for _, tc := range []struct {
		name, old, new, again, key string
		fields                     []string
	}{
		{"nothing", "", "", "", "account_error_missing", []string{"old_password", "new_password", "new_password2"}},
		{"no old", "", "N3w-Passw0rd!x", "N3w-Passw0rd!x", "account_error_missing", []string{"old_password"}},
		{"mismatch", "Old-Passw0rd!x", "N3w-Passw0rd!x", "N3w-Passw0rd!y", "account_error_mismatch", []string{"new_password2"}},
		{"same as old", "N3w-Passw0rd!x", "N3w-Passw0rd!x", "N3w-Passw0rd!x", "pw_same_as_old", []string{"new_password"}},
	} {
		_, err := p.Change(context.Background(), credential.Change{Account: account, Old: tc.old, New: tc.new, Again: tc.again, Reserve: reserve})
		fields := storage.FieldErrors(err)
		var got []string
		for _, f := range fields {
			got = append(got, f.Field)
			if f.Key != tc.key || f.Code != storage.EInvalid {
				t.Errorf("%s: refusal %+v, want key %s", tc.name, f, tc.key)
			}
		}
		if !slices.Equal(got, tc.fields) {
			t.Errorf("%s: fields %v, want %v (%v)", tc.name, got, tc.fields, err)
		}
	}
	// A policy refusal names new_password with the policy's key.
	_, err := p.Change(context.Background(), credential.Change{Account: account, Old: "Old-Passw0rd!x", New: "short", Again: "short", Reserve: reserve})
	if fields := storage.FieldErrors(err); len(fields) != 1 || fields[0].Field != "new_password" || fields[0].Key == "" {
		t.Errorf("policy refusal: %v", err)
	}
	if reserved {
		t.Error("a refused form reserved an attempt")
	}
	// The counters full: throttled, with their wait, before any hashing.
	_, err = p.Change(context.Background(), credential.Change{Account: account, Old: "Old-Passw0rd!x", New: "N3w-Passw0rd!x", Again: "N3w-Passw0rd!x", Reserve: reserve})
	var throttled *storage.Error
	if !errors.As(err, &throttled) || throttled.Code != storage.ETooMany || throttled.Wait != time.Minute || !reserved {
		t.Errorf("counters full: %v", err)
	}
}
