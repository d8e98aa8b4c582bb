package postgres_test

import (
	"testing"

	"github.com/entity-account/idp/storage"
)

// An e-service's minimum assurance level: created with it, set and
// audited (a change only), and carried by every client of the e-service
// loaded afterwards. The database refuses an acr value it does not know.
func TestServiceMinLevel(t *testing.T) {
	t.Parallel()
	s, ctx := newStore(t)
	sv := createService(t, s, "licences", storage.PolicyAssigned)
	if sv.MinLevel != storage.LevelNone {
		t.Fatalf("a new e-service demands %v", sv.MinLevel)
	}
	web := storage.Client{ID: "licences-web", ServiceID: sv.ID, Name: "Licences", Public: true, RedirectURIs: []string{"https://licences.gov.mo/cb"}}
	if err := s.CreateClient(ctx, operator, &web); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Client(ctx, web.ID); err != nil || c.MinLevel != storage.LevelNone {
		t.Fatalf("client before = %v, %v", c.MinLevel, err)
	}

	before, err := s.SetServiceMinLevel(ctx, operator, sv, storage.LevelTool)
	if err != nil || before != storage.LevelNone {
		t.Fatalf("SetServiceMinLevel(tool) = %v, %v", before, err)
	}
	e := wantAudit(t, s, operator, "service.min_level", "licences", nil)
	if e.Details["service"] != "licences" || e.Details["before"] != nil || e.Details["after"] != storage.ACRTool {
		t.Errorf("audit details = %v", e.Details)
	}
	if got, err := s.ServiceByCode(ctx, "licences"); err != nil || got.MinLevel != storage.LevelTool {
		t.Errorf("ServiceByCode after = %v, %v", got.MinLevel, err)
	}
	c, err := s.Client(ctx, web.ID)
	if err != nil || c.MinLevel != storage.LevelTool {
		t.Errorf("client loaded after the change: MinLevel %v, %v; want LevelTool", c.MinLevel, err)
	}
	if list, err := s.ClientsOfService(ctx, sv.ID); err != nil || len(list) != 1 || list[0].MinLevel != storage.LevelTool {
		t.Errorf("ClientsOfService after the change = %+v, %v", list, err)
	}
	app := storage.Client{ID: "licences-app", ServiceID: sv.ID, Name: "Licences app", Public: true, RedirectURIs: []string{"mo.gov.licences:/cb"}}
	if err := s.CreateClient(ctx, operator, &app); err != nil || app.MinLevel != storage.LevelTool {
		t.Errorf("CreateClient on a demanding e-service: MinLevel %v, %v", app.MinLevel, err)
	}
	deps, err := s.DepartmentServices(ctx, sv.DepartmentID)
	if err != nil || len(deps) != 1 || deps[0].MinLevel != storage.LevelTool {
		t.Errorf("DepartmentServices = %+v, %v", deps, err)
	}

	// The same level again changes and audits nothing.
	n := auditCount(t, s)
	if before, err := s.SetServiceMinLevel(ctx, operator, sv, storage.LevelTool); err != nil || before != storage.LevelTool || auditCount(t, s) != n {
		t.Errorf("setting the same level: %v, %v, %d audit events (was %d)", before, err, auditCount(t, s), n)
	}
	// Password, then none: stored as given, each audited.
	if before, err := s.SetServiceMinLevel(ctx, operator, sv, storage.LevelPassword); err != nil || before != storage.LevelTool {
		t.Errorf("to password = %v, %v", before, err)
	}
	e = wantAudit(t, s, operator, "service.min_level", "licences", nil)
	if e.Details["before"] != storage.ACRTool || e.Details["after"] != storage.ACRPassword {
		t.Errorf("audit details = %v", e.Details)
	}
	if before, err := s.SetServiceMinLevel(ctx, operator, sv, storage.LevelNone); err != nil || before != storage.LevelPassword {
		t.Errorf("to none = %v, %v", before, err)
	}
	if c, err := s.Client(ctx, web.ID); err != nil || c.MinLevel != storage.LevelNone {
		t.Errorf("client after clearing = %v, %v", c.MinLevel, err)
	}
	var stored *string
	if err := s.Pool().QueryRow(ctx, `SELECT min_acr FROM services WHERE id = $1`, sv.ID).Scan(&stored); err != nil || stored != nil {
		t.Errorf("min_acr after clearing = %v, %v; want NULL", stored, err)
	}

	// Refusals.
	_, err = s.SetServiceMinLevel(ctx, operator, sv, storage.Level(9))
	wantErr(t, "unknown level", err, storage.ErrInvalid)
	_, err = s.SetServiceMinLevel(ctx, operator, storage.Service{ID: 1 << 40, Code: "ghost"}, storage.LevelTool)
	wantErr(t, "unknown e-service", err, storage.ErrNotFound)
	bad := storage.Service{Code: "bad-level", DepartmentID: sv.DepartmentID, NameZH: "x", MinLevel: -1}
	wantErr(t, "create with an unknown level", s.CreateService(ctx, operator, &bad), storage.ErrInvalid)
	_, err = s.Pool().Exec(ctx, `UPDATE services SET min_acr = 'urn:other:acr' WHERE id = $1`, sv.ID)
	if err == nil {
		t.Error("the database took an unknown acr value")
	}

	// Created with a minimum.
	strict := storage.Service{Code: "strict", DepartmentID: sv.DepartmentID, NameZH: "嚴格", MinLevel: storage.LevelTool}
	if err := s.CreateService(ctx, operator, &strict); err != nil {
		t.Fatal(err)
	}
	e = wantAudit(t, s, operator, "service.create", "strict", nil)
	if e.Details["min_acr"] != storage.ACRTool {
		t.Errorf("service.create details = %v", e.Details)
	}
	if got, err := s.Service(ctx, strict.ID); err != nil || got.MinLevel != storage.LevelTool {
		t.Errorf("Service(strict) = %v, %v", got.MinLevel, err)
	}
}
