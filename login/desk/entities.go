package desk

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/entitydesk"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// entityPages are 實體 at the desk: the search of entities and staff
// logins, an entity's page with its acts, and a staff login's record.
// Every act is a POST form with the session's CSRF token, admitted by the
// rule book to its own act (core.page) and done by the use case
// (login/entitydesk), which asks the rule book again and audits the
// officer; a refusal is a sentence on the entity's page.
type entityPages struct{ *core }

const entitiesPath = "/entities"

// entityAct is one form of an entity's page: the path under the entity,
// the act the rule book admits it to, and what it does with the form's
// fields (f).
type entityAct struct {
	path string
	act  storage.OperatorAct
	do   func(ctx context.Context, s *entitydesk.Service, a storage.Actor, number string, f func(string) string) error
}

// entityActs are the acts of an entity's page; each says what it did by
// the catalogue key desk_entities_done_PATH.
var entityActs = []entityAct{
	{"grant-admin", storage.ActGrantAdmin, func(ctx context.Context, s *entitydesk.Service, a storage.Actor, n string, f func(string) string) error {
		_, err := s.GrantAdmin(ctx, a, n, f("euid"), f("document"))
		return err
	}},
	{"close", storage.ActCloseEntity, func(ctx context.Context, s *entitydesk.Service, a storage.Actor, n string, f func(string) string) error {
		_, err := s.Close(ctx, a, n, f("reason"))
		return err
	}},
	{"reopen", storage.ActCloseEntity, func(ctx context.Context, s *entitydesk.Service, a storage.Actor, n string, f func(string) string) error {
		_, err := s.Reopen(ctx, a, n, f("reason"))
		return err
	}},
	{"code", storage.ActSendCode, func(ctx context.Context, s *entitydesk.Service, a storage.Actor, n string, f func(string) string) error {
		return s.SendCode(ctx, a, n, f("euid"), storage.Channel(f("channel")))
	}},
	{"password-reset", storage.ActResetPassword, func(ctx context.Context, s *entitydesk.Service, a storage.Actor, n string, f func(string) string) error {
		_, err := s.ResetPassword(ctx, a, n, f("euid"))
		return err
	}},
	{"signout", storage.ActSignOutLogin, func(ctx context.Context, s *entitydesk.Service, a storage.Actor, n string, f func(string) string) error {
		_, err := s.SignOut(ctx, a, n, f("euid"))
		return err
	}},
	{"unlock", storage.ActUnlockLogin, func(ctx context.Context, s *entitydesk.Service, a storage.Actor, n string, f func(string) string) error {
		_, err := s.Unlock(ctx, a, n, f("euid"))
		return err
	}},
}

// Mount registers the search, the entity's page, its acts and the
// opening of a staff login's record.
func (h *entityPages) Mount(r *mux.Router) {
	r.Handle(entitiesPath, h.page(storage.ActReadEntities, h.showSearch)).Methods(http.MethodGet)
	r.Handle(entitiesPath+"/{number}", h.page(storage.ActReadEntities, h.showEntity)).Methods(http.MethodGet)
	// The record is opened by a form, never a link: its opening is audited,
	// and no prefetch or crawler opens it.
	r.Handle(entitiesPath+"/{number}/staff/{euid}/record", h.page(storage.ActReadEntities, h.openRecord)).Methods(http.MethodPost)
	for _, a := range entityActs {
		r.Handle(entitiesPath+"/{number}/"+a.path, h.page(a.act, h.act(a))).Methods(http.MethodPost)
	}
}

// entityURL is the page of the entity numbered number (canonical when it
// is an entity number at all).
func entityURL(number string) string {
	if n, ok := storage.NormalizeEntityNumber(number); ok {
		number = n
	}
	return entitiesPath + "/" + url.PathEscape(number)
}

// showSearch is the search (desk_entities.html): the form, and what the
// text q finds.
func (h *entityPages) showSearch(w http.ResponseWriter, r *http.Request, d *Desk) error {
	p := searchPage{Chrome: d.Chrome("entities"), Query: r.URL.Query().Get("q")}
	if p.Query != "" {
		res, err := h.Entities.Search(r.Context(), d.Actor, p.Query)
		if err != nil {
			return kit.InForm(err, func(status int, key string) {
				p.Error = d.T()[key]
				h.k.Render(w, status, "desk_entities.html", p)
			})
		}
		p.Searched = true
		p.fill(res, d.T())
	}
	h.k.Render(w, http.StatusOK, "desk_entities.html", p)
	return nil
}

// showEntity is an entity's page (desk_entity.html); ?done=ACT says what
// the act just did.
func (h *entityPages) showEntity(w http.ResponseWriter, r *http.Request, d *Desk) error {
	done := ""
	for _, a := range entityActs {
		if r.URL.Query().Get("done") == a.path {
			done = "desk_entities_done_" + a.path
		}
	}
	return h.renderEntity(w, r, d, http.StatusOK, done, "")
}

// renderEntity draws the entity's page of the request with status, the
// sentence of done (what an act did) or of refused (why it was not done).
func (h *entityPages) renderEntity(w http.ResponseWriter, r *http.Request, d *Desk, status int, done, refused string) error {
	number := mux.Vars(r)["number"]
	pg, err := h.Entities.Entity(r.Context(), d.Actor, number)
	if err != nil {
		return err
	}
	t := d.T()
	p := newEntityPage(d.Chrome("entities"), pg, d.Officer, t)
	p.Done, p.Error = t[done], t[refused]
	h.k.Render(w, status, "desk_entity.html", p)
	return nil
}

// act runs a of the entity's page: on success back to the page, which
// says what was done (a reload then repeats nothing); refused, the page
// again with the sentence why. An entity that is not there is the desk's
// refusal page.
func (h *entityPages) act(a entityAct) DeskPage {
	return func(w http.ResponseWriter, r *http.Request, d *Desk) error {
		number := mux.Vars(r)["number"]
		err := a.do(r.Context(), h.Entities, d.Actor, number, r.PostFormValue)
		switch {
		case err == nil:
			http.Redirect(w, r, entityURL(number)+"?done="+a.path, http.StatusSeeOther)
			return nil
		case storage.CodeOf(err) == storage.ENotFound && isKey(err, "desk_entities_err_entity_not_found"):
			return err
		}
		return kit.InForm(err, func(status int, key string) {
			if err := h.renderEntity(w, r, d, status, "", key); err != nil {
				h.k.Error(w, r, h.look(), err)
			}
		})
	}
}

// isKey reports whether err is a *storage.Error with the catalogue key.
func isKey(err error, key string) bool {
	var e *storage.Error
	return errors.As(err, &e) && e.Key == key
}

// openRecord shows a staff login's record (desk_entity_record.html): its
// registration whole, the opening audited by the use case first.
func (h *entityPages) openRecord(w http.ResponseWriter, r *http.Request, d *Desk) error {
	v := mux.Vars(r)
	rec, err := h.Entities.StaffRecord(r.Context(), d.Actor, v["number"], v["euid"])
	if err != nil {
		return err
	}
	h.k.Render(w, http.StatusOK, "desk_entity_record.html", newRecordPage(d.Chrome("entities"), rec, d.T()))
	return nil
}
