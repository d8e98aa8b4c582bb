package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/entity-account/idp/login/history"
	"github.com/entity-account/idp/storage"
)

// The sign-in history (登入記錄) of a node: the recorder the sign-in
// hands its attempts to, its background writer, and the retention job.

// historyQueue is how many attempts wait for the writer at most; beyond,
// they are dropped and counted. At 500 a batch, 20 batches: far more than
// a node signs in between two writes, unless the database is stuck.
const historyQueue = 10_000

// startHistory runs the history's writer and the retention job until the
// returned stop is called; stop stores what is still queued (after the
// HTTP server has finished its requests) and waits for both.
func (a *app) startHistory(ctx context.Context) (stop func()) {
	writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	jobCtx, stopJob := context.WithCancel(ctx)
	job := &history.Retention{
		Store: a.pg, HistoryDays: a.cfg.SignInHistoryDays, DeletedDays: a.cfg.DeletedRetentionDays,
		Every: 24 * time.Hour, Jitter: 2 * time.Hour, Batch: 5000,
	}
	var wg sync.WaitGroup
	wg.Go(func() { a.history.Run(writerCtx) })
	wg.Go(func() { job.Run(jobCtx) })
	return func() {
		stopJob()
		stopWriter()
		wg.Wait()
	}
}

// historyCommand is `idp history`: an entity's sign-in history (or one
// login's in it), as lines or as CSV, for the operator, who may read any
// entity's (storage.CanViewEntitySignIns).
func historyCommand(args []string, out io.Writer) error {
	fs := newFlags("history")
	entity := fs.String("entity", "", "entity number, e.g. 02-000021")
	euid := fs.String("euid", "", "only this login's (an EUID, or the entity account's subject)")
	outcome := fs.String("outcome", "", "only this outcome: "+outcomeNames())
	from := fs.String("from", "", "first day, YYYY-MM-DD (Macau time; default 90 days before --to)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (default today); at most a year after --from")
	asCSV := fs.Bool("csv", false, "write CSV (every matching event, formula cells escaped)")
	limit := fs.Int("limit", 50, "how many events, newest first, without --csv (at most 500)")
	if err := parseFlags(fs, args, "entity"); err != nil {
		return err
	}
	q := url.Values{"login": {*euid}, "outcome": {*outcome}, "from": {*from}, "to": {*to}}
	f, err := history.ParseFilter(q, historyZone)
	if err != nil {
		return commandError("history", err)
	}
	return withOperator(fs, func(ctx context.Context, u *useCases) error {
		number, ok := storage.NormalizeEntityNumber(*entity)
		if !ok {
			return fmt.Errorf("history: --entity %q is no entity number", *entity)
		}
		e, err := u.dir.EntityByNumber(ctx, number)
		if err != nil {
			return commandError("history", err)
		}
		view := history.NewService(u.pg)
		if *asCSV {
			_, err := view.ExportEntity(ctx, u.actor, e.ID, f, historyZone, out)
			return commandError("history", err)
		}
		f.Limit = *limit
		events, err := view.Entity(ctx, u.actor, e.ID, f)
		if err != nil {
			return commandError("history", err)
		}
		for _, ev := range events {
			fmt.Fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.At.In(historyZone).Format(time.DateTime), orDash(ev.Subject),
				orDash(ev.Username), ev.Outcome, ev.Method, orDash(ev.Address), orDash(ev.ClientID), kitPrintable(ev.UserAgent))
		}
		fmt.Fprintf(out, "%d sign-in events of entity %s, newest first\n", len(events), e.Number)
		return nil
	})
}

// historyZone is the time zone the history is shown in (UTC+8, no summer time).
var historyZone = time.FixedZone("UTC+8", 8*3600)

func outcomeNames() string {
	names := make([]string, len(storage.SignInOutcomes))
	for i, o := range storage.SignInOutcomes {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}

// kitPrintable is s without tabs and line breaks, for one line of output.
func kitPrintable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
