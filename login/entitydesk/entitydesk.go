// Package entitydesk is the use cases of the operator's desk for entities:
// an officer of 行政公職局 finds entities and staff logins, reads an
// entity's page, opens a staff login's record (audited, the one place the
// identity document number shows whole), and acts on the entity: grants
// admin rights on the record of a document, closes and reopens it, sends
// activation codes and reset codes, signs logins out everywhere and lifts
// their lockouts.
//
// Each use case first asks the rule book whether the officer behind the
// actor may do its act (storage.ActorMay), then runs the entity
// administration use case it rests on (login/manage, login/activation,
// login/recovery), which asks the rule book again for what it does and
// writes the change with its audit event, naming the officer, in one
// transaction. Refusals are *storage.Error with a catalogue key.
package entitydesk

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/recovery"
	"github.com/entity-account/idp/storage"
)

// Store is what the desk reads of the durable store (storage/postgres),
// and the audit of a record's opening.
type Store interface {
	SearchEntities(ctx context.Context, text string, limit int) ([]storage.Entity, error)
	SearchStaff(ctx context.Context, text string, limit int) ([]storage.StaffMatch, error)
	DeskStaff(ctx context.Context, entityID int64) ([]storage.DeskStaffRow, error)
	EntityAccount(ctx context.Context, entityID int64) (storage.EntityAccount, error)
	AuditStaffAction(ctx context.Context, actor storage.Actor, entityID int64, euid, action string, details map[string]any) (storage.StaffLogin, error)
}

// Resets sends reset codes (login/recovery).
type Resets interface {
	ResetStaff(ctx context.Context, actor storage.Actor, entityID int64, euid string) (recovery.SentTo, error)
	ResetEntityAccount(ctx context.Context, actor storage.Actor, entityNumber string) (recovery.SentTo, error)
}

// Service is the desk's use cases for entities.
type Service struct {
	store  Store
	manage *manage.Service
	codes  manage.CodeIssuer
	resets Resets
	// Now is the clock of the lockouts shown; tests may replace it.
	Now func() time.Time
}

// New returns the use cases over store and the use cases they rest on:
// admin (entity administration, over the sessions that tell e-services of
// every session end), codes (activation codes) and resets (reset codes).
// Without codes or resets (nil: a command that needs neither) SendCode or
// ResetPassword fails.
func New(store Store, admin *manage.Service, codes manage.CodeIssuer, resets Resets) *Service {
	return &Service{store: store, manage: admin, codes: codes, resets: resets, Now: time.Now}
}

// ActionRecordOpen is the audit action of an officer's opening of a staff
// login's record (its registration whole).
const ActionRecordOpen = "staff.record_open"

// keyed gives a refusal without a catalogue key the key of the desk's
// sentence for its code, so that the page says it in the officer's
// language; a fault of ours (EInternal, EUnavailable) is returned as it is.
func keyed(err error, keys map[storage.ErrorCode]string) error {
	var e *storage.Error
	if err == nil || !errors.As(err, &e) || e.Key != "" {
		return err
	}
	key, ok := keys[e.Code]
	if !ok {
		return err
	}
	c := *e
	c.Key = key
	return &c
}

// staffKeys are the desk's sentences for a refused act on a staff login.
var staffKeys = map[storage.ErrorCode]string{
	storage.ENotFound:  "desk_entities_err_staff_not_found",
	storage.EForbidden: "desk_err_supervisor_only",
	storage.EInvalid:   "desk_entities_err_invalid",
}

// entityKeys are the desk's sentences for a refused act on an entity.
var entityKeys = map[storage.ErrorCode]string{
	storage.ENotFound:  "desk_entities_err_entity_not_found",
	storage.EInvalid:   "desk_entities_err_entity_not_found",
	storage.EForbidden: "desk_err_supervisor_only",
}

// entity is the entity numbered number, for an actor the caller admitted.
func (s *Service) entity(ctx context.Context, actor storage.Actor, number string) (storage.Entity, error) {
	e, err := s.manage.Entity(ctx, actor, number)
	return e, keyed(err, entityKeys)
}

// Results is what a search found: at most storage.SearchLimit of each
// kind (Capped: there may be more; the officer narrows the search).
type Results struct {
	Text     string
	Entities []storage.Entity
	// Staff are the staff logins found, their identity document numbers
	// and mobiles masked, without e-mail or birth date.
	Staff                       []storage.StaffMatch
	EntitiesCapped, StaffCapped bool
}

// minSearch is the fewest characters a search takes.
const minSearch = 2

