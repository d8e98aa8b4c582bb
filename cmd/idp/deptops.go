package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// The operator's mirror of the department API: the same use cases
// (manage.Departments), as 行政公職局, who may manage every e-service.
// Over both stores: claims changes are published to every node.

// groupFlags are the flags naming an e-service's group and its names.
func groupFlags(name string) (fs *flag.FlagSet, service, code, zh, pt, en *string, asJSON *bool) {
	fs = newFlags(name)
	return fs, fs.String("service", "", "e-service code"), fs.String("code", "", "group code, e.g. admin"),
		fs.String("name-zh", "", "name in Chinese"), fs.String("name-pt", "", "name in Portuguese"),
		fs.String("name-en", "", "name in English"), fs.Bool("json", false, "print JSON")
}

func groupJSON(serviceCode string, g storage.Group) map[string]any {
	return map[string]any{"service": serviceCode, "code": g.Code, "name_zh": g.NameZH, "name_pt": g.NamePT, "name_en": g.NameEN}
}

func serviceGroupAdd(args []string) error {
	fs, service, code, zh, pt, en, asJSON := groupFlags("service group add")
	if err := parseFlags(fs, args, "service", "code", "name-zh"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		g, err := u.departments.CreateGroup(ctx, u.actor, *service, manage.GroupInput{Code: *code, NameZH: *zh, NamePT: *pt, NameEN: *en})
		if err != nil {
			return commandError("service group add", err)
		}
		if *asJSON {
			return printJSON(groupJSON(*service, g))
		}
		fmt.Printf("group %s (%s) added to e-service %s\n", g.Code, g.NameZH, *service)
		return nil
	})
}

func serviceGroupRename(args []string) error {
	fs, service, code, zh, pt, en, asJSON := groupFlags("service group rename")
	if err := parseFlags(fs, args, "service", "code"); err != nil {
		return err
	}
	var names storage.GroupNames
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
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		g, err := u.departments.RenameGroup(ctx, u.actor, *service, *code, names)
		if err != nil {
			return commandError("service group rename", err)
		}
		if *asJSON {
			return printJSON(groupJSON(*service, g))
		}
		fmt.Printf("group %s of e-service %s is now %s / %s / %s\n", g.Code, *service, g.NameZH, g.NamePT, g.NameEN)
		return nil
	})
}

func serviceGroupRemove(args []string) error {
	fs, service, code, _, _, _, asJSON := groupFlags("service group remove")
	if err := parseFlags(fs, args, "service", "code"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		if err := u.departments.DeleteGroup(ctx, u.actor, *service, *code); err != nil {
			return commandError("service group remove", err)
		}
		if *asJSON {
			return printJSON(map[string]any{"service": *service, "code": *code, "removed": true})
		}
		fmt.Printf("group %s removed from e-service %s, with its memberships\n", *code, *service)
		return nil
	})
}

// serviceEnroll enrolls an entity in an e-service (opens it to the entity), as the API's
// PUT …/entities/{n}.
func serviceEnroll(args []string) error {
	fs := newFlags("service enroll")
	service, entity := fs.String("service", "", "e-service code"), fs.String("entity", "", "entity number")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "service", "entity"); err != nil {
		return err
	}
	// Read as typed, printed canonical: the same rule as the API's.
	number, err := manage.CanonicalEntityNumber(*entity)
	if err != nil {
		return commandError("service enroll", err)
	}
	*entity = number
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		changed, err := u.departments.EnrollEntity(ctx, u.actor, *service, *entity)
		if err != nil {
			return commandError("service enroll", err)
		}
		if *asJSON {
			return printJSON(map[string]any{"service": *service, "entity_number": *entity, "changed": changed})
		}
		if changed {
			fmt.Printf("e-service %s opened to entity %s\n", *service, *entity)
		} else {
			fmt.Printf("e-service %s was already open to entity %s\n", *service, *entity)
		}
		return nil
	})
}

func serviceClose(args []string) error {
	fs := newFlags("service close")
	service, entity := fs.String("service", "", "e-service code"), fs.String("entity", "", "entity number")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "service", "entity"); err != nil {
		return err
	}
	// Read as typed, printed canonical: the same rule as the API's.
	number, err := manage.CanonicalEntityNumber(*entity)
	if err != nil {
		return commandError("service close", err)
	}
	*entity = number
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		changed, err := u.departments.CloseService(ctx, u.actor, *service, *entity)
		if err != nil {
			return commandError("service close", err)
		}
		if *asJSON {
			return printJSON(map[string]any{"service": *service, "entity_number": *entity, "changed": changed})
		}
		if changed {
			fmt.Printf("e-service %s closed to entity %s; its assignments and group memberships there removed\n", *service, *entity)
		} else {
			fmt.Printf("e-service %s was not open to entity %s; nothing changed\n", *service, *entity)
		}
		return nil
	})
}

