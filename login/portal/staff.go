package portal

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// staffPages are the staff administration pages (below).
type staffPages struct{ *core }

// Mount registers the staff pages.
func (h *staffPages) Mount(r *mux.Router) {
	get, post := []string{http.MethodGet, http.MethodHead}, http.MethodPost
	r.Handle(staffPath, h.serveStaff(h.showStaffList)).Methods(get...)
	r.Handle(staffPath+"/new", h.serveStaff(h.showNewStaff)).Methods(get...)
	r.Handle(staffPath+"/new", kit.SameOrigin(h.serveStaff(h.createStaff))).Methods(post)
	r.Handle(staffPath+"/{euid}", h.serveStaff(h.showStaff)).Methods(get...)
	r.Handle(staffPath+"/{euid}/code", kit.SameOrigin(h.serveStaff(h.sendCode))).Methods(post)
	r.Handle(staffPath+"/{euid}/edit", h.serveStaff(h.showEditStaff)).Methods(get...)
	r.Handle(staffPath+"/{euid}/edit", kit.SameOrigin(h.serveStaff(h.editStaff))).Methods(post)
	r.Handle(staffPath+"/{euid}/status", h.serveStaff(h.showStaffStatus)).Methods(get...)
	r.Handle(staffPath+"/{euid}/status", kit.SameOrigin(h.serveStaff(h.setStaffStatus))).Methods(post)
}

// The staff administration pages of an entity's admins:
// 工作人員登入號列表, a login's page with its activation state and the
// buttons that send it a new code, the registration form (新增, 編輯 → 更改)
// in staff_form.go and 關聯狀態 in staff_status.go. The entity is always the
// signed-in account's own; a login is named by its EUID in the address, and
// the use case finds it in that entity only, so another entity's EUID is
// not found. Who may see and do what is the use cases' question.

const staffPath = "/account/staff"

// staffPageSize is the number of logins on one page of the list.
const staffPageSize = 50

// staffZone is the time zone the pages show times in (no summer time).
var staffZone = time.FixedZone("UTC+8", 8*3600)

// staffErrors is the look of the staff pages' error pages: the portal's
// heading, and a message of their own for a refusal or a login not found.
var staffErrors = kit.ErrorPages{
	Heading: "account_error_heading", InvalidHeading: "account_error_heading", Invalid: "staff_error_invalid",
	Failed: "error_internal", LinksTo: staffPath,
}

// serveStaff serves a staff page: a refusal (403) and a login not found
// (404) that bring no message of their own get the staff pages' one.
func (h *staffPages) serveStaff(p kit.Page) http.Handler {
	return h.k.Serve(h.framed(staffErrors, staffPath, "nav_staff"), func(w http.ResponseWriter, r *http.Request) error {
		err := p(w, r)
		var own *storage.Error
		if errors.As(err, &own) && own.Key != "" {
			return err
		}
		switch storage.CodeOf(err) {
		case storage.EForbidden:
			// An account that may not run the staff has no list to go back to.
			return kit.Fail(storage.EForbidden, "staff_error_forbidden").WithHeading("nav_forbidden_heading").WithLink(profilePath, "account_back")
		case storage.ENotFound:
			return kit.Fail(storage.ENotFound, "staff_error_not_found").WithHeading("nav_not_found_heading")
		}
		return err
	})
}

// errStaffCSRF refuses a staff form whose token is not this session's.
var errStaffCSRF = kit.Fail(storage.EForbidden, "account_error_csrf")

// staffRequest is a signed-in request to a staff page: the account, the
// actor the use cases judge, the page language and its catalogue.
type staffRequest struct {
	pt    *kit.Signed
	actor storage.Actor
	lang  string
	t     map[string]string
}

// staffSignedIn returns the request's account, or nil after sending the
// browser to the portal's sign-in.
func (h *staffPages) staffSignedIn(w http.ResponseWriter, r *http.Request) (*staffRequest, error) {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return nil, err
	}
	lang := h.language(r, pt.Principal)
	return &staffRequest{pt: pt, actor: h.actor(r, pt), lang: lang, t: h.k.T(lang)}, nil
}

// staffPost is staffSignedIn for a form's POST: the form read and its CSRF
// token checked against the session.
func (h *staffPages) staffPost(w http.ResponseWriter, r *http.Request) (*staffRequest, error) {
	formErr := kit.ParseForm(w, r)
	sr, err := h.staffSignedIn(w, r)
	if sr == nil {
		return nil, err
	}
	if formErr != nil || !h.k.CSRFValid(r, sessionBinding(sr.pt.Session.SessionID), r.PostForm.Get("csrf_token")) {
		return nil, errStaffCSRF
	}
	return sr, nil
}

