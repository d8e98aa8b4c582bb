package postgres_test

import (
	"reflect"
	"testing"

	"github.com/entity-account/idp/storage"
)

func TestServiceAccessAssigned(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	alice := activeStaff(t, s, e.ID, "alice")
	bob := activeStaff(t, s, e.ID, "bob")
	parking := createService(t, s, "parking", storage.PolicyAssigned)
	permits := createService(t, s, "permits", storage.PolicyAssigned)
	pAdmin := createGroup(t, s, parking.ID, "admin")
	pOperator := createGroup(t, s, parking.ID, "operator")
	createGroup(t, s, parking.ID, "auditor")
	permitsAdmin := createGroup(t, s, permits.ID, "admin")

	// Nothing opened yet.
	a, err := s.ServiceAccess(ctx, alice.ID, parking.ID)
	if err != nil {
		t.Fatalf("ServiceAccess: %v", err)
	}
	if a.Enrolled || a.Assigned || a.Groups == nil || len(a.Groups) != 0 || a.Allows() {
		t.Errorf("before enrollment: %+v", a)
	}
	wantErr(t, "assign before enrollment", s.AssignService(ctx, operator, alice.ID, parking.ID), storage.ErrNotFound)
	wantErr(t, "group before enrollment", s.AddGroupMember(ctx, operator, alice.ID, pAdmin.ID), storage.ErrNotFound)

	for _, sv := range []storage.Service{parking, permits} {
		if _, err := s.EnrollEntity(ctx, operator, sv.ID, e.ID); err != nil {
			t.Fatalf("EnrollEntity: %v", err)
		}
	}
	wantAudit(t, s, operator, "service.enroll", "permits", &e.ID)

	// Enrolled but not assigned: the assigned policy refuses.
	a, _ = s.ServiceAccess(ctx, alice.ID, parking.ID)
	if !a.Enrolled || a.Assigned || a.Allows() || a.Policy != storage.PolicyAssigned {
		t.Errorf("enrolled, unassigned: %+v", a)
	}

	admin := staffActor(alice)
	for _, g := range []storage.Group{pOperator, pAdmin, permitsAdmin} {
		if err := s.AddGroupMember(ctx, admin, alice.ID, g.ID); err != nil {
			t.Fatalf("AddGroupMember: %v", err)
		}
	}
	ev := wantAudit(t, s, admin, "group.add_member", alice.EUID, &e.ID)
	if ev.Details["service"] != "permits" || ev.Details["group"] != "admin" || ev.Details["assigned"] != true {
		t.Errorf("audit details = %v", ev.Details)
	}

	a, _ = s.ServiceAccess(ctx, alice.ID, parking.ID)
	want := storage.ServiceAccess{Policy: storage.PolicyAssigned, Enrolled: true, Assigned: true, Groups: []string{"admin", "operator"}}
	if !reflect.DeepEqual(a, want) || !a.Allows() {
		t.Errorf("parking access = %+v, want %+v (group membership implies assignment)", a, want)
	}
	a, _ = s.ServiceAccess(ctx, alice.ID, permits.ID)
	if !reflect.DeepEqual(a.Groups, []string{"admin"}) {
		t.Errorf("permits groups = %v, want only permits' own [admin]", a.Groups)
	}

	// Assigned without groups.
	if err := s.AssignService(ctx, operator, bob.ID, parking.ID); err != nil {
		t.Fatalf("AssignService: %v", err)
	}
	wantAudit(t, s, operator, "service.assign", bob.EUID, &e.ID)
	a, _ = s.ServiceAccess(ctx, bob.ID, parking.ID)
	if !a.Allows() || a.Groups == nil || len(a.Groups) != 0 {
		t.Errorf("bob's access = %+v", a)
	}

	// Repeats are no-ops and leave no audit trace.
	n := auditCount(t, s)
	if err := s.AssignService(ctx, operator, bob.ID, parking.ID); err != nil {
		t.Errorf("assign again: %v", err)
	}
	if err := s.AddGroupMember(ctx, operator, alice.ID, pAdmin.ID); err != nil {
		t.Errorf("add member again: %v", err)
	}
	if _, err := s.EnrollEntity(ctx, operator, parking.ID, e.ID); err != nil {
		t.Errorf("enroll again: %v", err)
	}
	if auditCount(t, s) != n {
		t.Error("no-op changes were audited")
	}

	_, err = s.ServiceAccess(ctx, -1, parking.ID)
	wantErr(t, "unknown login", err, storage.ErrNotFound)
	_, err = s.ServiceAccess(ctx, alice.ID, -1)
	wantErr(t, "unknown service", err, storage.ErrNotFound)
	wantErr(t, "unknown group", s.AddGroupMember(ctx, operator, alice.ID, -1), storage.ErrNotFound)
	_, err = s.EnrollEntity(ctx, operator, parking.ID, -1)
	wantErr(t, "enroll unknown entity", err, storage.ErrNotFound)
}

func TestServiceAccessEnrolledPolicy(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	other, _ := createEntity(t, s)
	alice := activeStaff(t, s, e.ID, "alice")
	outsider := activeStaff(t, s, other.ID, "alice")
	portal := createService(t, s, "tax-portal", storage.PolicyEnrolled)

	if _, err := s.EnrollEntity(ctx, operator, portal.ID, e.ID); err != nil {
		t.Fatal(err)
	}
	a, err := s.ServiceAccess(ctx, alice.ID, portal.ID)
	if err != nil || !a.Enrolled || a.Assigned || !a.Allows() || a.Policy != storage.PolicyEnrolled {
		t.Errorf("enrolled policy, unassigned login: %+v, %v; want allowed", a, err)
	}
	a, _ = s.ServiceAccess(ctx, outsider.ID, portal.ID)
	if a.Enrolled || a.Allows() {
		t.Errorf("login of another entity: %+v; want refused", a)
	}
	// A login of another entity cannot be put in the e-service either.
	wantErr(t, "assign outsider", s.AssignService(ctx, operator, outsider.ID, portal.ID), storage.ErrNotFound)
}

