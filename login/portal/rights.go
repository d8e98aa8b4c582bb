package portal

import (
	"github.com/gorilla/mux"

	"errors"
	"net/http"
	"strings"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// rightsPages are the pages that give and take rights:
// 移除工作人員登入號的管理員的權限 and 服務管理員列表.
type rightsPages struct{ *core }

// Mount registers the rights pages.
func (h *rightsPages) Mount(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle(adminsPath, h.serveAdmin(h.showAdmins)).Methods(get...)
	r.Handle(adminsPath, kit.SameOrigin(h.serveAdmin(h.submitAdmins))).Methods(http.MethodPost)
	r.Handle(serviceAdminsPath, h.serveAdmin(h.showServiceAdmins)).Methods(get...)
	r.Handle(serviceAdminsPath, kit.SameOrigin(h.serveAdmin(h.submitServiceAdmins))).Methods(http.MethodPost)
}

// 移除工作人員登入號的管理員的權限 and 服務管理員列表: two lists each
// (without and with the right) and 更新. The actions go through
// manage.RemoveAdmins and manage.SetServiceAdmin, one login at a time, each
// result reported; an EUID that is not of the signed-in account's entity is
// not found there, and nothing is written for it.

// rightsRow is one staff login in a list, with its checkbox.
type rightsRow struct {
	EUID, Label string
	Deleted     bool // 關聯狀態 已刪除
	Checked     bool // chosen in the form being shown again
}

// rightsResult is what became of one chosen login.
type rightsResult struct {
	OK      bool
	Message string
}

// rightsResults are what became of the chosen logins.
type rightsResults []rightsResult

// Failed reports whether any of them failed (the page's title says so).
func (rs rightsResults) Failed() bool {
	for _, r := range rs {
		if !r.OK {
			return true
		}
	}
	return false
}

type adminsPage struct {
	chrome
	CSRF          string
	Search        string      // the lists show only the logins matching it (storage.StaffMatches)
	SearchPath    string      // where the search goes
	Without, With []rightsRow // without and with admin rights
	Results       rightsResults
	Error         string
	Confirm       bool // removing the last admin: ask for the confirmation
	Lists         bool // false once the account may no longer remove admin rights
}

type serviceAdminsPage struct {
	chrome
	CSRF          string
	Search        string
	SearchPath    string
	Without, With []rightsRow // not and already service admins
	Results       rightsResults
	Error         string
	Lists         bool
}

// maxChosen bounds the logins one form may act on: more than any entity's
// list shows at once.
const maxChosen = 500

// ---- 移除工作人員登入號的管理員的權限 ----

func (h *rightsPages) showAdmins(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	v, err := h.entityStaff(r, pt, "admins")
	if err != nil {
		return err
	}
	h.renderAdmins(w, r, pt, http.StatusOK, v, adminsPage{Lists: true}, nil)
	return nil
}

// renderAdmins shows the page; chosen are the logins ticked in the form
// shown again.
func (h *rightsPages) renderAdmins(w http.ResponseWriter, r *http.Request, pt *kit.Signed, status int, v entityView, p adminsPage, chosen map[string]bool) {
	p.chrome = h.chrome(w, r, pt, h.language(r, pt.Principal), "admins")
	p.CSRF = p.LogoutCSRF // the same binding: this browser and this session
	p.Search, p.SearchPath = listSearch(r), adminsPath
	for _, sl := range v.Staff {
		if !storage.StaffMatches(sl, p.Search) && !chosen[sl.EUID] {
			continue
		}
		row := rightsRow{EUID: sl.EUID, Label: staffLabel(sl), Deleted: sl.Status == storage.StatusDeleted, Checked: chosen[sl.EUID]}
		if sl.Admin {
			p.With = append(p.With, row)
		} else {
			p.Without = append(p.Without, row)
		}
	}
	h.render.admins(w, status, p)
}

// submitAdmins removes admin rights from the ticked logins. Removing them
// from every active admin of the entity (it would be left with none, and
// only 行政公職局 can grant them again) needs the confirmation box ticked:
// without it the use case does nothing (manage.ErrLastAdminUnconfirmed)
// and the form asks for it.
func (h *rightsPages) submitAdmins(w http.ResponseWriter, r *http.Request) error {
	pt, v, t, err := h.rightsForm(w, r, "admins")
	if pt == nil {
		return err
	}
	chosen := chosenEUIDs(r.PostForm["remove"], maxChosen)
	ticked := map[string]bool{}
	for _, euid := range chosen {
		ticked[euid] = true
	}
	if len(chosen) == 0 {
		return kit.InForm(kit.Fail(storage.EInvalid, "admins_none_chosen"), func(status int, key string) {
			h.renderAdmins(w, r, pt, status, v, adminsPage{Lists: true, Error: t[key]}, nil)
		})
	}
	// The use case removes them all, or, when the entity would be left with
	// no active admin and the box is not ticked, none: then the form asks
	// for the confirmation. Each login's result is told as for every list.
	outcome := map[string]error{}
	err = h.admin.Manage.RemoveAdmins(r.Context(), h.actor(r, pt), v.Entity.ID, chosen, r.PostForm.Get("confirm_last") == "yes",
		func(euid string, _ storage.StaffLogin, err error) error {
			if !refusal(err) {
				return err // a failure of ours stops the removals
			}
			outcome[euid] = err
			return nil
		})
	if errors.Is(err, manage.ErrLastAdminUnconfirmed) {
		return kit.InForm(kit.Fail(storage.EConflict, "admins_confirm_last"), func(status int, key string) {
			h.renderAdmins(w, r, pt, status, v, adminsPage{Lists: true, Error: t[key], Confirm: true}, ticked)
		})
	}
	if err != nil {
		return err
	}
	results, firstErr, err := h.each(r, pt, v, chosen, t, func(_ storage.Actor, euid string) (string, error) {
		return "admins_result_removed", outcome[euid]
	}, "admins_result_conflict")
	if err != nil {
		return err
	}
	// The rights as they are now: an admin that removed its own may no
	// longer see the lists, nor the links to the administration pages.
	now, err := h.k.SignedIn(r)
	if err != nil {
		return err
	}
	if now == nil {
		http.Redirect(w, r, h.k.BasePath+LoginPath, http.StatusSeeOther)
		return nil
	}
	page := adminsPage{Results: results}
	if after, err := h.entityStaff(r, now, "admins"); err == nil {
		v, page.Lists = after, true
	} else if storage.CodeOf(err) != storage.EForbidden {
		return err
	} else {
		v = entityView{}
		page.Results = append(page.Results, rightsResult{Message: t["admins_no_longer"]})
	}
	if firstErr != nil {
		return kit.InForm(firstErr, func(status int, _ string) { h.renderAdmins(w, r, now, status, v, page, nil) })
	}
	h.renderAdmins(w, r, now, http.StatusOK, v, page, nil)
	return nil
}

// rightsForm reads the POSTed form of the administration page named page
// (nav.go) for the signed-in account: the account (nil when the browser was
// sent to the sign-in, or on a refusal, returned as err), its entity with
// its staff, and the page's catalogue. A form without this session's CSRF
// token is refused before anything is read.
func (h *rightsPages) rightsForm(w http.ResponseWriter, r *http.Request, page string) (*kit.Signed, entityView, map[string]string, error) {
	formErr := kit.ParseForm(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return nil, entityView{}, nil, err
	}
	if formErr != nil || !h.csrfOK(r, pt) {
		p := navPageOf(page)
		return nil, entityView{}, nil, csrfRefused(p.path, p.key)
	}
	v, err := h.entityStaff(r, pt, page)
	if err != nil {
		return nil, v, nil, err
	}
	return pt, v, h.k.T(h.language(r, pt.Principal)), nil
}

// refusal reports whether err, the result of one login's change, is a
// refusal each tells in the list (not found, a conflict, forbidden) or
// none; anything else is a failure of ours.
func refusal(err error) bool {
	switch storage.CodeOf(err) {
	case "", storage.ENotFound, storage.EConflict, storage.EForbidden:
		return true
	}
	return false
}

// ---- 服務管理員列表 ----

func (h *rightsPages) showServiceAdmins(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	v, err := h.entityStaff(r, pt, "service_admins")
	if err != nil {
		return err
	}
	h.renderServiceAdmins(w, r, pt, http.StatusOK, v, serviceAdminsPage{Lists: true})
	return nil
}

func (h *rightsPages) renderServiceAdmins(w http.ResponseWriter, r *http.Request, pt *kit.Signed, status int, v entityView, p serviceAdminsPage) {
	p.chrome = h.chrome(w, r, pt, h.language(r, pt.Principal), "service_admins")
	p.CSRF = p.LogoutCSRF
	p.Search, p.SearchPath = listSearch(r), serviceAdminsPath
	for _, sl := range v.Staff {
		if !storage.StaffMatches(sl, p.Search) {
			continue
		}
		row := rightsRow{EUID: sl.EUID, Label: staffLabel(sl), Deleted: sl.Status == storage.StatusDeleted}
		switch {
		case sl.ServiceAdmin:
			p.With = append(p.With, row)
		case !row.Deleted: // a deleted login cannot be designated
			p.Without = append(p.Without, row)
		}
	}
	h.render.serviceAdmins(w, status, p)
}

// submitServiceAdmins designates the logins ticked in the left list
// (designate) and stops those ticked in the right list (remove) being
// service admins.
func (h *rightsPages) submitServiceAdmins(w http.ResponseWriter, r *http.Request) error {
	pt, v, t, err := h.rightsForm(w, r, "service_admins")
	if pt == nil {
		return err
	}
	on := chosenEUIDs(r.PostForm["designate"], maxChosen)
	off := chosenEUIDs(r.PostForm["remove"], maxChosen)
	if len(on)+len(off) == 0 {
		return kit.InForm(kit.Fail(storage.EInvalid, "svcadmin_none_chosen"), func(status int, key string) {
			h.renderServiceAdmins(w, r, pt, status, v, serviceAdminsPage{Lists: true, Error: t[key]})
		})
	}
	set := func(value bool, okKey string) func(storage.Actor, string) (string, error) {
		return func(a storage.Actor, euid string) (string, error) {
			_, err := h.admin.Manage.SetServiceAdmin(r.Context(), a, v.Entity.ID, euid, value)
			return okKey, err
		}
	}
	resOn, errOn, err := h.each(r, pt, v, on, t, set(true, "svcadmin_result_designated"), "svcadmin_result_conflict")
	if err != nil {
		return err
	}
	resOff, errOff, err := h.each(r, pt, v, off, t, set(false, "svcadmin_result_removed"), "svcadmin_result_conflict")
	if err != nil {
		return err
	}
	page := serviceAdminsPage{Results: append(resOn, resOff...)}
	after, err := h.entityStaff(r, pt, "service_admins")
	if err != nil {
		return err
	}
	page.Lists = true
	if failed := noneSucceeded(on, off, errOn, errOff); failed != nil {
		return kit.InForm(failed, func(status int, _ string) { h.renderServiceAdmins(w, r, pt, status, after, page) })
	}
	h.renderServiceAdmins(w, r, pt, http.StatusOK, after, page)
	return nil
}

// noneSucceeded is, for a form with two lists of chosen logins (on and
// off, each list's failure as each returns it), the failure whose status
// the answer takes when nothing succeeded; nil when something did.
func noneSucceeded(on, off []string, errOn, errOff error) error {
	if (len(on) == 0 || errOn != nil) && (len(off) == 0 || errOff != nil) {
		if errOn != nil {
			return errOn
		}
		return errOff
	}
	return nil
}

// listSearch is the search typed over the two lists: in the address of the
// page, and kept in the form so that its answer shows the same lists.
func listSearch(r *http.Request) string {
	q := strings.TrimSpace(r.FormValue("q"))
	if !storage.CleanText(q, 100) {
		return ""
	}
	return q
}
