package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
)

// The operator's commands on a registered client: rotate its secret with a
// grace period, disable it, enable it again. They publish the change to
// every node (Redis), so no node keeps an old secret or a disabled client
// in its cache.

type rotatedOutput struct {
	ClientID            string `json:"client_id"`
	ClientSecret        string `json:"client_secret"`
	PreviousSecretUntil string `json:"previous_secret_valid_until"`
}

// clientRotateSecret is "idp client rotate-secret --client ID [--grace 24h] [--json]".
func clientRotateSecret(args []string) error {
	fs := newFlags("client rotate-secret")
	id := fs.String("client", "", "the client whose secret is rotated")
	grace := fs.Duration("grace", storage.DefaultSecretGrace,
		"how long the old secret keeps working, for the department to deploy the new one (0: it stops at once; at most 720h)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "client"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		r, err := u.keeper().RotateSecret(ctx, u.actor, *id, *grace)
		if err != nil {
			return clientCommandError("client rotate-secret", *id, err)
		}
		out := rotatedOutput{ClientID: r.ClientID, ClientSecret: r.Secret, PreviousSecretUntil: r.PreviousUntil.Format(time.RFC3339)}
		if *asJSON {
			return printJSON(out)
		}
		fmt.Printf("client_id:     %s\n", out.ClientID)
		fmt.Printf("client_secret: %s   (shown once; only its hash is stored)\n", out.ClientSecret)
		if *grace == 0 {
			fmt.Println("the old secret no longer works")
		} else {
			fmt.Printf("the old secret works until %s: deploy the new one before then\n", out.PreviousSecretUntil)
		}
		return nil
	})
}

// clientDisable is "idp client disable --client ID".
func clientDisable(args []string) error { return setClientDisabled("client disable", args, true) }

// clientEnable is "idp client enable --client ID".
func clientEnable(args []string) error { return setClientDisabled("client enable", args, false) }

func setClientDisabled(name string, args []string, disabled bool) error {
	fs := newFlags(name)
	id := fs.String("client", "", "the client")
	if err := parseFlags(fs, args, "client"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		if err := u.keeper().SetDisabled(ctx, u.actor, *id, disabled); err != nil {
			return clientCommandError(name, *id, err)
		}
		state := "enabled"
		if disabled {
			state = "disabled: it can no longer sign anyone in or get tokens, and its tokens stopped working"
		}
		fmt.Printf("client %s %s\n", *id, state)
		return nil
	})
}

// keeper is the client keeper over the command's stores; it publishes to
// every node when the command has Redis.
func (u *useCases) keeper() *register.ClientKeeper {
	if u.rs == nil {
		return register.NewClientKeeper(u.pg, nil)
	}
	return register.NewClientKeeper(u.pg, u.rs)
}

func clientCommandError(cmd, id string, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%s: there is no client %s (idp client list shows them)", cmd, id)
	}
	return commandError(cmd, err)
}
