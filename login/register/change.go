package register

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/entity-account/idp/storage"
)

// Changes to what is registered: a department's names, an e-service's
// access policy. Only the operator keeps the register.

// maxNameLen is the longest name of a department, in characters.
const maxNameLen = 200

// ErrNoService is the refusal of a change that names an e-service that is
// not registered.
var ErrNoService = &storage.Error{Code: storage.ENotFound, Message: "There is no such e-service.", Err: storage.ErrNotFound}

// RenameDepartment sets the names of the department code that names sets
// (a Chinese name may not be emptied) and returns the department as it is
// now and whether anything changed (department.rename, audited with the
// names before and after). An unknown department is ErrNoDepartment.
func (r *Register) RenameDepartment(ctx context.Context, actor storage.Actor, code string, names storage.DepartmentNames) (storage.Department, bool, error) {
	if !storage.CanRenameDepartment(actor) {
		return storage.Department{}, false, forbidden("a department")
	}
	if err := storage.ActorMay(actor, storage.ActRegisterDepartment); err != nil {
		return storage.Department{}, false, err
	}
	if names.ZH == nil && names.PT == nil && names.EN == nil {
		return storage.Department{}, false, storage.Errorf(storage.EInvalid, "give at least one of the names").WithField("name_zh")
	}
	for _, f := range []struct {
		field string
		v     *string
	}{{"name_zh", names.ZH}, {"name_pt", names.PT}, {"name_en", names.EN}} {
		switch {
		case f.v == nil:
		case f.field == "name_zh" && *f.v == "":
			return storage.Department{}, false, storage.Errorf(storage.EInvalid, "a department keeps a Chinese name").WithField(f.field)
		case !storage.CleanText(*f.v, maxNameLen):
			return storage.Department{}, false, storage.Errorf(storage.EInvalid,
				"%s: at most %d characters of text, without control characters", f.field, maxNameLen).WithField(f.field)
		}
	}
	d, changed, err := r.dir.RenameDepartment(ctx, actor, code, names)
	if errors.Is(err, storage.ErrNotFound) {
		return d, false, fmt.Errorf("department %s: %w", code, ErrNoDepartment)
	}
	return d, changed, err
}

// SetServiceAccessPolicy sets who of an entity the e-service code is
// opened to may use it (storage.PolicyAssigned: the staff logins assigned
// to it; storage.PolicyEnrolled: every active staff login) and returns the
// e-service as it is now and whether the policy changed
// (service.access_policy, audited with the policies before and after).
// Sign-ins from then on answer by the new policy, on every node: a change
// is published (ServicesNotifier), as a change of the minimum level is. An
// unknown e-service is ErrNoService.
func (r *Register) SetServiceAccessPolicy(ctx context.Context, actor storage.Actor, code string, p storage.AccessPolicy) (storage.Service, bool, error) {
	if !storage.CanSetServiceAccessPolicy(actor) {
		return storage.Service{}, false, forbidden("an e-service")
	}
	if err := storage.ActorMay(actor, storage.ActRegisterService); err != nil {
		return storage.Service{}, false, err
	}
	if !p.Known() {
		return storage.Service{}, false, storage.Errorf(storage.EInvalid,
			"access policy %q: use %s or %s", p, storage.PolicyAssigned, storage.PolicyEnrolled).WithField("access_policy")
	}
	sv, err := r.dir.ServiceByCode(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		return sv, false, fmt.Errorf("e-service %s: %w", code, ErrNoService)
	}
	if err != nil {
		return sv, false, err
	}
	before, err := r.dir.SetServiceAccessPolicy(ctx, actor, sv, p)
	if errors.Is(err, storage.ErrNotFound) {
		return sv, false, fmt.Errorf("e-service %s: %w", code, ErrNoService)
	}
	if err != nil {
		return sv, false, err
	}
	sv.AccessPolicy = p
	if before != p {
		r.servicesChanged(ctx, sv)
	}
	return sv, before != p, nil
}

// Settings are an e-service's settings as the operator's desk sets them
// together.
type Settings struct {
	MinLevel     storage.Level
	AccessPolicy storage.AccessPolicy
}

// SettingsChanged says which of the settings changed.
type SettingsChanged struct{ MinLevel, AccessPolicy bool }

// Any is whether anything changed.
func (c SettingsChanged) Any() bool { return c.MinLevel || c.AccessPolicy }

// SetServiceSettings sets the minimum assurance level and the access
// policy of the e-service code in one transaction: both or neither. Each
// setting that changes is audited with its own event (service.min_level,
// service.access_policy, as when set alone); a change is published to
// every node (ServicesNotifier), so that the next sign-in anywhere answers
// by it. It returns the e-service as it is now and what changed. Only the
// operator may (CanSetServiceAccessPolicy and CanSetServiceMinLevel); an
// unknown e-service is ErrNoService.
func (r *Register) SetServiceSettings(ctx context.Context, actor storage.Actor, code string, in Settings) (storage.Service, SettingsChanged, error) {
	var none SettingsChanged
	if !storage.CanSetServiceAccessPolicy(actor) {
		return storage.Service{}, none, forbidden("an e-service")
	}
	if err := storage.ActorMay(actor, storage.ActRegisterService); err != nil {
		return storage.Service{}, none, err
	}
	if !in.MinLevel.Known() {
		return storage.Service{}, none, storage.Errorf(storage.EInvalid, "min_acr: not an assurance level of this provider.").WithField("min_acr")
	}
	if !in.AccessPolicy.Known() {
		return storage.Service{}, none, storage.Errorf(storage.EInvalid,
			"access policy %q: use %s or %s", in.AccessPolicy, storage.PolicyAssigned, storage.PolicyEnrolled).WithField("access_policy")
	}
	sv, err := r.dir.ServiceByCode(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		return sv, none, fmt.Errorf("e-service %s: %w", code, ErrNoService)
	}
	if err != nil {
		return sv, none, err
	}
	if !storage.CanSetServiceMinLevel(actor, sv) {
		return storage.Service{}, none, forbidden("an e-service")
	}
	level, policy, err := r.dir.SetServiceSettings(ctx, actor, sv, in.MinLevel, in.AccessPolicy)
	if errors.Is(err, storage.ErrNotFound) {
		return sv, none, fmt.Errorf("e-service %s: %w", code, ErrNoService)
	}
	if err != nil {
		return sv, none, err
	}
	changed := SettingsChanged{MinLevel: level != in.MinLevel, AccessPolicy: policy != in.AccessPolicy}
	sv.MinLevel, sv.AccessPolicy = in.MinLevel, in.AccessPolicy
	if changed.Any() {
		r.servicesChanged(ctx, sv)
	}
	return sv, changed, nil
}

// servicesChanged publishes a change of sv's settings to every node. A
// failure is logged: the change holds, and nodes see it within their
// caches' TTL.
func (r *Register) servicesChanged(ctx context.Context, sv storage.Service) {
	if r.services == nil {
		return
	}
	if err := r.services.PublishServicesChanged(context.WithoutCancel(ctx), sv.ID); err != nil {
		slog.WarnContext(ctx, "publish services changed", "service", sv.Code, "err", err)
	}
}
