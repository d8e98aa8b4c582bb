package portal

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// 工作人員登入號列表 of a group, or of an e-service
// itself: 未獲指派的人員名單 on the left, the entity's active staff logins
// not in it; 已獲指派的人員名單 on the right, those in it (deleted ones too,
// so that they can be taken out); tick on either side and press 更新. Each
// chosen login's result is reported. Taking a login off the e-service
// itself takes it out of the e-service's groups as well.

// svcStaffPage is the two lists of a group or of an e-service.
type svcStaffPage struct {
	chrome
	CSRF          string
	Search        string
	SearchPath    string
	FormPath      string // under the issuer
	Service       svcView
	Group         string // the group's name; "" for the e-service itself
	Target        string // 「社團服務」的「管理員」群組, or 「社團服務」
	Without, With []rightsRow
	Results       rightsResults
	Error         string
}

// svcTarget is what a two-list page acts on: an e-service of the entity
// and, unless group is "", one of its groups.
type svcTarget struct {
	v     entityView
	sv    storage.EntityService
	group string // its code
	in    map[string]bool
}

// svcTargetOf finds the e-service and the group the address names in the
// signed-in account's entity.
func (h *servicePages) svcTargetOf(r *http.Request, pt *kit.Signed) (svcTarget, error) {
	v, sv, err := h.serviceOf(r, pt)
	if err != nil {
		return svcTarget{}, err
	}
	t := svcTarget{v: v, sv: sv, group: mux.Vars(r)["group"], in: map[string]bool{}}
	members := sv.Assigned
	if t.group != "" {
		g, ok := sv.Group(t.group)
		if !ok {
			return svcTarget{}, svcNotFound()
		}
		members = g.Members
	}
	for _, euid := range members {
		t.in[euid] = true
	}
	return t, nil
}

func (h *servicePages) showServiceStaff(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	t, err := h.svcTargetOf(r, pt)
	if err != nil {
		return err
	}
	h.renderServiceStaff(w, r, pt, http.StatusOK, t, svcStaffPage{})
	return nil
}

func (h *servicePages) renderServiceStaff(w http.ResponseWriter, r *http.Request, pt *kit.Signed, status int, t svcTarget, p svcStaffPage) {
	lang := h.language(r, pt.Principal)
	p.chrome = h.chrome(w, r, pt, lang, "services")
	p.CSRF = p.LogoutCSRF
	p.Service = h.serviceView(t.sv, t.v, lang)
	p.Target = strings.ReplaceAll(p.T["svc_target_service"], "{service}", p.Service.Name)
	p.FormPath = strings.TrimPrefix(p.Service.StaffURL, h.k.BasePath)
	for _, g := range p.Service.Groups {
		if g.Code == t.group {
			p.Group = g.Name
			p.Target = strings.NewReplacer("{service}", p.Service.Name, "{group}", g.Name).Replace(p.T["svc_target_group"])
			p.FormPath = strings.TrimPrefix(g.URL, h.k.BasePath)
		}
	}
	for i := range p.Results { // what each chosen login's result was about
		p.Results[i].Message = strings.ReplaceAll(p.Results[i].Message, "{target}", p.Target)
	}
	p.Search, p.SearchPath = listSearch(r), p.FormPath
	for _, sl := range t.v.Staff {
		if !storage.StaffMatches(sl, p.Search) {
			continue
		}
		row := rightsRow{EUID: sl.EUID, Label: staffLabel(sl), Deleted: sl.Status == storage.StatusDeleted}
		switch {
		case t.in[sl.EUID]:
			p.With = append(p.With, row)
		case !row.Deleted: // only active logins are offered
			p.Without = append(p.Without, row)
		}
	}
	h.render.serviceStaff(w, status, p)
}

// submitServiceStaff assigns the logins ticked on the left (assign) and
// takes off those ticked on the right (unassign), one at a time through
// the use cases, and shows the lists as they are now with each result.
func (h *servicePages) submitServiceStaff(w http.ResponseWriter, r *http.Request) error {
	formErr := kit.ParseForm(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	if formErr != nil || !h.csrfOK(r, pt) {
		return csrfRefused(strings.TrimPrefix(r.URL.Path, h.k.BasePath), "nav_services")
	}
	t, err := h.svcTargetOf(r, pt)
	if err != nil {
		return err
	}
	tr := h.k.T(h.language(r, pt.Principal))
	on := chosenEUIDs(r.PostForm["assign"], maxChosen)
	off := chosenEUIDs(r.PostForm["unassign"], maxChosen)
	if len(on)+len(off) == 0 {
		return kit.InForm(kit.Fail(storage.EInvalid, "svc_none_chosen"), func(status int, key string) {
			h.renderServiceStaff(w, r, pt, status, t, svcStaffPage{Error: tr[key]})
		})
	}
	offKey := "svc_result_unassigned"
	if t.group == "" {
		offKey = "svc_result_unassigned_service"
	}
	act := func(assign bool, okKey string) func(storage.Actor, string) (string, error) {
		return func(a storage.Actor, euid string) (string, error) {
			do := h.admin.Manage.UnassignService
			if assign {
				do = h.admin.Manage.AssignService
			}
			changed, err := do(r.Context(), a, t.v.Entity.ID, euid, t.sv.Code, t.group)
			if storage.CodeOf(err) == storage.EInvalid { // a deleted login
				err = &storage.Error{Code: storage.EConflict, Message: storage.MessageOf(err), Err: err}
			}
			if err == nil && !changed {
				okKey = "svc_result_unchanged"
			}
			return okKey, err
		}
	}
	resOn, errOn, err := h.each(r, pt, t.v, on, tr, act(true, "svc_result_assigned"), "svc_result_deleted")
	if err != nil {
		return err
	}
	resOff, errOff, err := h.each(r, pt, t.v, off, tr, act(false, offKey), "svc_result_deleted")
	if err != nil {
		return err
	}
	after, err := h.svcTargetOf(r, pt)
	if err != nil {
		return err
	}
	page := svcStaffPage{Results: append(resOn, resOff...)}
	if failed := noneSucceeded(on, off, errOn, errOff); failed != nil {
		return kit.InForm(failed, func(status int, _ string) { h.renderServiceStaff(w, r, pt, status, after, page) })
	}
	h.renderServiceStaff(w, r, pt, http.StatusOK, after, page)
	return nil
}
