package storage

// The rule book of the desk's use cases (login/entitydesk), which are
// handed the actor of a request rather than its officer.

// ActorMay is OfficerMay for the officer behind actor (OfficerActor, as
// read for this request): what a use case asks when it is handed the
// actor. An actor with no officer behind it (a staff login, the operator of
// a test) may do no operator act.
func ActorMay(a Actor, act OperatorAct) error {
	if a.Kind != ActorOperator || a.OfficerID == 0 {
		return Errorf(EForbidden, "only an officer of 行政公職局 may do this (%s)", act).WithKey("desk_err_officer_required")
	}
	status := OfficerDisabled
	if a.Active {
		status = OfficerActive
	}
	return OfficerMay(Officer{ID: a.OfficerID, Login: a.Name, Role: a.OfficerRole, Status: status}, act)
}
