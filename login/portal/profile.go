package portal

import (
	"errors"
	"net/http"

	"github.com/entity-account/idp/storage"
)

// profileRow is one labelled value of the profile; ID names it in the page.
type profileRow struct{ ID, Label, Value string }

type profilePage struct {
	chrome
	Rows []profileRow
	// Tools is the line about the login's identity tools, with a link to
	// their page; "" for an account that holds none.
	Tools string
}

// showProfile is 「個人資料」: the signed-in account's own data.
func (h *accountPages) showProfile(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	lang := h.language(r, pt.Principal)
	rows, err := h.profileRows(r, pt.Principal, lang)
	if err != nil {
		return err
	}
	summary, err := h.toolsSummary(r, pt, h.k.T(lang))
	if err != nil {
		return err
	}
	h.render.profile(w, profilePage{
		chrome: h.chrome(w, r, pt, lang, "profile"),
		Rows:   rows,
		Tools:  summary,
	})
	return nil
}

// profileRows reads the account of p (by its own id, from the session) and
// its entity, and lays them out in lang.
func (h *accountPages) profileRows(r *http.Request, p storage.Principal, lang string) ([]profileRow, error) {
	ctx := r.Context()
	t := h.k.T(lang)
	e, err := h.k.Dir.Entity(ctx, p.EntityID)
	if err != nil {
		return nil, err
	}
	row := func(key, value string) profileRow {
		if value == "" {
			value = "—"
		}
		return profileRow{ID: key, Label: t[key], Value: value}
	}
	yesNo := func(b bool) string {
		if b {
			return t["account_yes"]
		}
		return t["account_no"]
	}
	entityRows := []profileRow{
		row("entity_number", e.Number),
		row("account_entity_name_zh", e.NameZH),
		row("account_entity_name_pt", e.NamePT),
		row("account_entity_kind", labelOf(t, "account_kind_", e.Kind)),
	}

	switch p.Kind {
	case storage.KindStaff:
		sl, err := h.k.Dir.StaffLogin(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if sl.EUID != p.Subject || sl.EntityID != e.ID {
			return nil, errors.New("profile: staff login does not match the session")
		}
		kind := t["account_type_staff"]
		if sl.Admin {
			kind = t["account_type_admin"]
		}
		rows := []profileRow{
			row("account_type", kind),
			row("username", sl.Username),
			row("account_euid", sl.EUID),
			row("account_name_zh", sl.NameZH),
			row("account_name_foreign", sl.NameForeign),
			row("account_id_doc_type", labelOf(t, "staff_doc_", sl.IDDocType)),
			row("account_id_doc_number", storage.MaskDocNumber(sl.IDDocNumber)),
			row("account_id_doc_issue_place", sl.IDDocIssuePlace),
			row("account_birth_date", sl.BirthDate.Format("2006-01-02")),
			row("account_mobile", sl.Mobile),
			row("account_email", sl.Email),
			row("account_language", labelOf(t, "staff_lang_", sl.Language)),
			row("account_admin", yesNo(sl.Admin)),
			row("account_service_admin", yesNo(sl.ServiceAdmin)),
		}
		return append(rows, entityRows...), nil
	case storage.KindEntityAccount:
		a, err := h.k.Dir.EntityAccount(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		if a.ID != p.ID || a.Subject != p.Subject {
			return nil, errors.New("profile: entity account does not match the session")
		}
		rows := []profileRow{
			row("account_type", t["account_type_entity_account"]),
			row("username", a.Username),
		}
		rows = append(rows, entityRows...)
		return append(rows,
			row("account_mobile", a.Mobile),
			row("account_email", a.Email),
			row("account_language", labelOf(t, "staff_lang_", a.Language)),
		), nil
	}
	return nil, errors.New("profile: unknown account kind " + string(p.Kind))
}

// labelOf is the catalogue's name for a code (prefix+code), or the code
// itself when the catalogue has none.
func labelOf(t map[string]string, prefix, code string) string {
	if v := t[prefix+code]; v != "" {
		return v
	}
	return code
}
