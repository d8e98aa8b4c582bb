// Package desk is the operator's desk: the pages where the officers of
// 行政公職局 do, in a browser, every act of the operator. It is served on a
// listener of its own (IDP_DESK_LISTEN, loopback or an internal network),
// never on the public one, over a kit of its own (its own CSRF cookie and
// key), and signs officers in with a password and a second factor into
// desk sessions that idle out after storage.DeskIdle.
//
// Each area is a handler type over the core (core.go) with its own Mount;
// every page goes through core.page, which admits the signed-in officer to
// the page's act by the rule book (storage.OfficerMay) at every request.
package desk

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/entitydesk"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/login/register"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
)

// Deps are what the desk acts through: the officers' use cases and the
// desk sessions; each area adds the use cases it calls.
type Deps struct {
	Officers *officers.Service
	Sessions storage.DeskSessions
	// Intake opens entities (申請開立實體使用者帳戶): the use case of `idp
	// entity create`. Without it the desk has no intake.
	Intake *activation.Service
	// Entities are the use cases of 實體 (entities.go); nil: the desk has
	// no pages of entities.
	Entities *entitydesk.Service
	// Tools are the identity-tool use cases: the in-person approval of a
	// 安全驗證碼 by its QR code, resetting tools, switching passkeys on
	// (approve.go); nil: no such pages.
	Tools *tools.Service

	// The register (departments, e-services, clients) and the audit
	// trail: the use cases the idp commands call, and what the pages read.
	Register     *register.Register
	Departments  *manage.Departments
	ClientKeeper *register.ClientKeeper
	Registry     Registry

	// Guide is the address of the guide's pages for officers on the
	// public listener ({IDP_ISSUER}/help/officer), named on the home page;
	// "": none.
	Guide string
}

// Handler serves the desk.
type Handler struct{ core *core }

// New returns the desk over k (a kit of the desk's own: base path "", its
// own CSRF cookie) and d.
func New(k *kit.Kit, d Deps) *Handler {
	if d.Officers == nil || d.Sessions == nil {
		panic("desk: New without the officers' use cases or the desk sessions")
	}
	return &Handler{core: &core{k: k, Deps: d}}
}

// Mount registers the desk's pages, area by area.
func (h *Handler) Mount(r *mux.Router) {
	c := h.core
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", kit.StaticFiles()))
	(&homePages{core: c}).Mount(r)
	(&authPages{core: c}).Mount(r)
	(&officerPages{core: c}).Mount(r)
	(&passkeyPages{core: c}).Mount(r)
	if c.Intake != nil {
		(&intakePages{core: c}).Mount(r)
	}
	if c.Entities != nil {
		(&entityPages{core: c}).Mount(r)
	}
	(&approvePages{core: c}).Mount(r)
	(&departmentPages{core: c}).Mount(r)
	(&servicePages{core: c}).Mount(r)
	(&clientPages{core: c}).Mount(r)
	(&auditPages{core: c}).Mount(r)
	r.NotFoundHandler = c.page(storage.ActUseDesk, c.showNotFound)
}

// Router is the desk's whole handler: its pages behind the security
// headers every answer of ours carries.
func (h *Handler) Router() http.Handler {
	r := mux.NewRouter()
	h.Mount(r)
	return kit.SecurityHeaders(r)
}
