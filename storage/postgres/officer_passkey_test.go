package postgres_test

import (
	"errors"
	"testing"

	"github.com/entity-account/idp/storage"
)

// TestOfficerPasskeys: a credential is registered once (whoever holds
// it), names are unique per officer whatever their case, a use moves the
// counter forward only and only for its officer, another officer's
// passkey is not found, and the last second factor stays.
func TestOfficerPasskeys(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	a := storage.Officer{Login: "chan.tm", DisplayName: "陳大文", Role: storage.RoleSupervisor, Status: storage.OfficerActive}
	b := storage.Officer{Login: "lei.km", DisplayName: "李嘉文", Role: storage.RoleCounter, Status: storage.OfficerActive}
	if err := s.CreateOfficer(ctx, nil, &a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOfficer(ctx, &a, &b); err != nil {
		t.Fatal(err)
	}
	actA, actB := storage.OfficerActor(a), storage.OfficerActor(b)
	key := func(name string, id byte) *storage.OfficerPasskey {
		return &storage.OfficerPasskey{Name: name, CredentialID: []byte{id, 1, 2, 3}, PublicKey: []byte{0xa5, id}, SignCount: 1}
	}
	p1 := key("Office", 1)
	if err := s.AddOfficerPasskey(ctx, actA, p1); err != nil || p1.ID == 0 || p1.OfficerID != a.ID {
		t.Fatalf("add: %+v %v", p1, err)
	}
	if err := s.AddOfficerPasskey(ctx, actB, key("Mine", 1)); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("another officer registers the same credential: %v", err)
	}
	if err := s.AddOfficerPasskey(ctx, actA, key("OFFICE", 2)); !errors.Is(err, storage.ErrPasskeyNameTaken) {
		t.Errorf("a name taken: %v", err)
	}
	for _, c := range []struct {
		officer int64
		count   uint32
		ok      bool
	}{{b.ID, 5, false}, {a.ID, 1, false}, {a.ID, 5, true}, {a.ID, 5, false}, {a.ID, 6, true}} {
		if ok, err := s.UseOfficerPasskey(ctx, c.officer, p1.ID, c.count, false); err != nil || ok != c.ok {
			t.Errorf("use by %d at %d: %v %v", c.officer, c.count, ok, err)
		}
	}
	acct, err := s.OfficerPasskeyAccount(ctx, a.ID)
	if err != nil || len(acct.Handle) != 32 || len(acct.Passkeys) != 1 || acct.Passkeys[0].SignCount != 6 || acct.Passkeys[0].LastUsedAt == nil || acct.HasTOTP {
		t.Fatalf("account: %+v %v", acct, err)
	}
	if other, err := s.OfficerPasskeyAccount(ctx, b.ID); err != nil || string(other.Handle) == string(acct.Handle) {
		t.Errorf("handles: %v", err)
	}
	// No 安全驗證碼 (not activated): its one passkey is its last factor.
	if _, err := s.RemoveOfficerPasskey(ctx, actA, p1.ID); !errors.Is(err, storage.ErrLastFactor) {
		t.Errorf("the last factor removed: %v", err)
	}
	if _, err := s.RemoveOfficerPasskey(ctx, actB, p1.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("another officer removes it: %v", err)
	}
	p2 := key("Phone", 3)
	if err := s.AddOfficerPasskey(ctx, actA, p2); err != nil {
		t.Fatal(err)
	}
	if gone, err := s.RemoveOfficerPasskey(ctx, actA, p1.ID); err != nil || gone.Name != "Office" {
		t.Fatalf("remove: %+v %v", gone, err)
	}
	var audits int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE target = 'chan.tm' AND action LIKE 'officer.passkey.%'`).Scan(&audits); err != nil || audits != 3 {
		t.Errorf("audited %d, %v", audits, err)
	}
}
