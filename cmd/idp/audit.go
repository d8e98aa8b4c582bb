package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/entity-account/idp/login/auditlog"
	"github.com/entity-account/idp/storage"
)

// auditCommand is `idp audit`: the operator searches the audit trail (who
// did what, for which entity, from where) and reads it as lines, JSON or
// CSV. It writes nothing.
func auditCommand(args []string, out io.Writer) error {
	fs := newFlags("audit")
	entity := fs.String("entity", "", "only this entity's events: its number, e.g. 02-000021")
	actor := fs.String("actor", "", "only this actor's: an officer's login, an EUID, a department's client id or the entity account's subject")
	target := fs.String("target", "", "only events on this target, exactly (an EUID, an entity number, a client id…)")
	action := fs.String("action", "", `only this action (e.g. staff.delete), or every action a prefix ending in "." begins (e.g. staff.)`)
	from := fs.String("from", "", "first day, YYYY-MM-DD (Macau time; default 29 days before --to: 30 days)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (default today); at most 366 days with --from")
	limit := fs.Int("limit", 100, fmt.Sprintf("how many events, newest first, without --csv (at most %d)", storage.MaxAuditPage))
	asCSV := fs.Bool("csv", false, "write CSV: every matching event, formula cells escaped")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("audit: unexpected %q", fs.Arg(0))
	}
	start, end, err := auditRange(*from, *to, time.Now())
	if err != nil {
		return err
	}
	if *limit < 1 || *limit > storage.MaxAuditPage {
		return fmt.Errorf("audit: --limit is 1 to %d", storage.MaxAuditPage)
	}
	q := storage.AuditQuery{ActorID: *actor, Target: *target, Action: *action, From: start, To: end, Limit: *limit}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		if *entity != "" {
			number, ok := storage.NormalizeEntityNumber(*entity)
			if !ok {
				return fmt.Errorf("audit: --entity %q is no entity number", *entity)
			}
			e, err := u.dir.EntityByNumber(ctx, number)
			if err != nil {
				return commandError("audit", err)
			}
			q.EntityID = e.ID
		}
		if *asCSV {
			_, err := auditlog.Export(ctx, u.dir, q, nil, out, historyZone)
			return commandError("audit", err)
		}
		events, err := u.dir.SearchAuditEvents(ctx, q)
		if err != nil {
			return commandError("audit", err)
		}
		if *asJSON {
			return writeJSONTo(out, auditJSON(events))
		}
		for _, e := range events {
			fmt.Fprintf(out, "%s\t%s %s\t%s\t%s\t%s\t%s\t%s\n", e.At.In(historyZone).Format(time.DateTime), e.ActorKind, e.ActorID,
				orDash(e.EntityNumber), e.Action, orDash(kitPrintable(e.Target)), orDash(e.IP), kitPrintable(auditlog.Details(e.Details)))
		}
		fmt.Fprintf(out, "%d audit events, newest first, %s to %s (Macau time)\n", len(events),
			start.Format(time.DateOnly), end.AddDate(0, 0, -1).Format(time.DateOnly))
		return nil
	})
}

// auditRange is the days from and to (Macau time, both included) as the
// half-open range of instants a search takes: by default the last 30 days
// up to today; at most 366 days.
func auditRange(from, to string, now time.Time) (start, end time.Time, err error) {
	y, m, d := now.In(historyZone).Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, historyZone)
	if to != "" {
		if last, err = time.ParseInLocation(time.DateOnly, to, historyZone); err != nil {
			return start, end, fmt.Errorf("audit: --to %q is no date: write it as YYYY-MM-DD", to)
		}
	}
	start = last.AddDate(0, 0, -29)
	if from != "" {
		if start, err = time.ParseInLocation(time.DateOnly, from, historyZone); err != nil {
			return start, end, fmt.Errorf("audit: --from %q is no date: write it as YYYY-MM-DD", from)
		}
	}
	end = last.AddDate(0, 0, 1)
	switch days := int(end.Sub(start).Hours() / 24); {
	case days < 1:
		return start, end, fmt.Errorf("audit: --from %s is after --to %s", start.Format(time.DateOnly), last.Format(time.DateOnly))
	case days > 366:
		return start, end, fmt.Errorf("audit: from %s to %s is %d days: search at most 366 days at a time",
			start.Format(time.DateOnly), last.Format(time.DateOnly), days)
	}
	return start, end, nil
}

// auditEventJSON is one event as --json prints it.
type auditEventJSON struct {
	ID           int64          `json:"id"`
	At           string         `json:"at"`
	ActorKind    string         `json:"actor_kind"`
	ActorID      string         `json:"actor_id"`
	EntityNumber string         `json:"entity_number,omitempty"`
	Action       string         `json:"action"`
	Target       string         `json:"target"`
	IP           string         `json:"ip"`
	Details      map[string]any `json:"details"`
}

func auditJSON(events []storage.AuditEvent) []auditEventJSON {
	list := make([]auditEventJSON, len(events))
	for i, e := range events {
		list[i] = auditEventJSON{ID: e.ID, At: e.At.In(historyZone).Format(time.RFC3339), ActorKind: e.ActorKind, ActorID: e.ActorID,
			EntityNumber: e.EntityNumber, Action: e.Action, Target: e.Target, IP: e.IP, Details: e.Details}
	}
	return list
}
