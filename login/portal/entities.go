package portal

import (
	"github.com/gorilla/mux"

	"errors"
	"net/http"
	"strconv"

	"github.com/entity-account/idp/storage"
)

// entityPages are 實體列表 and 實體資訊.
type entityPages struct{ *core }

// Mount registers 實體列表 and 實體資訊.
func (h *entityPages) Mount(r *mux.Router) {
	r.Handle(entitiesPath, h.serveAdmin(h.showEntities)).Methods(http.MethodGet, http.MethodHead)
	r.Handle(entityInfoPath, h.serveAdmin(h.showEntityInfo)).Methods(http.MethodGet, http.MethodHead)
}

// 實體列表 and 實體資訊: the entities the signed-in account administers
// (its own, the one an account belongs to) and, behind the entity's name,
// the entity with its entity account and the counts of its staff logins,
// and the way on to the pages of its administration. Who may see them is
// the rule book's storage.CanViewEntity (nav.go): admins, service admins
// and the entity account.

// entityRow is one entity of 實體列表.
type entityRow struct {
	Number, Name, URL string
}

type entitiesPage struct {
	chrome
	Entities []entityRow
}

func (h *entityPages) showEntities(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	all, err := h.admin.Manage.AdministeredEntities(r.Context(), h.actor(r, pt), pt.Principal.EntityNumber)
	if err != nil {
		return asRefusal(err)
	}
	lang := h.language(r, pt.Principal)
	p := entitiesPage{chrome: h.chrome(w, r, pt, lang, "entities")}
	for _, e := range all {
		if e.ID != pt.Principal.EntityID {
			return errors.New("administration: an entity listed is not the session's")
		}
		p.Entities = append(p.Entities, entityRow{Number: e.Number, Name: entityName(e, lang), URL: h.k.BasePath + entityInfoPath})
	}
	h.render.entities(w, p)
	return nil
}

// entityName is an entity's name in the page's language (storage.Names).
func entityName(e storage.Entity, lang string) string {
	return storage.Names{ZH: e.NameZH, PT: e.NamePT}.In(lang)
}

type entityInfoPage struct {
	chrome
	Name  string // the entity's number and name, under 實體列表
	Rows  []profileRow
	Links []navLink // the administration pages, as in the navigation
}

func (h *entityPages) showEntityInfo(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	v, err := h.entityStaff(r, pt, "entity")
	if err != nil {
		return err
	}
	lang := h.language(r, pt.Principal)
	ch := h.chrome(w, r, pt, lang, "entity")
	t := ch.T
	row := func(key, value string) profileRow {
		if value == "" {
			value = "—"
		}
		return profileRow{ID: key, Label: t[key], Value: value}
	}
	var active, deleted, admins, serviceAdmins, pending int
	for _, sl := range v.Staff {
		if sl.Status == storage.StatusDeleted {
			deleted++
			continue
		}
		active++
		if sl.Admin {
			admins++
		}
		if sl.ServiceAdmin {
			serviceAdmins++
		}
		if sl.ActivatedAt == nil {
			pending++
		}
	}
	activation := t["entity_info_not_activated"]
	if v.Account.ActivatedAt != nil {
		activation = t["entity_info_activated"] + " " + v.Account.ActivatedAt.In(macau).Format("2006-01-02 15:04")
	}
	count := func(n int) string { return strconv.Itoa(n) }
	rows := []profileRow{
		row("entity_number", v.Entity.Number),
		row("account_entity_name_zh", v.Entity.NameZH),
		row("account_entity_name_pt", v.Entity.NamePT),
		row("account_entity_kind", labelOf(t, "account_kind_", v.Entity.Kind)),
		row("entity_info_status", labelOf(t, "entity_info_status_", v.Entity.Status)),
		row("entity_info_account_username", v.Account.Username),
		row("entity_info_account_activation", activation),
		row("entity_info_staff_active", count(active)),
		row("entity_info_staff_not_activated", count(pending)),
		row("entity_info_staff_deleted", count(deleted)),
		row("entity_info_admins", count(admins)),
		row("entity_info_service_admins", count(serviceAdmins)),
	}
	var links []navLink
	for _, l := range ch.Nav {
		if l.Path != entitiesPath {
			links = append(links, l)
		}
	}
	h.render.entityInfo(w, entityInfoPage{chrome: ch,
		Name: v.Entity.Number + " " + entityName(v.Entity, lang), Rows: rows, Links: links})
	return nil
}
