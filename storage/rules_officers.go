package storage

// OperatorAct is one thing an officer does as the operator, with the idp
// command today and at the desk later. OfficerMay decides who may.
type OperatorAct string

// The counter's acts: serving an entity that comes to the counter.
const (
	ActUseDesk        OperatorAct = "desk.use"        // be at the desk: its home, one's own sign-ins
	ActOpenEntity     OperatorAct = "entity.open"     // open an entity with its admins; register a staff login
	ActSendCode       OperatorAct = "code.send"       // send or resend an activation code
	ActApproveTools   OperatorAct = "tools.approve"   // approve a pending 安全驗證碼; switch passkeys on again
	ActResetTools     OperatorAct = "tools.reset"     // remove a login's identity tools
	ActResetPassword  OperatorAct = "password.reset"  // send a reset code to the holder
	ActSignOutLogin   OperatorAct = "login.signout"   // 強制登出
	ActUnlockLogin    OperatorAct = "login.unlock"    // 解除鎖定
	ActReadEntities   OperatorAct = "entity.read"     // entity show, history, assignments: personal data
	ActReadOperations OperatorAct = "operations.read" // deliveries, departments' changes, the officers' list
	ActReadAudit      OperatorAct = "audit.read"      // search and export the audit trail
)

// The supervisor's acts besides the counter's.
const (
	ActGrantAdmin         OperatorAct = "admin.grant"         // give or take admin rights
	ActCloseEntity        OperatorAct = "entity.close"        // close (or reopen) an entity
	ActManageStaff        OperatorAct = "staff.manage"        // delete or restore a staff login
	ActRegisterDepartment OperatorAct = "department.register" // register a department
	ActRegisterService    OperatorAct = "service.register"    // e-services, their groups, levels, enrolment and assignments
	ActRegisterClient     OperatorAct = "client.register"     // register clients, rotate their secrets and keys
	ActRotateKeys         OperatorAct = "keys.rotate"         // rotate the provider's signing keys
	ActManageOfficers     OperatorAct = "officer.manage"      // create and disable officers
)

// OperatorActs is every act, the counter's first.
var OperatorActs = []OperatorAct{
	ActUseDesk, ActOpenEntity, ActSendCode, ActApproveTools, ActResetTools, ActResetPassword, ActSignOutLogin, ActUnlockLogin,
	ActReadEntities, ActReadOperations, ActReadAudit,
	ActGrantAdmin, ActCloseEntity, ActManageStaff, ActRegisterDepartment, ActRegisterService, ActRegisterClient,
	ActRotateKeys, ActManageOfficers,
}

// counterActs are what a counter officer may do.
var counterActs = map[OperatorAct]bool{
	ActUseDesk: true, ActOpenEntity: true, ActSendCode: true, ActApproveTools: true, ActResetTools: true, ActResetPassword: true,
	ActSignOutLogin: true, ActUnlockLogin: true, ActReadEntities: true, ActReadOperations: true, ActReadAudit: true,
}

// OfficerMay reports whether the officer o may do act: nil, or an
// EForbidden *Error saying why. A disabled officer may do nothing; a
// supervisor may do every act; a counter officer the counter's acts.
func OfficerMay(o Officer, act OperatorAct) error {
	known := counterActs[act]
	for _, a := range OperatorActs {
		known = known || a == act
	}
	switch {
	case !known:
		return Errorf(EForbidden, "no officer may do %q", act).WithKey("desk_err_unknown_act")
	case o.Status != OfficerActive:
		return Errorf(EForbidden, "officer %s is disabled and may do nothing", o.Login).WithKey("desk_err_officer_disabled")
	case o.Role == RoleSupervisor:
		return nil
	case o.Role == RoleCounter && counterActs[act]:
		return nil
	}
	return Errorf(EForbidden, "officer %s is a %s officer: only a supervisor may do this (%s)", o.Login, o.Role, act).
		WithKey("desk_err_supervisor_only")
}

// MayCreateFirstOfficer: with no officer at all (existing is 0), the first
// one may be created by whoever holds the database, and it must be a
// supervisor, who then creates the others.
func MayCreateFirstOfficer(existing int, role OfficerRole) error {
	if existing > 0 {
		return Errorf(EForbidden, "there are officers already: a supervisor creates officers (--officer NAME or IDP_OFFICER)").
			WithKey("desk_err_officer_required")
	}
	if role != RoleSupervisor {
		return Errorf(EForbidden, "the first officer must be a supervisor").WithKey("desk_err_first_officer_supervisor")
	}
	return nil
}

