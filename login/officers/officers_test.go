package officers_test

import (
	"context"
	"sync"
	"testing"

	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/storagetest"
)

func keyOf(err error) string {
	if e, ok := err.(*storage.Error); ok {
		return e.Key
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestFirstOfficerOnce: of several first officers created at once, exactly
// one is; it must be a supervisor; afterwards only a supervisor creates.
func TestFirstOfficerOnce(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	svc := officers.New(pg)
	if _, err := svc.Create(ctx, nil, storage.Officer{Login: "chan.tm", DisplayName: "陳大文", Role: storage.RoleCounter}); keyOf(err) != "desk_err_first_officer_supervisor" {
		t.Fatalf("a counter officer first: %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.Create(ctx, nil, storage.Officer{Login: "boss" + string(rune('a'+i)), DisplayName: "主管", Role: storage.RoleSupervisor})
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch keyOf(err) {
		case "":
			created++
		case "desk_err_officer_required":
		default:
			t.Errorf("a first officer at once: %v", err)
		}
	}
	list, err := svc.List(ctx)
	if err != nil || created != 1 || len(list) != 1 {
		t.Fatalf("created %d first officers, listed %+v, %v", created, list, err)
	}
	first := list[0]
	var actorID string
	var officerID *int64
	if err := pg.Pool().QueryRow(ctx, `SELECT actor_id, officer_id FROM audit_events WHERE action = 'officer.create'`).Scan(&actorID, &officerID); err != nil ||
		actorID != first.Login || officerID == nil || *officerID != first.ID {
		t.Errorf("audited the first officer as %q, %v, %v", actorID, officerID, err)
	}

	counter, err := svc.Create(ctx, &first, storage.Officer{Login: " Chan.TM ", DisplayName: "陳大文", Role: storage.RoleCounter, Mobile: "66123456"})
	if err != nil || counter.Login != "chan.tm" || counter.CreatedBy != first.ID {
		t.Fatalf("a supervisor creates a counter officer: %+v, %v", counter, err)
	}
	if _, err := svc.Create(ctx, &first, storage.Officer{Login: "CHAN.tm", DisplayName: "x", Role: storage.RoleCounter}); keyOf(err) != "desk_err_officer_taken" {
		t.Errorf("a login name taken in another case: %v", err)
	}
	if _, err := svc.Create(ctx, &counter, storage.Officer{Login: "lei.kf", DisplayName: "李", Role: storage.RoleCounter}); keyOf(err) != "desk_err_supervisor_only" {
		t.Errorf("a counter officer creates an officer: %v", err)
	}
	if _, err := svc.Create(ctx, nil, storage.Officer{Login: "lei.kf", DisplayName: "李", Role: storage.RoleSupervisor}); keyOf(err) != "desk_err_officer_required" {
		t.Errorf("a second first officer: %v", err)
	}
}

// TestDisableOfficer: a supervisor disables officers, never itself nor the
// last active supervisor; a disabled officer is admitted to nothing.
func TestDisableOfficer(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	svc := officers.New(pg)
	boss, err := svc.Create(ctx, nil, storage.Officer{Login: "boss", DisplayName: "主管", Role: storage.RoleSupervisor})
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.Create(ctx, &boss, storage.Officer{Login: "second", DisplayName: "副主管", Role: storage.RoleSupervisor})
	if err != nil {
		t.Fatal(err)
	}
	counter, err := svc.Create(ctx, &boss, storage.Officer{Login: "chan.tm", DisplayName: "陳大文", Role: storage.RoleCounter})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Disable(ctx, boss, "boss"); keyOf(err) != "desk_err_officer_self" {
		t.Errorf("itself: %v", err)
	}
	if _, err := svc.Disable(ctx, counter, "second"); keyOf(err) != "desk_err_supervisor_only" {
		t.Errorf("by a counter officer: %v", err)
	}
	if _, err := svc.Disable(ctx, boss, "nobody"); keyOf(err) != "desk_err_no_officer" {
		t.Errorf("an unknown officer: %v", err)
	}
	if o, err := svc.Disable(ctx, boss, "Chan.TM"); err != nil || o.Status != storage.OfficerDisabled {
		t.Fatalf("disable a counter officer: %+v, %v", o, err)
	}
	if _, err := svc.Admit(ctx, "chan.tm", storage.ActReadEntities); keyOf(err) != "desk_err_officer_disabled" {
		t.Errorf("a disabled officer admitted: %v", err)
	}
	if _, err := svc.Disable(ctx, second, "boss"); err != nil {
		t.Fatalf("one supervisor disables another: %v", err)
	}
	// second is now the last active supervisor: boss, disabled, cannot act,
	// and second cannot disable itself; a new supervisor could.
	if _, err := svc.Disable(ctx, boss, "second"); keyOf(err) != "desk_err_officer_disabled" {
		t.Errorf("a disabled supervisor disables: %v", err)
	}
	third, err := svc.Create(ctx, &second, storage.Officer{Login: "third", DisplayName: "新主管", Role: storage.RoleSupervisor})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.Pool().Exec(ctx, `UPDATE officers SET status = 'disabled' WHERE login = 'third'`); err != nil {
		t.Fatal(err)
	}
	// The last active supervisor, disabled by an officer read as active
	// before it was disabled: the store reads it again and refuses.
	if _, err := svc.Disable(ctx, third, "second"); keyOf(err) != "desk_err_officer_disabled" {
		t.Errorf("a stale supervisor disables the last one: %v", err)
	}
	var n int
	if err := pg.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'officer.disable' AND officer_id IS NOT NULL`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d disable events with their officer, %v; want 2", n, err)
	}
}

// TestAdmit: the officer named, active, with a role allowing the act.
func TestAdmit(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	svc := officers.New(pg)
	boss, err := svc.Create(ctx, nil, storage.Officer{Login: "boss", DisplayName: "主管", Role: storage.RoleSupervisor})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, &boss, storage.Officer{Login: "chan.tm", DisplayName: "陳大文", Role: storage.RoleCounter}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		login string
		act   storage.OperatorAct
		key   string
	}{
		{"", storage.ActReadEntities, "desk_err_officer_required"},
		{"nobody", storage.ActReadEntities, "desk_err_no_officer"},
		{"not a name!", storage.ActReadEntities, "desk_err_no_officer"},
		{"CHAN.TM", storage.ActOpenEntity, ""},
		{"chan.tm", storage.ActGrantAdmin, "desk_err_supervisor_only"},
		{"boss", storage.ActRotateKeys, ""},
	} {
		o, err := svc.Admit(ctx, c.login, c.act)
		if keyOf(err) != c.key || (err == nil && o.ID == 0) {
			t.Errorf("Admit(%q, %s) = %+v, %v; want %q", c.login, c.act, o, err, c.key)
		}
	}
}
