package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

var operator = storage.Actor{Kind: "operator", ID: "safp-op", IP: "192.0.2.1"}

var entitySeq atomic.Int64

// newStore returns a store on a fresh database of the test's own.
func newStore(t *testing.T) (*postgres.Store, context.Context) {
	t.Helper()
	return storagetest.NewPostgres(t), t.Context()
}

// createEntity opens an entity with a unique number and its entity account.
func createEntity(t testing.TB, s *postgres.Store) (storage.Entity, storage.EntityAccount) {
	t.Helper()
	e := storage.Entity{
		Number: fmt.Sprintf("02-%06d", entitySeq.Add(1)),
		NameZH: "測試有限公司",
		NamePT: "Teste, Limitada",
		Kind:   "company",
	}
	a := storage.EntityAccount{ApplicationNumber: "APP-" + e.Number, Email: "corp@example.mo", Language: "pt"}
	if err := s.CreateEntity(t.Context(), operator, &e, &a); err != nil {
		t.Fatalf("CreateEntity: %v", err)
	}
	return e, a
}

// createStaff registers a staff login of an entity.
func createStaff(t *testing.T, s *postgres.Store, entityID int64) storage.StaffLogin {
	t.Helper()
	sl := storage.StaffLogin{
		EntityID:        entityID,
		NameZH:          "陳大文",
		NameForeign:     "Chan Tai Man",
		IDDocType:       "macau_permanent_id",
		IDDocNumber:     "1234567(8)",
		IDDocIssuePlace: "MO",
		BirthDate:       time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC),
		Mobile:          "+85366123456",
		Email:           "chan@example.mo",
		Language:        "zh-Hant",
	}
	if err := s.CreateStaffLogin(t.Context(), operator, &sl); err != nil {
		t.Fatalf("CreateStaffLogin: %v", err)
	}
	return sl
}

// activeStaff registers and activates a staff login.
func activeStaff(t *testing.T, s *postgres.Store, entityID int64, username string) storage.StaffLogin {
	t.Helper()
	sl := createStaff(t, s, entityID)
	if err := s.ActivateStaffLogin(t.Context(), staffActor(sl), sl.ID, username, "hash-"+username); err != nil {
		t.Fatalf("ActivateStaffLogin(%q): %v", username, err)
	}
	sl, err := s.StaffLogin(t.Context(), sl.ID)
	if err != nil {
		t.Fatalf("StaffLogin: %v", err)
	}
	return sl
}

func staffActor(sl storage.StaffLogin) storage.Actor {
	return storage.Actor{Kind: "staff", ID: sl.EUID, IP: "198.51.100.7"}
}

// createService registers a department (once per code) and an e-service.
func createService(t *testing.T, s *postgres.Store, code string, policy storage.AccessPolicy) storage.Service {
	t.Helper()
	ctx := t.Context()
	d, err := s.DepartmentByCode(ctx, "dsat")
	if errors.Is(err, storage.ErrNotFound) {
		d = storage.Department{Code: "dsat", NameZH: "交通事務局", NamePT: "DSAT", NameEN: "Transport Bureau"}
		err = s.CreateDepartment(ctx, operator, &d)
	}
	if err != nil {
		t.Fatalf("department: %v", err)
	}
	sv := storage.Service{Code: code, DepartmentID: d.ID, NameZH: code, NamePT: code, NameEN: code, AccessPolicy: policy}
	if err := s.CreateService(ctx, operator, &sv); err != nil {
		t.Fatalf("CreateService(%s): %v", code, err)
	}
	return sv
}

func createGroup(t *testing.T, s *postgres.Store, serviceID int64, code string) storage.Group {
	t.Helper()
	g := storage.Group{ServiceID: serviceID, Code: code, NameZH: code, NamePT: code}
	if err := s.CreateGroup(t.Context(), operator, &g); err != nil {
		t.Fatalf("CreateGroup(%s): %v", code, err)
	}
	return g
}

// lastAudit returns the newest audit event.
func lastAudit(t *testing.T, s *postgres.Store) storage.AuditEvent {
	t.Helper()
	events, err := s.AuditEvents(t.Context(), 1)
	if err != nil {
		t.Fatalf("AuditEvents: %v", err)
	}
	if len(events) == 0 {
		t.Fatal("no audit event")
	}
	return events[0]
}

// auditCount returns how many audit events there are.
func auditCount(t *testing.T, s *postgres.Store) int {
	t.Helper()
	var n int
	if err := s.Pool().QueryRow(t.Context(), `SELECT count(*) FROM audit_events`).Scan(&n); err != nil {
		t.Fatalf("count audit events: %v", err)
	}
	return n
}

// wantAudit checks the newest audit event.
func wantAudit(t *testing.T, s *postgres.Store, actor storage.Actor, action, target string, entityID *int64) storage.AuditEvent {
	t.Helper()
	e := lastAudit(t, s)
	if e.Action != action || e.Target != target || e.ActorKind != string(actor.Kind) || e.ActorID != actor.ID || e.IP != actor.IP {
		t.Errorf("last audit = %s %q by %s %q from %q, want %s %q by %s %q from %q",
			e.Action, e.Target, e.ActorKind, e.ActorID, e.IP, action, target, actor.Kind, actor.ID, actor.IP)
	}
	switch {
	case entityID == nil && e.EntityID != nil:
		t.Errorf("audit %s: entity %d, want none", action, *e.EntityID)
	case entityID != nil && (e.EntityID == nil || *e.EntityID != *entityID):
		t.Errorf("audit %s: entity %v, want %d", action, e.EntityID, *entityID)
	}
	return e
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// setStatus sets the association status of sl through SetStaffStatus.
func setStatus(ctx context.Context, s *postgres.Store, actor storage.Actor, sl storage.StaffLogin, status storage.AssociationStatus) error {
	_, err := s.SetStaffStatus(ctx, actor, sl.EntityID, sl.EUID, status, nil)
	return err
}

// migratedTo returns a store on a fresh database migrated up to version
// only, and the migration provider to take it further (or back down), for
// the tests of one migration over the rows the versions before it left.
func migratedTo(t *testing.T, ctx context.Context, version int64) (*postgres.Store, *goose.Provider) {
	t.Helper()
	s, err := postgres.Open(ctx, storagetest.EmptyPostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	fsys, _ := fs.Sub(postgres.MigrationFiles, "migrations")
	db := stdlib.OpenDBFromPool(s.Pool())
	t.Cleanup(func() { db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return s, p
}
