package desk

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

const (
	officersPath = "/officers"
	historyPath  = "/me/history"
)

// officerPages are the officers' list and a supervisor's changes to
// officers (create, disable, reset, enable, role), and an officer's own
// sign-in history.
type officerPages struct{ *core }

// Mount registers the officers' pages.
func (h *officerPages) Mount(r *mux.Router) {
	r.Handle(officersPath, h.page(storage.ActReadOperations, h.showList)).Methods(http.MethodGet)
	r.Handle(officersPath, h.page(storage.ActManageOfficers, h.create)).Methods(http.MethodPost)
	r.Handle(officersPath+"/{login}/{change:disable|reset}", h.page(storage.ActManageOfficers, h.confirm)).Methods(http.MethodGet)
	r.Handle(officersPath+"/{login}/{change:disable|reset|enable|role}", h.page(storage.ActManageOfficers, h.change)).Methods(http.MethodPost)
	r.Handle(historyPath, h.page(storage.ActUseDesk, h.showHistory)).Methods(http.MethodGet)
}

func macauTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(macau).Format("2006-01-02 15:04")
}

// officerRow is one officer of the list.
type officerRow struct {
	storage.Officer
	LastSignIn string
	Self       bool
}

// officersPage is desk_officers.html: the list, and for a supervisor the
// create form (Form) and each row's changes.
type officersPage struct {
	Chrome
	Rows     []officerRow
	CanEdit  bool
	Done     string
	Error    string
	Field    string
	Form     storage.Officer
	RoleForm string
}

func (h *officerPages) list(r *http.Request, d *Desk) (officersPage, error) {
	all, err := h.Officers.List(r.Context())
	if err != nil {
		return officersPage{}, err
	}
	p := officersPage{Chrome: d.Chrome("officers"), CanEdit: d.may(storage.ActManageOfficers)}
	for _, o := range all {
		p.Rows = append(p.Rows, officerRow{Officer: o, LastSignIn: macauTime(o.LastSignInAt), Self: o.ID == d.Officer.ID})
	}
	return p, nil
}

func (h *officerPages) showList(w http.ResponseWriter, r *http.Request, d *Desk) error {
	h.k.RememberLanguage(w, r)
	p, err := h.list(r, d)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if done := q.Get("done"); done != "" && d.T()["desk_auth_done_"+done] != "" {
		p.Done = strings.ReplaceAll(d.T()["desk_auth_done_"+done], "{login}", q.Get("who"))
	}
	h.k.Render(w, http.StatusOK, "desk_officers.html", p)
	return nil
}

// again shows the list again with the message of err (a form's refusal).
func (h *officerPages) again(w http.ResponseWriter, r *http.Request, d *Desk, err error, form storage.Officer) error {
	p, lerr := h.list(r, d)
	if lerr != nil {
		return lerr
	}
	p.Form = form
	return kit.InForm(err, func(status int, key string) {
		p.Error = kit.Say(d.T(), key, err)
		var e *storage.Error
		if ok := asError(err, &e); ok {
			p.Field = e.Field
		}
		h.k.Render(w, status, "desk_officers.html", p)
	})
}

func (h *officerPages) done(w http.ResponseWriter, r *http.Request, what, login string) {
	http.Redirect(w, r, officersPath+"?"+url.Values{"done": {what}, "who": {login}}.Encode(), http.StatusSeeOther)
}

func (h *officerPages) create(w http.ResponseWriter, r *http.Request, d *Desk) error {
	o := storage.Officer{Login: r.PostFormValue("login"), DisplayName: r.PostFormValue("display_name"),
		Role: storage.OfficerRole(r.PostFormValue("role")), Mobile: r.PostFormValue("mobile"), Email: r.PostFormValue("email")}
	created, err := h.Officers.Via(d.Actor).Create(r.Context(), &d.Officer, o)
	if err != nil {
		return h.again(w, r, d, err, o)
	}
	h.done(w, r, "create", created.Login)
	return nil
}

func (h *officerPages) change(w http.ResponseWriter, r *http.Request, d *Desk) error {
	vars := mux.Vars(r)
	login, ctx, svc := vars["login"], r.Context(), h.Officers.Via(d.Actor)
	var o storage.Officer
	var err error
	switch vars["change"] {
	case "disable":
		o, err = svc.Disable(ctx, d.Officer, login)
	case "reset":
		o, err = svc.Reset(ctx, d.Officer, login)
	case "enable":
		o, err = svc.Enable(ctx, d.Officer, login)
	default:
		o, err = svc.ChangeRole(ctx, d.Officer, login, storage.OfficerRole(r.PostFormValue("role")))
	}
	if err != nil {
		return h.again(w, r, d, err, storage.Officer{})
	}
	h.done(w, r, vars["change"], o.Login)
	return nil
}

// officerConfirmPage is desk_officer_confirm.html: a disable or a reset, asked
// again before it is done.
type officerConfirmPage struct {
	Chrome
	Target storage.Officer
	Change string
}

// confirm asks the supervisor again before a disable or a reset, which
// end the officer's sessions at once.
func (h *officerPages) confirm(w http.ResponseWriter, r *http.Request, d *Desk) error {
	vars := mux.Vars(r)
	login, _ := storage.NormalizeOfficerLogin(vars["login"])
	var target storage.Officer
	all, err := h.Officers.List(r.Context())
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.Login == login {
			target = o
		}
	}
	if target.ID == 0 {
		return kit.Fail(storage.ENotFound, "desk_err_no_officer")
	}
	h.k.Render(w, http.StatusOK, "desk_officer_confirm.html", officerConfirmPage{Chrome: d.Chrome("officers"), Target: target, Change: vars["change"]})
	return nil
}

// historyRow is one sign-in attempt of the officer's history.
type historyRow struct {
	At, Outcome, IP, UserAgent string
	Failed                     bool
}

// historyPage is desk_history.html: the officer's own sign-ins.
type historyPage struct {
	Chrome
	Rows []historyRow
	Days int
}

func (h *officerPages) showHistory(w http.ResponseWriter, r *http.Request, d *Desk) error {
	h.k.RememberLanguage(w, r)
	list, err := h.Officers.History(r.Context(), d.Officer)
	if err != nil {
		return err
	}
	t := d.T()
	p := historyPage{Chrome: d.Chrome("history"), Days: storage.OfficerHistoryDays}
	for _, si := range list {
		at := si.At
		p.Rows = append(p.Rows, historyRow{At: at.In(macau).Format("2006-01-02 15:04:05"), Outcome: t["desk_auth_outcome_"+string(si.Outcome)],
			IP: si.IP, UserAgent: si.UserAgent, Failed: si.Outcome != storage.DeskSignedIn})
	}
	h.k.Render(w, http.StatusOK, "desk_history.html", p)
	return nil
}
