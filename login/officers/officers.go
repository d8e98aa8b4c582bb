// Package officers is the use cases of the officers of 行政公職局, who act
// as the operator: admitting a named officer to an act (the idp command
// asks before every command that writes or reads personal data; the desk
// will ask at every request), creating the first and the later officers,
// listing and disabling them. The rules are the rule book's
// (storage.OfficerMay and its neighbours); the store checks them again in
// the transaction of the change, where two changes at once could race.
package officers

import (
	"context"
	"errors"
	"time"

	"github.com/entity-account/idp/storage"
)

// Store is what the use cases need of the durable store.
type Store interface {
	OfficerByLogin(ctx context.Context, login string) (storage.Officer, error)
	OfficerByID(ctx context.Context, id int64) (storage.Officer, error)
	Officers(ctx context.Context) ([]storage.Officer, error)
	// The changes take the acting officer as an actor (its id, address and
	// desk session); the store reads the officer afresh.
	CreateOfficerWithCode(ctx context.Context, by *storage.Actor, o *storage.Officer, issue *storage.OfficerCodeIssue) error
	DisableOfficerAs(ctx context.Context, by storage.Actor, login string) (storage.Officer, error)
	ResetOfficer(ctx context.Context, by storage.Actor, login string, issue *storage.OfficerCodeIssue) (storage.Officer, error)
	EnableOfficer(ctx context.Context, by storage.Actor, login string) (storage.Officer, error)
	ChangeOfficerRole(ctx context.Context, by storage.Actor, login string, to storage.OfficerRole) (storage.Officer, error)

	OfficerLiveCode(ctx context.Context, officerID int64) (storage.OfficerCode, error)
	ReserveOfficerCodeAttempt(ctx context.Context, codeID int64) (bool, error)
	ReturnOfficerCodeAttempt(ctx context.Context, codeID int64) error
	FailOfficerCodeAttempt(ctx context.Context, codeID int64) error
	StageOfficerActivation(ctx context.Context, codeID int64, ticketHash []byte, passwordHash string, totpSealed []byte) error
	OfficerStaged(ctx context.Context, ticketHash []byte) (storage.OfficerStaged, error)
	CompleteOfficerActivation(ctx context.Context, actor storage.Actor, codeID, step int64, signin storage.OfficerSignIn) (storage.Officer, error)
	OfficerSecrets(ctx context.Context, officerID int64) (storage.OfficerSecrets, error)
	UseOfficerTOTP(ctx context.Context, officerID, step int64) (bool, error)
	RecordOfficerSignIn(ctx context.Context, si *storage.OfficerSignIn) error
	OfficerSignIns(ctx context.Context, officerID int64, since time.Time, limit int) ([]storage.OfficerSignIn, error)
}

// Service is the officers' use cases over a store. Without EnableSignIn it
// admits, lists, creates (sending no code) and disables; with it, it also
// sends activation codes and signs officers in at the desk.
type Service struct {
	store Store
	auth  *auth
	// passkeys are the desk's passkeys (EnablePasskeys); nil: none.
	passkeys *deskPasskeys
	// via is where the acting officer acts (Via): its address and desk
	// session, for the audit trail.
	via storage.Actor
}

// Via is s acting where a says: the changes it makes are audited with a's
// client address and desk session (the desk's Desk.Actor).
func (s *Service) Via(a storage.Actor) *Service {
	c := *s
	c.via = a
	return &c
}

// actor is the officer by acting where s.via says.
func (s *Service) actor(by storage.Officer) storage.Actor {
	a := storage.OfficerActor(by)
	a.IP, a.DeskSession = s.via.IP, s.via.DeskSession
	return a
}

// New returns the use cases over store.
func New(store Store) *Service { return &Service{store: store} }

// Admit is the officer named login, if it may do act now: active, and its
// role allows act. Else a storage.Error (EForbidden) saying why: no
// officer named, no such officer, disabled, not a supervisor.
func (s *Service) Admit(ctx context.Context, login string, act storage.OperatorAct) (storage.Officer, error) {
	if login == "" {
		return storage.Officer{}, storage.Errorf(storage.EForbidden,
			"name the officer who acts: --officer NAME or IDP_OFFICER (idp officer list shows them)").WithKey("desk_err_officer_required")
	}
	o, err := s.find(ctx, login)
	if err != nil {
		return storage.Officer{}, err
	}
	return o, storage.OfficerMay(o, act)
}

// AdmitID is Admit for the officer with id, as a desk session names it:
// read afresh at every request, so that a disabled officer or a changed
// role counts at once.
func (s *Service) AdmitID(ctx context.Context, id int64, act storage.OperatorAct) (storage.Officer, error) {
	o, err := s.store.OfficerByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Officer{}, storage.Errorf(storage.EForbidden, "there is no officer %d", id).WithKey("desk_err_no_officer")
	}
	if err != nil {
		return storage.Officer{}, err
	}
	return o, storage.OfficerMay(o, act)
}

// find is the officer named login, or an EForbidden error saying there is
// none: an unknown name is refused like any other officer who may not act.
func (s *Service) find(ctx context.Context, login string) (storage.Officer, error) {
	norm, ok := storage.NormalizeOfficerLogin(login)
	if !ok {
		return storage.Officer{}, storage.Errorf(storage.EForbidden, "there is no officer %q", login).WithKey("desk_err_no_officer")
	}
	o, err := s.store.OfficerByLogin(ctx, norm)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Officer{}, storage.Errorf(storage.EForbidden, "there is no officer %s", norm).WithKey("desk_err_no_officer")
	}
	return o, err
}

// Create registers the officer o, created by the officer by (a
// supervisor), or, when by is nil, as the first officer, a supervisor,
// which only an empty officers table allows. With sign-in enabled, an
// officer with a mobile or an e-mail is sent its activation code there.
func (s *Service) Create(ctx context.Context, by *storage.Officer, o storage.Officer) (storage.Officer, error) {
	o.Status = storage.OfficerActive
	if err := o.Validate(); err != nil {
		return o, err
	}
	if by != nil {
		if err := storage.OfficerMay(*by, storage.ActManageOfficers); err != nil {
			return o, err
		}
	}
	var issue *storage.OfficerCodeIssue
	if s.auth != nil && (o.Mobile != "" || o.Email != "") {
		var err error
		if issue, err = s.prepareCode(o); err != nil {
			return o, err
		}
	}
	var actor *storage.Actor
	if by != nil {
		a := s.actor(*by)
		actor = &a
	}
	err := s.store.CreateOfficerWithCode(ctx, actor, &o, issue)
	if err == nil && issue != nil {
		s.auth.wake()
	}
	if errors.Is(err, storage.ErrAlreadyExists) {
		return o, storage.Errorf(storage.EConflict, "an officer named %s exists already", o.Login).WithField("login").WithKey("desk_err_officer_taken")
	}
	return o, err
}

// Disable disables the officer named login, as the supervisor by: never
// by itself, never the last active supervisor.
func (s *Service) Disable(ctx context.Context, by storage.Officer, login string) (storage.Officer, error) {
	if err := storage.OfficerMay(by, storage.ActManageOfficers); err != nil {
		return storage.Officer{}, err
	}
	norm, ok := storage.NormalizeOfficerLogin(login)
	if !ok {
		return storage.Officer{}, storage.Errorf(storage.ENotFound, "there is no officer %q", login).WithKey("desk_err_no_officer")
	}
	return s.store.DisableOfficerAs(ctx, s.actor(by), norm)
}

// List is every officer, by login name.
func (s *Service) List(ctx context.Context) ([]storage.Officer, error) { return s.store.Officers(ctx) }
