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

	"github.com/entity-account/idp/storage"
)

// Store is what the use cases need of the durable store.
type Store interface {
	OfficerByLogin(ctx context.Context, login string) (storage.Officer, error)
	OfficerByID(ctx context.Context, id int64) (storage.Officer, error)
	Officers(ctx context.Context) ([]storage.Officer, error)
	CreateOfficer(ctx context.Context, by *storage.Officer, o *storage.Officer) error
	DisableOfficer(ctx context.Context, by storage.Officer, login string) (storage.Officer, error)
}

// Service is the officers' use cases over a store.
type Service struct{ store Store }

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
// which only an empty officers table allows.
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
	err := s.store.CreateOfficer(ctx, by, &o)
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
	return s.store.DisableOfficer(ctx, by, norm)
}

// List is every officer, by login name.
func (s *Service) List(ctx context.Context) ([]storage.Officer, error) { return s.store.Officers(ctx) }
