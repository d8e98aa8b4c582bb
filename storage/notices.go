package storage

// Told is what a change to a staff login tells through the outbox, in the
// transaction of the change: the login's holder and, for a change of its
// admin rights, the entity account as well. Either is nil when there is
// nobody to tell there (no mobile and no e-mail registered).
type Told struct {
	Holder        *OutboxMessage
	EntityAccount *OutboxMessage
}

// TellOf composes what a change to staff login sl (as it was before the
// change, of the entity numbered entityNumber) tells. A store calls it
// inside the transaction of the change, once it knows the change happens
// (a refused change tells nobody), so it must not touch the stores. A nil
// TellOf tells nobody.
type TellOf func(sl StaffLogin, entityNumber string) (Told, error)

// HolderOnly is the TellOf that tells the holder what notice composes.
func HolderOnly(notice NoticeOf) TellOf {
	if notice == nil {
		return nil
	}
	return func(sl StaffLogin, entityNumber string) (Told, error) {
		m, err := notice(sl, entityNumber)
		return Told{Holder: m}, err
	}
}
