package storage

// The rule book: who may do what, for which entity. Every handler, command
// and use case asks these functions and writes no rule of its own. They are
// pure: the actor's rights come from the store as read for the action
// (Actor), the target from the store too. An inactive account (deleted,
// not activated, entity closed) may do nothing.
//
// Roles:
//   - the operator (行政公職局) opens and closes entities, creates admin staff
//     logins and is the only one who grants admin rights;
//   - the entity account may only remove admin rights from its entity's
//     staff logins (and use its own profile and password);
//   - an admin staff login runs its entity's staff: create, edit, delete,
//     send activation codes, remove admin rights (its own too), designate
//     and remove service admins, assign staff to e-services and groups, and
//     read its entity's audit trail;
//   - a service admin assigns its entity's staff to e-services and groups;
//   - a plain staff login administers nothing.

// actsFor reports whether a is an active account of entity (an entity
// account or a staff login of it).
func actsFor(a Actor, entityID int64) bool {
	return a.Active && entityID != 0 && a.EntityID == entityID &&
		(a.Kind == ActorStaff || a.Kind == ActorEntityAccount)
}

func isOperator(a Actor) bool { return a.Kind == ActorOperator && a.Active }

func isAdminOf(a Actor, entityID int64) bool {
	return actsFor(a, entityID) && a.Kind == ActorStaff && a.Admin
}

// CanManageStaff: create, edit, delete and restore the staff logins of
// entity, and send them activation codes.
func CanManageStaff(a Actor, entityID int64) bool {
	return isOperator(a) || isAdminOf(a, entityID)
}

// CanViewStaff: see the staff list and a staff login's page of entity.
// The entity account sees the list it needs to remove admin rights.
func CanViewStaff(a Actor, entityID int64) bool {
	return CanManageStaff(a, entityID) || actsFor(a, entityID) && (a.Kind == ActorEntityAccount || a.ServiceAdmin)
}

// CanViewEntity: find entity in 實體列表 and open its 實體資訊, the page
// that leads on to what the account administers there. Every account
// that administers something of the entity may: its admins, its service
// admins and its entity account (which removes admin rights). A plain
// staff login administers nothing, so it has no entity to list.
func CanViewEntity(a Actor, entityID int64) bool {
	return isOperator(a) || isAdminOf(a, entityID) ||
		actsFor(a, entityID) && (a.Kind == ActorEntityAccount || a.Kind == ActorStaff && a.ServiceAdmin)
}

// CanRemoveAdmin: take admin rights away from staff logins of entity. The
// entity account and any admin of the entity may (an admin its own rights
// too).
func CanRemoveAdmin(a Actor, entityID int64) bool {
	return isOperator(a) || isAdminOf(a, entityID) ||
		actsFor(a, entityID) && a.Kind == ActorEntityAccount
}

// CanGrantAdmin: give admin rights. Only the operator, always: it is the
// only way back after a removal.
func CanGrantAdmin(a Actor) bool { return isOperator(a) }

// CanDesignateServiceAdmin: make staff logins of entity service admins, or
// stop them being ones.
func CanDesignateServiceAdmin(a Actor, entityID int64) bool {
	return isOperator(a) || isAdminOf(a, entityID)
}

// CanAssignServices: assign the staff logins of entity to e-services and
// groups, and take them off.
func CanAssignServices(a Actor, entityID int64) bool {
	return isOperator(a) || isAdminOf(a, entityID) || actsFor(a, entityID) && a.Kind == ActorStaff && a.ServiceAdmin
}

// CanViewAudit: read the audit trail of entity.
func CanViewAudit(a Actor, entityID int64) bool {
	return isOperator(a) || isAdminOf(a, entityID)
}

// CanOpenEntity: open an entity, with its entity account and admin staff
// logins. Only the operator, who checked the application in person.
func CanOpenEntity(a Actor) bool { return isOperator(a) }

// CanCloseEntity: close an entity (every login disabled).
func CanCloseEntity(a Actor) bool { return isOperator(a) }
