package register_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

// published records the e-services whose change was published.
type published struct {
	mu  sync.Mutex
	ids []int64
}

func (p *published) PublishServicesChanged(_ context.Context, ids ...int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, ids...)
	return nil
}

func (p *published) take() []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.ids
	p.ids = nil
	return out
}

// TestSetServiceSettings: the operator sets an e-service's minimum level
// and access policy together: one event per setting that changed, none and
// no publication when nothing did, one publication of the e-service when
// anything did; an unknown level, policy or e-service is refused; nobody
// else may; and when the second setting cannot be written, neither is.
func TestSetServiceSettings(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	pub := &published{}
	r := register.New(pg, pub)
	op := storage.OperatorActor("safp")
	if err := r.Department(ctx, op, &storage.Department{Code: "DSAT", NameZH: "交通事務局"}); err != nil {
		t.Fatal(err)
	}
	roads, err := r.Service(ctx, op, register.Service{DepartmentCode: "DSAT", Service: storage.Service{Code: "roads", NameZH: "道路"}})
	if err != nil {
		t.Fatal(err)
	}
	set := func(level storage.Level, p storage.AccessPolicy) (storage.Service, register.SettingsChanged, error) {
		return r.SetServiceSettings(ctx, op, "roads", register.Settings{MinLevel: level, AccessPolicy: p})
	}

	sv, changed, err := set(storage.LevelTool, storage.PolicyEnrolled)
	if err != nil || changed != (register.SettingsChanged{MinLevel: true, AccessPolicy: true}) ||
		sv.MinLevel != storage.LevelTool || sv.AccessPolicy != storage.PolicyEnrolled {
		t.Fatalf("both = %+v %+v %v", sv, changed, err)
	}
	if got := pub.take(); !slices.Equal(got, []int64{roads.ID}) {
		t.Errorf("published %v, want [%d] once", got, roads.ID)
	}
	if a, p := auditCount(t, pg, "service.min_level"), auditCount(t, pg, "service.access_policy"); a != 1 || p != 1 {
		t.Errorf("events: %d service.min_level, %d service.access_policy; want 1 and 1", a, p)
	}
	if _, changed, err := set(storage.LevelTool, storage.PolicyEnrolled); err != nil || changed.Any() {
		t.Errorf("the same settings again: %+v %v", changed, err)
	}
	if got := pub.take(); len(got) != 0 {
		t.Errorf("nothing changed, yet published %v", got)
	}
	if _, changed, err := set(storage.LevelTool, storage.PolicyAssigned); err != nil || changed != (register.SettingsChanged{AccessPolicy: true}) {
		t.Errorf("the policy alone: %+v %v", changed, err)
	}
	if a, p := auditCount(t, pg, "service.min_level"), auditCount(t, pg, "service.access_policy"); a != 1 || p != 2 {
		t.Errorf("events after the policy alone: %d service.min_level, %d service.access_policy; want 1 and 2", a, p)
	}
	if got := pub.take(); !slices.Equal(got, []int64{roads.ID}) {
		t.Errorf("the policy alone published %v", got)
	}

	for name, in := range map[string]register.Settings{
		"an unknown level":  {MinLevel: storage.Level(99), AccessPolicy: storage.PolicyEnrolled},
		"an unknown policy": {MinLevel: storage.LevelNone, AccessPolicy: "everyone"},
	} {
		if _, _, err := r.SetServiceSettings(ctx, op, "roads", in); storage.CodeOf(err) != storage.EInvalid {
			t.Errorf("%s: %v, want EInvalid", name, err)
		}
	}
	if _, _, err := r.SetServiceSettings(ctx, op, "nope", register.Settings{AccessPolicy: storage.PolicyAssigned}); !errors.Is(err, register.ErrNoService) {
		t.Errorf("an unknown e-service: %v", err)
	}
	counter := storage.OfficerActor(storage.Officer{ID: 2, Login: "chan.tm", Role: storage.RoleCounter, Status: storage.OfficerActive})
	for _, a := range append(notOperators, counter) {
		if _, _, err := r.SetServiceSettings(ctx, a, "roads", register.Settings{AccessPolicy: storage.PolicyEnrolled}); storage.CodeOf(err) != storage.EForbidden {
			t.Errorf("%s %s set an e-service's settings: %v", a.Kind, a.ID, err)
		}
	}

	settingsAtomic(t, pg, set, pub)
}

// settingsAtomic: when the access policy's audit event fails, the minimum
// level, written first in the same transaction, is not kept either, and
// nothing is published. The e-service is at LevelTool and PolicyAssigned.
func settingsAtomic(t *testing.T, pg *postgres.Store, set func(storage.Level, storage.AccessPolicy) (storage.Service, register.SettingsChanged, error), pub *published) {
	t.Helper()
	ctx := context.Background()
	if _, err := pg.Pool().Exec(ctx, `
		CREATE FUNCTION refuse_policy_event() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.action = 'service.access_policy' THEN RAISE EXCEPTION 'refused by the test'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_policy_event BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_policy_event();`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := set(storage.LevelNone, storage.PolicyEnrolled); err == nil {
		t.Fatal("the settings were set though the policy's audit event failed")
	}
	if sv, _ := pg.ServiceByCode(ctx, "roads"); sv.MinLevel != storage.LevelTool || sv.AccessPolicy != storage.PolicyAssigned {
		t.Errorf("after a failed change: level %v, policy %v; want both as before", sv.MinLevel, sv.AccessPolicy)
	}
	if a := auditCount(t, pg, "service.min_level"); a != 1 {
		t.Errorf("%d service.min_level events after a failed change, want 1", a)
	}
	if got := pub.take(); len(got) != 0 {
		t.Errorf("a failed change published %v", got)
	}
}

// TestSetServiceAccessPolicyPublishes: a change of the access policy alone
// (idp service policy) is published to every node as the minimum level's
// is; setting the same policy again is not.
func TestSetServiceAccessPolicyPublishes(t *testing.T) {
	pg := storagetest.NewPostgres(t)
	ctx := context.Background()
	pub := &published{}
	r := register.New(pg, pub)
	op := storage.OperatorActor("safp")
	if err := r.Department(ctx, op, &storage.Department{Code: "DSAT", NameZH: "交通事務局"}); err != nil {
		t.Fatal(err)
	}
	roads, err := r.Service(ctx, op, register.Service{DepartmentCode: "DSAT", Service: storage.Service{Code: "roads", NameZH: "道路"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.SetServiceAccessPolicy(ctx, op, "roads", storage.PolicyEnrolled); err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); !slices.Equal(got, []int64{roads.ID}) {
		t.Errorf("published %v, want [%d]", got, roads.ID)
	}
	if _, _, err := r.SetServiceAccessPolicy(ctx, op, "roads", storage.PolicyEnrolled); err != nil {
		t.Fatal(err)
	}
	if got := pub.take(); len(got) != 0 {
		t.Errorf("the same policy again published %v", got)
	}
}
