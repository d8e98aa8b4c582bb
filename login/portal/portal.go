// Package portal is the self-service portal: its own sign-in, where the
// entity account may sign in too (the only place it can), the profile page
// 「個人資料」 with the EUID, 「變更密碼」, a staff login's own
// 「電子身份識別工具」 (tools*.go) and the entity's administration (admin*.go).
// Its pages act only for the account of the browser's SSO session: none
// takes an account id from the request.
package portal

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/credential"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/signin"
	"github.com/entity-account/idp/storage"
)

// Paths of the portal, under the issuer's path.
const (
	profilePath  = "/account"
	passwordPath = "/account/password"
	logoutPath   = "/account/logout"
	// LoginPath is the portal's sign-in, where activation leads.
	LoginPath = "/account/login"
)

// CSRF bindings of the portal's forms (see kit.CSRFToken): the sign-in form
// is bound to the browser only; the forms of a signed-in page are bound to
// the session too, so a token dies with the session it was issued for.
const loginBinding = "account-login"

func sessionBinding(sid string) string { return "account\x00" + sid }

// Handler serves the portal.
type Handler struct {
	k      *kit.Kit
	signin *signin.Handler // the three-field check and the session start
	hasher *password.Hasher
	// passwords is the password change (password.go).
	passwords *credential.Passwords
	admin     *Administration // nil: no administration pages (admin.go)
	tools     *Tools          // nil: no identity-tool pages (tools.go)
}

// New returns the portal over k, signing in as si does.
func New(k *kit.Kit, si *signin.Handler, hasher *password.Hasher) *Handler {
	return &Handler{k: k, signin: si, hasher: hasher, passwords: credential.New(k.Dir, k.State, hasher)}
}

// Mount registers the portal: sign-in and sign-out, profile and password change.
func (h *Handler) Mount(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle(profilePath, h.serve(h.showProfile)).Methods(get...)
	r.Handle(LoginPath, h.serve(h.showLogin)).Methods(get...)
	r.Handle(LoginPath, kit.SameOrigin(h.serve(h.submitLogin))).Methods(http.MethodPost)
	r.Handle(LoginPath+"/passkey", kit.SameOrigin(h.serve(h.submitPasskeyLogin))).Methods(http.MethodPost)
	r.Handle(passwordPath, h.serve(h.showPassword)).Methods(get...)
	r.Handle(passwordPath, kit.SameOrigin(h.serve(h.submitPassword))).Methods(http.MethodPost)
	r.Handle(logoutPath, kit.SameOrigin(h.serve(h.logout))).Methods(http.MethodPost)
	h.mountAdministration(r)
	h.mountTools(r)
	// Last: an address under /account that no page above has is the
	// portal's 404, inside its navigation (refusals.go).
	r.PathPrefix(profilePath + "/").Handler(h.serve(h.showNotFound))
}

// serve answers the portal's failures as the sign-in's: its sign-in form
// is the same form, and a person who fails there sees the same pages; a
// signed-in account sees them inside the portal (refusals.go).
func (h *Handler) serve(p kit.Page) http.Handler { return h.k.Serve(h.framed(kit.SignInErrors), p) }

// require returns the signed-in account; without one it sends the browser
// to the portal's sign-in and returns nil, with an error only when a store
// could not say.
func (h *Handler) require(w http.ResponseWriter, r *http.Request) (*kit.Signed, error) {
	pt, err := h.k.SignedIn(r)
	if err != nil {
		return nil, err
	}
	if pt == nil {
		http.Redirect(w, r, h.k.BasePath+LoginPath, http.StatusSeeOther)
	}
	return pt, nil
}

// language is the page language for a signed-in account: an explicit
// choice first, then the account's own language, then the browser's.
func (h *Handler) language(r *http.Request, p storage.Principal) string {
	return h.k.Language(r, p.Language)
}

// common is kit.Common with language links back to this page's GET (also
// after a POST, which the sign-in form's links would send elsewhere).
func (h *Handler) common(r *http.Request, lang string) kit.Common {
	return h.k.CommonAt(r, lang, r.URL.Path)
}

// chrome is what every signed-in portal page shows around its content: the
// navigation and the sign-out form. Current names the page shown, so that
// its link carries aria-current: profile, password, tools, or one of the
// administration pages (entity, staff, admins, service_admins, changes;
// see nav.go).
type chrome struct {
	kit.Common
	Current    string
	Who        string // username (entity number)
	LogoutCSRF string
	// ToolsLink: the account may open 電子身份識別工具 (a staff login, when
	// the pages are on), by the rule book.
	ToolsLink bool
	// Nav are the administration pages the account may open, from the rule
	// book with its rights as read for this request (nav.go): never from
	// what the session remembers.
	Nav []navLink
}

func (h *Handler) chrome(w http.ResponseWriter, r *http.Request, pt *kit.Signed, lang, current string) chrome {
	c := chrome{
		Common:     h.common(r, lang),
		Current:    current,
		Who:        pt.Principal.Username + " (" + pt.Principal.EntityNumber + ")",
		LogoutCSRF: h.k.CSRFToken(w, r, sessionBinding(pt.Session.SessionID)),
	}
	c.ToolsLink = h.tools != nil && storage.CanHoldTools(h.actor(r, pt))
	c.Nav = h.navLinks(r, pt, c.T, current)
	return c
}
