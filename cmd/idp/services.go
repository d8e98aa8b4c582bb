package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
)

// The operator's service access commands: assign a staff
// login to an e-service opened to its entity, or to one of its groups, and
// take it off again. They run the use cases of the portal's 服務列表
// (manage.AssignService, manage.UnassignService) for the login's own
// entity: an active login only, an e-service opened to that entity, a group
// of that e-service; each change audited.

// assignmentFlags are the flags of service assign and unassign.
func assignmentFlags(name string) (fs *flag.FlagSet, service, euid, group *string, asJSON *bool) {
	fs = newFlags(name)
	return fs, fs.String("service", "", "e-service code"),
		fs.String("euid", "", "EUID of the staff login"),
		fs.String("group", "", "group code (optional)"),
		fs.Bool("json", false, "print JSON")
}

// assignmentJSON is what the commands print with --json.
type assignmentJSON struct {
	EUID         string `json:"euid"`
	EntityNumber string `json:"entity_number"`
	Service      string `json:"service"`
	Group        string `json:"group,omitempty"`
	Assigned     bool   `json:"assigned"` // the login is now assigned (to the group, if one is named)
	Changed      bool   `json:"changed"`  // false: it already was as asked
}

func serviceAssign(args []string) error   { return serviceAssignment("service assign", args, true) }
func serviceUnassign(args []string) error { return serviceAssignment("service unassign", args, false) }

func serviceAssignment(name string, args []string, on bool) error {
	fs, code, euid, group, asJSON := assignmentFlags(name)
	if err := parseFlags(fs, args, "service", "euid"); err != nil {
		return err
	}
	// Both stores: the change is published to every node's claims cache.
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		sl, err := u.dir.StaffLoginByEUID(ctx, *euid)
		if err != nil {
			return commandError(name, notFoundAs(err, "Staff login "+*euid+" was not found."))
		}
		e, err := u.dir.Entity(ctx, sl.EntityID)
		if err != nil {
			return commandError(name, err)
		}
		var changed bool
		if on {
			changed, err = u.manage.AssignService(ctx, u.actor, sl.EntityID, sl.EUID, *code, *group)
		} else {
			changed, err = u.manage.UnassignService(ctx, u.actor, sl.EntityID, sl.EUID, *code, *group)
		}
		if err != nil {
			return commandError(name, err)
		}
		if *asJSON {
			return printJSON(assignmentJSON{EUID: sl.EUID, EntityNumber: e.Number, Service: *code, Group: *group, Assigned: on, Changed: changed})
		}
		fmt.Println(assignmentSentence(sl.EUID, e.Number, *code, *group, on, changed))
		return nil
	})
}

// assignmentSentence says what an assignment command did.
func assignmentSentence(euid, entity, service, group string, on, changed bool) string {
	what := "e-service " + service
	if group != "" {
		what += ", group " + group
	}
	switch {
	case on && changed:
		return fmt.Sprintf("staff login %s of entity %s assigned to %s", euid, entity, what)
	case on:
		return fmt.Sprintf("staff login %s of entity %s was already assigned to %s", euid, entity, what)
	case changed && group == "":
		return fmt.Sprintf("staff login %s of entity %s taken off %s and its groups there", euid, entity, what)
	case changed:
		return fmt.Sprintf("staff login %s of entity %s taken out of %s", euid, entity, what)
	}
	return fmt.Sprintf("staff login %s of entity %s was not assigned to %s; nothing changed", euid, entity, what)
}

// notFoundAs gives a store's not found the sentence msg.
func notFoundAs(err error, msg string) error {
	if storage.CodeOf(err) == storage.ENotFound {
		return &storage.Error{Code: storage.ENotFound, Message: msg, Err: err}
	}
	return err
}

// assignToService assigns a staff login to an e-service and, when groupCode
// is not "", to that group, as the demo supervisor, through the same use case
// (the demo's seeding and the tests use it).
func assignToService(ctx context.Context, pg *postgres.Store, loginID, serviceID int64, groupCode string) error {
	u, err := demoUseCases(ctx, pg) // over Postgres alone: assigning ends no session
	if err != nil {
		return err
	}
	sl, err := u.dir.StaffLogin(ctx, loginID)
	if err != nil {
		return err
	}
	sv, err := u.dir.Service(ctx, serviceID)
	if err != nil {
		return err
	}
	_, err = u.manage.AssignService(ctx, u.actor, sl.EntityID, sl.EUID, sv.Code, groupCode)
	return err
}
