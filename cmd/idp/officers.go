package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
)

// officerFlag is the flag naming the officer who acts (IDP_OFFICER by
// default), declared by every command that has an act.
const officerFlag = "officer"

// demoOfficer is the supervisor the demo seeds as (and creates in a
// database without officers): `make run` acts as it.
const demoOfficer = "demo.supervisor"

// actOf is the act of the command name, "" when it needs no officer.
func actOf(name string) storage.OperatorAct {
	for _, c := range commands {
		if c.name == name {
			return c.act
		}
	}
	return ""
}

// officerNamed is the officer the command's flags name: --officer, whose
// default is IDP_OFFICER; "" when none.
func officerNamed(fs *flag.FlagSet) string {
	if f := fs.Lookup(officerFlag); f != nil {
		return f.Value.String()
	}
	return ""
}

// admit makes the officer the flags of the command fs name the actor of u,
// if the rule book allows the command's act to that officer; otherwise the
// command is refused, before it reads or writes anything. A command
// without an act acts as nobody: the rule book refuses any write to it.
func (u *useCases) admit(ctx context.Context, fs *flag.FlagSet) error {
	act := actOf(fs.Name())
	if act == "" {
		u.actor = storage.Actor{}
		return nil
	}
	o, err := officers.New(u.pg).Admit(ctx, officerNamed(fs), act)
	if err != nil {
		return fmt.Errorf("%s: refused: %w", fs.Name(), err)
	}
	u.officer, u.actor = o, storage.OfficerActor(o)
	return nil
}

// ---- officer create / list / disable ----

func officerCreate(args []string) error {
	fs := newFlags("officer create")
	var o storage.Officer
	fs.StringVar(&o.Login, "name", "", "login name, e.g. chan.tm (lower case letters, digits, . - _)")
	fs.StringVar(&o.DisplayName, "display-name", "", "the officer's name as shown, e.g. 陳大文")
	role := fs.String("role", "", "counter or supervisor")
	fs.StringVar(&o.Mobile, "mobile", "", "Macau mobile, for the desk's activation later")
	fs.StringVar(&o.Email, "email", "", "e-mail, for the desk's activation later")
	if err := parseFlags(fs, args, "name", "display-name", "role"); err != nil {
		return err
	}
	o.Role = storage.OfficerRole(*role)
	return withPostgres(func(ctx context.Context, u *useCases) error {
		svc, err := u.officers()
		if err != nil {
			return err
		}
		var by *storage.Officer
		if named := officerNamed(fs); named != "" {
			if err := u.admit(ctx, fs); err != nil {
				return err
			}
			by = &u.officer
		}
		created, err := svc.Create(ctx, by, o)
		if err != nil {
			return fmt.Errorf("officer create: %w", err)
		}
		fmt.Printf("officer %s (%s, %s) created\n", created.Login, created.DisplayName, created.Role)
		if created.Mobile != "" || created.Email != "" {
			fmt.Println("its activation code waits in the outbox for a running idp serve to send it")
		} else {
			fmt.Println("no mobile or e-mail: no activation code was sent")
		}
		if by == nil {
			fmt.Printf("the first officer: run the other commands with --officer %s or IDP_OFFICER=%s\n", created.Login, created.Login)
		}
		return nil
	})
}

func officerList(args []string, out io.Writer) error {
	fs := newFlags("officer list")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		list, err := officers.New(u.pg).List(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "LOGIN\tNAME\tROLE\tSTATUS\tACTIVATED\tLAST SIGN-IN")
		for _, o := range list {
			last := "-"
			if o.LastSignInAt != nil {
				last = o.LastSignInAt.In(historyZone).Format("2006-01-02 15:04")
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", o.Login, o.DisplayName, o.Role, o.Status, activatedWord(o.HasTOTP), last)
		}
		return w.Flush()
	})
}

