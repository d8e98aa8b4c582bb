package seed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/seed"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

func TestSeedOnlyOperator(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	s := seed.New(pg, password.NewHasher(password.Params{MemoryKiB: 8 * 1024, Iterations: 1, Threads: 1}, 1, time.Minute))
	op := storage.OperatorActor("safp")
	e := storage.Entity{Number: "02-000031", NameZH: "公司", Kind: "company"}
	acct := &storage.EntityAccount{ApplicationNumber: "A-31", Mobile: "+85366000031", Language: "zh-Hant"}
	if err := s.Entity(ctx, op, &e, acct); err != nil {
		t.Fatal(err)
	}
	sl := storage.StaffLogin{EntityID: e.ID, NameZH: "陳", IDDocType: storage.IDMacauPermanent, IDDocNumber: "1000031(1)",
		BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), Mobile: "+85366000032", Language: "zh-Hant"}
	if err := s.StaffLogin(ctx, op, &sl); err != nil {
		t.Fatal(err)
	}
	// The entity's own admin may not seed, nor anyone but the operator.
	admin := storage.Actor{Kind: storage.ActorStaff, ID: sl.EUID, EntityID: e.ID, Admin: true, Active: true}
	for _, a := range []storage.Actor{admin, {Kind: storage.ActorEntityAccount, ID: acct.Subject, EntityID: e.ID, Active: true},
		storage.DepartmentActor("m", 1, ""), storage.SystemActor(), storage.PublicActor("192.0.2.1")} {
		if err := s.Entity(ctx, a, &storage.Entity{Number: "02-000032", NameZH: "x", Kind: "company"}, &storage.EntityAccount{ApplicationNumber: "x"}); !errors.Is(err, storage.ErrForbidden) {
			t.Errorf("%s opened an entity: %v", a.Kind, err)
		}
		// An admin manages its entity's staff, but not without activation codes.
		if err := s.StaffLogin(ctx, a, &storage.StaffLogin{EntityID: e.ID, NameZH: "x"}); !errors.Is(err, storage.ErrForbidden) {
			t.Errorf("%s registered a staff login: %v", a.Kind, err)
		}
		if err := s.Activate(ctx, a, seed.Account{Kind: storage.KindStaff, ID: sl.ID}, "staff31", "Pw-1234567890"); !errors.Is(err, storage.ErrForbidden) {
			t.Errorf("%s activated a staff login: %v", a.Kind, err)
		}
		if err := s.Activate(ctx, a, seed.Account{Kind: storage.KindEntityAccount, ID: acct.ID}, "owner", "Pw-1234567890"); !errors.Is(err, storage.ErrForbidden) {
			t.Errorf("%s activated the entity account: %v", a.Kind, err)
		}
	}
	if _, err := pg.EntityByNumber(ctx, "02-000032"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused entity exists: %v", err)
	}
	// The operator activates, then changes the password of an activated account.
	for _, pw := range []string{"Pw-1234567890", "Pw-0987654321"} {
		cur, err := pg.StaffLogin(ctx, sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Activate(ctx, op, seed.Account{Kind: storage.KindStaff, ID: sl.ID, Username: cur.Username, PasswordHash: cur.PasswordHash}, "staff31", pw); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := pg.StaffLogin(ctx, sl.ID)
	if got.Username != "staff31" || got.ActivatedAt == nil {
		t.Fatalf("staff login after seeding: %+v", got)
	}
}
