package main

import (
	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/notify"
)

// accountNotices composes the notices that tell people of changes to their
// accounts (deleted, restored, admin rights, service admin, document),
// sealed for the outbox; wake (nil: none) makes the node's outbox worker
// send them at once. A command's notices wait for a running `idp serve`.
func accountNotices(cfg *config.Config, wake func()) (notify.Notices, error) {
	sealer, err := outboxSealer(cfg)
	if err != nil {
		return notify.Notices{}, err
	}
	texts, err := notify.LoadTexts()
	if err != nil {
		return notify.Notices{}, err
	}
	return notify.Notices{Sealer: sealer, Texts: texts, Wake: wake}, nil
}

// tellingChanges gives the entity administration use cases their notices:
// the commands that change a staff login tell its holder as the portal does.
func (u *useCases) tellingChanges() error {
	n, err := accountNotices(u.cfg, nil)
	if err != nil {
		return err
	}
	u.manage.Notices = n
	return nil
}
