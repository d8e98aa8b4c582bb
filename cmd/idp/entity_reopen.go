package main

import (
	"context"
	"fmt"

	"github.com/entity-account/idp/login/entitydesk"
)

// entityReopen is `idp entity reopen`: a supervisor opens a closed entity
// again, with the reason, through the desk's use case (login/entitydesk);
// its accounts may sign in again with their passwords.
func entityReopen(args []string) error {
	fs := newFlags("entity reopen")
	entity := fs.String("entity", "", "entity number, e.g. 02-000021")
	reason := fs.String("reason", "", "why the entity is reopened (kept in the audit trail)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args, "entity", "reason"); err != nil {
		return err
	}
	return withOperatorAndSessions(fs, func(ctx context.Context, u *useCases) error {
		e, err := entitydesk.New(u.pg, u.manage, nil, nil).Reopen(ctx, u.actor, *entity, *reason)
		if err != nil {
			return commandError("entity reopen", err)
		}
		if *asJSON {
			return printJSON(map[string]any{"entity_number": e.Number, "status": e.Status})
		}
		fmt.Printf("reopened entity %s: its accounts may sign in again with their passwords (a login not yet activated needs a new code)\n", e.Number)
		return nil
	})
}
