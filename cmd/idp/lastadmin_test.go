package main

import (
	"context"
	"errors"
	"testing"

	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// TestRemoveLastAdminNeedsConfirmation: the admin-rights removal use case
// itself, whoever calls it, refuses to leave an entity with no active
// admin unless the request confirms it — and then removes nothing; it
// tells an actor that may not remove admin rights nothing of the entity's
// admins; the operator, who alone can grant them back, is not asked.
func TestRemoveLastAdminNeedsConfirmation(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	ctx, e := context.Background(), idp.demoEntity(t)
	m := idp.app.manage
	admin, staff := idp.login("admin01"), idp.login("staff01")
	acct, err := idp.app.pg.EntityAccount(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := idp.app.pg.PrincipalBySubject(ctx, acct.Subject)
	if err != nil {
		t.Fatal(err)
	}
	owner := storage.ActorOf(p, "192.0.2.52")
	isAdmin := func(euid string) bool {
		t.Helper()
		sl, err := idp.app.pg.StaffLoginByEUID(ctx, euid)
		if err != nil {
			t.Fatal(err)
		}
		return sl.Admin
	}
	collect := func(got map[string]error) func(string, storage.StaffLogin, error) error {
		return func(euid string, _ storage.StaffLogin, err error) error {
			got[euid] = err
			return nil
		}
	}

	// admin01 is the only admin: without the confirmation nothing is done,
	// for the entity account and for admin01 removing its own rights, one
	// login or several at once.
	for name, try := range map[string]func() error{
		"entity account, one login": func() error {
			_, err := m.RemoveAdmin(ctx, owner, e.ID, admin.EUID)
			return err
		},
		"the admin its own rights": func() error {
			_, err := m.RemoveAdmin(ctx, idp.actorOf(t, admin), e.ID, admin.EUID)
			return err
		},
		"entity account, with a login that has none": func() error {
			got := map[string]error{}
			err := m.RemoveAdmins(ctx, owner, e.ID, []string{staff.EUID, admin.EUID}, false, collect(got))
			if len(got) != 0 {
				t.Errorf("removals tried before the confirmation: %v", got)
			}
			return err
		},
	} {
		if err := try(); !errors.Is(err, manage.ErrLastAdminUnconfirmed) || storage.CodeOf(err) != storage.EConflict {
			t.Errorf("%s without the confirmation: %v, want ErrLastAdminUnconfirmed", name, err)
		}
		if !isAdmin(admin.EUID) {
			t.Fatalf("%s: admin01 lost its rights without the confirmation", name)
		}
	}

	// An actor that may not remove admin rights is refused as before, and
	// not told that admin01 is the last admin.
	if _, err := m.RemoveAdmin(ctx, idp.actorOf(t, staff), e.ID, admin.EUID); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("plain staff removes the last admin's rights: %v, want forbidden", err)
	}

	// Confirmed: removed; each login answers for itself.
	got := map[string]error{}
	if err := m.RemoveAdmins(ctx, owner, e.ID, []string{staff.EUID, admin.EUID}, true, collect(got)); err != nil {
		t.Fatalf("confirmed removal: %v", err)
	}
	if got[admin.EUID] != nil || storage.CodeOf(got[staff.EUID]) != storage.EConflict || len(got) != 2 {
		t.Errorf("confirmed removal's results = %v, want admin01 removed, staff01 a conflict (no rights)", got)
	}
	if isAdmin(admin.EUID) {
		t.Fatal("admin01 kept its rights after the confirmed removal")
	}

	// The operator gives them back, and takes them again without being
	// asked: it can always grant them back.
	if _, err := m.GrantAdmin(ctx, operator(), e.ID, admin.EUID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.RemoveAdmin(ctx, operator(), e.ID, admin.EUID); err != nil {
		t.Errorf("the operator removes the last admin's rights: %v", err)
	}
	if isAdmin(admin.EUID) {
		t.Error("admin01 kept its rights after the operator's removal")
	}
}
