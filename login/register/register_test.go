package register_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

// notOperators are actors the register refuses.
var notOperators = []storage.Actor{
	{Kind: storage.ActorOperator, ID: "x"}, // inactive
	storage.DepartmentActor("dsat-machine", 1, "192.0.2.1"),
	{Kind: storage.ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, ServiceAdmin: true, Active: true},
	{Kind: storage.ActorEntityAccount, ID: "EA1", EntityID: 1, Active: true},
	storage.SystemActor(),
	storage.PublicActor("192.0.2.1"),
}

func TestRegisterOnlyOperator(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	r := register.New(pg, nil)
	op := storage.OperatorActor("safp")
	d := storage.Department{Code: "DSAT", NameZH: "交通事務局"}
	if err := r.Department(ctx, op, &d); err != nil || d.ID == 0 {
		t.Fatalf("department = %+v, %v", d, err)
	}
	for _, a := range notOperators {
		if err := r.Department(ctx, a, &storage.Department{Code: "X" + string(a.Kind)[:3], NameZH: "x"}); !errors.Is(err, storage.ErrForbidden) {
			t.Errorf("%s registered a department: %v", a.Kind, err)
		}
		if _, err := r.Service(ctx, a, register.Service{DepartmentCode: "DSAT", Service: storage.Service{Code: "roads", NameZH: "道路"}}); !errors.Is(err, storage.ErrForbidden) {
			t.Errorf("%s registered an e-service: %v", a.Kind, err)
		}
		if _, err := r.MachineClient(ctx, a, register.Client{DepartmentCode: "DSAT"}); !errors.Is(err, storage.ErrForbidden) {
			t.Errorf("%s registered a machine client: %v", a.Kind, err)
		}
		if _, err := r.ServiceClient(ctx, a, register.Client{ServiceCode: "roads"}); !errors.Is(err, storage.ErrForbidden) {
			t.Errorf("%s registered a client: %v", a.Kind, err)
		}
	}
	if _, err := pg.ServiceByCode(ctx, "roads"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused e-service exists: %v", err)
	}
	if ds, _ := pg.Departments(ctx); len(ds) != 1 {
		t.Fatalf("departments after refusals: %v", ds)
	}
}

// TestRegisterServiceWithGroups: an e-service comes with all its groups or
// not at all.
func TestRegisterServiceWithGroups(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	r := register.New(pg, nil)
	op := storage.OperatorActor("safp")
	if _, err := r.EnsureDepartment(ctx, op, "DSAT", "交通事務局"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Service(ctx, op, register.Service{DepartmentCode: "NOPE", Service: storage.Service{Code: "x", NameZH: "x"}}); !errors.Is(err, register.ErrNoDepartment) {
		t.Errorf("unknown department: %v", err)
	}
	// Two groups with one code: the second is refused, and the e-service with it.
	_, err := r.Service(ctx, op, register.Service{DepartmentCode: "DSAT", Service: storage.Service{Code: "roads", NameZH: "道路"},
		Groups: []storage.Group{{Code: "a", NameZH: "甲"}, {Code: "a", NameZH: "乙"}}})
	if !errors.Is(err, storage.ErrAlreadyExists) || !strings.Contains(err.Error(), "create e-service roads") {
		t.Fatalf("duplicate group: %v", err)
	}
	if _, err := pg.ServiceByCode(ctx, "roads"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the e-service of a refused group exists: %v", err)
	}
	sv, err := r.Service(ctx, op, register.Service{DepartmentCode: "DSAT", Service: storage.Service{Code: "roads", NameZH: "道路"},
		Groups: []storage.Group{{Code: "a", NameZH: "甲"}, {Code: "b", NameZH: "乙"}}})
	if err != nil {
		t.Fatal(err)
	}
	if gs, err := pg.Groups(ctx, sv.ID); err != nil || len(gs) != 2 {
		t.Fatalf("groups = %v, %v", gs, err)
	}
	// Clients: a generated id and secret (its hash stored), the e-service's name.
	reg, err := r.ServiceClient(ctx, op, register.Client{ServiceCode: "roads", Client: storage.Client{RedirectURIs: []string{"https://rp.example/cb"}}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := pg.Client(ctx, reg.Client.ID)
	if err != nil || !strings.HasPrefix(c.ID, "roads-") || c.Name != "道路" || reg.Secret == "" {
		t.Fatalf("client = %+v, secret %q, %v", c, reg.Secret, err)
	}
	if sum := sha256.Sum256([]byte(reg.Secret)); string(c.SecretHash) != string(sum[:]) {
		t.Error("the stored hash is not the secret's")
	}
	m, err := r.MachineClient(ctx, op, register.Client{DepartmentCode: "DSAT", Client: storage.Client{Scopes: []string{storage.ScopeDepartmentRead}}})
	if err != nil || !strings.HasPrefix(m.Client.ID, "dsat-machine-") || m.Client.Kind != storage.ClientMachine {
		t.Fatalf("machine client = %+v, %v", m.Client, err)
	}
	if _, err := r.MachineClient(ctx, op, register.Client{DepartmentCode: "DSAT", Client: storage.Client{ID: m.Client.ID, Scopes: []string{storage.ScopeDepartmentRead}}}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("a taken id: %v", err)
	}
}