// MayDisableOfficer: a supervisor (by) disables target, neither itself nor
// the last active supervisor (activeSupervisors counts the active
// supervisors, target included if it is one).
func MayDisableOfficer(by, target Officer, activeSupervisors int) error {
	if err := OfficerMay(by, ActManageOfficers); err != nil {
		return err
	}
	switch {
	case by.ID == target.ID:
		return Errorf(EForbidden, "an officer cannot disable itself").WithKey("desk_err_officer_self")
	case target.Status != OfficerActive:
		return Errorf(EConflict, "officer %s is disabled already", target.Login).WithKey("desk_err_officer_already_disabled")
	case target.Role == RoleSupervisor && activeSupervisors <= 1:
		return Errorf(EForbidden, "officer %s is the last active supervisor and cannot be disabled", target.Login).
			WithKey("desk_err_last_supervisor")
	}
	return nil
}

// MayResetOfficer: a supervisor (by) resets target's way in (its password
// and 安全驗證碼, after a lost phone or a forgotten password), so that a new
// activation code sets them again; never its own (another supervisor
// does it), never a disabled officer's (enable it first).
func MayResetOfficer(by, target Officer) error {
	if err := OfficerMay(by, ActManageOfficers); err != nil {
		return err
	}
	switch {
	case by.ID == target.ID:
		return Errorf(EForbidden, "an officer cannot reset itself: another supervisor does").WithKey("desk_auth_err_reset_self")
	case target.Status != OfficerActive:
		return Errorf(EConflict, "officer %s is disabled: enable it first", target.Login).WithKey("desk_auth_err_reset_disabled")
	case target.Mobile == "" && target.Email == "":
		return Errorf(EConflict, "officer %s has no mobile or e-mail to send a code to", target.Login).WithKey("desk_auth_err_no_contact")
	}
	return nil
}

// MayEnableOfficer: a supervisor (by) enables a disabled officer again.
func MayEnableOfficer(by, target Officer) error {
	if err := OfficerMay(by, ActManageOfficers); err != nil {
		return err
	}
	if target.Status == OfficerActive {
		return Errorf(EConflict, "officer %s is active already", target.Login).WithKey("desk_auth_err_already_active")
	}
	return nil
}

// MayChangeOfficerRole: a supervisor (by) gives target the role to; never
// so that no active supervisor is left (activeSupervisors counts the
// active supervisors, target included if it is one).
func MayChangeOfficerRole(by, target Officer, to OfficerRole, activeSupervisors int) error {
	if err := OfficerMay(by, ActManageOfficers); err != nil {
		return err
	}
	switch {
	case to != RoleCounter && to != RoleSupervisor:
		return Errorf(EInvalid, "the role is counter or supervisor, got %q", to).WithField("role").WithKey("desk_err_officer_role")
	case target.Role == to:
		return Errorf(EConflict, "officer %s is a %s officer already", target.Login, to).WithKey("desk_auth_err_same_role")
	case target.Role == RoleSupervisor && target.Status == OfficerActive && activeSupervisors <= 1:
		return Errorf(EForbidden, "officer %s is the last active supervisor", target.Login).WithKey("desk_auth_err_last_supervisor_role")
	}
	return nil
}

// ActorMay is OfficerMay for the officer behind the operator actor a, as
// the actor names it (OfficerActor): a use case that an officer's act
// reaches, from the idp command or the desk, asks it again. An operator
// actor with no officer behind it (OperatorActor: the use cases' own
// tests) may what the operator may; any other actor no operator's act.
func ActorMay(a Actor, act OperatorAct) error {
	switch {
	case a.Kind != ActorOperator:
		return Errorf(EForbidden, "only the operator may do %q", act).WithKey("desk_intake_error_forbidden")
	case a.OfficerID == 0 && a.OfficerRole == "":
		if !a.Active {
			return Errorf(EForbidden, "the operator is not active").WithKey("desk_err_officer_disabled")
		}
		return nil
	}
	status := OfficerDisabled
	if a.Active {
		status = OfficerActive
	}
	return OfficerMay(Officer{ID: a.OfficerID, Login: a.Name, Role: a.OfficerRole, Status: status}, act)
}
