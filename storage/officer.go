package storage

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
)

// OfficerRole is what an officer of 行政公職局 may do at the operator's
// desk and with the idp command (OfficerMay).
type OfficerRole string

const (
	// RoleCounter serves entities at the counter: opens them, sends codes,
	// approves and resets identity tools, resets passwords, signs logins out
	// and unlocks them, reads.
	RoleCounter OfficerRole = "counter"
	// RoleSupervisor may do what a counter officer may, and grant admin
	// rights, close entities, register departments, e-services, groups and
	// clients, rotate signing keys and manage officers.
	RoleSupervisor OfficerRole = "supervisor"
)

// OfficerStatus says whether an officer may act.
type OfficerStatus string

const (
	OfficerActive   OfficerStatus = "active"
	OfficerDisabled OfficerStatus = "disabled"
)

// Officer is a person of 行政公職局 who acts as the operator: an account of
// its own kind, not a staff login of an entity.
type Officer struct {
	ID int64
	// Login is the officer's login name, lower case (e.g. chan.tm); it names
	// the officer in the audit trail.
	Login       string
	DisplayName string
	Role        OfficerRole
	Status      OfficerStatus
	// Mobile and Email are where an activation for the desk will go; either
	// may be "".
	Mobile, Email string
	// HasPassword and HasTOTP: the officer has activated its way in to the
	// desk (a password and a 安全驗證碼); a reset clears both.
	HasPassword, HasTOTP bool
	// SessionsValidAfter: desk sessions opened before it are over (set when
	// the officer is disabled or reset); the epoch when never.
	SessionsValidAfter time.Time
	// LastSignInAt is the last successful sign-in at the desk, nil if none.
	LastSignInAt *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// CreatedBy is the officer who created this one; 0 for the first.
	CreatedBy int64
}

// officerLogin is what a login name may be: a lower-case letter or digit,
// then letters, digits, dots, hyphens or underscores, 2 to 40 in all.
var officerLogin = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,39}$`)

// NormalizeOfficerLogin is a login name as stored and looked up: trimmed and
// lower case; ok is false when it is no valid login name.
func NormalizeOfficerLogin(raw string) (string, bool) {
	login := strings.ToLower(strings.TrimSpace(raw))
	return login, officerLogin.MatchString(login)
}

// Validate normalises the officer's login name and checks its fields.
func (o *Officer) Validate() error {
	login, ok := NormalizeOfficerLogin(o.Login)
	if !ok {
		return Errorf(EInvalid, "a login name has 2 to 40 lower-case letters, digits, dots, hyphens or underscores and starts with a letter or digit, got %q", o.Login).
			WithField("login").WithKey("desk_err_officer_login")
	}
	o.Login = login
	o.DisplayName = strings.TrimSpace(o.DisplayName)
	if o.DisplayName == "" || len(o.DisplayName) > 200 {
		return Errorf(EInvalid, "a display name is required (at most 200 bytes)").WithField("display_name").WithKey("desk_err_officer_display_name")
	}
	if o.Role != RoleCounter && o.Role != RoleSupervisor {
		return Errorf(EInvalid, "the role is counter or supervisor, got %q", o.Role).WithField("role").WithKey("desk_err_officer_role")
	}
	if o.Mobile != "" {
		m, ok := NormalizeMacauMobile(o.Mobile)
		if !ok {
			return Errorf(EInvalid, "a Macau mobile number has 8 digits and starts with 6, got %q", o.Mobile).WithField("mobile").WithKey("desk_err_officer_mobile")
		}
		o.Mobile = m
	}
	o.Email = strings.TrimSpace(o.Email)
	if a, err := mail.ParseAddress(o.Email); o.Email != "" && (err != nil || a.Address != o.Email || len(o.Email) > MaxEmailLength) {
		return Errorf(EInvalid, "not an e-mail address: %q", o.Email).WithField("email").WithKey("desk_err_officer_email")
	}
	if o.Status == "" {
		o.Status = OfficerActive
	}
	return nil
}

// OfficerActor is the operator, acting as the officer o: the audit trail
// names o by its login name (and id). A disabled officer is an inactive
// actor, whom the rule book refuses everything.
func OfficerActor(o Officer) Actor {
	return Actor{Kind: ActorOperator, ID: o.Login, Name: o.Login, OfficerID: o.ID, OfficerRole: o.Role,
		Active: o.Status == OfficerActive}
}
