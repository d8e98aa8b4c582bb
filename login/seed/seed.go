// Package seed holds the use cases that seed a world for development and
// demonstration (idp demo): an entity opened without activation codes, and
// accounts activated with passwords the operator chose. Only the operator
// seeds: skipping the activation code is the operator's alone, so every
// use case asks storage.CanOpenEntity, and those on staff logins
// storage.CanManageStaff for their entity too. No page reaches them.
package seed

import (
	"context"

	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
)

// Directory is what seeding needs of the durable store (storage/postgres).
type Directory interface {
	CreateEntity(ctx context.Context, actor storage.Actor, e *storage.Entity, acct *storage.EntityAccount) error
	CreateStaffLogin(ctx context.Context, actor storage.Actor, sl *storage.StaffLogin) error
	ActivateEntityAccount(ctx context.Context, actor storage.Actor, id int64, username, passwordHash string) error
	ActivateStaffLogin(ctx context.Context, actor storage.Actor, id int64, username, passwordHash string) error
	UpdatePasswordHash(ctx context.Context, kind storage.PrincipalKind, id int64, old, new string) error
	StaffLogin(ctx context.Context, id int64) (storage.StaffLogin, error)
}

// Seeder runs the use cases.
type Seeder struct {
	dir    Directory
	hasher *password.Hasher
}

// New returns the seeding use cases over dir, hashing with hasher.
func New(dir Directory, hasher *password.Hasher) *Seeder { return &Seeder{dir: dir, hasher: hasher} }

func forbidden(what string) error {
	return &storage.Error{Code: storage.EForbidden, Message: "You may not " + what + ".", Err: storage.ErrForbidden}
}

// Entity opens e with its entity account acct, unactivated, and sends no
// activation code (see Activate).
func (s *Seeder) Entity(ctx context.Context, actor storage.Actor, e *storage.Entity, acct *storage.EntityAccount) error {
	if !storage.CanOpenEntity(actor) {
		return forbidden("open an entity")
	}
	return s.dir.CreateEntity(ctx, actor, e, acct)
}

// StaffLogin registers sl in its entity, unactivated, and sends no
// activation code (see Activate).
func (s *Seeder) StaffLogin(ctx context.Context, actor storage.Actor, sl *storage.StaffLogin) error {
	if !storage.CanOpenEntity(actor) || !storage.CanManageStaff(actor, sl.EntityID) {
		return forbidden("register staff logins of this entity")
	}
	return s.dir.CreateStaffLogin(ctx, actor, sl)
}

// Account is an account to activate with a known password: currently
// Username ("" if not activated yet) and PasswordHash as stored.
type Account struct {
	Kind         storage.PrincipalKind
	ID           int64
	Username     string
	PasswordHash string
}

// Activate activates acct with username and pw or, if it is activated
// already, makes pw its password (keeping its username).
func (s *Seeder) Activate(ctx context.Context, actor storage.Actor, acct Account, username, pw string) error {
	allowed := storage.CanOpenEntity(actor)
	if acct.Kind == storage.KindStaff {
		sl, err := s.dir.StaffLogin(ctx, acct.ID)
		if err != nil {
			return err
		}
		allowed = allowed && storage.CanManageStaff(actor, sl.EntityID)
	}
	if !allowed {
		return forbidden("set the password of this account")
	}
	if acct.Username != "" {
		if ok, _, err := s.hasher.Verify(ctx, acct.PasswordHash, pw); err == nil && ok {
			return nil
		}
		hash, err := s.hasher.Hash(ctx, pw)
		if err != nil {
			return err
		}
		return s.dir.UpdatePasswordHash(ctx, acct.Kind, acct.ID, acct.PasswordHash, hash)
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return err
	}
	if acct.Kind == storage.KindEntityAccount {
		return s.dir.ActivateEntityAccount(ctx, actor, acct.ID, username, hash)
	}
	return s.dir.ActivateStaffLogin(ctx, actor, acct.ID, username, hash)
}
