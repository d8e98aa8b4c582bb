package portal

import (
	"net/http"
	"strconv"

	"github.com/entity-account/idp/storage"
)

// 實體資訊: the one entity the login
// administers, its own, with its entity account and the counts of its staff
// logins, and the way on to the pages of its administration.

type entityInfoPage struct {
	chrome
	Rows  []profileRow
	Links []navLink // the administration pages, as in the navigation
}

func (h *Handler) showEntityInfo(w http.ResponseWriter, r *http.Request) error {
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
		if !l.Current {
			links = append(links, l)
		}
	}
	h.k.Render(w, http.StatusOK, "account_entity.html", entityInfoPage{chrome: ch, Rows: rows, Links: links})
	return nil
}
