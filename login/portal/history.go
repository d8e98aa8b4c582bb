package portal

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/history"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// 登入記錄: the sign-in history. Every account sees its own attempts of
// the last 90 days; an admin sees its entity's, filtered by login,
// outcome and dates, and exports them as CSV. Who sees what is the rule
// book's (storage/rules_history.go) and the use case asks it
// (login/history); the page only chooses which view to offer by it.

// historyPages is 登入記錄.
type historyPages struct{ *core }

const historyPath = "/account/history"

// historyPerPage is the events on one page.
const historyPerPage = 50

// Mount registers 登入記錄 and its CSV export.
func (h *historyPages) Mount(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle(historyPath, h.serveAdmin(h.show)).Methods(get...)
	r.Handle(historyPath+".csv", h.serveAdmin(h.export)).Methods(get...)
}

type historyOption struct {
	Value, Label string
	Selected     bool
}

type historyRow struct {
	When, Login, Outcome, Method, Address, UserAgent, Client string
}

type historyPage struct {
	chrome
	Entity                   bool // the entity's history, with the filter and the export
	Login, From, To          string
	Outcomes                 []historyOption
	Rows                     []historyRow
	OlderURL, NewestURL, CSV string
}

// historyFilter reads the filter of the query; a value that cannot be one
// is refused (400) with a way back to the page.
func historyFilter(q url.Values) (history.Filter, error) {
	f, err := history.ParseFilter(q, macau)
	var se *storage.Error
	if errors.As(err, &se) && se.Code == storage.EInvalid {
		return f, kit.Fail(storage.EInvalid, se.Key).WithLink(historyPath, "history_title")
	}
	return f, err
}

// show is 登入記錄: the entity's history for an account the rule book lets
// read it (an admin), else the account's own.
func (h *historyPages) show(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	f, err := historyFilter(r.URL.Query())
	if err != nil {
		return err
	}
	a, entityID := h.actor(r, pt), pt.Principal.EntityID
	page := historyPage{Entity: storage.CanViewEntitySignIns(a, entityID)}
	var events []storage.SignInEvent
	if page.Entity {
		f.Limit = historyPerPage + 1
		events, err = h.history.Entity(r.Context(), a, entityID, f)
	} else {
		events, err = h.history.Own(r.Context(), a, f.After, historyPerPage+1)
	}
	if err != nil {
		return err
	}
	lang := h.language(r, pt.Principal)
	page.chrome = h.chrome(w, r, pt, lang, "history")
	h.fill(&page, r.URL.Query(), f, events)
	h.render.history(w, page)
	return nil
}

// fill puts the filter, the rows and the links on page.
func (h *historyPages) fill(page *historyPage, q url.Values, f history.Filter, events []storage.SignInEvent) {
	t := page.T
	page.Login, page.From, page.To = f.Subject, q.Get("from"), q.Get("to")
	page.Outcomes = []historyOption{{Value: "", Label: t["history_outcome_any"], Selected: f.Outcome == ""}}
	for _, o := range storage.SignInOutcomes {
		page.Outcomes = append(page.Outcomes, historyOption{Value: string(o), Label: t["history_outcome_"+string(o)], Selected: f.Outcome == o})
	}
	older := len(events) > historyPerPage
	if older {
		events = events[:historyPerPage]
	}
	for _, e := range events {
		login := e.Subject
		if e.Username != "" {
			login = strings.TrimSpace(e.Subject + " (" + e.Username + ")")
		}
		page.Rows = append(page.Rows, historyRow{
			When: e.At.In(macau).Format("2006-01-02 15:04:05"), Login: login,
			Outcome: t["history_outcome_"+string(e.Outcome)], Method: t["history_method_"+string(e.Method)],
			Address: e.Address, UserAgent: e.UserAgent, Client: e.ClientID,
		})
	}
	link := func(path string, after string) string {
		v := url.Values{}
		for _, k := range []string{"login", "outcome", "from", "to"} {
			if s := q.Get(k); s != "" {
				v.Set(k, s)
			}
		}
		if after != "" {
			v.Set("after", after)
		}
		return (&url.URL{Path: h.k.BasePath + path, RawQuery: v.Encode()}).String()
	}
	if older {
		page.OlderURL = link(historyPath, history.FormatCursor(events[len(events)-1]))
	}
	if !f.After.IsZero() {
		page.NewestURL = link(historyPath, "")
	}
	if page.Entity {
		page.CSV = link(historyPath+".csv", "")
	}
}

// export is the entity's history as the filter selects it, as CSV (UTF-8
// with a byte order mark, so that spreadsheets read the Chinese), for an
// account that may read it.
func (h *historyPages) export(w http.ResponseWriter, r *http.Request) error {
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	f, err := historyFilter(r.URL.Query())
	if err != nil {
		return err
	}
	f.After = storage.SignInCursor{}
	a, entityID := h.actor(r, pt), pt.Principal.EntityID
	if !storage.CanViewEntitySignIns(a, entityID) {
		return refused()
	}
	if _, _, err := h.history.Range(f.From, f.To); err != nil {
		return err // refused before the headers go
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="signin-history-`+pt.Principal.EntityNumber+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("\ufeff"))
	_, err = h.history.ExportEntity(r.Context(), a, entityID, f, macau, w)
	return err
}
