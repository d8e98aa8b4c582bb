package portal

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// The entity's administration in the portal: the pages an entity's admins
// (and, for the removal of admin rights, its entity account) use to run its
// staff. Every page reads the signed-in account afresh (kit.SignedIn), acts
// through a use case of login/manage, which asks the rule book, and takes
// the entity from the session, never from the request: an id of another
// entity forged into a form or an address is not found.

// Administration is what the administration pages act through.
type Administration struct {
	Manage     *manage.Service
	Activation *activation.Service // registers staff logins and sends their codes
}

// EnableAdministration turns the administration pages on. Call it before Mount.
func (h *Handler) EnableAdministration(a Administration) { h.admin = &a }

// mountAdministration registers the administration pages (admin*.go).
func (h *Handler) mountAdministration(r *mux.Router) {
	if h.admin == nil {
		return
	}
	get := []string{http.MethodGet, http.MethodHead}
	// 實體列表, 實體資訊, 移除工作人員登入號的管理員的權限, 服務管理員列表, 最近變更 (nav.go)
	r.Handle(entitiesPath, h.serveAdmin(h.showEntities)).Methods(get...)
	r.Handle(entityInfoPath, h.serveAdmin(h.showEntityInfo)).Methods(get...)
	r.Handle(adminsPath, h.serveAdmin(h.showAdmins)).Methods(get...)
	r.Handle(adminsPath, kit.SameOrigin(h.serveAdmin(h.submitAdmins))).Methods(http.MethodPost)
	r.Handle(serviceAdminsPath, h.serveAdmin(h.showServiceAdmins)).Methods(get...)
	r.Handle(serviceAdminsPath, kit.SameOrigin(h.serveAdmin(h.submitServiceAdmins))).Methods(http.MethodPost)
	r.Handle(changesPath, h.serveAdmin(h.showChanges)).Methods(get...)
	// 服務列表, an e-service, the 工作人員登入號列表 of a group or of the e-service (services*.go)
	r.Handle(servicesPath, h.serveAdmin(h.showServices)).Methods(get...)
	r.Handle(servicesPath+"/{code}", h.serveAdmin(h.showService)).Methods(get...)
	r.Handle(servicesPath+"/{code}/groups/{group}/members", h.serveAdmin(h.showServiceGroup)).Methods(get...)
	for _, list := range []string{servicesPath + "/{code}/groups/{group}", servicesPath + "/{code}/staff"} {
		r.Handle(list, h.serveAdmin(h.showServiceStaff)).Methods(get...)
		r.Handle(list, kit.SameOrigin(h.serveAdmin(h.submitServiceStaff))).Methods(http.MethodPost)
	}
	_ = r // pages register here
	get, post := []string{http.MethodGet, http.MethodHead}, http.MethodPost
	r.Handle(staffPath, h.serveStaff(h.showStaffList)).Methods(get...) // staff*.go
	r.Handle(staffPath+"/new", h.serveStaff(h.showNewStaff)).Methods(get...)
	r.Handle(staffPath+"/new", kit.SameOrigin(h.serveStaff(h.createStaff))).Methods(post)
	r.Handle(staffPath+"/{euid}", h.serveStaff(h.showStaff)).Methods(get...)
	r.Handle(staffPath+"/{euid}/code", kit.SameOrigin(h.serveStaff(h.sendCode))).Methods(post)
	r.Handle(staffPath+"/{euid}/edit", h.serveStaff(h.showEditStaff)).Methods(get...)
	r.Handle(staffPath+"/{euid}/edit", kit.SameOrigin(h.serveStaff(h.editStaff))).Methods(post)
	r.Handle(staffPath+"/{euid}/status", h.serveStaff(h.showStaffStatus)).Methods(get...)
	r.Handle(staffPath+"/{euid}/status", kit.SameOrigin(h.serveStaff(h.setStaffStatus))).Methods(post)
}

// actor is the signed-in account as the rule book sees it, as read for
// this request (kit.SignedIn reads the account afresh).
func (h *Handler) actor(r *http.Request, pt *kit.Signed) storage.Actor {
	return storage.ActorOf(pt.Principal, h.k.ClientIP(r))
}
