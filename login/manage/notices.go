package manage

import (
	"errors"
	"time"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

// Every change an admin, the entity account or the operator makes to a
// staff login tells its holder, through the outbox, in the transaction of
// the change (notify.Notices: SMS to the registered mobile, else e-mail,
// else nobody): deleted or restored, admin rights removed or granted,
// designated as service admin or no longer, identity document changed. A
// change of admin rights tells the entity account too, at its own mobile
// or e-mail: it answers for who administers the entity. The keys named
// here are catalogue entries notify_<key> (templates/i18n/notices.*.json).

// errNoNotices refuses a change that would go untold: the use cases were
// built without notices (Service.Notices).
var errNoNotices = errors.New("manage: this change tells its holder, but no notices are configured")

// telling is what one change tells: the notice of key to the login's
// holder and, when account is set, the notice of accountKey to the entity
// account. Its of is the storage.TellOf the use case hands the store; what
// it composed wakes the outbox worker once the change is written.
type telling struct {
	notices    notify.Notices
	key        string
	account    *storage.EntityAccount
	accountKey string
	told       storage.Told
}

// tell is the telling of key to the holder alone.
func (s *Service) tell(key string) *telling {
	return &telling{notices: s.Notices, key: key}
}

// tellAlsoAccount is the telling of key to the holder and of accountKey to
// the entity account acct.
func (s *Service) tellAlsoAccount(key, accountKey string, acct storage.EntityAccount) *telling {
	return &telling{notices: s.Notices, key: key, account: &acct, accountKey: accountKey}
}

// of composes the notices of a change to sl (as it was before it) of the
// entity numbered entityNumber; a storage.TellOf. Without notices the
// change is refused: none goes untold.
func (t *telling) of(sl storage.StaffLogin, entityNumber string) (storage.Told, error) {
	if err := t.notices.Check(); err != nil {
		return storage.Told{}, errNoNotices
	}
	at := time.Now()
	holder, err := t.notices.ForStaff(sl, entityNumber, t.key, notify.NoticeVars{At: at})
	if err != nil {
		return storage.Told{}, err
	}
	told := storage.Told{Holder: holder}
	if t.account != nil {
		ch, to := accountContact(*t.account)
		told.EntityAccount, err = t.notices.To(ch, to, t.account.Language, t.accountKey,
			notify.NoticeVars{EntityNumber: entityNumber, Username: usernameOf(sl), At: at})
		if err != nil {
			return storage.Told{}, err
		}
	}
	t.told = told
	return told, nil
}

// notice is of for the holder alone: a storage.NoticeOf.
func (t *telling) notice(sl storage.StaffLogin, entityNumber string) (*storage.OutboxMessage, error) {
	told, err := t.of(sl, entityNumber)
	return told.Holder, err
}

// wake tells the local outbox worker that what was composed is written.
func (t *telling) wake() {
	t.notices.Woke(t.told.Holder, t.told.EntityAccount)
}

// accountContact is where the entity account is told: its mobile, else its
// e-mail; to is empty when it registered neither (nobody is told).
func accountContact(a storage.EntityAccount) (ch storage.Channel, to string) {
	if a.Mobile != "" {
		return storage.ChannelSMS, a.Mobile
	}
	return storage.ChannelEmail, a.Email
}

// usernameOf is how a notice names a staff login: its username, or its
// EUID before it has one.
func usernameOf(sl storage.StaffLogin) string {
	if sl.Username != "" {
		return sl.Username
	}
	return sl.EUID
}
