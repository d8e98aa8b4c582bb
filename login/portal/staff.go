package portal

import (
	"errors"
	"net/http"
	"net/url"
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
	r.Handle(staffPath+"/{euid}/reset-password", kit.SameOrigin(h.serveStaff(h.resetPassword))).Methods(post)
	r.Handle(staffPath+"/{euid}/edit", h.serveStaff(h.showEditStaff)).Methods(get...)
	r.Handle(staffPath+"/{euid}/edit", kit.SameOrigin(h.serveStaff(h.editStaff))).Methods(post)
	r.Handle(staffPath+"/{euid}/status", h.serveStaff(h.showStaffStatus)).Methods(get...)
	r.Handle(staffPath+"/{euid}/status", kit.SameOrigin(h.serveStaff(h.setStaffStatus))).Methods(post)
	r.Handle(staffPath+"/{euid}/signout", kit.SameOrigin(h.serveStaff(h.forceSignOut))).Methods(post)
	r.Handle(staffPath+"/{euid}/unlock", kit.SameOrigin(h.serveStaff(h.liftLockout))).Methods(post)
}

// The staff administration pages of an entity's admins:
// 工作人員登入號列表 (staff_list.go), a login's page with its activation
// state and the buttons that send it a new code (staff_detail.go), the
// registration form (新增, 編輯 → 更改) in staff_form.go and 關聯狀態 in
// staff_status.go, 強制登出 and 解除鎖定 in staff_signout.go. The entity is always the
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
