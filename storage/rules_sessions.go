package storage

// Sessions and lockouts: who may see and end browser sessions, end every
// session of a login (強制登出), and lift a login's sign-in lockout
// (解除鎖定).

// OwnsSession: actor may see and end the browser session of subject in
// 已登入的裝置 — its own, and nobody else's (an admin included: an admin
// ends another login's sessions only all at once, CanForceSignOut).
func OwnsSession(a Actor, subject string) bool {
	return a.Active && subject != "" && a.ID == subject &&
		(a.Kind == ActorStaff || a.Kind == ActorEntityAccount)
}

// CanForceSignOut: end every session and token of a staff login of entity
// (強制登出). The operator, and the entity's admins, who run its staff; not
// a service admin, a plain staff login or the entity account.
func CanForceSignOut(a Actor, entityID int64) bool {
	return isOperator(a) || isAdminOf(a, entityID)
}

// CanLiftLockout: clear the failed sign-ins that lock a staff login of
// entity (解除鎖定). Whoever may force its sign-out: the operator and the
// entity's admins.
func CanLiftLockout(a Actor, entityID int64) bool {
	return isOperator(a) || isAdminOf(a, entityID)
}
