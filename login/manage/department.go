package manage

import (
	"context"
	"errors"
	"log/slog"
	"regexp"

	"github.com/entity-account/idp/storage"
)

// Department use cases (the department API): a department's back
// end lists its e-services, sets their minimum assurance level, defines,
// renames and removes their groups, enrolls entities in them and closes them again and
// sees who of an entity is assigned, and reads its own audit trail. Each
// asks the rule book (CanManageService, CanSetServiceMinLevel,
// CanViewDepartmentChanges) and writes with its audit event in one
// transaction. An e-service the department may not manage is not found, the
// same answer as for one that does not exist.

// DepartmentDirectory is what the department use cases need of the durable
// store (storage/postgres, department.go and services.go).
type DepartmentDirectory interface {
	DepartmentByCode(ctx context.Context, code string) (storage.Department, error)
	ServiceByCode(ctx context.Context, code string) (storage.Service, error)
	DepartmentServices(ctx context.Context, departmentID int64) ([]storage.DepartmentService, error)
	Groups(ctx context.Context, serviceID int64) ([]storage.Group, error)
	SetServiceMinLevel(ctx context.Context, actor storage.Actor, sv storage.Service, level storage.Level) (storage.Level, error)
	AddServiceGroup(ctx context.Context, actor storage.Actor, sv storage.Service, g *storage.Group) error
	RenameServiceGroup(ctx context.Context, actor storage.Actor, sv storage.Service, code string, names storage.GroupNames) (storage.Group, error)
	RemoveServiceGroup(ctx context.Context, actor storage.Actor, sv storage.Service, code string) ([]string, error)
	EntityByNumber(ctx context.Context, number string) (storage.Entity, error)
	EnrollEntity(ctx context.Context, actor storage.Actor, serviceID, entityID int64) (bool, error)
	CloseServiceTo(ctx context.Context, actor storage.Actor, sv storage.Service, entityNumber string) (bool, []string, error)
	ServiceAssignments(ctx context.Context, serviceID int64, entityNumber string) ([]storage.ServiceAssignment, error)
	DepartmentChanges(ctx context.Context, departmentID, before int64, limit int) ([]storage.AuditEvent, error)
}

// ClaimsNotifier tells every node that the claims of subjects changed (their
// groups), so that cached claim contents go at once rather than at the
// claims cache's TTL. Optional.
type ClaimsNotifier interface {
	PublishClaimsChanged(ctx context.Context, subjects ...string) error
}

// ServicesNotifier tells every node that the settings of e-services changed
// (their minimum assurance level), so that their clients cached for
// sign-in go at once rather than at the client cache's TTL (30 s).
type ServicesNotifier interface {
	PublishServicesChanged(ctx context.Context, serviceIDs ...int64) error
}

// Departments runs the department use cases.
type Departments struct {
	dir      DepartmentDirectory
	claims   ClaimsNotifier   // nil: the claims cache's TTL applies
	services ServicesNotifier // nil: the client cache's TTL applies
}

// NewDepartments returns the department use cases over dir; claims may be
// nil. When claims publishes e-service changes too (ServicesNotifier, as
// the Redis store does), those are published as well.
func NewDepartments(dir DepartmentDirectory, claims ClaimsNotifier) *Departments {
	services, _ := claims.(ServicesNotifier)
	return &Departments{dir: dir, claims: claims, services: services}
}

func (d *Departments) claimsChanged(ctx context.Context, subjects []string) {
	if d.claims == nil || len(subjects) == 0 {
		return
	}
	if err := d.claims.PublishClaimsChanged(context.WithoutCancel(ctx), subjects...); err != nil {
		slog.WarnContext(ctx, "publish claims changed", "subjects", len(subjects), "err", err)
	}
}

// GroupCodePattern is what the department API accepts as a new group's code
// (the schema allows more, for groups the operator registered before).
var GroupCodePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// maxNameLen is the longest name of a group, in characters.
const maxNameLen = 200

