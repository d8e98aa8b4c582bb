package storage

// Who may read the sign-in history (登入記錄).
//
//   - every account sees its own attempts (a staff login, admin or not, and
//     the entity account);
//   - an admin sees every attempt about its entity: its logins', its
//     entity account's, and those at usernames of the entity that do not
//     exist; and may export them;
//   - the operator sees any entity's (the idp history command);
//   - the entity account sees only its own: it may remove admin rights and
//     nothing more, and the history of the staff is the admins' to watch;
//   - a service admin and a plain staff login see only their own;
//   - a department sees nothing of it (its API has no such route).

// CanViewOwnSignIns: read the sign-in history of the account a itself is.
func CanViewOwnSignIns(a Actor) bool {
	return a.Active && a.ID != "" && (a.Kind == ActorStaff || a.Kind == ActorEntityAccount)
}

// CanViewEntitySignIns: read (and export) the sign-in history of every
// account of entity, and of attempts at its unknown usernames.
func CanViewEntitySignIns(a Actor, entityID int64) bool {
	return isOperator(a) || isAdminOf(a, entityID)
}

// CanViewSignInsOf: read the sign-in history of the account subject of
// entity entityID.
func CanViewSignInsOf(a Actor, entityID int64, subject string) bool {
	if subject != "" && subject == a.ID && a.EntityID == entityID && CanViewOwnSignIns(a) {
		return true
	}
	return CanViewEntitySignIns(a, entityID)
}
