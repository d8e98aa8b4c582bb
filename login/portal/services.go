package portal

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// servicePages are 服務列表, an e-service with its groups, and the
// 工作人員登入號列表 of a group or of the e-service where staff are
// assigned (services_staff.go).
type servicePages struct{ *core }

// Mount registers the service pages.
func (h *servicePages) Mount(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle(servicesPath, h.serveAdmin(h.showServices)).Methods(get...)
	r.Handle(servicesPath+"/{code}", h.serveAdmin(h.showService)).Methods(get...)
	r.Handle(servicesPath+"/{code}/groups/{group}/members", h.serveAdmin(h.showServiceGroup)).Methods(get...)
	for _, list := range []string{servicesPath + "/{code}/groups/{group}", servicesPath + "/{code}/staff"} {
		r.Handle(list, h.serveAdmin(h.showServiceStaff)).Methods(get...)
		r.Handle(list, kit.SameOrigin(h.serveAdmin(h.submitServiceStaff))).Methods(http.MethodPost)
	}
}

// 服務列表: the e-services opened to the signed-in account's
// entity, each with its groups and who of the entity is in each; a
// service's page; and, on each group (or on the e-service itself), the
// 工作人員登入號列表 with its two lists (services_staff.go). For
// the entity's admins and service admins (storage.CanAssignServices);
// everything goes through manage.EntityServices, AssignService and
// UnassignService, which look everything up in the session's entity only:
// an e-service, a group or an EUID of another entity is not found.

const servicesPath = "/account/services"

// svcMember is one staff login in a group or an e-service.
type svcMember struct {
	Username, EUID, Name string
	Deleted              bool
}

// svcGroup is a group as the pages show it.
type svcGroup struct {
	Code, Name string
	Members    []svcMember
	URL        string // its 工作人員登入號列表
	PageURL    string // its page: who is assigned to it
}

// svcView is an e-service as the pages show it, in the page's language.
type svcView struct {
	Code, Name string
	Enrolled   bool // policy enrolled: any staff login of the entity may use it
	URL        string
	Groups     []svcGroup
	Assigned   []svcMember // assigned to the e-service itself
	StaffURL   string      // the 工作人員登入號列表 of the e-service itself
}

type servicesPage struct {
	chrome
	Services []svcView
}

type servicePage struct {
	chrome
	Service svcView
	// Sections are each group with its members and a link to its
	// 工作人員登入號列表, then the e-service itself with the logins assigned
	// to it.
	Sections []svcSection
}

// svcSection is one list of members on an e-service's page.
type svcSection struct {
	ID, Title, Code, Help string
	Members               []svcMember
	URL                   string // its 工作人員登入號列表
	PageURL               string // a group's page, which its name links to; "" for the e-service itself
}

// serviceURL is the address of an e-service's page, or of one of its pages.
func (h *servicePages) serviceURL(code string, more ...string) string {
	u := h.k.BasePath + servicesPath + "/" + url.PathEscape(code)
	for _, m := range more {
		u += "/" + url.PathEscape(m)
	}
	return u
}

// svcNotFound is the answer for an e-service or a group the entity does
// not have.
func svcNotFound() error {
	return kit.Fail(storage.ENotFound, "svc_error_not_found").WithHeading("nav_not_found_heading").WithLink(servicesPath, "nav_services")
}

// serviceView turns an e-service of the entity v into what the pages show.
func (h *servicePages) serviceView(sv storage.EntityService, v entityView, lang string) svcView {
	members := func(euids []string) []svcMember {
		out := []svcMember{}
		for _, euid := range euids {
			m := svcMember{EUID: euid}
			if sl, ok := v.byEUID(euid); ok {
				m.Username, m.Deleted = sl.Username, sl.Status == storage.StatusDeleted
				m.Name = sl.NameZH
				if m.Name == "" {
					m.Name = sl.NameForeign
				}
			}
			out = append(out, m)
		}
		return out
	}
	out := svcView{
		Code: sv.Code, Name: sv.Names().In(lang), Enrolled: sv.AccessPolicy == storage.PolicyEnrolled,
		URL: h.serviceURL(sv.Code), Assigned: members(sv.Assigned), StaffURL: h.serviceURL(sv.Code, "staff"),
	}
	for _, g := range sv.Groups {
		out.Groups = append(out.Groups, svcGroup{Code: g.Code, Name: g.Names().In(lang), Members: members(g.Members),
			URL: h.serviceURL(sv.Code, "groups", g.Code), PageURL: h.serviceURL(sv.Code, "groups", g.Code, "members")})
	}
	return out
}

