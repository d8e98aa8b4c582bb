package portal

import (
	"net/http"

	"github.com/entity-account/idp/login/history"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// The portal's core, which every area holds: the signed-in account of the
// request (session → principal → actor), the chrome around every page
// (chrome and nav.go) and the refusals drawn inside it (refusals.go), and
// what the administration areas share (adminpages.go). The areas are
// separate types (entrance, accountPages, entityPages, staffPages,
// rightsPages, servicePages, changePages), each with its own Mount.

// core is what the areas share: the kit, and which optional areas are on
// (the chrome links to them).
type core struct {
	k      *kit.Kit
	render renderer        // the pages, one method each (pages.go)
	admin  *Administration // nil: no administration pages
	tools  *Tools          // nil: no identity-tool pages
	// history is 登入記錄's reading; nil: no such page.
	history *history.Service
}

// serve answers the portal's failures as the sign-in's: its sign-in form
// is the same form, and a person who fails there sees the same pages; a
// signed-in account sees them inside the portal (refusals.go).
func (h *core) serve(p kit.Page) http.Handler { return h.k.Serve(h.framed(kit.SignInErrors), p) }

// require returns the signed-in account; without one it sends the browser
// to the portal's sign-in and returns nil, with an error only when a store
// could not say.
func (h *core) require(w http.ResponseWriter, r *http.Request) (*kit.Signed, error) {
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
func (h *core) language(r *http.Request, p storage.Principal) string {
	return h.k.Language(r, p.Language)
}

// common is kit.Common with language links back to this page's GET (also
// after a POST, which the sign-in form's links would send elsewhere).
func (h *core) common(r *http.Request, lang string) kit.Common {
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
	// HistoryLink: 登入記錄 is on (every account sees its own).
	HistoryLink bool
	// Nav are the administration pages the account may open, from the rule
	// book with its rights as read for this request (nav.go): never from
	// what the session remembers.
	Nav []navLink
}

func (h *core) chrome(w http.ResponseWriter, r *http.Request, pt *kit.Signed, lang, current string) chrome {
	c := chrome{
		Common:     h.common(r, lang),
		Current:    current,
		Who:        pt.Principal.Username + " (" + pt.Principal.EntityNumber + ")",
		LogoutCSRF: h.k.CSRFToken(w, r, sessionBinding(pt.Session.SessionID)),
	}
	c.ToolsLink = h.tools != nil && storage.CanHoldTools(h.actor(r, pt))
	c.HistoryLink = h.history != nil
	c.Nav = h.navLinks(r, pt, c.T, current)
	return c
}

// actor is the signed-in account as the rule book sees it, as read for
// this request (kit.SignedIn reads the account afresh).
func (h *core) actor(r *http.Request, pt *kit.Signed) storage.Actor {
	return storage.ActorOf(pt.Principal, h.k.ClientIP(r))
}
