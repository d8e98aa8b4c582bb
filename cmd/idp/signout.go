package main

import (
	"context"
	"fmt"

	"github.com/entity-account/idp/storage"
)

// The operator's 強制登出 and 解除鎖定 of a staff login, through the use
// cases the portal's admins use (login/manage), as the operator.

func loginSignOut(args []string) error {
	return staffChange("login signout", args, func(u *useCases, ctx context.Context, id int64, euid string) (storage.StaffLogin, error) {
		return u.manage.ForceSignOut(ctx, u.actor, id, euid)
	}, "signed out (every session and token ended, its e-services told):")
}

func loginUnlock(args []string) error {
	fs := newFlags("login unlock")
	entity, euid, asJSON := staffTarget(fs)
	if err := parseFlags(fs, args, "entity", "euid"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		e, err := u.manage.Entity(ctx, u.actor, *entity)
		if err != nil {
			return commandError("login unlock", err)
		}
		sl, err := u.manage.LiftLockout(ctx, u.actor, e, *euid)
		if err != nil {
			return commandError("login unlock", err)
		}
		if *asJSON {
			return printJSON(staffJSON(e, sl))
		}
		fmt.Printf("lifted the sign-in lockout of %s of entity %s %s\n", sl.EUID, e.Number, staffSummary(sl))
		return nil
	})
}