// Search finds entities by number (its beginning) or name (any part),
// and staff logins of every entity by EUID, username (its beginning),
// name (any part) or identity document number (its beginning), case
// aside. The results mask what they show of persons (storage.MaskDocNumber,
// storage.MaskPhone); the whole registration is on the login's record
// (StaffRecord), whose opening is audited.
func (s *Service) Search(ctx context.Context, actor storage.Actor, text string) (Results, error) {
	if err := storage.ActorMay(actor, storage.ActReadEntities); err != nil {
		return Results{}, err
	}
	text = strings.TrimSpace(text)
	r := Results{Text: text}
	if !storage.CleanText(text, 100) || len([]rune(text)) < minSearch {
		return r, storage.Errorf(storage.EInvalid, "type at least %d characters to search (at most 100)", minSearch).
			WithField("q").WithKey("desk_entities_err_search")
	}
	var err error
	if r.Entities, err = s.store.SearchEntities(ctx, text, storage.SearchLimit); err != nil {
		return r, err
	}
	if r.Staff, err = s.store.SearchStaff(ctx, text, storage.SearchLimit); err != nil {
		return r, err
	}
	for i := range r.Staff {
		maskStaff(&r.Staff[i].StaffLogin)
	}
	r.EntitiesCapped, r.StaffCapped = len(r.Entities) >= storage.SearchLimit, len(r.Staff) >= storage.SearchLimit
	return r, nil
}

// maskStaff leaves of a staff login what a list may show of the person.
func maskStaff(sl *storage.StaffLogin) {
	sl.PasswordHash = ""
	sl.IDDocNumber = storage.MaskDocNumber(sl.IDDocNumber)
	sl.Mobile = storage.MaskPhone(sl.Mobile)
	sl.Email = ""
	sl.BirthDate = time.Time{}
}

// Page is an entity's page at the desk.
type Page struct {
	Entity storage.Entity
	// Account is the entity account, without its password hash, its
	// mobile masked.
	Account storage.EntityAccount
	// Staff are its staff logins, masked as in a search, each with its
	// tools, last sign-in and lockout.
	Staff []storage.DeskStaffRow
	// Services are the e-services opened to the entity.
	Services []storage.EntityService
	// Changes are its recent audit events, newest first, and the names of
	// what they record by code.
	Changes []storage.AuditEvent
	Names   storage.AuditNames
}

// recentChanges is how many audit events an entity's page shows.
const recentChanges = 30

// Entity is the page of the entity numbered number.
func (s *Service) Entity(ctx context.Context, actor storage.Actor, number string) (Page, error) {
	if err := storage.ActorMay(actor, storage.ActReadEntities); err != nil {
		return Page{}, err
	}
	e, err := s.entity(ctx, actor, number)
	if err != nil {
		return Page{}, err
	}
	p := Page{Entity: e}
	if p.Account, err = s.store.EntityAccount(ctx, e.ID); err != nil {
		return p, err
	}
	p.Account.PasswordHash, p.Account.Mobile = "", storage.MaskPhone(p.Account.Mobile)
	if p.Staff, err = s.store.DeskStaff(ctx, e.ID); err != nil {
		return p, err
	}
	usernames := make([]string, len(p.Staff))
	for i := range p.Staff {
		maskStaff(&p.Staff[i].StaffLogin)
		usernames[i] = p.Staff[i].Username
	}
	until, err := s.manage.Lockouts(ctx, actor, e, usernames)
	if err != nil {
		return p, err
	}
	now := s.Now()
	for i := range p.Staff {
		if until[i].After(now) {
			p.Staff[i].LockedUntil = until[i]
		}
	}
	if p.Services, err = s.manage.EntityServices(ctx, actor, e.ID); err != nil {
		return p, err
	}
	p.Changes, p.Names, err = s.manage.EntityChanges(ctx, actor, e.ID, 0, recentChanges)
	return p, err
}

// Record is a staff login's record: its registration whole.
type Record struct {
	Entity storage.Entity
	Staff  storage.StaffLogin // without its password hash
}

// StaffRecord opens the record of the staff login euid of the entity
// numbered number: its registration with the identity document number
// whole. The opening is audited (staff.record_open, naming the officer)
// before anything is shown; a login of another entity is not found, and
// nothing is written.
func (s *Service) StaffRecord(ctx context.Context, actor storage.Actor, number, euid string) (Record, error) {
	if err := storage.ActorMay(actor, storage.ActReadEntities); err != nil {
		return Record{}, err
	}
	e, err := s.entity(ctx, actor, number)
	if err != nil {
		return Record{}, err
	}
	sl, err := s.store.AuditStaffAction(ctx, actor, e.ID, euid, ActionRecordOpen, nil)
	if errors.Is(err, storage.ErrNotFound) {
		return Record{}, storage.Errorf(storage.ENotFound, "staff login %s of entity %s was not found", euid, e.Number).
			WithKey("desk_entities_err_staff_not_found")
	}
	sl.PasswordHash = ""
	return Record{Entity: e, Staff: sl}, err
}