func serviceAssignments(args []string) error {
	fs := newFlags("service assignments")
	service, entity := fs.String("service", "", "e-service code"), fs.String("entity", "", "entity number")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "service", "entity"); err != nil {
		return err
	}
	// Read as typed, printed canonical: the same rule as the API's.
	number, err := manage.CanonicalEntityNumber(*entity)
	if err != nil {
		return commandError("service assignments", err)
	}
	*entity = number
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		list, err := u.departments.Assignments(ctx, u.actor, *service, *entity)
		if err != nil {
			return commandError("service assignments", err)
		}
		if *asJSON {
			out := make([]map[string]any, len(list))
			for i, a := range list {
				out[i] = map[string]any{"euid": a.EUID, "groups": a.Groups}
			}
			return printJSON(map[string]any{"service": *service, "entity_number": *entity, "assignments": out})
		}
		for _, a := range list {
			fmt.Printf("%s\t%v\n", a.EUID, a.Groups)
		}
		fmt.Printf("%d staff logins assigned to e-service %s in entity %s\n", len(list), *service, *entity)
		return nil
	})
}

func departmentChanges(args []string) error {
	fs := newFlags("department changes")
	code := fs.String("department", "", "department code")
	limit := fs.Int("limit", 50, "how many events, newest first (at most 200)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "department"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		events, err := u.departments.ChangesOf(ctx, u.actor, *code, 0, *limit)
		if err != nil {
			return commandError("department changes", err)
		}
		if *asJSON {
			out := make([]map[string]any, len(events))
			for i, e := range events {
				out[i] = map[string]any{"id": e.ID, "at": e.At, "actor": map[string]string{"kind": e.ActorKind, "id": e.ActorID},
					"action": e.Action, "target": e.Target}
			}
			return printJSON(map[string]any{"department": *code, "changes": out})
		}
		for _, e := range events {
			fmt.Printf("%s  %s %s  %s  %s\n", e.At.Format("2006-01-02 15:04:05Z07:00"), e.ActorKind, e.ActorID, e.Action, e.Target)
		}
		return nil
	})
}

// minLevelFlag reads --min-acr: an acr value of the provider, or none.
func minLevelFlag(v string) (storage.Level, error) {
	if v == "none" || v == "" {
		return storage.LevelNone, nil
	}
	l, err := manage.MinLevelOfACR(v)
	if err != nil {
		return l, fmt.Errorf("--min-acr must be %s (the password and an identity tool), %s (the password) or none, not %q",
			storage.ACRTool, storage.ACRPassword, v)
	}
	return l, nil
}

// levelWords says what a minimum assurance level demands of a sign-in.
func levelWords(l storage.Level) string {
	switch l {
	case storage.LevelTool:
		return "demands the password and an identity tool (" + storage.ACRTool + ")"
	case storage.LevelPassword:
		return "demands the password (" + storage.ACRPassword + ")"
	}
	return "has no minimum beyond the password"
}

// serviceLevel sets an e-service's minimum assurance level, as the API's
// PATCH /services/{code}.
func serviceLevel(args []string) error {
	fs := newFlags("service level")
	service := fs.String("service", "", "e-service code")
	minACR := fs.String("min-acr", "", "the assurance level a sign-in must reach: "+storage.ACRTool+
		" (the password and an identity tool), "+storage.ACRPassword+" (the password), or none")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "service", "min-acr"); err != nil {
		return err
	}
	level, err := minLevelFlag(*minACR)
	if err != nil {
		return fmt.Errorf("service level: %w", err)
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		sv, changed, err := u.departments.SetServiceMinLevel(ctx, u.actor, *service, level)
		if err != nil {
			return commandError("service level", err)
		}
		if *asJSON {
			var acr any
			if a := sv.MinLevel.ACR(); a != "" {
				acr = a
			}
			return printJSON(map[string]any{"service": sv.Code, "min_acr": acr, "changed": changed})
		}
		if changed {
			fmt.Printf("e-service %s now %s\n", sv.Code, levelWords(sv.MinLevel))
		} else {
			fmt.Printf("e-service %s already %s; nothing changed\n", sv.Code, levelWords(sv.MinLevel))
		}
		return nil
	})
}
