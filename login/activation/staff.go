package activation

import (
	"context"
	"fmt"

	"github.com/entity-account/idp/storage"
)

// RegisterStaff registers the staff login sl of entity e and sends it its
// first activation code over ch, all in one transaction with the audit
// events. The login must have an address for ch (storage.ErrNoRecipient
// otherwise, before anything is written). When the same person already
// holds a live login in the entity, nothing is written and the error is
// storage.ErrAlreadyExists, with that login's EUID in existing.
func (s *Service) RegisterStaff(ctx context.Context, actor storage.Actor, e storage.Entity, sl *storage.StaffLogin, ch storage.Channel) (existing string, err error) {
	sl.EntityID = e.ID
	issue, err := s.prepare(storage.Activatee{
		Account: storage.AccountRef{Kind: storage.KindStaff}, Subject: "new staff login of " + e.Number,
		EntityNumber: e.Number, Mobile: sl.Mobile, Email: sl.Email, Language: sl.Language,
	}, ch, "create")
	if err != nil {
		return "", err
	}
	existing, err = s.store.CreateStaffWithCode(ctx, actor, sl, issue)
	if err != nil {
		return existing, fmt.Errorf("activation: register staff login: %w", err)
	}
	s.wake()
	return "", nil
}
