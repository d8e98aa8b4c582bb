// Package manage holds the use cases of entity administration: deleting and
// restoring staff logins, giving and taking admin rights, closing an
// entity. Each is one domain operation that the portal pages and the
// operator's commands call alike: it asks the rule book (storage/rules.go),
// writes the change with its audit event in one transaction, and ends what
// the change ends (sessions and tokens, activation codes), so that no caller
// can do half of it.
package manage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

// Directory is the durable side (storage/postgres).
type Directory interface {
	EntityByNumber(ctx context.Context, number string) (storage.Entity, error)
	EntityAccount(ctx context.Context, entityID int64) (storage.EntityAccount, error)
	StaffLoginOf(ctx context.Context, entityID int64, euid string) (storage.StaffLogin, error)
	StaffLogins(ctx context.Context, entityID int64) ([]storage.StaffLogin, error)
	SetStaffStatus(ctx context.Context, actor storage.Actor, entityID int64, euid string, status storage.AssociationStatus, tellOf storage.TellOf) (storage.StaffLogin, error)
	SetStaffAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid string, admin bool, tellOf storage.TellOf) (storage.StaffLogin, error)
	CloseEntityWithReason(ctx context.Context, actor storage.Actor, id int64, reason string) (storage.Entity, []string, error)
	ReopenEntity(ctx context.Context, actor storage.Actor, id int64, reason string) (storage.Entity, []string, error)
	GrantStaffAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid, document string, tellOf storage.TellOf) (storage.StaffLogin, error)
	StaffList(ctx context.Context, q storage.StaffQuery) ([]storage.StaffListRow, int, error)
	UpdateStaffRegistration(ctx context.Context, actor storage.Actor, entityID int64, euid string, reg storage.StaffLogin, documentChanged storage.NoticeOf) (storage.StaffLogin, string, bool, error)
	SetServiceAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid string, on bool, tellOf storage.TellOf) (storage.StaffLogin, error)
	EntityAuditEvents(ctx context.Context, entityID, before int64, limit int) ([]storage.AuditEvent, error)
	AuditNames(ctx context.Context, services, clients []string) (storage.AuditNames, error)
	LastCodeSent(ctx context.Context, ref storage.AccountRef) (*time.Time, storage.Channel, error)
	ActivationCodes(ctx context.Context, ref storage.AccountRef, limit int) ([]storage.ActivationCode, error)
	AuditStaffAction(ctx context.Context, actor storage.Actor, entityID int64, euid, action string, details map[string]any) (storage.StaffLogin, error)
	AssignmentDirectory // services.go
}

// Sessions is the short-lived store, decorated so that relying parties hear
// of every session end (back-channel logout): it ends an account's sessions
// and tokens, counts attempts for the limits, and holds the failed
// sign-in counters that lock logins (signout.go).
type Sessions interface {
	EndAllForSubject(ctx context.Context, subject string) error
	Reserve(ctx context.Context, key string, max int, window time.Duration) (time.Duration, error)
	PublishClaimsChanged(ctx context.Context, subjects ...string) error
	Held(ctx context.Context, key string, max int) (time.Time, error)
	HeldAll(ctx context.Context, keys []string, max int) ([]time.Time, error)
	ResetAttempts(ctx context.Context, key string) error
}

// claimsChanged tells every node that the claims of subjects changed, so
// that userinfo and introspection answer the new content at once. A failure
// only delays it to the claims cache's TTL: it is logged, not returned.
func (s *Service) claimsChanged(ctx context.Context, subjects ...string) {
	if s.sessions == nil {
		return // use cases over Postgres alone (seeding): no node to tell
	}
	if err := s.sessions.PublishClaimsChanged(context.WithoutCancel(ctx), subjects...); err != nil {
		slog.WarnContext(ctx, "publish claims changed", "subjects", subjects, "err", err)
	}
}

// ToolNotices tell the holder of a staff login that a change of its
// registration voided its identity tools (login/tools).
type ToolNotices interface {
	// ToolsVoidedNotice composes the notice for sl, of entity entityNumber,
	// as registered before the change (a storage.NoticeOf).
	ToolsVoidedNotice(sl storage.StaffLogin, entityNumber string) (*storage.OutboxMessage, error)
	// WakeOutbox makes the local outbox worker deliver what was written.
	WakeOutbox()
}

// Service runs the use cases over the stores.
type Service struct {
	dir      Directory
	sessions Sessions
	// Tools tells holders that a document change voided their identity
	// tools; without it such a change is refused (nothing is written).
	Tools ToolNotices
	// Notices tell holders (and, of admin rights, the entity account) of
	// every other change to their staff logins (notices.go); without them
	// such a change is refused (nothing is written).
	Notices notify.Notices
	// CodesPerLogin activation codes may be sent to one staff login per
	// CodeWindow from the portal (the operator's commands are not limited).
	CodesPerLogin int
	CodeWindow    time.Duration
	// SignInFailures is the sign-in's failures per account within its
	// window (IDP_LOGIN_FAILURES_PER_ACCOUNT): a counter that full locks
	// the login (signout.go). 0: the default, 5.
	SignInFailures int
}

