package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/entity-account/idp/config"
	"github.com/entity-account/idp/login"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/portal"
	"github.com/entity-account/idp/login/recovery"
	"github.com/entity-account/idp/login/recoverypages"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
)

// Account recovery: the wiring of its use cases and pages, and the
// operator's `password reset`.

// newRecovery builds the recovery use cases: sessions is the op-wrapped
// store (ending sessions tells the relying parties), whose counters hold
// the sign-in lockout a reset clears; tools, when not nil, makes a reset
// prove the login's identity tool.
func newRecovery(cfg *config.Config, pg *postgres.Store, sessions storage.ShortLived, hasher *password.Hasher, tools recovery.Tools, notices notify.Notices) (*recovery.Service, error) {
	svc, err := recovery.New(pg, sessions, sessions, hasher, recovery.Config{
		Issuer:      cfg.Issuer,
		CodeKey:     idpop.DeriveKey(cfg.MasterKey, "reset-code"),
		Notices:     notices,
		CodeTTL:     cfg.Activation.ResetCodeTTL,
		MaxAttempts: cfg.Activation.MaxAttempts,
		CodePath:    recoverypages.ResetPath,
		SignInPath:  portal.LoginPath,
	})
	if err != nil {
		return nil, err
	}
	if tools != nil {
		svc.UseTools(tools)
	}
	return svc, nil
}

// recoveryPages is the configuration of the recovery pages: the resend
// limits for requests, the activation's for failed codes.
func recoveryPages(cfg *config.Config, svc *recovery.Service, rs *rstore.Store) login.RecoveryConfig {
	return login.RecoveryConfig{
		Service: svc, Tickets: rs,
		RequestsPerFacts: cfg.Activation.ResendLimit, RequestsPerIP: cfg.Activation.ResendLimitPerIP,
		RequestWindow: cfg.Activation.ResendWindow,
		FailuresPerIP: cfg.LoginFailuresPerIP, FailuresPerEntity: 4 * cfg.LoginFailuresPerAccount,
		FailureWindow: cfg.LoginFailureWindow,
	}
}

// recovery is the recovery use cases for a command: it only sends codes,
// which wait in the outbox for a running `idp serve`.
func (u *useCases) recovery() (*recovery.Service, error) {
	if u.rs == nil {
		return nil, errors.New("password reset needs Redis")
	}
	notices, err := accountNotices(u.cfg, nil)
	if err != nil {
		return nil, err
	}
	hasher := password.NewHasher(password.Params{MemoryKiB: u.cfg.Argon2MemoryKiB, Iterations: u.cfg.Argon2Iterations,
		Threads: u.cfg.Argon2Threads}, 1, u.cfg.HashQueueWait)
	return newRecovery(u.cfg, u.pg, u.rs, hasher, nil, notices)
}

// passwordReset is `idp password reset`: a reset code to the registered
// mobile (else e-mail) of a staff login or of the entity account; the
// operator never sees it, nor any password.
func passwordReset(args []string) error {
	fs := newFlags("password reset")
	entity, euid, asJSON := staffTarget(fs)
	username := fs.String("username", "", "username of the staff login (instead of --euid)")
	entityAccount := fs.Bool("entity-account", false, "the entity account of the entity (instead of a staff login)")
	if err := parseFlags(fs, args, "entity"); err != nil {
		return err
	}
	if n := countSet(*euid != "", *username != "", *entityAccount); n != 1 {
		return errors.New("password reset: give exactly one of --euid EUID, --username U and --entity-account")
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		svc, err := u.recovery()
		if err != nil {
			return err
		}
		var sent recovery.SentTo
		target := *euid
		if *entityAccount {
			target = "the entity account"
			sent, err = svc.ResetEntityAccount(ctx, u.actor, *entity)
		} else {
			target, err = staffEUID(ctx, u.dir, *entity, *euid, *username)
			if err == nil {
				sent, err = svc.ResetStaff(ctx, u.actor, entityIDOf(ctx, u.dir, *entity), target)
			}
		}
		if err != nil {
			return commandError("password reset", err)
		}
		n, _ := storage.NormalizeEntityNumber(*entity)
		if *asJSON {
			return printJSON(map[string]string{"entity_number": n, "account": target, "channel": string(sent.Channel)})
		}
		fmt.Printf("reset code queued by %s to the registered %s of %s of entity %s; any earlier code no longer works\n",
			sent.Channel, channelWord(sent.Channel), target, n)
		return nil
	})
}

func countSet(flags ...bool) int {
	n := 0
	for _, f := range flags {
		if f {
			n++
		}
	}
	return n
}

// entityIDOf is the id of the entity numbered number, 0 when there is none
// (the use case then finds no login).
func entityIDOf(ctx context.Context, dir directory, number string) int64 {
	n, _ := storage.NormalizeEntityNumber(number)
	e, err := dir.EntityByNumber(ctx, n)
	if err != nil {
		return 0
	}
	return e.ID
}

// staffEUID is the EUID of the login --euid or --username names in the entity.
func staffEUID(ctx context.Context, dir directory, number, euid, username string) (string, error) {
	if euid != "" {
		return strings.ToUpper(strings.TrimSpace(euid)), nil
	}
	n, ok := storage.NormalizeEntityNumber(number)
	if !ok {
		return "", storage.Errorf(storage.EInvalid, "%q is not an entity number (two digits, a hyphen, six digits).", number).WithField("entity_number")
	}
	e, err := dir.EntityByNumber(ctx, n)
	if errors.Is(err, storage.ErrNotFound) {
		return "", &storage.Error{Code: storage.ENotFound, Message: "Entity " + n + " was not found.", Err: err}
	}
	if err != nil {
		return "", err
	}
	sl, err := dir.StaffLoginByUsername(ctx, e.ID, strings.TrimSpace(username))
	if errors.Is(err, storage.ErrNotFound) {
		return "", &storage.Error{Code: storage.ENotFound, Message: "Staff login " + username + " of entity " + n + " was not found.", Err: err}
	}
	return sl.EUID, err
}