// staffOf opens a request to a login's page (open is staffSignedIn, or
// staffPost for its forms) and finds the login its address names, as the
// use case finds it: in the account's own entity only. sr is nil when the
// request goes no further.
func (h *staffPages) staffOf(w http.ResponseWriter, r *http.Request, open func(http.ResponseWriter, *http.Request) (*staffRequest, error)) (sr *staffRequest, d manage.StaffDetail, err error) {
	sr, err = open(w, r)
	if sr == nil {
		return nil, d, err
	}
	d, err = h.admin.Manage.StaffDetail(r.Context(), sr.actor, sr.pt.Principal.EntityID, mux.Vars(r)["euid"], h.k.Now())
	if err != nil {
		return nil, d, err
	}
	return sr, d, nil
}

// staffURL is the address of a login's page (or of one of its pages, more).
func (h *staffPages) staffURL(euid string, more ...string) string {
	return h.k.BasePath + staffPath + "/" + url.PathEscape(euid) + strings.Join(more, "")
}

// ---- 工作人員登入號列表 ----

type staffListPage struct {
	chrome
	Query            string
	Rows             []staffListRow
	Total            int
	From, To         int
	PrevURL, NextURL string
	NewURL           string
}

type staffListRow struct {
	URL, EUID, Username     string
	NameZH, NameForeign     string
	DocNumber, Phone        string
	Code, Activated, Active bool
}

// showStaffList is 工作人員登入號列表: a page of the entity's staff logins,
// searched by name, username, EUID or document number.
func (h *staffPages) showStaffList(w http.ResponseWriter, r *http.Request) error {
	sr, err := h.staffSignedIn(w, r)
	if sr == nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if !storage.CleanText(q, 100) {
		q = ""
	}
	pageNo, _ := strconv.Atoi(r.URL.Query().Get("page"))
	pageNo = min(max(pageNo, 1), 100000)
	rows, total, err := h.admin.Manage.ManagedStaffList(r.Context(), sr.actor, storage.StaffQuery{
		EntityID: sr.pt.Principal.EntityID, Search: q, Offset: (pageNo - 1) * staffPageSize, Limit: staffPageSize,
	})
	if err != nil {
		return err
	}
	p := staffListPage{
		chrome: h.chrome(w, r, sr.pt, sr.lang, "staff"),
		Query:  q, Total: total, NewURL: h.k.BasePath + staffPath + "/new",
	}
	for _, row := range rows {
		p.Rows = append(p.Rows, staffListRow{
			URL: h.staffURL(row.EUID), EUID: row.EUID, Username: row.Username,
			NameZH: row.NameZH, NameForeign: row.NameForeign,
			DocNumber: storage.MaskDocNumber(row.IDDocNumber), Phone: storage.MaskPhone(row.Mobile),
			Code: row.CodeOutstanding, Activated: row.ActivatedAt != nil, Active: row.Status == storage.StatusActive,
		})
	}
	if len(rows) > 0 {
		p.From, p.To = (pageNo-1)*staffPageSize+1, (pageNo-1)*staffPageSize+len(rows)
	}
	link := func(n int) string {
		v := url.Values{"page": {strconv.Itoa(n)}}
		if q != "" {
			v.Set("q", q)
		}
		return h.k.BasePath + staffPath + "?" + v.Encode()
	}
	if pageNo > 1 {
		p.PrevURL = link(pageNo - 1)
	}
	if pageNo*staffPageSize < total {
		p.NextURL = link(pageNo + 1)
	}
	h.k.Render(w, http.StatusOK, "account_staff_list.html", p)
	return nil
}

// ---- a login's page ----

// codeButton is one of 手機短訊 / 電子郵件: whether it can send, and why not.
type codeButton struct {
	Channel string
	Label   string
	Enabled bool
	Reason  string // why it is disabled; its id is Channel_reason
}

type staffPage struct {
	chrome
	CSRF        string
	EUID        string
	Rows        []profileRow
	Activated   bool
	Deleted     bool
	LastSent    string
	ActivatedAt string
	Buttons     []codeButton
	Notice      string // success, role=status
	Error       string // refusal, role=alert
	EditURL     string
	StatusURL   string
	CodeURL     string
	ListURL     string
	StatusLabel string
}

// staffNotices are the messages a login's page shows after a change that
// redirected to it (?done=…): only these keys, nothing taken from the address.
var staffNotices = map[string]string{
	"created-sms":   "staff_done_created_sms",
	"created-email": "staff_done_created_email",
	"sent-sms":      "staff_done_sent_sms",
	"sent-email":    "staff_done_sent_email",
	"edited":        "staff_done_edited",
	"deleted":       "staff_done_deleted",
	"restored":      "staff_done_restored",
}

// showStaff is a login's page (點選指定人員): its registration data, EUID,
// 啟動狀況, 最後發送啟動碼時間, 啟動工作人員登入號時間, and the buttons that
// send it a new activation code.
func (h *staffPages) showStaff(w http.ResponseWriter, r *http.Request) error {
	sr, d, err := h.staffOf(w, r, h.staffSignedIn)
	if sr == nil {
		return err
	}
	notice := sr.t[staffNotices[r.URL.Query().Get("done")]]
	h.renderStaff(w, r, sr, d, http.StatusOK, notice, "")
	return nil
}

