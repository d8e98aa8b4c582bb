package entitydesk

import (
	"context"
	"errors"

	"github.com/entity-account/idp/storage"
)

// The acts on an entity's page. Each asks the rule book for the officer's
// act, then runs the use case of the change, with the officer's actor: the
// audit event names the officer.

// GrantAdmin gives admin rights to the staff login euid of the entity
// numbered number (a supervisor's act), recording in the audit event the
// number of the document it rests on: the entity's application, or its
// consent. The new admin and the entity account are told.
func (s *Service) GrantAdmin(ctx context.Context, actor storage.Actor, number, euid, document string) (storage.StaffLogin, error) {
	if err := storage.ActorMay(actor, storage.ActGrantAdmin); err != nil {
		return storage.StaffLogin{}, err
	}
	doc, err := storage.CheckOfficerNote(document, "document", "desk_entities_err_document")
	if err != nil {
		return storage.StaffLogin{}, err
	}
	e, err := s.entity(ctx, actor, number)
	if err != nil {
		return storage.StaffLogin{}, err
	}
	sl, err := s.manage.GrantAdminOn(ctx, actor, e.ID, euid, doc)
	return sl, keyed(err, withConflict(staffKeys, "desk_entities_err_grant_conflict"))
}

// Close closes the entity numbered number for reason (a supervisor's
// act): none of its accounts can sign in, every open activation code of it
// is void, and every session and token of its accounts ends, each
// e-service told by back-channel logout.
func (s *Service) Close(ctx context.Context, actor storage.Actor, number, reason string) (storage.Entity, error) {
	if err := storage.ActorMay(actor, storage.ActCloseEntity); err != nil {
		return storage.Entity{}, err
	}
	why, err := storage.CheckOfficerNote(reason, "reason", "desk_entities_err_reason")
	if err != nil {
		return storage.Entity{}, err
	}
	e, err := s.manage.CloseEntityFor(ctx, actor, number, why)
	return e, keyed(err, entityKeys)
}

// Reopen opens the closed entity numbered number again for reason (a
// supervisor's act): its accounts may sign in again with their passwords.
func (s *Service) Reopen(ctx context.Context, actor storage.Actor, number, reason string) (storage.Entity, error) {
	if err := storage.ActorMay(actor, storage.ActCloseEntity); err != nil {
		return storage.Entity{}, err
	}
	why, err := storage.CheckOfficerNote(reason, "reason", "desk_entities_err_reason")
	if err != nil {
		return storage.Entity{}, err
	}
	e, err := s.manage.ReopenEntity(ctx, actor, number, why)
	return e, keyed(err, entityKeys)
}

// SendCode sends a new activation code over ch to the staff login euid of
// the entity numbered number, or, when euid is "", to its entity account;
// the previous code stops working. An activated or deleted account, or one
// of a closed entity, needs none; one without an address for ch gets none.
func (s *Service) SendCode(ctx context.Context, actor storage.Actor, number, euid string, ch storage.Channel) error {
	if err := storage.ActorMay(actor, storage.ActSendCode); err != nil {
		return err
	}
	if s.codes == nil {
		return errors.New("entitydesk: send code: no activation codes configured")
	}
	if ch != storage.ChannelSMS && ch != storage.ChannelEmail {
		return storage.Errorf(storage.EInvalid, "the channel is sms or email, not %q", ch).WithField("channel").WithKey("desk_entities_err_channel")
	}
	e, err := s.entity(ctx, actor, number)
	if err != nil {
		return err
	}
	if euid != "" {
		err := s.manage.SendCode(ctx, actor, s.codes, e.ID, euid, ch)
		return keyed(err, staffKeys)
	}
	acct, err := s.store.EntityAccount(ctx, e.ID)
	if err != nil {
		return err
	}
	_, err = s.codes.Issue(ctx, actor, storage.AccountRef{Kind: storage.KindEntityAccount, ID: acct.ID}, ch, "operator")
	switch {
	case errors.Is(err, storage.ErrNoRecipient):
		return &storage.Error{Code: storage.EConflict, Key: "staff_error_no_recipient", Err: err,
			Message: "The entity account has no registered address for this channel."}
	case errors.Is(err, storage.ErrConflict):
		return &storage.Error{Code: storage.EConflict, Key: "desk_entities_err_no_code", Err: err,
			Message: "The entity account is activated, or its entity is closed: it needs no activation code."}
	}
	return err
}

// ResetPassword has a reset code sent to the registered mobile (else
// e-mail) of the staff login euid of the entity numbered number, or, when
// euid is "", of its entity account: the holder sets the new password with
// it. The officer never sees a code or a password.
func (s *Service) ResetPassword(ctx context.Context, actor storage.Actor, number, euid string) (storage.Channel, error) {
	if err := storage.ActorMay(actor, storage.ActResetPassword); err != nil {
		return "", err
	}
	if s.resets == nil {
		return "", errors.New("entitydesk: reset password: no recovery configured")
	}
	e, err := s.entity(ctx, actor, number)
	if err != nil {
		return "", err
	}
	if euid == "" {
		sent, err := s.resets.ResetEntityAccount(ctx, actor, e.Number)
		return sent.Channel, keyed(err, entityKeys)
	}
	sent, err := s.resets.ResetStaff(ctx, actor, e.ID, euid)
	return sent.Channel, keyed(err, staffKeys)
}

// SignOut ends every session and token of the staff login euid of the
// entity numbered number (強制登出), each e-service told.
func (s *Service) SignOut(ctx context.Context, actor storage.Actor, number, euid string) (storage.StaffLogin, error) {
	if err := storage.ActorMay(actor, storage.ActSignOutLogin); err != nil {
		return storage.StaffLogin{}, err
	}
	e, err := s.entity(ctx, actor, number)
	if err != nil {
		return storage.StaffLogin{}, err
	}
	sl, err := s.manage.ForceSignOut(ctx, actor, e.ID, euid)
	return sl, keyed(err, staffKeys)
}

// Unlock lifts the lockout that too many failed sign-ins put on the staff
// login euid of the entity numbered number (解除鎖定).
func (s *Service) Unlock(ctx context.Context, actor storage.Actor, number, euid string) (storage.StaffLogin, error) {
	if err := storage.ActorMay(actor, storage.ActUnlockLogin); err != nil {
		return storage.StaffLogin{}, err
	}
	e, err := s.entity(ctx, actor, number)
	if err != nil {
		return storage.StaffLogin{}, err
	}
	sl, err := s.manage.LiftLockout(ctx, actor, e, euid)
	return sl, keyed(err, staffKeys)
}

// withConflict is keys with the sentence for a conflict added.
func withConflict(keys map[storage.ErrorCode]string, conflict string) map[storage.ErrorCode]string {
	m := make(map[storage.ErrorCode]string, len(keys)+1)
	for k, v := range keys {
		m[k] = v
	}
	m[storage.EConflict] = conflict
	return m
}
