package manage

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/entity-account/idp/storage"
)

// StaffList is one page of an entity's staff list, for whoever may see it.
func (s *Service) StaffList(ctx context.Context, actor storage.Actor, q storage.StaffQuery) ([]storage.StaffListRow, int, error) {
	if !storage.CanViewStaff(actor, q.EntityID) {
		return nil, 0, forbidden("see the staff of this entity")
	}
	return s.dir.StaffList(ctx, q)
}

// Staff returns one staff login of the entity, for whoever may see its staff.
func (s *Service) Staff(ctx context.Context, actor storage.Actor, entityID int64, euid string) (storage.StaffLogin, error) {
	if !storage.CanViewStaff(actor, entityID) {
		return storage.StaffLogin{}, forbidden("see the staff of this entity")
	}
	sl, err := s.dir.StaffLoginOf(ctx, entityID, euid)
	sl.PasswordHash = ""
	return sl, notFound(err, "Staff login "+euid)
}

// EditStaff changes a staff login's registration (編輯 → 更改): every field
// but its username and EUID, checked as at creation. A changed mobile or
// e-mail voids its outstanding activation code (in the same transaction).
//
// A changed identity document (type or number) by anyone but the operator
// voids the login's identity tools (storage.DocumentChangeVoidsTools): in
// the transaction of the edit they are removed, pending ones included, the
// removal is audited and the holder is told (ToolNotices); then every
// session and token of the login ends, since what they proved no longer
// holds of the registration (a sign-in at the tool level rests on a tool
// that is gone). The login enrols again by the route its new document
// requires. The operator's change of a document keeps the tools, and is
// told all the same (Notices): a change of the document is told to the
// holder once, at the mobile or e-mail and in the language registered
// before it.
func (s *Service) EditStaff(ctx context.Context, actor storage.Actor, entityID int64, euid string, form storage.StaffRegistration, now time.Time) (storage.StaffLogin, error) {
	if !storage.CanManageStaff(actor, entityID) {
		return storage.StaffLogin{}, forbidden("edit staff logins of this entity")
	}
	reg, err := form.Validate(now)
	if err != nil {
		return reg, err
	}
	var told *storage.OutboxMessage
	changed := s.tell("document_changed")
	noticeOf := func(old storage.StaffLogin, entityNumber string) (*storage.OutboxMessage, error) {
		if !storage.DocumentChangeVoidsTools(actor, old, reg) {
			return changed.notice(old, entityNumber)
		}
		if s.Tools == nil {
			// Fail closed: no document change voids tools unheard.
			return nil, errors.New("manage: a document change voids identity tools, but no notices are configured")
		}
		m, err := s.Tools.ToolsVoidedNotice(old, entityNumber)
		told = m
		return m, err
	}
	sl, existing, voided, err := s.dir.UpdateStaffRegistration(ctx, actor, entityID, euid, reg, noticeOf)
	if errors.Is(err, storage.ErrAlreadyExists) {
		return sl, &storage.Error{Code: storage.EConflict, Field: "id_doc_number", Key: "reg_error_duplicate", Err: err,
			Message: "This person already has a staff login in this entity: " + existing + "."}
	}
	if err != nil {
		return sl, notFound(err, "Staff login "+euid)
	}
	s.claimsChanged(ctx, euid) // names, language, e-mail and mobile are claims
	changed.wake()
	if !voided {
		return sl, nil
	}
	if told != nil {
		s.Tools.WakeOutbox()
	}
	if err := s.sessions.EndAllForSubject(ctx, euid); err != nil {
		return sl, &storage.Error{Code: storage.CodeOf(err), Err: err,
			Message: "The registration is changed and the identity tools are void, but the login's sessions could not all be ended."}
	}
	return sl, nil
}