func (h *staffPages) renderStaff(w http.ResponseWriter, r *http.Request, sr *staffRequest, d manage.StaffDetail, status int, notice, errMsg string) {
	t := sr.t
	ch := h.chrome(w, r, sr.pt, sr.lang, "staff")
	ch.Common = h.k.CommonAt(r, sr.lang, h.staffURL(d.EUID))
	p := staffPage{
		chrome: ch, CSRF: ch.LogoutCSRF, EUID: d.EUID,
		Rows:      h.staffRows(sr, d.StaffLogin),
		Activated: d.ActivatedAt != nil, Deleted: d.Status == storage.StatusDeleted,
		Notice: notice, Error: errMsg,
		EditURL: h.staffURL(d.EUID, "/edit"), StatusURL: h.staffURL(d.EUID, "/status"),
		CodeURL: h.staffURL(d.EUID, "/code"), ListURL: h.k.BasePath + staffPath,
		StatusLabel: t["staff_status_"+string(d.Status)],
	}
	if d.LastCodeSent != nil {
		p.LastSent = d.LastCodeSent.In(staffZone).Format("2006-01-02 15:04") + " (" + t["staff_channel_"+string(d.LastCodeChannel)] + ")"
	}
	if d.ActivatedAt != nil {
		p.ActivatedAt = d.ActivatedAt.In(staffZone).Format("2006-01-02 15:04")
	}
	for _, b := range []struct {
		ch      storage.Channel
		address string
	}{{storage.ChannelSMS, d.Mobile}, {storage.ChannelEmail, d.Email}} {
		btn := codeButton{Channel: string(b.ch), Label: t["staff_channel_"+string(b.ch)], Enabled: true}
		switch {
		case p.Deleted:
			btn.Enabled, btn.Reason = false, t["staff_code_off_deleted"]
		case p.Activated:
			btn.Enabled, btn.Reason = false, t["staff_code_off_activated"]
		case b.address == "":
			btn.Enabled, btn.Reason = false, t["staff_code_off_no_"+string(b.ch)]
		}
		p.Buttons = append(p.Buttons, btn)
	}
	h.k.Render(w, status, "account_staff.html", p)
}

// staffRows lays a login's registration out in the page's language.
func (h *staffPages) staffRows(sr *staffRequest, sl storage.StaffLogin) []profileRow {
	t := sr.t
	row := func(id, key, value string) profileRow {
		if value == "" {
			value = "—"
		}
		return profileRow{ID: id, Label: t[key], Value: value}
	}
	birth := ""
	if !sl.BirthDate.IsZero() {
		birth = sl.BirthDate.Format("2006-01-02")
	}
	return []profileRow{
		row("sl_username", "username", sl.Username),
		row("sl_euid", "account_euid", sl.EUID),
		row("sl_name_zh", "account_name_zh", sl.NameZH),
		row("sl_name_foreign", "account_name_foreign", sl.NameForeign),
		row("sl_id_doc_type", "account_id_doc_type", labelOf(t, "staff_doc_", sl.IDDocType)),
		row("sl_id_doc_number", "account_id_doc_number", sl.IDDocNumber),
		row("sl_id_doc_issue_place", "account_id_doc_issue_place", sl.IDDocIssuePlace),
		row("sl_birth_date", "account_birth_date", birth),
		row("sl_mobile", "account_mobile", sl.Mobile),
		row("sl_email", "account_email", sl.Email),
		row("sl_language", "account_language", labelOf(t, "staff_lang_", sl.Language)),
	}
}

// sendCode is 手機短訊 / 電子郵件 on a login's page: a new activation code to
// its registered mobile or e-mail. A refusal (the limit, nowhere to send)
// shows the page again with the reason.
func (h *staffPages) sendCode(w http.ResponseWriter, r *http.Request) error {
	sr, err := h.staffPost(w, r)
	if sr == nil {
		return err
	}
	ctx, entityID, euid := r.Context(), sr.pt.Principal.EntityID, mux.Vars(r)["euid"]
	ch := storage.Channel(r.PostForm.Get("channel"))
	if ch != storage.ChannelSMS && ch != storage.ChannelEmail {
		return kit.Fail(storage.EInvalid, "staff_error_channel")
	}
	err = h.admin.Manage.SendCode(ctx, sr.actor, h.admin.Activation, entityID, euid, ch)
	if storage.CodeOf(err) == storage.EConflict { // the login's state refuses: say so on its page
		d, derr := h.admin.Manage.StaffDetail(ctx, sr.actor, entityID, euid, h.k.Now())
		if derr != nil {
			return derr
		}
		return kit.InForm(err, func(status int, key string) { h.renderStaff(w, r, sr, d, status, "", sr.t[key]) })
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.staffURL(euid, "?done=sent-"+string(ch)), http.StatusSeeOther)
	return nil
}
