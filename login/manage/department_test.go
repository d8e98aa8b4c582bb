package manage_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

// SetServiceMinLevel: the owning department and the operator may set an
// e-service's minimum assurance level; another department finds no such
// e-service. Each change is audited with the level before and after and
// published to every node; setting the level it has changes nothing.
func TestSetServiceMinLevel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg, rs := storagetest.NewPostgres(t), storagetest.NewRedis(t)
	op := storage.OperatorActor("safp-op")
	owner := storage.Department{Code: "DSAL", NameZH: "勞工事務局"}
	other := storage.Department{Code: "DSF", NameZH: "財政局"}
	for _, d := range []*storage.Department{&owner, &other} {
		if err := pg.CreateDepartment(ctx, op, d); err != nil {
			t.Fatal(err)
		}
	}
	sv := storage.Service{Code: "permits", DepartmentID: owner.ID, NameZH: "許可"}
	if err := pg.CreateService(ctx, op, &sv); err != nil {
		t.Fatal(err)
	}
	if err := pg.CreateGroup(ctx, op, &storage.Group{ServiceID: sv.ID, Code: "clerk", NameZH: "文員"}); err != nil {
		t.Fatal(err)
	}
	published := make(chan []int64, 8)
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := rs.SubscribeServicesChanged(subCtx, func(ids []int64) { published <- ids }); err != nil {
		t.Fatal(err)
	}
	wantPublished := func(what string, want bool) {
		t.Helper()
		wait := 200 * time.Millisecond
		if want {
			wait = 5 * time.Second
		}
		select {
		case ids := <-published:
			if !want || !slices.Equal(ids, []int64{sv.ID}) {
				t.Errorf("%s: published %v, want %v", what, ids, want)
			}
		case <-time.After(wait):
			if want {
				t.Errorf("%s: nothing published", what)
			}
		}
	}
	stored := func() storage.Level {
		t.Helper()
		got, err := pg.ServiceByCode(ctx, sv.Code)
		if err != nil {
			t.Fatal(err)
		}
		return got.MinLevel
	}
	d := manage.NewDepartments(pg, rs)
	dept := storage.DepartmentActor("dsal-machine", owner.ID, "192.0.2.10")

	// The owning department raises it.
	got, changed, err := d.SetServiceMinLevel(ctx, dept, "permits", storage.LevelTool)
	if err != nil || !changed || got.Code != "permits" || got.MinLevel != storage.LevelTool || len(got.Groups) != 1 || got.Groups[0].Code != "clerk" {
		t.Fatalf("owner sets tool = %+v, %v, %v", got, changed, err)
	}
	if stored() != storage.LevelTool {
		t.Errorf("stored level %v", stored())
	}
	events, err := pg.AuditEvents(ctx, 1)
	if err != nil || len(events) != 1 {
		t.Fatal(events, err)
	}
	if e := events[0]; e.Action != "service.min_level" || e.Target != "permits" || e.ActorKind != "department" || e.ActorID != "dsal-machine" ||
		e.IP != "192.0.2.10" || e.Details["before"] != nil || e.Details["after"] != storage.ACRTool || e.Details["service"] != "permits" {
		t.Errorf("audit event = %+v", e)
	}
	wantPublished("a change", true)
	list, err := d.Services(ctx, dept)
	if err != nil || len(list) != 1 || list[0].MinLevel != storage.LevelTool {
		t.Errorf("Services = %+v, %v", list, err)
	}

	// The same level again: nothing changes, nothing is audited or published.
	if _, changed, err := d.SetServiceMinLevel(ctx, dept, "permits", storage.LevelTool); err != nil || changed {
		t.Errorf("same level again: changed %v, %v", changed, err)
	}
	if again, _ := pg.AuditEvents(ctx, 1); len(again) != 1 || again[0].ID != events[0].ID {
		t.Errorf("same level again was audited: %+v", again)
	}
	wantPublished("no change", false)

	// Another department: not found, as an unknown e-service; nothing changes.
	_, _, err = d.SetServiceMinLevel(ctx, storage.DepartmentActor("dsf-machine", other.ID, ""), "permits", storage.LevelNone)
	if storage.CodeOf(err) != storage.ENotFound || !errors.Is(err, storage.ErrForbidden) {
		t.Errorf("another department: %v (code %s), want not found, refused by the rule book", err, storage.CodeOf(err))
	}
	if stored() != storage.LevelTool {
		t.Errorf("another department changed the level to %v", stored())
	}
	// Nor an entity's admin, or a department client no longer active.
	for name, a := range map[string]storage.Actor{
		"admin staff login":   {Kind: storage.ActorStaff, ID: "CU000000001", EntityID: 1, Admin: true, Active: true},
		"inactive department": {Kind: storage.ActorDepartment, ID: "dsal-machine", DepartmentID: owner.ID},
	} {
		if _, _, err := d.SetServiceMinLevel(ctx, a, "permits", storage.LevelNone); storage.CodeOf(err) != storage.ENotFound {
			t.Errorf("%s: %v", name, err)
		}
	}

	// The operator lowers it.
	got, changed, err = d.SetServiceMinLevel(ctx, op, "permits", storage.LevelNone)
	if err != nil || !changed || got.MinLevel != storage.LevelNone || stored() != storage.LevelNone {
		t.Fatalf("operator clears = %+v, %v, %v", got, changed, err)
	}
	if e, _ := pg.AuditEvents(ctx, 1); len(e) != 1 || e[0].ActorKind != "operator" || e[0].Details["before"] != storage.ACRTool || e[0].Details["after"] != nil {
		t.Errorf("operator's audit event = %+v", e)
	}
	wantPublished("the operator's change", true)

	// An unknown e-service; an unknown level.
	_, _, err = d.SetServiceMinLevel(ctx, op, "nope", storage.LevelTool)
	if storage.CodeOf(err) != storage.ENotFound || !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown e-service: %v", err)
	}
	_, _, err = d.SetServiceMinLevel(ctx, dept, "permits", storage.Level(5))
	var se *storage.Error
	if !errors.As(err, &se) || se.Code != storage.EInvalid || se.Field != "min_acr" {
		t.Errorf("unknown level: %v", err)
	}
}

func TestMinLevelOfACR(t *testing.T) {
	for acr, want := range map[string]storage.Level{storage.ACRPassword: storage.LevelPassword, storage.ACRTool: storage.LevelTool} {
		if l, err := manage.MinLevelOfACR(acr); err != nil || l != want {
			t.Errorf("MinLevelOfACR(%q) = %v, %v", acr, l, err)
		}
	}
	for _, acr := range []string{"", "urn:entity-account:acr:passkey", "none", "2"} {
		_, err := manage.MinLevelOfACR(acr)
		var se *storage.Error
		if !errors.As(err, &se) || se.Code != storage.EInvalid || se.Field != "min_acr" {
			t.Errorf("MinLevelOfACR(%q): %v", acr, err)
		}
	}
}
