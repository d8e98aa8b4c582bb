package storage

// The rule book of identity tools. A tool is the
// person's own: nobody enrols one for someone else, an admin included. The
// operator (行政公職局) approves an enrolment after checking the identity
// document in person, and resets a login's tools (a lost phone).

// CanEnrolTool: enrol (or confirm) an identity tool for target. Only the
// active, activated staff login itself.
func CanEnrolTool(a Actor, target StaffLogin) bool {
	return a.Active && a.Kind == ActorStaff && a.ID != "" && a.ID == target.EUID &&
		actsFor(a, target.EntityID) && target.Status == StatusActive && target.ActivatedAt != nil
}

// CanHoldTools: hold identity tools of one's own and open their pages (the
// portal's 電子身份識別工具): an active staff login, for itself alone. The
// entity account signs in to no e-service and so holds none.
func CanHoldTools(a Actor) bool {
	return a.Active && a.Kind == ActorStaff && a.ID != "" && a.EntityID != 0
}

// CanApproveTool: approve a pending enrolment after the in-person check.
func CanApproveTool(a Actor) bool { return isOperator(a) }

// CanResetTools: remove every identity tool of a staff login.
func CanResetTools(a Actor) bool { return isOperator(a) }