// DepartmentActor is the actor of a department's machine client clientID,
// whose verified token names the department code.
func (d *Departments) DepartmentActor(ctx context.Context, clientID, code, ip string) (storage.Actor, error) {
	dep, err := d.dir.DepartmentByCode(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		// The token was verified against its client a moment ago: the
		// department went with it.
		return storage.Actor{}, &storage.Error{Code: storage.EForbidden, Message: "The department of this client is not registered.", Err: err}
	}
	if err != nil {
		return storage.Actor{}, err
	}
	return storage.DepartmentActor(clientID, dep.ID, ip), nil
}

func serviceNotFound(code string) error {
	return &storage.Error{Code: storage.ENotFound, Message: "E-service " + code + " was not found.", Err: storage.ErrNotFound}
}

// service returns the e-service code if actor may manage it; one it may not
// is not found.
func (d *Departments) service(ctx context.Context, actor storage.Actor, code string) (storage.Service, error) {
	return d.serviceIf(ctx, actor, code, storage.CanManageService)
}

// serviceIf returns the e-service code if the rule allows actor; one it
// does not is not found, the same answer as an unknown one, so that a
// department learns nothing of another's e-services.
func (d *Departments) serviceIf(ctx context.Context, actor storage.Actor, code string, rule func(storage.Actor, storage.Service) bool) (storage.Service, error) {
	sv, err := d.dir.ServiceByCode(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		return sv, serviceNotFound(code)
	}
	if err != nil {
		return sv, err
	}
	if !rule(actor, sv) {
		return storage.Service{}, &storage.Error{Code: storage.ENotFound, Message: "E-service " + code + " was not found.", Err: storage.ErrForbidden}
	}
	return sv, nil
}

// Services returns the actor's department's e-services with their groups.
func (d *Departments) Services(ctx context.Context, actor storage.Actor) ([]storage.DepartmentService, error) {
	if !storage.CanViewDepartmentChanges(actor, actor.DepartmentID) {
		return nil, forbidden("list the e-services of a department")
	}
	all, err := d.dir.DepartmentServices(ctx, actor.DepartmentID)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, sv := range all {
		if storage.CanManageService(actor, sv.Service) {
			out = append(out, sv)
		}
	}
	return out, nil
}

// MinLevelOfACR reads the minimum assurance level of an e-service given as
// an acr value (storage.ACRPassword, storage.ACRTool). Any other value is
// EInvalid, naming the field min_acr; "no minimum" is for the caller to
// spell (JSON null, the command's none).
func MinLevelOfACR(acr string) (storage.Level, error) {
	l, ok := storage.LevelOfACR(acr)
	if !ok {
		return storage.LevelNone, storage.Errorf(storage.EInvalid,
			"min_acr: %q is not an acr value of this provider; use %s (the password) or %s (the password and an identity tool).",
			acr, storage.ACRPassword, storage.ACRTool).WithField("min_acr")
	}
	return l, nil
}

// SetServiceMinLevel sets the minimum assurance level of the e-service
// serviceCode (service.min_level, audited with the level before and
// after; setting the level it has changes nothing). storage.LevelTool
// demands an identity tool at sign-in; storage.LevelPassword and
// storage.LevelNone nothing beyond the password. It returns the e-service as
// it is now, with its groups, and whether the level changed. A change is
// published to every node's client cache, so that the next sign-in anywhere
// sees it; sessions and tokens issued before are not ended here. An
// e-service the actor may not manage is not found.
func (d *Departments) SetServiceMinLevel(ctx context.Context, actor storage.Actor, serviceCode string, level storage.Level) (storage.DepartmentService, bool, error) {
	if !level.Known() {
		return storage.DepartmentService{}, false, storage.Errorf(storage.EInvalid,
			"min_acr: not an assurance level of this provider.").WithField("min_acr")
	}
	sv, err := d.serviceIf(ctx, actor, serviceCode, storage.CanSetServiceMinLevel)
	if err != nil {
		return storage.DepartmentService{}, false, err
	}
	before, err := d.dir.SetServiceMinLevel(ctx, actor, sv, level)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.DepartmentService{}, false, serviceNotFound(serviceCode) // removed meanwhile
	}
	if err != nil {
		return storage.DepartmentService{}, false, err
	}
	changed := before != level
	if changed && d.services != nil {
		if err := d.services.PublishServicesChanged(context.WithoutCancel(ctx), sv.ID); err != nil {
			// The change holds; nodes see it within the client cache's TTL.
			slog.WarnContext(ctx, "publish services changed", "service", sv.Code, "err", err)
		}
	}
	sv.MinLevel = level
	groups, err := d.dir.Groups(ctx, sv.ID)
	if err != nil {
		return storage.DepartmentService{}, changed, err
	}
	return storage.DepartmentService{Service: sv, Groups: groups}, changed, nil
}