// servicesOf is the signed-in account's entity with its staff and its
// e-services, for an account that may assign them; otherwise the refusal.
func (h *servicePages) servicesOf(r *http.Request, pt *kit.Signed) (entityView, []storage.EntityService, error) {
	v, err := h.entityStaff(r, pt, "services")
	if err != nil {
		return v, nil, err
	}
	all, err := h.admin.Manage.EntityServices(r.Context(), h.actor(r, pt), v.Entity.ID)
	return v, all, asRefusal(err)
}

// serviceOf is servicesOf narrowed to the e-service the address names.
func (h *servicePages) serviceOf(r *http.Request, pt *kit.Signed) (entityView, storage.EntityService, error) {
	v, all, err := h.servicesOf(r, pt)
	if err != nil {
		return v, storage.EntityService{}, err
	}
	sv, err := pickService(r, all)
	return v, sv, err
}

// pickService is the e-service of all that the address names.
func pickService(r *http.Request, all []storage.EntityService) (storage.EntityService, error) {
	code := mux.Vars(r)["code"]
	for _, sv := range all {
		if sv.Code == code {
			return sv, nil
		}
	}
	return storage.EntityService{}, svcNotFound()
}

// openServices opens a GET of 服務列表 or of an e-service's page: the
// signed-in account (nil when the request goes no further, err then the
// refusal or a failure), its entity with its staff and e-services, and the
// page language.
func (h *servicePages) openServices(w http.ResponseWriter, r *http.Request) (*kit.Signed, entityView, []storage.EntityService, string, error) {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return nil, entityView{}, nil, "", err
	}
	v, all, err := h.servicesOf(r, pt)
	if err != nil {
		return nil, v, nil, "", err
	}
	return pt, v, all, h.language(r, pt.Principal), nil
}

// ---- 服務列表 ----

func (h *servicePages) showServices(w http.ResponseWriter, r *http.Request) error {
	pt, v, all, lang, err := h.openServices(w, r)
	if pt == nil {
		return err
	}
	p := servicesPage{chrome: h.chrome(w, r, pt, lang, "services")}
	for _, sv := range all {
		p.Services = append(p.Services, h.serviceView(sv, v, lang))
	}
	h.render.services(w, p)
	return nil
}

// ---- an e-service's page ----

// openService is openServices narrowed to the e-service the address names:
// the page's chrome and the e-service as the signed-in account sees it, or
// the refusal (nil chrome).
func (h *servicePages) openService(w http.ResponseWriter, r *http.Request) (*chrome, svcView, error) {
	pt, v, all, lang, err := h.openServices(w, r)
	if pt == nil {
		return nil, svcView{}, err
	}
	sv, err := pickService(r, all)
	if err != nil {
		return nil, svcView{}, err
	}
	c := h.chrome(w, r, pt, lang, "services")
	return &c, h.serviceView(sv, v, lang), nil
}

func (h *servicePages) showService(w http.ResponseWriter, r *http.Request) error {
	c, service, err := h.openService(w, r)
	if c == nil {
		return err
	}
	p := servicePage{chrome: *c, Service: service}
	for _, g := range p.Service.Groups {
		p.Sections = append(p.Sections, svcSection{ID: "group_" + g.Code, Title: g.Name, Code: g.Code, Members: g.Members, URL: g.URL, PageURL: g.PageURL})
	}
	itself := svcSection{ID: "service_staff", Title: p.T["svc_assigned_service"], Members: p.Service.Assigned, URL: p.Service.StaffURL}
	if len(p.Service.Groups) > 0 {
		itself.Help = p.T["svc_assigned_service_help"]
	}
	p.Sections = append(p.Sections, itself)
	h.render.service(w, p)
	return nil
}

// ---- a group's page ----

// groupPage is a group of an e-service with who is assigned to it, and the
// way on to its 工作人員登入號列表: what a group's name on the e-service's
// page leads to.
type groupPage struct {
	chrome
	Service svcView
	Group   svcGroup
}

func (h *servicePages) showServiceGroup(w http.ResponseWriter, r *http.Request) error {
	c, service, err := h.openService(w, r)
	if c == nil {
		return err
	}
	p := groupPage{chrome: *c, Service: service}
	for _, g := range p.Service.Groups {
		if g.Code == mux.Vars(r)["group"] {
			p.Group = g
			h.render.serviceGroup(w, p)
			return nil
		}
	}
	return svcNotFound()
}
