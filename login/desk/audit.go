package desk

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/auditlog"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// The audit trail: search it (entity number, actor, target, action exactly
// or a prefix ending in ".", a range of Macau days), newest first and
// paged; open one event, its details shown readably; export a search as
// CSV, every cell escaped as the sign-in history's export escapes it.
// storage.ActReadAudit: a counter officer's too. It writes nothing.

const (
	auditPath       = "/audit"
	auditExportPath = "/audit/export"
	// auditPageSize is how many events a page of the search shows.
	auditPageSize = 50
)

// auditPages are the audit trail's pages.
type auditPages struct{ *core }

// Mount registers the audit trail's pages.
func (h *auditPages) Mount(r *mux.Router) {
	if h.Registry == nil {
		return
	}
	r.Handle(auditPath, h.page(storage.ActReadAudit, h.search)).Methods(http.MethodGet)
	r.Handle(auditExportPath, h.page(storage.ActReadAudit, h.export)).Methods(http.MethodGet)
	r.Handle(auditPath+"/{id:[0-9]+}", h.page(storage.ActReadAudit, h.showEvent)).Methods(http.MethodGet)
}

var auditFields = []string{"entity", "actor", "target", "action", "from", "to"}

// auditSearch is a search as the form asks it, read into a query.
type auditSearch struct {
	Form  regForm
	Query storage.AuditQuery
}

// readSearch reads the search of the request's address; a refusal names
// its field.
func (h *auditPages) readSearch(r *http.Request) (auditSearch, error) {
	s := auditSearch{Form: regForm{Name: "search", Values: map[string]string{}}}
	q := r.URL.Query()
	for _, n := range auditFields {
		s.Form.Values[n] = strings.TrimSpace(q.Get(n))
	}
	v := s.Form.Values
	s.Query = storage.AuditQuery{ActorID: v["actor"], Target: v["target"], Action: v["action"]}
	for _, n := range []string{"actor", "target", "action"} {
		if !storage.CleanText(v[n], 200) {
			return s, storage.Errorf(storage.EInvalid, "%s", n).WithField("search_" + n)
		}
	}
	start, end, err := auditDays(v["from"], v["to"], h.k.Now())
	if err != nil {
		return s, err
	}
	s.Query.From, s.Query.To = start, end
	if v["entity"] != "" {
		number, ok := storage.NormalizeEntityNumber(v["entity"])
		if !ok {
			return s, storage.Errorf(storage.EInvalid, "entity number").WithField("entity_number")
		}
		e, err := h.Registry.EntityByNumber(r.Context(), number)
		if err != nil {
			return s, withField(err, "entity_number")
		}
		s.Query.EntityID = e.ID
	}
	return s, nil
}

// auditDays is the Macau days from and to (both included) as the
// half-open range a search takes: by default the 30 days up to today; at
// most 366 days.
func auditDays(from, to string, now time.Time) (time.Time, time.Time, error) {
	y, m, d := now.In(kit.Macau).Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, kit.Macau)
	var err error
	if to != "" {
		if last, err = time.ParseInLocation(time.DateOnly, to, kit.Macau); err != nil {
			return last, last, storage.Errorf(storage.EInvalid, "to").WithField("search_dates")
		}
	}
	start := last.AddDate(0, 0, -29)
	if from != "" {
		if start, err = time.ParseInLocation(time.DateOnly, from, kit.Macau); err != nil {
			return start, last, storage.Errorf(storage.EInvalid, "from").WithField("search_dates")
		}
	}
	end := last.AddDate(0, 0, 1)
	if days := end.Sub(start).Hours() / 24; days < 1 || days > 366.5 {
		return start, end, storage.Errorf(storage.EInvalid, "range").WithField("search_dates")
	}
	return start, end, nil
}

// auditPage is desk_audit.html: the search form, a page of events, the
// way to the older ones and the export of the whole search.
type auditPage struct {
	Chrome
	Form                regForm
	Events              []auditRow
	OlderURL, NewestURL string
	ExportURL           string
	FromShown, ToShown  string
}

// auditRow is an event as the search lists it.
type auditRow struct {
	storage.AuditEvent
	When, URL string
}

