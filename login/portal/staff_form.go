package portal

import (
	"net/http"
	"net/url"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// The registration form of a staff login: 新增工作人員登入號及關聯至實體 (a new
// login, its activation code sent by the channel chosen) and 編輯 → 更改 (the
// same fields but username and EUID, which never change). A wrong field
// shows the form again with every value kept, each message next to its
// field, and the first wrong field focused.

// formField is one field of a page's form.
type formField struct {
	Name, Label             string
	Kind                    string // text, email, tel, select or radio
	Value                   string
	Help                    string // shown under the field (its id is Name_help)
	Error                   string // shown under the field (its id is Name_error)
	Required                bool
	Focus                   bool
	Autocomplete, InputMode string
	// MaxLength is the field's limit in characters, as the server counts
	// (0: none shown). A browser counts maxlength in UTF-16 units, so it
	// stops at fewer astral characters (an emoji, a rare CJK ideograph)
	// than the server would take: it never lets through what is refused.
	MaxLength int
	Options   []formOption // select and radio
}

type formOption struct {
	Value, Label string
	Selected     bool
}

type staffFormPage struct {
	chrome
	CSRF     string
	Editing  bool
	Action   string
	EUID     string // editing: whose registration
	Username string
	Fields   []formField
	Error    string // the summary of what is wrong, role=alert
	BackURL  string
}

// readRegistration is the registration form as submitted.
func readRegistration(f url.Values) storage.StaffRegistration {
	return storage.StaffRegistration{
		NameZH: f.Get("name_zh"), NameForeign: f.Get("name_foreign"),
		IDDocType: f.Get("id_doc_type"), IDDocNumber: f.Get("id_doc_number"), IDDocIssuePlace: f.Get("id_doc_issue_place"),
		BirthDate: f.Get("birth_date"), Mobile: f.Get("mobile"), Email: f.Get("email"), Language: f.Get("language"),
	}
}

// registrationOf is a login's registration as the edit form shows it.
func registrationOf(sl storage.StaffLogin) storage.StaffRegistration {
	birth := ""
	if !sl.BirthDate.IsZero() {
		birth = sl.BirthDate.Format("2006-01-02")
	}
	return storage.StaffRegistration{
		NameZH: sl.NameZH, NameForeign: sl.NameForeign, IDDocType: sl.IDDocType, IDDocNumber: sl.IDDocNumber,
		IDDocIssuePlace: sl.IDDocIssuePlace, BirthDate: birth, Mobile: sl.Mobile, Email: sl.Email, Language: sl.Language,
	}
}

// fieldErrors are the messages of the wrong fields err names, by field, in
// language t; nil when err names no field.
func fieldErrors(t map[string]string, err error) map[string]string {
	var out map[string]string
	for _, e := range storage.FieldErrors(err) {
		if e.Field == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		if _, seen := out[e.Field]; !seen {
			out[e.Field] = t[e.Key]
			if out[e.Field] == "" {
				out[e.Field] = t["staff_error_invalid"]
			}
		}
	}
	return out
}

// options lists values with their catalogue names (prefix+value), value
// selected.
func options(t map[string]string, prefix string, values []string, selected string) []formOption {
	out := make([]formOption, 0, len(values))
	for _, v := range values {
		out = append(out, formOption{Value: v, Label: labelOf(t, prefix, v), Selected: v == selected})
	}
	return out
}

// registrationFields lays the form out with values reg (and the channel
// when channel is not ""), errs next to their fields, the first wrong one
// focused (or the first field of a blank form).
func registrationFields(t map[string]string, reg storage.StaffRegistration, channel string, errs map[string]string) []formField {
	fields := []formField{
		{Name: "name_zh", Label: t["account_name_zh"], Kind: "text", Value: reg.NameZH, Help: t["staff_name_help"], Autocomplete: "off", MaxLength: storage.MaxNameLength},
		{Name: "name_foreign", Label: t["account_name_foreign"], Kind: "text", Value: reg.NameForeign, Autocomplete: "off", MaxLength: storage.MaxNameLength},
		{Name: "id_doc_type", Label: t["account_id_doc_type"], Kind: "select", Required: true,
			Options: options(t, "staff_doc_", storage.IDDocTypes, reg.IDDocType)},
		{Name: "id_doc_number", Label: t["account_id_doc_number"], Kind: "text", Value: reg.IDDocNumber, Required: true,
			Help: t["staff_id_doc_number_help"], Autocomplete: "off"},
		{Name: "id_doc_issue_place", Label: t["account_id_doc_issue_place"], Kind: "text", Value: reg.IDDocIssuePlace, Autocomplete: "off", MaxLength: storage.MaxNameLength},
		{Name: "birth_date", Label: t["account_birth_date"], Kind: "text", Value: reg.BirthDate, Required: true,
			Help: t["staff_birth_date_help"], Autocomplete: "off", InputMode: "numeric"},
		{Name: "mobile", Label: t["account_mobile"], Kind: "tel", Value: reg.Mobile, Help: t["staff_mobile_help"], Autocomplete: "off"},
		{Name: "email", Label: t["account_email"], Kind: "email", Value: reg.Email, Autocomplete: "off", MaxLength: storage.MaxEmailLength},
		{Name: "language", Label: t["account_language"], Kind: "select", Required: true,
			Options: options(t, "staff_lang_", storage.Languages, reg.Language)},
	}
	if channel != "" {
		fields = append(fields, formField{Name: "channel", Label: t["staff_channel"], Kind: "radio", Required: true,
			Help: t["staff_channel_help"], Options: options(t, "staff_channel_", []string{string(storage.ChannelSMS), string(storage.ChannelEmail)}, channel)})
	}
	focused := false
	for i := range fields {
		fields[i].Error = errs[fields[i].Name]
		if fields[i].Error != "" && !focused {
			fields[i].Focus, focused = true, true
		}
	}
	if len(errs) == 0 {
		fields[0].Focus = true
	}
	return fields
}

func (h *staffPages) renderStaffForm(w http.ResponseWriter, r *http.Request, sr *staffRequest, status int, p staffFormPage, reg storage.StaffRegistration, channel string, errs map[string]string, summary string) {
	ch := h.chrome(w, r, sr.pt, sr.lang, "staff")
	p.chrome, p.CSRF = ch, ch.LogoutCSRF
	p.Fields = registrationFields(sr.t, reg, channel, errs)
	p.Error = summary
	if len(errs) > 0 && summary == "" {
		p.Error = sr.t["staff_error_fields"]
	}
	h.render.staffForm(w, status, p)
}

// inStaffForm is the answer to a use case's refusal of a form: the form
// again when it names wrong fields, else the refusal as it is.
func inStaffForm(err error, t map[string]string, render func(status int, errs map[string]string, summary string)) error {
	errs := fieldErrors(t, err)
	if errs == nil {
		return err
	}
	return kit.InForm(err, func(status int, _ string) { render(status, errs, "") })
}

// ---- 新增工作人員登入號及關聯至實體 ----

func (h *staffPages) newStaffPage() staffFormPage {
	return staffFormPage{Action: h.k.BasePath + staffPath + "/new", BackURL: h.k.BasePath + staffPath}
}

// showNewStaff is the blank registration form.
func (h *staffPages) showNewStaff(w http.ResponseWriter, r *http.Request) error {
	sr, err := h.staffSignedIn(w, r)
	if sr == nil {
		return err
	}
	if err := h.admin.Manage.MayManageStaff(sr.actor, sr.pt.Principal.EntityID); err != nil {
		return err
	}
	reg := storage.StaffRegistration{IDDocType: storage.IDDocTypes[0], Language: storage.Languages[0]}
	h.renderStaffForm(w, r, sr, http.StatusOK, h.newStaffPage(), reg, string(storage.ChannelSMS), nil, "")
	return nil
}

// createStaff registers the login and sends its activation code, then
// shows its page.
func (h *staffPages) createStaff(w http.ResponseWriter, r *http.Request) error {
	sr, err := h.staffPost(w, r)
	if sr == nil {
		return err
	}
	reg, channel := readRegistration(r.PostForm), r.PostForm.Get("channel")
	sl, err := h.admin.Manage.CreateStaff(r.Context(), sr.actor, h.admin.Activation, manage.NewStaff{
		EntityNumber: sr.pt.Principal.EntityNumber, Form: reg, Channel: storage.Channel(channel),
	}, h.k.Now())
	if err != nil {
		return inStaffForm(err, sr.t, func(status int, errs map[string]string, summary string) {
			h.renderStaffForm(w, r, sr, status, h.newStaffPage(), reg, channel, errs, summary)
		})
	}
	http.Redirect(w, r, h.staffURL(sl.EUID, "?done=created-"+channel), http.StatusSeeOther)
	return nil
}

// ---- 編輯 → 更改 ----

func (h *staffPages) editStaffPage(d manage.StaffDetail) staffFormPage {
	return staffFormPage{Editing: true, Action: h.staffURL(d.EUID, "/edit"), EUID: d.EUID, Username: d.Username,
		BackURL: h.staffURL(d.EUID)}
}

// showEditStaff is the registration of a login, ready to change.
func (h *staffPages) showEditStaff(w http.ResponseWriter, r *http.Request) error {
	sr, d, err := h.staffOf(w, r, h.staffSignedIn)
	if sr == nil {
		return err
	}
	h.renderStaffForm(w, r, sr, http.StatusOK, h.editStaffPage(d), registrationOf(d.StaffLogin), "", nil, "")
	return nil
}

// editStaff changes the registration (更改); a changed mobile or e-mail
// voids the login's outstanding code (the use case does).
func (h *staffPages) editStaff(w http.ResponseWriter, r *http.Request) error {
	// The login first: another entity's EUID is not found, whatever the form.
	sr, d, err := h.staffOf(w, r, h.staffPost)
	if sr == nil {
		return err
	}
	ctx, entityID := r.Context(), sr.pt.Principal.EntityID
	reg := readRegistration(r.PostForm)
	if _, err := h.admin.Manage.EditStaff(ctx, sr.actor, entityID, d.EUID, reg, h.k.Now()); err != nil {
		return inStaffForm(err, sr.t, func(status int, errs map[string]string, summary string) {
			h.renderStaffForm(w, r, sr, status, h.editStaffPage(d), reg, "", errs, summary)
		})
	}
	http.Redirect(w, r, h.staffURL(d.EUID, "?done=edited"), http.StatusSeeOther)
	return nil
}
