package desk

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/storage"
)

// homePages are the desk's home and its sign-out.
type homePages struct{ *core }

// Mount registers the home page and the sign-out.
func (h *homePages) Mount(r *mux.Router) {
	r.Handle(homePath, h.page(storage.ActUseDesk, h.showHome)).Methods(http.MethodGet)
	r.Handle(signOutPath, h.page(storage.ActUseDesk, h.signOut)).Methods(http.MethodPost)
}

// homePage is desk_home.html: the officer's name and role, the pages its
// role opens (the navigation's entries, as a list), and the address of
// the officers' guide.
type homePage struct {
	Chrome
	Guide string
}

func (h *homePages) showHome(w http.ResponseWriter, r *http.Request, d *Desk) error {
	h.k.Render(w, http.StatusOK, "desk_home.html", homePage{Chrome: d.Chrome("home"), Guide: h.Guide})
	return nil
}

// signOut ends the desk session (a form with the session's CSRF token:
// another site cannot sign an officer out).
func (h *homePages) signOut(w http.ResponseWriter, r *http.Request, d *Desk) error {
	h.endSession(w, r)
	http.Redirect(w, r, signInPath, http.StatusSeeOther)
	return nil
}