func (h *auditPages) search(w http.ResponseWriter, r *http.Request, d *Desk) error {
	s, err := h.readSearch(r)
	p := auditPage{Chrome: d.Chrome("audit"), Form: s.Form}
	if err != nil {
		return d.refusedIn(err, "desk_dept_err_invalid", func(status int, key, field string) {
			p.Form = d.formAt(s.Form, key, field)
			h.k.Render(w, status, "desk_audit.html", p)
		})
	}
	q := s.Query
	q.Limit = auditPageSize + 1
	if after := r.URL.Query().Get("after"); after != "" {
		if q.After, err = parseAuditCursor(after); err != nil {
			return err
		}
		p.NewestURL = auditPath + "?" + searchQuery(s.Form).Encode()
	}
	events, err := h.Registry.SearchAuditEvents(r.Context(), q)
	if err != nil {
		return err
	}
	if len(events) > auditPageSize {
		events = events[:auditPageSize]
		last := events[len(events)-1]
		older := searchQuery(s.Form)
		older.Set("after", strconv.FormatInt(last.At.UnixNano(), 10)+"_"+strconv.FormatInt(last.ID, 10))
		p.OlderURL = auditPath + "?" + older.Encode()
	}
	for _, e := range events {
		p.Events = append(p.Events, auditRow{AuditEvent: e, When: e.At.In(kit.Macau).Format(time.DateTime),
			URL: auditPath + "/" + strconv.FormatInt(e.ID, 10)})
	}
	p.ExportURL = auditExportPath + "?" + searchQuery(s.Form).Encode()
	p.FromShown, p.ToShown = q.From.In(kit.Macau).Format(time.DateOnly), q.To.In(kit.Macau).AddDate(0, 0, -1).Format(time.DateOnly)
	h.k.Render(w, http.StatusOK, "desk_audit.html", p)
	return nil
}

// searchQuery is the search f as an address's query, its empty fields left out.
func searchQuery(f regForm) url.Values {
	v := url.Values{}
	for _, n := range auditFields {
		if f.Values[n] != "" {
			v.Set(n, f.Values[n])
		}
	}
	return v
}

// parseAuditCursor reads the cursor of a next page (nanoseconds_id).
func parseAuditCursor(s string) (storage.AuditCursor, error) {
	at, id, ok := strings.Cut(s, "_")
	ns, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 || ns <= 0 {
		return storage.AuditCursor{}, storage.Errorf(storage.EInvalid, "audit page cursor %q", s)
	}
	return storage.AuditCursor{At: time.Unix(0, ns).UTC(), ID: n}, nil
}

// export writes every event of the search as CSV (an attachment), as
// idp audit --csv does (auditlog.Export). The first page is read before a
// byte is written, so that a failure then is the desk's error page; a
// failure after is logged, and the file ends short.
func (h *auditPages) export(w http.ResponseWriter, r *http.Request, d *Desk) error {
	s, err := h.readSearch(r)
	if err != nil {
		return err
	}
	q := s.Query
	q.Limit = storage.MaxAuditPage
	first, err := h.Registry.SearchAuditEvents(r.Context(), q)
	if err != nil {
		return err
	}
	noStore(w)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%s.csv"`, h.k.Now().In(kit.Macau).Format("20060102-150405")))
	if n, err := auditlog.Export(r.Context(), h.Registry, q, first, w, kit.Macau); err != nil {
		slog.ErrorContext(r.Context(), "audit export cut short", "written", n, "err", err)
	}
	return nil
}

// auditEventPage is desk_audit_event.html: one event, its details as
// indented JSON.
type auditEventPage struct {
	Chrome
	Event   storage.AuditEvent
	When    string
	Details string
}

func (h *auditPages) showEvent(w http.ResponseWriter, r *http.Request, d *Desk) error {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		return kit.Fail(storage.ENotFound, "desk_error_not_found")
	}
	e, err := h.Registry.AuditEvent(r.Context(), id)
	if err != nil {
		return notFoundHere(err)
	}
	// Indented, and as it is stored: the page escapes it as text.
	var details strings.Builder
	enc := json.NewEncoder(&details)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	if err := enc.Encode(e.Details); err != nil {
		return err
	}
	h.k.Render(w, http.StatusOK, "desk_audit_event.html", auditEventPage{Chrome: d.Chrome("audit"), Event: e,
		When: e.At.In(kit.Macau).Format(time.DateTime), Details: details.String()})
	return nil
}