// SetServiceAdmin designates a staff login as service admin (on) or stops
// it being one (服務管理員列表): the entity's admins may. The holder is
// told.
func (s *Service) SetServiceAdmin(ctx context.Context, actor storage.Actor, entityID int64, euid string, on bool) (storage.StaffLogin, error) {
	target, err := s.dir.StaffLoginOf(ctx, entityID, euid)
	if err != nil {
		return target, notFound(err, "Staff login "+euid)
	}
	if !storage.CanDesignateServiceAdmin(actor, target.EntityID) {
		return storage.StaffLogin{}, forbidden("designate service admins in this entity")
	}
	told := s.tell("service_admin_removed")
	if on {
		told = s.tell("service_admin_granted")
	}
	sl, err := s.dir.SetServiceAdmin(ctx, actor, entityID, euid, on, told.of)
	if errors.Is(err, storage.ErrConflict) {
		return sl, &storage.Error{Code: storage.EConflict, Err: err, Message: "The staff login already is as asked, or is deleted."}
	}
	if err != nil {
		return sl, err
	}
	told.wake()
	return sl, nil
}

// CodeIssuer sends a new activation code to an account (login/activation).
type CodeIssuer interface {
	Issue(ctx context.Context, actor storage.Actor, ref storage.AccountRef, ch storage.Channel, reason string) (storage.CodeIssue, error)
}

// SendCode sends a staff login a new activation code (手機短訊 / 電子郵件)
// to its registered mobile or e-mail; the old code stops working. It is
// limited to CodesPerLogin per CodeWindow for each login (the operator is
// not limited), reserved before the code is made.
func (s *Service) SendCode(ctx context.Context, actor storage.Actor, issuer CodeIssuer, entityID int64, euid string, ch storage.Channel) error {
	if !storage.CanManageStaff(actor, entityID) {
		return forbidden("send activation codes in this entity")
	}
	sl, err := s.dir.StaffLoginOf(ctx, entityID, euid)
	if err != nil {
		return notFound(err, "Staff login "+euid)
	}
	if actor.Kind != storage.ActorOperator {
		wait, err := s.sessions.Reserve(ctx, "code-send:"+strconv.FormatInt(sl.ID, 10), s.CodesPerLogin, s.CodeWindow)
		if err != nil {
			return err
		}
		if wait > 0 {
			return &storage.Error{Code: storage.EConflict, Key: "staff_error_code_limit",
				Message: "Too many activation codes were sent to this login; try again in " + wait.Round(time.Minute).String() + "."}
		}
	}
	_, err = issuer.Issue(ctx, actor, storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID}, ch, "admin")
	switch {
	case errors.Is(err, storage.ErrNoRecipient):
		return &storage.Error{Code: storage.EConflict, Key: "staff_error_no_recipient", Err: err,
			Message: "The login has no registered address for this channel."}
	case errors.Is(err, storage.ErrConflict):
		return &storage.Error{Code: storage.EConflict, Key: "staff_error_no_code", Err: err,
			Message: "The login is activated or deleted: it needs no activation code."}
	}
	return err
}

// EntityAudit returns the recent changes of an entity (who, what, which
// login, when), newest first, for its admins.
func (s *Service) EntityAudit(ctx context.Context, actor storage.Actor, entityID, before int64, limit int) ([]storage.AuditEvent, error) {
	if !storage.CanViewAudit(actor, entityID) {
		return nil, forbidden("see the changes of this entity")
	}
	return s.dir.EntityAuditEvents(ctx, entityID, before, limit)
}

// EntityChanges is EntityAudit with the names of what the events record by
// code or id (e-services, their groups, the departments whose back ends
// acted), for 最近變更.
func (s *Service) EntityChanges(ctx context.Context, actor storage.Actor, entityID, before int64, limit int) ([]storage.AuditEvent, storage.AuditNames, error) {
	events, err := s.EntityAudit(ctx, actor, entityID, before, limit)
	if err != nil {
		return nil, storage.AuditNames{}, err
	}
	var services, clients []string
	seen := map[string]bool{}
	add := func(list *[]string, kind, v string) {
		if v != "" && !seen[kind+v] {
			seen[kind+v] = true
			*list = append(*list, v)
		}
	}
	for _, e := range events {
		if code, ok := e.Details["service"].(string); ok {
			add(&services, "s", code)
		} else if e.Action == "service.enroll" || e.Action == "service.unenroll" {
			add(&services, "s", e.Target) // an e-service opened before its code went into the details
		}
		if storage.ActorKind(e.ActorKind) == storage.ActorDepartment {
			add(&clients, "c", e.ActorID)
		}
	}
	names, err := s.dir.AuditNames(ctx, services, clients)
	return events, names, err
}
