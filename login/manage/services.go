package manage

import (
	"context"

	"github.com/entity-account/idp/storage"
)

// Service access: an entity's admins and service admins see
// the e-services opened to their entity, with their groups and who is in
// each, and assign the entity's staff logins to them and to their groups,
// or take them off. Everything is looked up within the entity: a staff
// login, e-service or group that it does not have is not found, and nothing
// is written for it.

// AssignmentDirectory is what the service access use cases need of the
// durable store (storage/postgres, assignments.go).
type AssignmentDirectory interface {
	EntityServices(ctx context.Context, entityID int64) ([]storage.EntityService, error)
	AssignInEntity(ctx context.Context, actor storage.Actor, entityID int64, euid, serviceCode, groupCode string) (bool, error)
	UnassignInEntity(ctx context.Context, actor storage.Actor, entityID int64, euid, serviceCode, groupCode string) (bool, error)
}

// EntityServices returns the e-services opened to the entity, each with its
// groups and the entity's staff logins in them (服務列表).
func (s *Service) EntityServices(ctx context.Context, actor storage.Actor, entityID int64) ([]storage.EntityService, error) {
	if !storage.CanAssignServices(actor, entityID) {
		return nil, forbidden("see the e-services of this entity")
	}
	return s.dir.EntityServices(ctx, entityID)
}

// EntityService returns the e-service code opened to the entity, with its
// groups and the entity's staff logins in them; one that is not opened to
// the entity is not found.
func (s *Service) EntityService(ctx context.Context, actor storage.Actor, entityID int64, code string) (storage.EntityService, error) {
	all, err := s.EntityServices(ctx, actor, entityID)
	if err != nil {
		return storage.EntityService{}, err
	}
	for _, sv := range all {
		if sv.Code == code {
			return sv, nil
		}
	}
	return storage.EntityService{}, &storage.Error{Code: storage.ENotFound, Message: "E-service " + code + " was not found.", Err: storage.ErrNotFound}
}

// AssignService assigns the entity's active staff login euid to the
// e-service serviceCode opened to the entity and, when groupCode is not "",
// puts it in that e-service's group (which implies the assignment). It
// reports whether anything changed; a change is audited (service.assign,
// group.add_member) in its transaction. A deleted login cannot be assigned
// (EInvalid); a login, e-service or group the entity does not have is not
// found.
func (s *Service) AssignService(ctx context.Context, actor storage.Actor, entityID int64, euid, serviceCode, groupCode string) (bool, error) {
	if !storage.CanAssignServices(actor, entityID) {
		return false, forbidden("assign the staff of this entity to e-services")
	}
	changed, err := s.dir.AssignInEntity(ctx, actor, entityID, euid, serviceCode, groupCode)
	if changed {
		s.claimsChanged(ctx, euid)
	}
	return changed, err
}

// UnassignService takes the entity's staff login euid out of the group
// groupCode of the e-service serviceCode or, when groupCode is "", off the
// e-service, and so out of all its groups too. It reports whether anything
// changed; a change is audited (group.remove_member, service.unassign) in
// its transaction. The login's tokens live on, but from its next token,
// userinfo or refresh (every node is told at once) it has the groups it is
// left with, and an e-service that only assigned logins may use no longer
// answers for it.
func (s *Service) UnassignService(ctx context.Context, actor storage.Actor, entityID int64, euid, serviceCode, groupCode string) (bool, error) {
	if !storage.CanAssignServices(actor, entityID) {
		return false, forbidden("take the staff of this entity off e-services")
	}
	changed, err := s.dir.UnassignInEntity(ctx, actor, entityID, euid, serviceCode, groupCode)
	if changed {
		s.claimsChanged(ctx, euid)
	}
	return changed, err
}