// GroupInput is a new group.
type GroupInput struct {
	Code                   string
	NameZH, NamePT, NameEN string
}

func checkName(field, v string, required bool) error {
	if required && v == "" {
		return storage.Errorf(storage.EInvalid, "%s is required.", field).WithField(field)
	}
	if !storage.CleanText(v, maxNameLen) {
		return storage.Errorf(storage.EInvalid, "%s: at most %d characters of text, without control characters.", field, maxNameLen).WithField(field)
	}
	return nil
}

// CreateGroup defines a group in the e-service serviceCode (group.create).
func (d *Departments) CreateGroup(ctx context.Context, actor storage.Actor, serviceCode string, in GroupInput) (storage.Group, error) {
	if !GroupCodePattern.MatchString(in.Code) {
		return storage.Group{}, storage.Errorf(storage.EInvalid,
			"code: 1 to 32 lower-case letters, digits, '_' or '-', starting with a letter or digit.").WithField("code")
	}
	for _, f := range []struct {
		field, v string
		required bool
	}{{"name_zh", in.NameZH, true}, {"name_pt", in.NamePT, false}, {"name_en", in.NameEN, false}} {
		if err := checkName(f.field, f.v, f.required); err != nil {
			return storage.Group{}, err
		}
	}
	sv, err := d.service(ctx, actor, serviceCode)
	if err != nil {
		return storage.Group{}, err
	}
	g := storage.Group{Code: in.Code, NameZH: in.NameZH, NamePT: in.NamePT, NameEN: in.NameEN}
	err = d.dir.AddServiceGroup(ctx, actor, sv, &g)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return g, &storage.Error{Code: storage.EConflict, Field: "code", Err: err,
			Message: "E-service " + sv.Code + " already has a group " + in.Code + "."}
	}
	return g, err
}

func groupNotFound(serviceCode, code string) error {
	return &storage.Error{Code: storage.ENotFound, Message: "Group " + code + " of e-service " + serviceCode + " was not found.", Err: storage.ErrNotFound}
}

// RenameGroup changes the names names sets of a group (group.rename).
func (d *Departments) RenameGroup(ctx context.Context, actor storage.Actor, serviceCode, code string, names storage.GroupNames) (storage.Group, error) {
	if names.ZH == nil && names.PT == nil && names.EN == nil {
		return storage.Group{}, storage.Errorf(storage.EInvalid, "Give at least one of name_zh, name_pt, name_en.")
	}
	for _, f := range []struct {
		field string
		v     *string
	}{{"name_zh", names.ZH}, {"name_pt", names.PT}, {"name_en", names.EN}} {
		if f.v != nil {
			if err := checkName(f.field, *f.v, f.field == "name_zh"); err != nil {
				return storage.Group{}, err
			}
		}
	}
	sv, err := d.service(ctx, actor, serviceCode)
	if err != nil {
		return storage.Group{}, err
	}
	g, err := d.dir.RenameServiceGroup(ctx, actor, sv, code, names)
	if errors.Is(err, storage.ErrNotFound) {
		return g, groupNotFound(sv.Code, code)
	}
	return g, err
}

// DeleteGroup removes a group and its memberships (group.delete); the
// logins that were in it hold the group no more from their next token.
func (d *Departments) DeleteGroup(ctx context.Context, actor storage.Actor, serviceCode, code string) error {
	sv, err := d.service(ctx, actor, serviceCode)
	if err != nil {
		return err
	}
	members, err := d.dir.RemoveServiceGroup(ctx, actor, sv, code)
	if errors.Is(err, storage.ErrNotFound) {
		return groupNotFound(sv.Code, code)
	}
	if err == nil {
		d.claimsChanged(ctx, members)
	}
	return err
}

