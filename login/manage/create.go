package manage

import (
	"context"
	"errors"
	"time"

	"github.com/entity-account/idp/storage"
)

// Registrar registers a staff login with its first activation code in one
// transaction (login/activation).
type Registrar interface {
	RegisterStaff(ctx context.Context, actor storage.Actor, e storage.Entity, sl *storage.StaffLogin, ch storage.Channel) (existing string, err error)
}

// NewStaff is a registration to create in an entity.
type NewStaff struct {
	EntityNumber string
	Form         storage.StaffRegistration
	Admin        bool            // an admin staff login: only the operator creates these
	Channel      storage.Channel // how the activation code goes: sms (registered mobile) or email
}

// CreateStaff registers a staff login (工作人員登入號及關聯至實體): the form
// checked field by field (storage.StaffRegistration), a new EUID assigned,
// the login waiting for activation, and its activation code sent to its
// registered mobile or e-mail, in one transaction with the audit events. An
// entity's admin may create staff logins; admin staff logins are the
// operator's (only it grants admin rights). The same person (same identity
// document) may hold one live login per entity: a second is a conflict
// naming the first.
func (s *Service) CreateStaff(ctx context.Context, actor storage.Actor, reg Registrar, n NewStaff, now time.Time) (storage.StaffLogin, error) {
	e, err := s.Entity(ctx, actor, n.EntityNumber)
	if err != nil {
		return storage.StaffLogin{}, err
	}
	if !storage.CanManageStaff(actor, e.ID) || n.Admin && !storage.CanGrantAdmin(actor) {
		return storage.StaffLogin{}, forbidden("create this staff login")
	}
	sl, err := n.Form.Validate(now)
	if err != nil {
		return sl, err
	}
	if n.Channel != storage.ChannelSMS && n.Channel != storage.ChannelEmail {
		return sl, storage.Errorf(storage.EInvalid, "The activation code goes by sms or email.").WithField("channel").WithKey("staff_error_channel")
	}
	sl.Admin = n.Admin
	existing, err := reg.RegisterStaff(ctx, actor, e, &sl, n.Channel)
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		return sl, &storage.Error{Code: storage.EConflict, Field: "id_doc_number", Key: "reg_error_duplicate", Err: err,
			Message: "This person already has a staff login in entity " + e.Number + ": " + existing + "."}
	case errors.Is(err, storage.ErrNoRecipient):
		field := "mobile"
		if n.Channel == storage.ChannelEmail {
			field = "email"
		}
		return sl, &storage.Error{Code: storage.EInvalid, Field: field, Key: "reg_error_no_recipient", Err: err,
			Message: "The activation code cannot be sent: no registered " + field + " for the chosen channel."}
	case errors.Is(err, storage.ErrConflict):
		return sl, &storage.Error{Code: storage.EConflict, Err: err, Message: "Entity " + e.Number + " is closed."}
	}
	return sl, err
}
