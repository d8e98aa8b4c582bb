package history

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/entity-account/idp/storage"
)

// CSVHeader are the columns of an exported history.
var CSVHeader = []string{"time", "euid", "entity_number", "username", "outcome", "method", "address", "user_agent", "client_id"}

// CSVCell makes s safe for a spreadsheet: a cell that starts with =, +,
// -, @, a tab or a carriage return would be read as a formula (CSV
// injection), so it gets a leading apostrophe, which spreadsheets show as
// text. What an anonymous caller typed (a username, a user agent) reaches
// the export, so every cell goes through here.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes events as CSV rows (without the header), times in zone.
func WriteCSV(w *csv.Writer, events []storage.SignInEvent, zone *time.Location) error {
	for _, e := range events {
		row := []string{e.At.In(zone).Format(time.RFC3339), e.Subject, e.EntityNumber, e.Username,
			string(e.Outcome), string(e.Method), e.Address, e.UserAgent, e.ClientID}
		for i := range row {
			row[i] = CSVCell(row[i])
		}
		if err := w.Write(row); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// MaxExport is the most events one export holds: the range is bounded
// already; this bounds the work of one request too.
const MaxExport = 100_000

// ExportEntity writes entity's history as f filters it (all its pages, up
// to MaxExport) to out as CSV with a header, for an actor who may read it.
// It returns how many events it wrote.
func (s *Service) ExportEntity(ctx context.Context, a storage.Actor, entityID int64, f Filter, zone *time.Location, out io.Writer) (int, error) {
	f.Limit = storage.MaxSignInPage
	page, err := s.Entity(ctx, a, entityID, f) // the rule and the bounds, before a byte is written
	if err != nil {
		return 0, err
	}
	w := csv.NewWriter(out)
	if err := w.Write(CSVHeader); err != nil {
		return 0, err
	}
	n := 0
	for {
		if err := WriteCSV(w, page, zone); err != nil {
			return n, err
		}
		n += len(page)
		if len(page) < storage.MaxSignInPage || n >= MaxExport {
			return n, nil
		}
		last := page[len(page)-1]
		f.After = storage.SignInCursor{At: last.At, ID: last.ID}
		if page, err = s.Entity(ctx, a, entityID, f); err != nil {
			return n, err
		}
	}
}

// ParseCursor reads a page cursor as the pages write it (FormatCursor);
// "" is the start.
func ParseCursor(s string) (storage.SignInCursor, bool) {
	if s == "" {
		return storage.SignInCursor{}, true
	}
	at, id, ok := strings.Cut(s, "_")
	ns, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 || ns <= 0 {
		return storage.SignInCursor{}, false
	}
	return storage.SignInCursor{At: time.Unix(0, ns).UTC(), ID: n}, true
}

// FormatCursor writes the cursor after e.
func FormatCursor(e storage.SignInEvent) string {
	return strconv.FormatInt(e.At.UnixNano(), 10) + "_" + strconv.FormatInt(e.ID, 10)
}