// CanonicalEntityNumber returns an entity number in the canonical form the
// answers carry ("02-000021"), from any form storage.NormalizeEntityNumber
// reads; anything else is EInvalid naming entity_number.
func CanonicalEntityNumber(number string) (string, error) { return entityNumber(number) }

// serviceAndEntity is the e-service serviceCode, if actor may manage it,
// and the entity number in its canonical form.
func (d *Departments) serviceAndEntity(ctx context.Context, actor storage.Actor, serviceCode, number string) (storage.Service, string, error) {
	n, err := entityNumber(number)
	if err != nil {
		return storage.Service{}, "", err
	}
	sv, err := d.service(ctx, actor, serviceCode)
	return sv, n, err
}

// EnrollEntity opens the e-service serviceCode to the entity numbered
// number (service.enroll) and reports whether it was closed before.
func (d *Departments) EnrollEntity(ctx context.Context, actor storage.Actor, serviceCode, number string) (bool, error) {
	sv, n, err := d.serviceAndEntity(ctx, actor, serviceCode, number)
	if err != nil {
		return false, err
	}
	e, err := d.dir.EntityByNumber(ctx, n)
	if err != nil {
		return false, notFound(err, "Entity "+n)
	}
	return d.dir.EnrollEntity(ctx, actor, sv.ID, e.ID)
}

// CloseService closes the e-service serviceCode to an entity, taking every
// staff login of the entity off it and out of its groups (service.unenroll);
// it reports whether it was open. From their next token, refresh or
// userinfo those logins have no access to it (and no groups in it).
func (d *Departments) CloseService(ctx context.Context, actor storage.Actor, serviceCode, number string) (bool, error) {
	sv, n, err := d.serviceAndEntity(ctx, actor, serviceCode, number)
	if err != nil {
		return false, err
	}
	closed, affected, err := d.dir.CloseServiceTo(ctx, actor, sv, n)
	if err == nil {
		d.claimsChanged(ctx, affected)
	}
	return closed, err
}

// Assignments returns who of an entity is assigned to the e-service
// serviceCode, with their groups' codes: EUIDs and codes only.
func (d *Departments) Assignments(ctx context.Context, actor storage.Actor, serviceCode, number string) ([]storage.ServiceAssignment, error) {
	sv, n, err := d.serviceAndEntity(ctx, actor, serviceCode, number)
	if err != nil {
		return nil, err
	}
	return d.dir.ServiceAssignments(ctx, sv.ID, n)
}

// Changes returns the department's audit trail, newest first.
func (d *Departments) Changes(ctx context.Context, actor storage.Actor, before int64, limit int) ([]storage.AuditEvent, error) {
	if !storage.CanViewDepartmentChanges(actor, actor.DepartmentID) {
		return nil, forbidden("read the changes of this department")
	}
	if before < 0 {
		return nil, storage.Errorf(storage.EInvalid, "before: an event id, at least 1.").WithField("before")
	}
	if limit < 0 || limit > 200 {
		return nil, storage.Errorf(storage.EInvalid, "limit: 1 to 200.").WithField("limit")
	}
	return d.dir.DepartmentChanges(ctx, actor.DepartmentID, before, limit)
}

// ChangesOf returns the audit trail of the department with code, newest
// first, for an actor that may read it (the operator; a department its own).
func (d *Departments) ChangesOf(ctx context.Context, actor storage.Actor, code string, before int64, limit int) ([]storage.AuditEvent, error) {
	dep, err := d.dir.DepartmentByCode(ctx, code)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &storage.Error{Code: storage.ENotFound, Message: "Department " + code + " was not found.", Err: err}
	}
	if err != nil {
		return nil, err
	}
	if !storage.CanViewDepartmentChanges(actor, dep.ID) {
		return nil, &storage.Error{Code: storage.ENotFound, Message: "Department " + code + " was not found.", Err: storage.ErrForbidden}
	}
	if before < 0 || limit < 0 || limit > 200 {
		return nil, storage.Errorf(storage.EInvalid, "before: an event id; limit: 1 to 200.")
	}
	return d.dir.DepartmentChanges(ctx, dep.ID, before, limit)
}
