package postgres_test

import (
	"testing"

	"github.com/entity-account/idp/storage"
)

func TestPrincipal(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, acct := createEntity(t, s)
	other, _ := createEntity(t, s)
	if err := s.ActivateEntityAccount(ctx, operator, acct.ID, "Boss", "hash-boss"); err != nil {
		t.Fatal(err)
	}
	alice := activeStaff(t, s, e.ID, "alice")
	pending := createStaff(t, s, e.ID)

	t.Run("entity account", func(t *testing.T) {
		p, err := s.Principal(ctx, e.Number, "boss")
		if err != nil {
			t.Fatalf("Principal: %v", err)
		}
		want := storage.Principal{
			Kind: storage.KindEntityAccount, ID: acct.ID, Subject: acct.Subject,
			EntityID: e.ID, EntityNumber: e.Number, EntityNameZH: e.NameZH, EntityNamePT: e.NamePT,
			EntityActive: true, Username: "Boss", PasswordHash: "hash-boss",
			NameZH: e.NameZH, NameForeign: e.NamePT, Email: acct.Email, Language: "pt",
			Activated: true, Status: storage.StatusActive,
		}
		if p != want {
			t.Errorf("Principal =\n%+v\nwant\n%+v", p, want)
		}
		if !p.CanSignIn() {
			t.Error("activated entity account cannot sign in")
		}
	})

	t.Run("staff login", func(t *testing.T) {
		p, err := s.Principal(ctx, e.Number, "ALICE")
		if err != nil {
			t.Fatalf("Principal: %v", err)
		}
		want := storage.Principal{
			Kind: storage.KindStaff, ID: alice.ID, Subject: alice.EUID,
			EntityID: e.ID, EntityNumber: e.Number, EntityNameZH: e.NameZH, EntityNamePT: e.NamePT,
			EntityActive: true, Username: "alice", PasswordHash: "hash-alice",
			NameZH: alice.NameZH, NameForeign: alice.NameForeign, Email: alice.Email, Mobile: alice.Mobile,
			Language: "zh-Hant", Activated: true, Status: storage.StatusActive,
		}
		if p != want {
			t.Errorf("Principal =\n%+v\nwant\n%+v", p, want)
		}
		bySubject, err := s.PrincipalBySubject(ctx, alice.EUID)
		if err != nil || bySubject != want {
			t.Errorf("PrincipalBySubject = %+v, %v", bySubject, err)
		}
		byEA, err := s.PrincipalBySubject(ctx, acct.Subject)
		if err != nil || byEA.Kind != storage.KindEntityAccount || byEA.ID != acct.ID {
			t.Errorf("PrincipalBySubject(entity account) = %+v, %v", byEA, err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		for _, c := range []struct{ name, number, username string }{
			{"unknown username", e.Number, "mallory"},
			{"wrong entity", other.Number, "alice"},
			{"unknown entity", "99-999999", "alice"},
			{"empty username", e.Number, ""},
		} {
			_, err := s.Principal(ctx, c.number, c.username)
			wantErr(t, c.name, err, storage.ErrNotFound)
		}
		_, err := s.PrincipalBySubject(ctx, "CU999999999")
		wantErr(t, "unknown subject", err, storage.ErrNotFound)
		_, err = s.PrincipalBySubject(ctx, pending.EUID)
		if err != nil {
			t.Errorf("unactivated login by subject: %v", err)
		}
	})

	t.Run("deleted and closed are returned", func(t *testing.T) {
		if err := setStatus(ctx, s, operator, alice, storage.StatusDeleted); err != nil {
			t.Fatal(err)
		}
		p, err := s.Principal(ctx, e.Number, "alice")
		if err != nil || p.Status != storage.StatusDeleted || p.CanSignIn() {
			t.Errorf("deleted login: %+v, %v; want Status deleted and no sign-in", p, err)
		}
		if _, err := s.Pool().Exec(ctx, `UPDATE entities SET status = 'closed' WHERE id = $1`, e.ID); err != nil {
			t.Fatal(err)
		}
		p, err = s.Principal(ctx, e.Number, "boss")
		if err != nil || p.EntityActive || p.CanSignIn() {
			t.Errorf("closed entity: %+v, %v; want EntityActive false", p, err)
		}
	})
}

func TestUpdatePasswordHash(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, acct := createEntity(t, s)
	alice := activeStaff(t, s, e.ID, "alice")
	if err := s.ActivateEntityAccount(ctx, operator, acct.ID, "boss", "old-boss"); err != nil {
		t.Fatal(err)
	}

	if err := s.UpdatePasswordHash(ctx, storage.KindStaff, alice.ID, "hash-alice", "new-alice"); err != nil {
		t.Fatalf("swap staff hash: %v", err)
	}
	err := s.UpdatePasswordHash(ctx, storage.KindStaff, alice.ID, "hash-alice", "newer")
	wantErr(t, "stale old hash", err, storage.ErrConflict)
	err = s.UpdatePasswordHash(ctx, storage.KindStaff, -1, "x", "y")
	wantErr(t, "unknown staff login", err, storage.ErrNotFound)
	if p, _ := s.Principal(ctx, e.Number, "alice"); p.PasswordHash != "new-alice" {
		t.Errorf("staff hash = %q, want new-alice", p.PasswordHash)
	}

	if err := s.UpdatePasswordHash(ctx, storage.KindEntityAccount, acct.ID, "old-boss", "new-boss"); err != nil {
		t.Fatalf("swap entity account hash: %v", err)
	}
	err = s.UpdatePasswordHash(ctx, storage.KindEntityAccount, acct.ID, "old-boss", "x")
	wantErr(t, "stale entity account hash", err, storage.ErrConflict)
	if p, _ := s.Principal(ctx, e.Number, "boss"); p.PasswordHash != "new-boss" {
		t.Errorf("entity account hash = %q, want new-boss", p.PasswordHash)
	}
	if err := s.UpdatePasswordHash(ctx, "robot", 1, "a", "b"); err == nil {
		t.Error("unknown kind accepted")
	}
}
