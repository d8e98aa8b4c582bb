package storage

// The rule book of account recovery. A password is never chosen, seen or
// typed by anyone but its holder: an admin or the operator only has a
// reset code sent to the login's registered mobile (or e-mail), and the
// holder sets the new password with it.

// CanResetPassword: have a reset code sent to target, a staff login of
// the actor's entity. An admin of the same entity may, for plain staff
// logins and for other admins alike (a login that can sign in: activated,
// not deleted); the operator may, for any such login. A plain staff login,
// a service admin, the entity account and anyone of another entity may
// not. A person who forgot their own password asks by the registered
// phone (the 「忘記密碼」 page), never through this rule.
func CanResetPassword(a Actor, target StaffLogin) bool {
	if target.Status != StatusActive || target.ActivatedAt == nil {
		return false
	}
	return isOperator(a) || isAdminOf(a, target.EntityID)
}

// CanResetEntityAccountPassword: have a reset code sent to an entity's
// entity account. Only the operator, who registered its holder: no
// staff login administers the entity account.
func CanResetEntityAccountPassword(a Actor) bool { return isOperator(a) }