// New returns the use cases over dir and sessions.
func New(dir Directory, sessions Sessions) *Service {
	return &Service{dir: dir, sessions: sessions, CodesPerLogin: 5, CodeWindow: time.Hour}
}

func forbidden(what string) error {
	return &storage.Error{Code: storage.EForbidden, Message: "You may not " + what + ".", Err: storage.ErrForbidden}
}

// notFound hides whether a login exists in another entity: the same answer
// as for one that does not exist at all.
func notFound(err error, what string) error {
	if errors.Is(err, storage.ErrNotFound) {
		return &storage.Error{Code: storage.ENotFound, Message: what + " was not found.", Err: err}
	}
	return err
}

// Entity returns the entity numbered number, for an actor that may see its staff.
func (s *Service) Entity(ctx context.Context, actor storage.Actor, number string) (storage.Entity, error) {
	n, err := entityNumber(number)
	if err != nil {
		return storage.Entity{}, err
	}
	e, err := s.dir.EntityByNumber(ctx, n)
	if err != nil {
		return e, notFound(err, "Entity "+n)
	}
	return e, nil
}

// AdministeredEntities is 實體列表: the entities actor administers something
// of, as the rule book decides (storage.CanViewEntity). An account belongs
// to one entity, numbered number (the caller's own, from its session), so
// the list holds that one; an account that administers nothing there is
// refused.
func (s *Service) AdministeredEntities(ctx context.Context, actor storage.Actor, number string) ([]storage.Entity, error) {
	e, err := s.Entity(ctx, actor, number)
	if err != nil {
		return nil, err
	}
	if !storage.CanViewEntity(actor, e.ID) {
		return nil, forbidden("list entity " + e.Number)
	}
	return []storage.Entity{e}, nil
}

// EntityStaff returns the entity numbered number with its entity account and
// every staff login (deleted ones included).
func (s *Service) EntityStaff(ctx context.Context, actor storage.Actor, number string) (storage.Entity, storage.EntityAccount, []storage.StaffLogin, error) {
	return s.EntityStaffFor(ctx, actor, number, storage.CanViewStaff)
}

// EntityStaffFor is EntityStaff for a purpose narrower than seeing the
// staff, whose rule of the rule book (storage.CanRemoveAdmin for the list of
// admin rights, storage.CanViewAudit for the changes, …) the actor must pass
// for the entity.
func (s *Service) EntityStaffFor(ctx context.Context, actor storage.Actor, number string, may func(storage.Actor, int64) bool) (storage.Entity, storage.EntityAccount, []storage.StaffLogin, error) {
	e, err := s.Entity(ctx, actor, number)
	if err != nil {
		return e, storage.EntityAccount{}, nil, err
	}
	if !may(actor, e.ID) {
		return storage.Entity{}, storage.EntityAccount{}, nil, forbidden("see the staff of entity " + e.Number)
	}
	acct, err := s.dir.EntityAccount(ctx, e.ID)
	if err != nil {
		return e, acct, nil, err
	}
	staff, err := s.dir.StaffLogins(ctx, e.ID)
	return e, acct, staff, err
}

// DeleteStaff sets a staff login's 關聯狀態 to 已刪除: it can no longer sign
// in anywhere, its open activation code is void (in the same transaction as
// the change and its audit event), and its sessions, refresh tokens and
// access tokens end at once, each e-service told by back-channel logout.
// Deleting a deleted login is a conflict, but its sessions are swept again,
// so a deletion whose sweep failed can be completed by repeating it. The
// holder is told (in the transaction), though the login can no longer be
// used: they should know it is gone; a repeated deletion tells nobody.
func (s *Service) DeleteStaff(ctx context.Context, actor storage.Actor, entityID int64, euid string) (storage.StaffLogin, error) {
	if !storage.CanManageStaff(actor, entityID) {
		return storage.StaffLogin{}, forbidden("delete staff logins of this entity")
	}
	told := s.tell("staff_deleted")
	sl, err := s.dir.SetStaffStatus(ctx, actor, entityID, euid, storage.StatusDeleted, told.of)
	conflict := errors.Is(err, storage.ErrConflict)
	if err != nil && !conflict {
		return sl, notFound(err, "Staff login "+euid)
	}
	told.wake()
	if err := s.sessions.EndAllForSubject(ctx, euid); err != nil {
		return sl, &storage.Error{Code: storage.CodeOf(err), Err: err,
			Message: "The staff login is deleted, but its sessions could not all be ended; repeat the deletion to finish."}
	}
	// Every node drops what it holds of the login's claims, among them what
	// a sign-in just read for its token exchange (op's claims cache).
	s.claimsChanged(ctx, euid)
	if conflict {
		return sl, &storage.Error{Code: storage.EConflict, Message: "The staff login is already deleted.", Err: err}
	}
	return sl, nil
}

