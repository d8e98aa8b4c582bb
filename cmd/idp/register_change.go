package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/storage"
)

// The operator's changes to the register that the desk makes too: a
// department's names, an e-service's access policy. The same use cases
// (register.RenameDepartment, register.SetServiceAccessPolicy; the desk
// sets the policy with the minimum level, register.SetServiceSettings),
// the same audit events.

// departmentRename is "idp department rename --code CODE [--name-zh] [--name-pt] [--name-en] [--json]":
// the names given are set, the others kept.
func departmentRename(args []string) error {
	fs := newFlags("department rename")
	code := fs.String("code", "", "department code")
	zh := fs.String("name-zh", "", "new name in Chinese")
	pt := fs.String("name-pt", "", "new name in Portuguese (an empty value clears it)")
	en := fs.String("name-en", "", "new name in English (an empty value clears it)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "code"); err != nil {
		return err
	}
	var names storage.DepartmentNames
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "name-zh":
			names.ZH = zh
		case "name-pt":
			names.PT = pt
		case "name-en":
			names.EN = en
		}
	})
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		d, changed, err := u.register.RenameDepartment(ctx, u.actor, *code, names)
		if errors.Is(err, register.ErrNoDepartment) {
			return fmt.Errorf("department rename: there is no department %s (idp department list shows them)", *code)
		}
		if err != nil {
			return commandError("department rename", err)
		}
		if *asJSON {
			return printJSON(map[string]any{"code": d.Code, "name_zh": d.NameZH, "name_pt": d.NamePT, "name_en": d.NameEN, "changed": changed})
		}
		if !changed {
			fmt.Printf("department %s already has these names; nothing changed\n", d.Code)
			return nil
		}
		fmt.Printf("department %s is now %s / %s / %s\n", d.Code, d.NameZH, d.NamePT, d.NameEN)
		return nil
	})
}

// servicePolicy is "idp service policy --service CODE --policy assigned|enrolled [--json]".
func servicePolicy(args []string) error {
	fs := newFlags("service policy")
	service := fs.String("service", "", "e-service code")
	policy := fs.String("policy", "", "who of an entity it is opened to may use it: assigned (the staff logins assigned to it) or enrolled (every active staff login)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "service", "policy"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		sv, changed, err := u.register.SetServiceAccessPolicy(ctx, u.actor, *service, storage.AccessPolicy(*policy))
		if errors.Is(err, register.ErrNoService) {
			return fmt.Errorf("service policy: there is no e-service %s", *service)
		}
		if err != nil {
			return commandError("service policy", err)
		}
		if *asJSON {
			return printJSON(map[string]any{"service": sv.Code, "access_policy": string(sv.AccessPolicy), "changed": changed})
		}
		if changed {
			fmt.Printf("e-service %s: access policy now %s\n", sv.Code, sv.AccessPolicy)
		} else {
			fmt.Printf("e-service %s already has access policy %s; nothing changed\n", sv.Code, sv.AccessPolicy)
		}
		return nil
	})
}
