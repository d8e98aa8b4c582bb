package officers

import (
	"context"
	"errors"

	"github.com/entity-account/idp/storage"
)

// target is the officer named login for a supervisor's change, or an
// ENotFound error.
func (s *Service) target(ctx context.Context, login string) (string, storage.Officer, error) {
	norm, ok := storage.NormalizeOfficerLogin(login)
	if !ok {
		return "", storage.Officer{}, storage.Errorf(storage.ENotFound, "there is no officer %q", login).WithKey("desk_err_no_officer")
	}
	o, err := s.store.OfficerByLogin(ctx, norm)
	if errors.Is(err, storage.ErrNotFound) {
		return norm, o, storage.Errorf(storage.ENotFound, "there is no officer %s", norm).WithKey("desk_err_no_officer")
	}
	return norm, o, err
}

// Reset clears the way in of the officer named login (lost phone,
// forgotten password): its password and 安全驗證碼 are removed, its desk
// sessions end, and a new activation code goes to its mobile (else
// e-mail). As the supervisor by, never on itself
// (storage.MayResetOfficer).
func (s *Service) Reset(ctx context.Context, by storage.Officer, login string) (storage.Officer, error) {
	if err := storage.OfficerMay(by, storage.ActManageOfficers); err != nil {
		return storage.Officer{}, err
	}
	if s.auth == nil {
		return storage.Officer{}, errNoSignIn
	}
	norm, o, err := s.target(ctx, login)
	if err != nil {
		return o, err
	}
	if err := storage.MayResetOfficer(by, o); err != nil {
		return o, err
	}
	issue, err := s.prepareCode(o)
	if err != nil {
		return o, err
	}
	o, err = s.store.ResetOfficer(ctx, s.actor(by), norm, issue)
	if err == nil {
		s.auth.wake()
	}
	return o, err
}

// Enable enables the disabled officer named login again, as the
// supervisor by. Its desk sessions of before stay over.
func (s *Service) Enable(ctx context.Context, by storage.Officer, login string) (storage.Officer, error) {
	if err := storage.OfficerMay(by, storage.ActManageOfficers); err != nil {
		return storage.Officer{}, err
	}
	norm, o, err := s.target(ctx, login)
	if err != nil {
		return o, err
	}
	return s.store.EnableOfficer(ctx, s.actor(by), norm)
}

// ChangeRole gives the officer named login the role to, as the supervisor
// by: never leaving no active supervisor.
func (s *Service) ChangeRole(ctx context.Context, by storage.Officer, login string, to storage.OfficerRole) (storage.Officer, error) {
	if err := storage.OfficerMay(by, storage.ActManageOfficers); err != nil {
		return storage.Officer{}, err
	}
	norm, o, err := s.target(ctx, login)
	if err != nil {
		return o, err
	}
	return s.store.ChangeOfficerRole(ctx, s.actor(by), norm, to)
}
