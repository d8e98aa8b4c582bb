// Package auditlog is the audit trail as it leaves the provider: its CSV
// export, the one the desk's 審計記錄 offers and `idp audit --csv` writes.
package auditlog

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"time"

	"github.com/entity-account/idp/login/history"
	"github.com/entity-account/idp/storage"
)

// Searcher finds audit events (storage/postgres SearchAuditEvents).
type Searcher interface {
	SearchAuditEvents(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEvent, error)
}

// Header are the columns of an exported audit trail.
var Header = []string{"time", "actor_kind", "actor_id", "entity_number", "action", "target", "ip", "details"}

// ExportMax is the most events one export holds: the search's date range
// bounds it already; this bounds the work of one export too.
const ExportMax = 100_000

// Export writes every event q matches to out as CSV with a header, page
// after page up to ExportMax, times in zone, every cell escaped as the
// sign-in history's export escapes it (history.CSVCell): an actor id, a
// target or details can hold what someone typed. first is the first page
// when the caller has read it already (to answer a failure before a byte
// is written), nil to read it here. It returns how many events it wrote;
// an error may come after some were.
func Export(ctx context.Context, s Searcher, q storage.AuditQuery, first []storage.AuditEvent, out io.Writer, zone *time.Location) (int, error) {
	q.Limit = storage.MaxAuditPage
	page, n := first, 0
	if page == nil {
		var err error
		if page, err = s.SearchAuditEvents(ctx, q); err != nil {
			return 0, err
		}
	}
	w := csv.NewWriter(out)
	if err := w.Write(Header); err != nil {
		return 0, err
	}
	for {
		for _, e := range page {
			if err := w.Write(row(e, zone)); err != nil {
				return n, err
			}
			n++
		}
		if len(page) < q.Limit || n >= ExportMax {
			break
		}
		last := page[len(page)-1]
		q.After = storage.AuditCursor{At: last.At, ID: last.ID}
		var err error
		if page, err = s.SearchAuditEvents(ctx, q); err != nil {
			w.Flush()
			return n, err
		}
	}
	w.Flush()
	return n, w.Error()
}

func row(e storage.AuditEvent, zone *time.Location) []string {
	r := []string{e.At.In(zone).Format(time.RFC3339), e.ActorKind, e.ActorID, e.EntityNumber,
		e.Action, e.Target, e.IP, Details(e.Details)}
	for i := range r {
		r[i] = history.CSVCell(r[i])
	}
	return r
}

// Details is an event's details as one line of JSON ("{}" for none).
func Details(details map[string]any) string {
	if details == nil {
		return "{}"
	}
	b, err := json.Marshal(details)
	if err != nil {
		return "{}"
	}
	return string(b)
}
