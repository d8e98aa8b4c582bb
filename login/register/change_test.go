package register_test

import (
	"context"
	"errors"
	"testing"

	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

// auditCount is how many events of action the trail holds.
func auditCount(t *testing.T, pg interface {
	AuditEvents(ctx context.Context, limit int) ([]storage.AuditEvent, error)
}, action string) int {
	t.Helper()
	events, err := pg.AuditEvents(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Action == action {
			n++
		}
	}
	return n
}

// TestRenameDepartment: the operator renames a department (only what it
// names; the Chinese name never emptied), audited once per change and not
// for a rename that changes nothing; nobody else may; an unknown one is
// ErrNoDepartment.
func TestRenameDepartment(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	r := register.New(pg, nil)
	op := storage.OperatorActor("safp")
	if err := r.Department(ctx, op, &storage.Department{Code: "DSAT", NameZH: "交通事務局", NamePT: "DSAT"}); err != nil {
		t.Fatal(err)
	}
	en := "Transport Bureau"
	d, changed, err := r.RenameDepartment(ctx, op, "DSAT", storage.DepartmentNames{EN: &en})
	if err != nil || !changed || d.NameZH != "交通事務局" || d.NamePT != "DSAT" || d.NameEN != en {
		t.Fatalf("rename = %+v %v %v", d, changed, err)
	}
	if _, changed, err := r.RenameDepartment(ctx, op, "DSAT", storage.DepartmentNames{EN: &en}); err != nil || changed {
		t.Errorf("the same names again: changed %v, %v", changed, err)
	}
	if n := auditCount(t, pg, "department.rename"); n != 1 {
		t.Errorf("%d department.rename events, want 1", n)
	}
	empty, long := "", string(make([]rune, 201))
	for name, names := range map[string]storage.DepartmentNames{
		"none": {}, "an empty Chinese name": {ZH: &empty}, "a control character": {PT: &long},
	} {
		if _, _, err := r.RenameDepartment(ctx, op, "DSAT", names); storage.CodeOf(err) != storage.EInvalid {
			t.Errorf("%s: %v, want EInvalid", name, err)
		}
	}
	if _, _, err := r.RenameDepartment(ctx, op, "NOPE", storage.DepartmentNames{EN: &en}); !errors.Is(err, register.ErrNoDepartment) {
		t.Errorf("an unknown department: %v", err)
	}
	other := "別名"
	counter := storage.OfficerActor(storage.Officer{ID: 2, Login: "chan.tm", Role: storage.RoleCounter, Status: storage.OfficerActive})
	for _, a := range append(notOperators, counter) {
		if _, _, err := r.RenameDepartment(ctx, a, "DSAT", storage.DepartmentNames{ZH: &other}); storage.CodeOf(err) != storage.EForbidden {
			t.Errorf("%s %s renamed a department: %v", a.Kind, a.ID, err)
		}
	}
	if d, _ := pg.DepartmentByCode(ctx, "DSAT"); d.NameZH != "交通事務局" {
		t.Errorf("after refusals: %+v", d)
	}
}

// TestSetServiceAccessPolicy: the operator sets an e-service's access
// policy, audited once per change; an unknown policy or e-service is
// refused; nobody else may.
func TestSetServiceAccessPolicy(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	r := register.New(pg, nil)
	op := storage.OperatorActor("safp")
	if err := r.Department(ctx, op, &storage.Department{Code: "DSAT", NameZH: "交通事務局"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Service(ctx, op, register.Service{DepartmentCode: "DSAT", Service: storage.Service{Code: "roads", NameZH: "道路"}}); err != nil {
		t.Fatal(err)
	}
	sv, changed, err := r.SetServiceAccessPolicy(ctx, op, "roads", storage.PolicyEnrolled)
	if err != nil || !changed || sv.AccessPolicy != storage.PolicyEnrolled {
		t.Fatalf("set policy = %+v %v %v", sv, changed, err)
	}
	if _, changed, err := r.SetServiceAccessPolicy(ctx, op, "roads", storage.PolicyEnrolled); err != nil || changed {
		t.Errorf("the same policy again: %v %v", changed, err)
	}
	if n := auditCount(t, pg, "service.access_policy"); n != 1 {
		t.Errorf("%d service.access_policy events, want 1", n)
	}
	if _, _, err := r.SetServiceAccessPolicy(ctx, op, "roads", "everyone"); storage.CodeOf(err) != storage.EInvalid {
		t.Errorf("an unknown policy: %v", err)
	}
	if _, _, err := r.SetServiceAccessPolicy(ctx, op, "nope", storage.PolicyAssigned); !errors.Is(err, register.ErrNoService) {
		t.Errorf("an unknown e-service: %v", err)
	}
	counter := storage.OfficerActor(storage.Officer{ID: 2, Login: "chan.tm", Role: storage.RoleCounter, Status: storage.OfficerActive})
	for _, a := range append(notOperators, counter) {
		if _, _, err := r.SetServiceAccessPolicy(ctx, a, "roads", storage.PolicyAssigned); storage.CodeOf(err) != storage.EForbidden {
			t.Errorf("%s %s set an access policy: %v", a.Kind, a.ID, err)
		}
	}
	if sv, _ := pg.ServiceByCode(ctx, "roads"); sv.AccessPolicy != storage.PolicyEnrolled {
		t.Errorf("after refusals: %+v", sv)
	}
}