// RestoreStaff sets a deleted staff login's 關聯狀態 back to 生效中 (audited).
// Nothing of its ended sessions comes back, nor its voided code. The
// holder is told.
func (s *Service) RestoreStaff(ctx context.Context, actor storage.Actor, entityID int64, euid string) (storage.StaffLogin, error) {
	if !storage.CanManageStaff(actor, entityID) {
		return storage.StaffLogin{}, forbidden("restore staff logins of this entity")
	}
	told := s.tell("staff_restored")
	sl, err := s.dir.SetStaffStatus(ctx, actor, entityID, euid, storage.StatusActive, told.of)
	if errors.Is(err, storage.ErrConflict) {
		return sl, &storage.Error{Code: storage.EConflict, Message: "The staff login is not deleted.", Err: err}
	}
	if err != nil {
		return sl, notFound(err, "Staff login "+euid)
	}
	told.wake()
	return sl, nil
}

// ErrLastAdminUnconfirmed refuses a removal of admin rights that would
// leave the entity with no active admin, asked without the confirmation
// (storage.AdminRemovalNeedsConfirmation). Nothing was removed; the page
// asks for the confirmation.
var ErrLastAdminUnconfirmed = &storage.Error{Code: storage.EConflict, Key: "admins_confirm_last",
	Message: "The entity would be left with no admin, and only 行政公職局 can grant admin rights again: confirm the removal."}

// RemoveAdmin takes admin rights away from a staff login, as RemoveAdmins
// does for one login, without the confirmation: the last admin's rights
// are refused (ErrLastAdminUnconfirmed) unless the operator removes them.
func (s *Service) RemoveAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid string) (storage.StaffLogin, error) {
	var sl storage.StaffLogin
	err := s.RemoveAdmins(ctx, actor, entityID, []string{euid}, false, func(_ string, removed storage.StaffLogin, err error) error {
		sl = removed
		return err
	})
	return sl, err
}

// RemoveAdmins takes admin rights away from the staff logins euids of
// entity, one at a time, each result (the login, or why not: not found,
// forbidden, no admin rights) handed to done; an error of done stops it
// and is returned. The entity account and the entity's admins may (an
// admin its own rights too); the removal holds from the former admin's
// next request, its session lives on. Each removal tells the former admin
// and the entity account. A removal that leaves the entity
// with no active admin must be confirmed (confirmLast): without, nothing is
// removed and the answer is ErrLastAdminUnconfirmed.
func (s *Service) RemoveAdmins(ctx context.Context, actor storage.Actor, entityID int64, euids []string, confirmLast bool,
	done func(euid string, sl storage.StaffLogin, err error) error,
) error {
	// An actor that may not remove admin rights here learns nothing of the
	// entity's admins: each login answers for itself below.
	if !confirmLast && storage.CanRemoveAdmin(actor, entityID) {
		staff, err := s.dir.StaffLogins(ctx, entityID)
		if err != nil {
			return err
		}
		if storage.AdminRemovalNeedsConfirmation(actor, staff, euids) {
			return ErrLastAdminUnconfirmed
		}
	}
	for _, euid := range euids {
		sl, err := s.removeAdmin(ctx, actor, entityID, euid)
		if err := done(euid, sl, err); err != nil {
			return err
		}
	}
	return nil
}

// removeAdmin takes admin rights away from one staff login, for RemoveAdmins.
func (s *Service) removeAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid string) (storage.StaffLogin, error) {
	target, err := s.dir.StaffLoginOf(ctx, entityID, euid)
	if err != nil {
		return target, notFound(err, "Staff login "+euid)
	}
	if !storage.CanRemoveAdmin(actor, target.EntityID) {
		return storage.StaffLogin{}, forbidden("remove admin rights in this entity")
	}
	acct, err := s.dir.EntityAccount(ctx, entityID)
	if err != nil {
		return storage.StaffLogin{}, err
	}
	told := s.tellAlsoAccount("admin_removed", "account_admin_removed", acct)
	sl, err := s.dir.SetStaffAdmin(ctx, actor, entityID, euid, false, told.of)
	if errors.Is(err, storage.ErrConflict) {
		return sl, &storage.Error{Code: storage.EConflict, Message: "The staff login has no admin rights.", Err: err}
	}
	if err != nil {
		return sl, notFound(err, "Staff login "+euid)
	}
	told.wake()
	return sl, nil
}

