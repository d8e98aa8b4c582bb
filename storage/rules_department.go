package storage

// The rule book, departments (a department's back end through the
// department API): a department manages its own e-services only —
// their groups, and to which entities they are opened. The operator manages
// every e-service. An entity's accounts manage no e-service (they assign
// their staff to the e-services opened to them: CanAssignServices).

// isDepartment reports whether a is an active department actor.
func isDepartment(a Actor) bool {
	return a.Kind == ActorDepartment && a.Active && a.DepartmentID != 0
}

// CanManageService: define and remove the groups of the e-service sv, open
// it to entities and close it, and see who of an entity is assigned to it.
// A department may for its own e-services only, the operator for all.
func CanManageService(a Actor, sv Service) bool {
	return isOperator(a) || isDepartment(a) && sv.DepartmentID == a.DepartmentID
}

// CanSetServiceMinLevel: set the minimum assurance level of the e-service
// sv (Service.MinLevel), raising or lowering it. Whoever manages the
// e-service may: its own department, and the operator.
func CanSetServiceMinLevel(a Actor, sv Service) bool {
	return CanManageService(a, sv)
}

// CanViewDepartmentChanges: read the audit trail of department
// departmentID (what it did, and what was done to its e-services).
func CanViewDepartmentChanges(a Actor, departmentID int64) bool {
	return isOperator(a) || isDepartment(a) && departmentID == a.DepartmentID
}
