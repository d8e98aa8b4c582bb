package recovery

import (
	"context"
	"crypto/hmac"
	"errors"
	"time"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

// Facts are what a person types to be recognised without a password: the
// entity number and the registration facts (staff login: identity
// document number and birth date; entity account: application number),
// and for a forgotten password the username too.
type Facts struct {
	Kind              storage.PrincipalKind
	EntityNumber      string
	Username          string    // 忘記密碼 only
	ApplicationNumber string    // entity account
	IDDocNumber       string    // staff login
	BirthDate         time.Time // staff login: the calendar date matters
}

// matches reports whether the registered account a is the one f describes.
func (f Facts) matches(a storage.Activatee) bool {
	if a.Account.Kind != f.Kind || !a.MayResetPassword() {
		return false
	}
	if f.Kind == storage.KindEntityAccount {
		return hmac.Equal([]byte(activation.NormalizeFact(a.ApplicationNumber)), []byte(activation.NormalizeFact(f.ApplicationNumber)))
	}
	return hmac.Equal([]byte(activation.NormalizeFact(a.IDDocNumber)), []byte(activation.NormalizeFact(f.IDDocNumber))) &&
		sameDate(a.BirthDate, f.BirthDate)
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// RequestReset is 「忘記密碼」: when f names an activated account that may
// sign in, a reset code goes to its registered mobile (else e-mail). It
// reports whether one was sent; callers must not tell the requester (the
// page answers the same either way). Throttling is the caller's, before.
func (s *Service) RequestReset(ctx context.Context, actor storage.Actor, f Facts) (bool, error) {
	entity, ok := storage.NormalizeEntityNumber(f.EntityNumber)
	if !ok || f.Username == "" {
		return false, nil
	}
	a, err := s.store.RecoveryAccount(ctx, entity, f.Username)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil || !f.matches(a) {
		return false, err
	}
	err = s.issue(ctx, actor, a, reasonForgotten, true)
	if errors.Is(err, storage.ErrNoRecipient) || errors.Is(err, storage.ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// RemindUsername is 「忘記用戶名稱」: every activated account of the
// entity that f's facts name is sent its username at its registered mobile
// (else e-mail). It reports how many were sent; callers must not tell.
func (s *Service) RemindUsername(ctx context.Context, actor storage.Actor, f Facts) (int, error) {
	entity, ok := storage.NormalizeEntityNumber(f.EntityNumber)
	if !ok {
		return 0, nil
	}
	var candidates []storage.Activatee
	switch f.Kind {
	case storage.KindEntityAccount:
		a, err := s.store.EntityAccountActivatee(ctx, entity)
		if errors.Is(err, storage.ErrNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		candidates = []storage.Activatee{a}
	case storage.KindStaff:
		doc := activation.NormalizeFact(f.IDDocNumber)
		if doc == "" {
			return 0, nil
		}
		list, err := s.store.StaffActivatees(ctx, entity, doc)
		if err != nil {
			return 0, err
		}
		candidates = list
	}
	sent := 0
	for _, a := range candidates {
		if !f.matches(a) {
			continue
		}
		ok, err := s.remind(ctx, actor, a)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// remind sends a its username, with the notice of the request to its
// other address; false when it registered no address.
func (s *Service) remind(ctx context.Context, actor storage.Actor, a storage.Activatee) (bool, error) {
	ch, ok := a.ContactChannel()
	if !ok {
		return false, nil
	}
	content := s.cfg.Notices.Texts.Recovery(a.Language, notify.UsernameMessage, ch, notify.RecoveryVars{
		EntityNumber: a.EntityNumber, Username: a.Username, URL: s.cfg.Issuer + s.cfg.SignInPath,
	})
	body, err := s.cfg.Notices.Sealer.Seal(ch, a.Recipient(ch), content)
	if err != nil {
		return false, err
	}
	m := &storage.OutboxMessage{Channel: ch, Recipient: a.Recipient(ch), Language: a.Language, Body: body}
	notice, err := s.otherChannelNotice(a, "username_requested")
	if err != nil {
		return false, err
	}
	err = s.store.RemindUsername(ctx, actor, a.Account, m, notice)
	if errors.Is(err, storage.ErrConflict) {
		return false, nil // deleted or closed meanwhile
	}
	if err != nil {
		return false, err
	}
	s.wake()
	return true, nil
}

// SentTo says where a reset code went, for the one who had it sent
// (never the address itself).
type SentTo struct {
	Channel storage.Channel
}

// ResetStaff has a reset code sent to the staff login euid of entityID
// (「重設密碼」 on the login's page, or the operator's command): the actor
// never sees it. storage.CanResetPassword decides; a login of another
// entity is not found. Errors are *storage.Error: ENotFound, EForbidden,
// EConflict (no registered mobile or e-mail).
func (s *Service) ResetStaff(ctx context.Context, actor storage.Actor, entityID int64, euid string) (SentTo, error) {
	sl, err := s.store.StaffLoginOf(ctx, entityID, euid)
	if errors.Is(err, storage.ErrNotFound) {
		return SentTo{}, &storage.Error{Code: storage.ENotFound, Message: "Staff login " + euid + " was not found.", Err: err}
	}
	if err != nil {
		return SentTo{}, err
	}
	if !storage.CanResetPassword(actor, sl) {
		return SentTo{}, &storage.Error{Code: storage.EForbidden, Key: "reset_error_forbidden", Err: storage.ErrForbidden,
			Message: "You may not reset the password of this staff login (an admin of its entity, or 行政公職局, may; it must be activated and not deleted)."}
	}
	a, err := s.store.Activatee(ctx, storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID})
	if err != nil {
		return SentTo{}, err
	}
	return s.resetBy(ctx, actor, a)
}

// ResetEntityAccount has a reset code sent to the entity account of the
// entity numbered entityNumber: the operator only
// (storage.CanResetEntityAccountPassword).
func (s *Service) ResetEntityAccount(ctx context.Context, actor storage.Actor, entityNumber string) (SentTo, error) {
	if !storage.CanResetEntityAccountPassword(actor) {
		return SentTo{}, &storage.Error{Code: storage.EForbidden, Key: "reset_error_forbidden", Err: storage.ErrForbidden,
			Message: "Only 行政公職局 may reset the password of an entity account."}
	}
	n, ok := storage.NormalizeEntityNumber(entityNumber)
	if !ok {
		return SentTo{}, storage.Errorf(storage.EInvalid, "%q is not an entity number (two digits, a hyphen, six digits).", entityNumber).WithField("entity_number")
	}
	a, err := s.store.EntityAccountActivatee(ctx, n)
	if errors.Is(err, storage.ErrNotFound) {
		return SentTo{}, &storage.Error{Code: storage.ENotFound, Message: "Entity " + n + " was not found.", Err: err}
	}
	if err != nil {
		return SentTo{}, err
	}
	return s.resetBy(ctx, actor, a)
}

// resetBy sends a's reset code on behalf of actor; the code message
// itself tells the holder that a reset was made for them.
func (s *Service) resetBy(ctx context.Context, actor storage.Actor, a storage.Activatee) (SentTo, error) {
	ch, ok := a.ContactChannel()
	if !ok {
		return SentTo{}, &storage.Error{Code: storage.EConflict, Key: "reset_error_no_contact", Err: storage.ErrNoRecipient,
			Message: "The account has no registered mobile or e-mail to send a reset code to."}
	}
	reason := "admin"
	if actor.Kind == storage.ActorOperator {
		reason = "operator"
	}
	err := s.issue(ctx, actor, a, reason, false)
	if errors.Is(err, storage.ErrConflict) {
		return SentTo{}, &storage.Error{Code: storage.EConflict, Key: "reset_error_not_active", Err: err,
			Message: "The account is not activated, or is deleted, or its entity is closed."}
	}
	return SentTo{Channel: ch}, err
}
