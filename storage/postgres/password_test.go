package postgres_test

import (
	"sync"
	"testing"

	"github.com/entity-account/idp/storage"
)

func TestChangePassword(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, acct := createEntity(t, s)
	alice := activeStaff(t, s, e.ID, "alice")
	if err := s.ActivateEntityAccount(ctx, operator, acct.ID, "boss", "old-boss"); err != nil {
		t.Fatal(err)
	}

	t.Run("staff", func(t *testing.T) {
		if err := s.ChangePassword(ctx, storage.KindStaff, alice.ID, "hash-alice", "new-alice", "203.0.113.9", nil); err != nil {
			t.Fatalf("ChangePassword: %v", err)
		}
		ev := wantAudit(t, s, storage.Actor{Kind: "staff", ID: alice.EUID, IP: "203.0.113.9"}, "staff.password_change", alice.EUID, &e.ID)
		if len(ev.Details) != 0 {
			t.Errorf("audit details = %v, want none (never a hash)", ev.Details)
		}
		if p, _ := s.Principal(ctx, e.Number, "alice"); p.PasswordHash != "new-alice" {
			t.Errorf("hash = %q, want new-alice", p.PasswordHash)
		}
		n := auditCount(t, s)
		// The old hash is stale now: compare-and-swap refuses, and writes nothing.
		wantErr(t, "stale old hash", s.ChangePassword(ctx, storage.KindStaff, alice.ID, "hash-alice", "x", "", nil), storage.ErrConflict)
		wantErr(t, "unknown login", s.ChangePassword(ctx, storage.KindStaff, -1, "a", "b", "", nil), storage.ErrNotFound)
		if got := auditCount(t, s); got != n {
			t.Errorf("refused changes wrote %d audit events", got-n)
		}
	})

	t.Run("entity account", func(t *testing.T) {
		if err := s.ChangePassword(ctx, storage.KindEntityAccount, acct.ID, "old-boss", "new-boss", "203.0.113.10", nil); err != nil {
			t.Fatalf("ChangePassword: %v", err)
		}
		wantAudit(t, s, storage.Actor{Kind: "entity_account", ID: acct.Subject, IP: "203.0.113.10"}, "entity_account.password_change", acct.Subject, &e.ID)
		if p, _ := s.Principal(ctx, e.Number, "boss"); p.PasswordHash != "new-boss" {
			t.Errorf("hash = %q, want new-boss", p.PasswordHash)
		}
		wantErr(t, "stale", s.ChangePassword(ctx, storage.KindEntityAccount, acct.ID, "old-boss", "x", "", nil), storage.ErrConflict)
	})

	t.Run("deleted staff login", func(t *testing.T) {
		bob := activeStaff(t, s, e.ID, "bob")
		if err := setStatus(ctx, s, operator, bob, storage.StatusDeleted); err != nil {
			t.Fatal(err)
		}
		wantErr(t, "deleted", s.ChangePassword(ctx, storage.KindStaff, bob.ID, "hash-bob", "new", "", nil), storage.ErrConflict)
	})

	t.Run("unactivated staff login", func(t *testing.T) {
		carol := createStaff(t, s, e.ID)
		wantErr(t, "unactivated", s.ChangePassword(ctx, storage.KindStaff, carol.ID, "x", "new", "", nil), storage.ErrConflict)
	})

	t.Run("bad input", func(t *testing.T) {
		if err := s.ChangePassword(ctx, "robot", 1, "a", "b", "", nil); err == nil {
			t.Error("unknown kind accepted")
		}
		if err := s.ChangePassword(ctx, storage.KindStaff, alice.ID, "new-alice", "", "", nil); err == nil {
			t.Error("empty new hash accepted")
		}
	})

	// Of concurrent changes from the same old hash, exactly one wins.
	t.Run("concurrent", func(t *testing.T) {
		dave := activeStaff(t, s, e.ID, "dave")
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				errs[i] = s.ChangePassword(ctx, storage.KindStaff, dave.ID, "hash-dave", "new-dave", "", nil)
			})
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			default:
				wantErr(t, "loser", err, storage.ErrConflict)
			}
		}
		if won != 1 {
			t.Errorf("%d concurrent changes won, want 1", won)
		}
	})
}
