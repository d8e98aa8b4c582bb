package storage

// The rule book, admin rights: what taking them away asks of the account
// that does it. Who may take them is CanRemoveAdmin (rules.go).

// AdminRemovalNeedsConfirmation reports whether a, taking admin rights
// from the staff logins removing (EUIDs) of an entity whose staff logins
// are staff, must confirm it: the entity would be left with no active
// admin while it has one now, and only the operator grants admin rights,
// so an account of the entity cannot undo it. The operator, who can, need
// not confirm. EUIDs of no login in staff remove nothing and do not count.
func AdminRemovalNeedsConfirmation(a Actor, staff []StaffLogin, removing []string) bool {
	if isOperator(a) {
		return false
	}
	gone := make(map[string]bool, len(removing))
	for _, euid := range removing {
		gone[euid] = true
	}
	active, left := 0, 0
	for _, sl := range staff {
		if sl.Admin && sl.Status == StatusActive {
			active++
			if !gone[sl.EUID] {
				left++
			}
		}
	}
	return active > 0 && left == 0
}