func officerDisable(args []string) error {
	fs := newFlags("officer disable")
	name := fs.String("name", "", "login name of the officer to disable")
	if err := parseFlags(fs, args, "name"); err != nil {
		return err
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		o, err := officers.New(u.pg).Disable(ctx, u.officer, *name)
		if err != nil {
			return fmt.Errorf("officer disable: %w", err)
		}
		fmt.Printf("officer %s disabled\n", o.Login)
		return nil
	})
}

func officerReset(args []string) error {
	return officerChange("officer reset", args, func(ctx context.Context, svc *officers.Service, by storage.Officer, name, _ string) (string, error) {
		o, err := svc.Reset(ctx, by, name)
		return fmt.Sprintf("officer %s reset: its desk sessions ended; a new activation code waits in the outbox", o.Login), err
	})
}

func officerEnable(args []string) error {
	return officerChange("officer enable", args, func(ctx context.Context, svc *officers.Service, by storage.Officer, name, _ string) (string, error) {
		o, err := svc.Enable(ctx, by, name)
		return fmt.Sprintf("officer %s enabled", o.Login), err
	})
}

func officerRole(args []string) error {
	return officerChange("officer role", args, func(ctx context.Context, svc *officers.Service, by storage.Officer, name, role string) (string, error) {
		o, err := svc.ChangeRole(ctx, by, name, storage.OfficerRole(role))
		return fmt.Sprintf("officer %s is now a %s officer", o.Login, o.Role), err
	})
}

// officerChange runs a supervisor's change to the officer --name (and
// --role for officer role) and prints what change says.
func officerChange(name string, args []string, change func(ctx context.Context, svc *officers.Service, by storage.Officer, login, role string) (string, error)) error {
	fs := newFlags(name)
	login := fs.String("name", "", "login name of the officer")
	required := []string{"name"}
	role := new(string)
	if name == "officer role" {
		role = fs.String("role", "", "counter or supervisor")
		required = append(required, "role")
	}
	if err := parseFlags(fs, args, required...); err != nil {
		return err
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		svc, err := u.officers()
		if err != nil {
			return err
		}
		msg, err := change(ctx, svc, u.officer, *login, *role)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Println(msg)
		return nil
	})
}

// ensureDemoOfficer is the demo supervisor, created when the database has
// no officer at all. A database with officers of its own but not this one
// is not the demo's: the demo refuses to seed it rather than let a seeding
// create a supervisor.
func ensureDemoOfficer(ctx context.Context, pg *postgres.Store) (storage.Officer, error) {
	o, err := pg.OfficerByLogin(ctx, demoOfficer)
	if errors.Is(err, storage.ErrNotFound) {
		o, err = officers.New(pg).Create(ctx, nil, storage.Officer{Login: demoOfficer, DisplayName: "Demo supervisor", Role: storage.RoleSupervisor})
		if storage.CodeOf(err) == storage.EForbidden {
			return o, fmt.Errorf("the demo seeds as officer %s, which this database, having officers of its own, lacks: "+
				"a supervisor creates it first (idp officer create --name %s --display-name … --role supervisor)", demoOfficer, demoOfficer)
		}
	}
	if err != nil {
		return o, fmt.Errorf("demo officer: %w", err)
	}
	if err := storage.OfficerMay(o, storage.ActManageOfficers); err != nil {
		return o, fmt.Errorf("demo officer: %w", err)
	}
	return o, nil
}

// demoUseCases are the use cases over pg acting as the demo supervisor:
// the demo's seeding and the tests' helpers that seed as it.
func demoUseCases(ctx context.Context, pg *postgres.Store) (*useCases, error) {
	o, err := ensureDemoOfficer(ctx, pg)
	if err != nil {
		return nil, err
	}
	u := newUseCases(nil, pg, nil)
	u.officer, u.actor = o, storage.OfficerActor(o)
	return u, nil
}

// activatedWord is "yes" or "no", as officer list says whether an officer is activated.
func activatedWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
