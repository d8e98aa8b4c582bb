package storage

// The rule book, e-services: may an account use an e-service, at the level
// its sign-in reached. One rule, asked wherever a sign-in is answered, a
// token is refreshed or claims are made; callers choose their answer (an
// error page, an OAuth error) by the refusal, and decide nothing themselves.

// ServiceRefusal is why an account may not use an e-service;
// ServiceAllowed (the zero value) when it may.
type ServiceRefusal int

const (
	// ServiceAllowed: the account may use the e-service.
	ServiceAllowed ServiceRefusal = iota
	// RefusedAccountInactive: the account may not sign in at all — a
	// deleted or not yet activated staff login, or its entity closed.
	RefusedAccountInactive
	// RefusedEntityAccount: the entity account uses no e-service; only
	// its staff logins do.
	RefusedEntityAccount
	// RefusedNotEnrolled: the e-service is not opened to the login's
	// entity (or was closed to it).
	RefusedNotEnrolled
	// RefusedNotAssigned: the e-service admits only the staff logins
	// assigned to it (PolicyAssigned), and this one is not.
	RefusedNotAssigned
	// RefusedLevelTooLow: the sign-in is below the assurance level the
	// e-service (or the request) needs; a second step may raise it.
	RefusedLevelTooLow
)

func (r ServiceRefusal) String() string {
	switch r {
	case ServiceAllowed:
		return "allowed"
	case RefusedAccountInactive:
		return "account inactive"
	case RefusedEntityAccount:
		return "entity account"
	case RefusedNotEnrolled:
		return "not enrolled"
	case RefusedNotAssigned:
		return "not assigned"
	case RefusedLevelTooLow:
		return "level too low"
	}
	return "unknown refusal"
}

// ServiceUseRefusal is the one rule of who may use an e-service: p, whose
// access to it is access, signed in at level reached, where minimum is the
// level needed (the e-service's minimum, raised by what the request asked
// for). It checks, in this order, and answers the first that fails: the
// account (AccountServiceRefusal), the e-service opened to its entity, the
// login assigned to it when the e-service admits only those, the level.
// The order is the callers' order of answers: a login the e-service does
// not admit is told so, never first asked for a second factor.
func ServiceUseRefusal(p Principal, access ServiceAccess, reached, minimum Level) ServiceRefusal {
	if r := AccountServiceRefusal(p); r != ServiceAllowed {
		return r
	}
	if r := accessRefusal(access); r != ServiceAllowed {
		return r
	}
	if !reached.Satisfies(minimum) {
		return RefusedLevelTooLow
	}
	return ServiceAllowed
}

// AccountServiceRefusal is the first part of ServiceUseRefusal, the one
// that needs no e-service: whether p is an account that may use
// e-services at all. The sign-in asks it alone to refuse the entity
// account before it starts a session or reads any e-service.
func AccountServiceRefusal(p Principal) ServiceRefusal {
	if !p.CanSignIn() {
		return RefusedAccountInactive
	}
	if p.Kind != KindStaff {
		return RefusedEntityAccount
	}
	return ServiceAllowed
}

// Satisfies reports whether a sign-in at level l meets minimum: a higher
// level satisfies every lower one. It is the level part of
// ServiceUseRefusal; the second step asks it alone, to know whether it is
// still owed.
func (l Level) Satisfies(minimum Level) bool { return l >= minimum }

// CanSignIn reports whether the account may authenticate at all: activated,
// not deleted, entity not closed. Whether it may use a given e-service is
// decided by ServiceUseRefusal.
func (p Principal) CanSignIn() bool {
	return p.Activated && p.PasswordHash != "" && p.Status == StatusActive && p.EntityActive
}

// accessRefusal is the access part of ServiceUseRefusal.
func accessRefusal(a ServiceAccess) ServiceRefusal {
	if !a.Enrolled {
		return RefusedNotEnrolled
	}
	if a.Policy != PolicyEnrolled && !a.Assigned {
		return RefusedNotAssigned
	}
	return ServiceAllowed
}

// Allows reports whether access alone admits the login to the e-service
// (the access part of ServiceUseRefusal): opened to its entity and, under
// PolicyAssigned, the login assigned.
func (a ServiceAccess) Allows() bool { return accessRefusal(a) == ServiceAllowed }
