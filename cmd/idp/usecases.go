package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/login/seed"
	"github.com/entity-account/idp/login/tools"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
)

// The operator's commands act through use cases only: every write asks the
// rule book, as the operator, and is audited in its transaction. They are
// built here, once per command, over the stores the command opened.

// directory is what the commands read of the durable store. It has no
// write method: writing is the use cases' job.
type directory interface {
	Departments(ctx context.Context) ([]storage.Department, error)
	Clients(ctx context.Context) ([]storage.Client, error)
	Client(ctx context.Context, id string) (storage.Client, error)
	ClientForOperator(ctx context.Context, id string) (storage.Client, error)
	Entity(ctx context.Context, id int64) (storage.Entity, error)
	EntityByNumber(ctx context.Context, number string) (storage.Entity, error)
	EntityAccount(ctx context.Context, entityID int64) (storage.EntityAccount, error)
	StaffLogin(ctx context.Context, id int64) (storage.StaffLogin, error)
	StaffLoginByEUID(ctx context.Context, euid string) (storage.StaffLogin, error)
	StaffLoginByUsername(ctx context.Context, entityID int64, username string) (storage.StaffLogin, error)
	Service(ctx context.Context, id int64) (storage.Service, error)
	ServiceByCode(ctx context.Context, code string) (storage.Service, error)
	ServiceAccess(ctx context.Context, loginID, serviceID int64) (storage.ServiceAccess, error)
	LogoutDeliveries(ctx context.Context, clientID string, limit int) ([]storage.OutboxMessage, error)
	SearchAuditEvents(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEvent, error)
}

// useCases are what a command gets: the officer who acts (and its actor),
// what it may read, and the use cases it calls.
type useCases struct {
	actor   storage.Actor
	officer storage.Officer
	cfg     *config.Config
	dir     directory

	register    *register.Register  // departments, e-services, clients
	departments *manage.Departments // e-services' groups, enrolment, levels (as the department API)
	manage      *manage.Service     // entity administration (as the portal)

	// pg and rs build the use cases that need configuration (activation,
	// tools, keys); rs is nil for a command over Postgres alone.
	pg *postgres.Store
	rs *rstore.Store
}

// newUseCases builds the use cases, acting as nobody until admit names the
// officer, over pg and, when rs is not nil, Redis:
// then session ends tell the relying parties (back-channel logout tokens,
// delivered by the nodes' outbox workers) and claims and e-service changes
// are published to every node.
func newUseCases(cfg *config.Config, pg *postgres.Store, rs *rstore.Store) *useCases {
	u := &useCases{cfg: cfg, dir: pg, register: register.New(pg, nil), pg: pg, rs: rs}
	if rs == nil {
		u.departments = manage.NewDepartments(pg, nil)
		u.manage = manage.New(pg, nil)
		return u
	}
	u.departments = manage.NewDepartments(pg, rs)
	u.register = register.New(pg, rs)
	u.manage = manage.New(pg, idpop.NotifyLogouts(rs, idpop.LogoutNotice{Parties: rs, Queue: pg}))
	u.manage.SignInFailures = cfg.LoginFailuresPerAccount
	return u
}

// activation is the activation-code use cases (entity create, code resend,
// staff create); the codes wait in the outbox for a running `idp serve`.
func (u *useCases) activation() (*activation.Service, error) {
	svc, _, err := newActivation(u.cfg, u.pg)
	return svc, err
}

// officers is the officers' use cases, sending activation codes (which
// wait in the outbox for a running idp serve) but signing nobody in.
func (u *useCases) officers() (*officers.Service, error) {
	return newOfficers(u.cfg, u.pg, nil, nil, nil)
}

// tools is the identity-tool use cases; the notices they write wait for a
// running `idp serve` to send them. It needs Redis.
func (u *useCases) tools() (*tools.Service, error) {
	if u.rs == nil {
		return nil, fmt.Errorf("identity tools need Redis")
	}
	return newTools(u.cfg, u.pg, u.rs, nil)
}

// seeder is the demo's seeding use cases, hashing with hasher.
func (u *useCases) seeder(hasher *password.Hasher) *seed.Seeder { return seed.New(u.pg, hasher) }

// signingKeys is the provider's signing keys (keys rotate).
func (u *useCases) signingKeys(ctx context.Context) (*idpop.Keys, error) {
	return idpop.NewKeys(ctx, u.pg, u.cfg.MasterKey, u.cfg.SigningAlgorithm, time.Minute)
}

// withOperator loads the configuration, opens (and migrates) Postgres,
// admits the officer the command's flags fs name (admit) and runs fn with
// the use cases over Postgres, as that officer.
func withOperator(fs *flag.FlagSet, fn func(ctx context.Context, u *useCases) error) error {
	return withPostgres(func(ctx context.Context, u *useCases) error {
		if err := u.admit(ctx, fs); err != nil {
			return err
		}
		return fn(ctx, u)
	})
}

// withPostgres is withOperator before any officer is admitted (officer
// create admits its own).
func withPostgres(fn func(ctx context.Context, u *useCases) error) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx := context.Background()
	pg, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("IDP_DATABASE_URL: %w", err)
	}
	defer pg.Close()
	if err := postgres.Migrate(ctx, pg.Pool()); err != nil {
		return fmt.Errorf("migrate database: %w", err)
	}
	return fn(ctx, newUseCases(cfg, pg, nil))
}

// withOperatorAndSessions is withOperator over both stores: for the use
// cases that end sessions or publish changes to every node.
func withOperatorAndSessions(fs *flag.FlagSet, fn func(ctx context.Context, u *useCases) error) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx := context.Background()
	pg, rs, rdb, err := openStores(ctx, cfg)
	if err != nil {
		return err
	}
	defer pg.Close()
	defer rdb.Close()
	u := newUseCases(cfg, pg, rs)
	if err := u.admit(ctx, fs); err != nil {
		return err
	}
	return fn(ctx, u)
}