func TestDepartmentsServicesGroups(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	sv := createService(t, s, "parking", "")
	if sv.AccessPolicy != storage.PolicyAssigned {
		t.Errorf("default policy = %q, want assigned", sv.AccessPolicy)
	}
	wantAudit(t, s, operator, "service.create", "parking", nil)
	if events, _ := s.AuditEvents(ctx, 2); len(events) != 2 || events[1].Action != "department.create" || events[1].Target != "dsat" {
		t.Errorf("audit events = %+v, want department.create before service.create", events)
	}

	d, err := s.DepartmentByCode(ctx, "dsat")
	if err != nil || d.ID != sv.DepartmentID || d.NameEN != "Transport Bureau" {
		t.Errorf("DepartmentByCode = %+v, %v", d, err)
	}
	dup := storage.Department{Code: "dsat", NameZH: "重複"}
	wantErr(t, "duplicate department", s.CreateDepartment(ctx, operator, &dup), storage.ErrAlreadyExists)
	_, err = s.DepartmentByCode(ctx, "nope")
	wantErr(t, "unknown department", err, storage.ErrNotFound)

	got, err := s.ServiceByCode(ctx, "parking")
	if err != nil || got != sv {
		t.Errorf("ServiceByCode = %+v, %v; want %+v", got, err, sv)
	}
	if got, err := s.Service(ctx, sv.ID); err != nil || got != sv {
		t.Errorf("Service = %+v, %v", got, err)
	}
	_, err = s.ServiceByCode(ctx, "nope")
	wantErr(t, "unknown service", err, storage.ErrNotFound)
	again := storage.Service{Code: "parking", DepartmentID: d.ID, NameZH: "x"}
	wantErr(t, "duplicate service", s.CreateService(ctx, operator, &again), storage.ErrAlreadyExists)
	orphan := storage.Service{Code: "orphan", DepartmentID: -1, NameZH: "x"}
	wantErr(t, "unknown department", s.CreateService(ctx, operator, &orphan), storage.ErrNotFound)
	bad := storage.Service{Code: "Bad Code", DepartmentID: d.ID, NameZH: "x"}
	if err := s.CreateService(ctx, operator, &bad); err == nil {
		t.Error("malformed service code accepted")
	}

	groups, err := s.Groups(ctx, sv.ID)
	if err != nil || groups == nil || len(groups) != 0 {
		t.Errorf("Groups of a new service = %v, %v; want empty, non-nil", groups, err)
	}
	createGroup(t, s, sv.ID, "operator")
	wantAudit(t, s, operator, "group.create", "parking/operator", nil)
	createGroup(t, s, sv.ID, "admin")
	dupGroup := storage.Group{ServiceID: sv.ID, Code: "admin", NameZH: "x"}
	wantErr(t, "duplicate group", s.CreateGroup(ctx, operator, &dupGroup), storage.ErrAlreadyExists)
	groups, _ = s.Groups(ctx, sv.ID)
	if len(groups) != 2 || groups[0].Code != "admin" || groups[1].Code != "operator" {
		t.Errorf("Groups = %+v, want admin, operator", groups)
	}
}

// TestPrincipalInService: the account and its access in one round trip,
// the same as PrincipalBySubject and ServiceAccess read apart.
func TestPrincipalInService(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	e, _ := createEntity(t, s)
	alice := activeStaff(t, s, e.ID, "alice")
	bob := activeStaff(t, s, e.ID, "bob")
	portal := createService(t, s, "tax-portal", storage.PolicyAssigned)
	if _, err := s.EnrollEntity(ctx, operator, portal.ID, e.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignService(ctx, operator, alice.ID, portal.ID); err != nil {
		t.Fatal(err)
	}
	rt := s.Traffic().All().RoundTrips
	p, a, err := s.PrincipalInService(ctx, alice.EUID, alice.ID, portal.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Traffic().All().RoundTrips - rt; n != 1 {
		t.Errorf("%d round trips, want 1", n)
	}
	wantP, _ := s.PrincipalBySubject(ctx, alice.EUID)
	wantA, _ := s.ServiceAccess(ctx, alice.ID, portal.ID)
	if !reflect.DeepEqual(p, wantP) || !reflect.DeepEqual(a, wantA) || !a.Allows() {
		t.Errorf("got %+v %+v, want %+v %+v", p, a, wantP, wantA)
	}
	// Another login's access is read as asked; the caller sees the ids differ.
	p, a, err = s.PrincipalInService(ctx, alice.EUID, bob.ID, portal.ID)
	if err != nil || p.ID != alice.ID || a.Assigned || a.Allows() {
		t.Errorf("bob's access with alice's subject: %+v %+v %v", p, a, err)
	}
	// An unknown login or e-service: the zero access; an unknown subject: ErrNotFound.
	if _, a, err = s.PrincipalInService(ctx, alice.EUID, alice.ID, -1); err != nil || a.Allows() || a.Groups == nil {
		t.Errorf("unknown e-service: %+v %v", a, err)
	}
	_, _, err = s.PrincipalInService(ctx, "CU999999999", alice.ID, portal.ID)
	wantErr(t, "unknown subject", err, storage.ErrNotFound)
}