// GrantAdmin gives admin rights to an active staff login: the operator
// only, the one way back after a removal. The new admin and the entity
// account are told.
func (s *Service) GrantAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid string) (storage.StaffLogin, error) {
	return s.GrantAdminOn(ctx, actor, entityID, euid, "")
}

// GrantAdminOn is GrantAdmin recording in its audit event the number of
// the document the grant rests on (the entity's application or consent;
// "" for none).
func (s *Service) GrantAdminOn(ctx context.Context, actor storage.Actor, entityID int64, euid, document string) (storage.StaffLogin, error) {
	if !storage.CanGrantAdmin(actor) {
		return storage.StaffLogin{}, forbidden("grant admin rights (only 行政公職局 may)")
	}
	acct, err := s.dir.EntityAccount(ctx, entityID)
	if err != nil {
		return storage.StaffLogin{}, notFound(err, "Staff login "+euid)
	}
	told := s.tellAlsoAccount("admin_granted", "account_admin_granted", acct)
	sl, err := s.dir.GrantStaffAdmin(ctx, actor, entityID, euid, document, told.of)
	if errors.Is(err, storage.ErrConflict) {
		return sl, &storage.Error{Code: storage.EConflict, Message: "The staff login already has admin rights, or is deleted.", Err: err}
	}
	if err != nil {
		return sl, notFound(err, "Staff login "+euid)
	}
	told.wake()
	return sl, nil
}

// CloseEntity closes an entity: none of its accounts can sign in or act any
// more, every open activation code of it is void (with the change and its
// audit event in one transaction), and every session and token of its
// accounts ends at once, each e-service told by back-channel logout.
func (s *Service) CloseEntity(ctx context.Context, actor storage.Actor, number string) (storage.Entity, error) {
	return s.CloseEntityFor(ctx, actor, number, "")
}

// CloseEntityFor is CloseEntity recording reason (the officer's; "" for
// none) in its audit event.
func (s *Service) CloseEntityFor(ctx context.Context, actor storage.Actor, number, reason string) (storage.Entity, error) {
	if !storage.CanCloseEntity(actor) {
		return storage.Entity{}, forbidden("close entities (only 行政公職局 may)")
	}
	e, err := s.Entity(ctx, actor, number)
	if err != nil {
		return e, err
	}
	e, subjects, err := s.dir.CloseEntityWithReason(ctx, actor, e.ID, reason)
	if errors.Is(err, storage.ErrConflict) {
		return e, &storage.Error{Code: storage.EConflict, Key: "desk_entities_err_already_closed",
			Message: "Entity " + e.Number + " is already closed.", Err: err}
	}
	if err != nil {
		return e, err
	}
	var failed []error
	for _, sub := range subjects {
		if err := s.sessions.EndAllForSubject(ctx, sub); err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", sub, err))
		}
	}
	s.claimsChanged(ctx, subjects...)
	if len(failed) > 0 {
		err := errors.Join(failed...)
		return e, &storage.Error{Code: storage.CodeOf(err), Err: err,
			Message: fmt.Sprintf("Entity %s is closed, but the sessions of %d accounts could not be ended.", e.Number, len(failed))}
	}
	return e, nil
}

// ReopenEntity opens a closed entity again (reason, the officer's, "" for
// none, in its audit event): its accounts may sign in again with their
// passwords. What the closing ended stays ended (sessions, tokens, voided
// activation codes: a login not yet activated needs a new code). Every
// node drops what it holds of the accounts' claims. Only the operator may
// (storage.CanCloseEntity); an open entity is a conflict.
func (s *Service) ReopenEntity(ctx context.Context, actor storage.Actor, number, reason string) (storage.Entity, error) {
	if !storage.CanCloseEntity(actor) {
		return storage.Entity{}, forbidden("reopen entities (only 行政公職局 may)")
	}
	e, err := s.Entity(ctx, actor, number)
	if err != nil {
		return e, err
	}
	e, subjects, err := s.dir.ReopenEntity(ctx, actor, e.ID, reason)
	if errors.Is(err, storage.ErrConflict) {
		return e, &storage.Error{Code: storage.EConflict, Key: "desk_entities_err_not_closed",
			Message: "Entity " + e.Number + " is not closed.", Err: err}
	}
	if err != nil {
		return e, err
	}
	s.claimsChanged(ctx, subjects...)
	return e, nil
}

// entityNumber is a typed entity number in its canonical form, or the
// error every use case answers for one that cannot be.
func entityNumber(number string) (string, error) {
	n, ok := storage.NormalizeEntityNumber(number)
	if !ok {
		return "", storage.Errorf(storage.EInvalid, "%q is not an entity number (two digits, a hyphen, six digits).", number).WithField("entity_number")
	}
	return n, nil
}
