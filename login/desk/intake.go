package desk

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// The intake (申請開立實體使用者帳戶): the counter officer types in the
// application an entity handed in (the entity, its entity account's mobile
// and the application number of the receipt, and its admin staff logins'
// registrations) and opens the entity through the use case `idp entity
// create` calls (activation.Service.Open). A wrong field comes back on the
// form, next to its field, every value kept. "Add another admin" is a
// button of the form (no script): the form comes back with one more blank
// admin, what was typed kept.

const intakePath = "/intake"

// intakePages are the intake's form and its answer.
type intakePages struct{ *core }

// Mount registers the intake.
func (h *intakePages) Mount(r *mux.Router) {
	r.Handle(intakePath, h.page(storage.ActOpenEntity, h.showIntake)).Methods(http.MethodGet)
	r.Handle(intakePath, h.page(storage.ActOpenEntity, h.submitIntake)).Methods(http.MethodPost)
}

// adminFields are an admin's registration fields, in the form's order.
var adminFields = []string{"name_zh", "name_foreign", "id_doc_type", "id_doc_number", "id_doc_issue_place",
	"birth_date", "mobile", "email", "language"}

// adminTyped are the admin's fields a person types: an admin with none of
// them filled in is a blank block of the form, not an admin.
var adminTyped = []string{"name_zh", "name_foreign", "id_doc_number", "id_doc_issue_place", "birth_date", "mobile", "email"}

// intakeForm is the form as submitted (or blank): every value as typed.
type intakeForm struct {
	values url.Values
	admins int // blocks of admins shown, 1 to activation.MaxAdmins
}

func blankIntake() intakeForm {
	v := url.Values{}
	v.Set(activation.FieldKind, activation.EntityKinds[0])
	v.Set(activation.FieldAccountLanguage, storage.Languages[0])
	v.Set(activation.FieldChannel, string(storage.ChannelSMS))
	f := intakeForm{values: v, admins: 1}
	f.blankAdmin(0)
	return f
}

// blankAdmin sets the choices of admin i to their first options.
func (f intakeForm) blankAdmin(i int) {
	f.values.Set(activation.AdminField(i, "id_doc_type"), storage.IDDocTypes[0])
	f.values.Set(activation.AdminField(i, "language"), storage.Languages[0])
}

func readIntake(r *http.Request) intakeForm {
	n, _ := strconv.Atoi(r.PostForm.Get("admins"))
	return intakeForm{values: r.PostForm, admins: min(max(n, 1), activation.MaxAdmins)}
}

func (f intakeForm) get(name string) string { return f.values.Get(name) }

// blank reports whether admin i's block has nothing typed in it.
func (f intakeForm) blank(i int) bool {
	for _, name := range adminTyped {
		if strings.TrimSpace(f.get(activation.AdminField(i, name))) != "" {
			return false
		}
	}
	return true
}

// application is the form as the use case reads it, and the block of the
// form of each of its admins: blank blocks are left out (all of them
// blank: the first is kept, for its fields to be refused).
func (f intakeForm) application() (activation.Application, []int) {
	app := activation.Application{
		Number: f.get(activation.FieldNumber), NameZH: f.get(activation.FieldNameZH), NamePT: f.get(activation.FieldNamePT),
		Kind: f.get(activation.FieldKind), ApplicationNumber: f.get(activation.FieldApplicationNumber),
		AccountMobile: f.get(activation.FieldAccountMobile), AccountEmail: f.get(activation.FieldAccountEmail),
		AccountLanguage: f.get(activation.FieldAccountLanguage), Channel: storage.Channel(f.get(activation.FieldChannel)),
	}
	var blocks []int
	for i := 0; i < f.admins; i++ {
		if f.blank(i) && (i > 0 || f.admins > 1) {
			continue
		}
		blocks = append(blocks, i)
	}
	if len(blocks) == 0 {
		blocks = []int{0}
	}
	for _, i := range blocks {
		a := func(name string) string { return f.get(activation.AdminField(i, name)) }
		app.Admins = append(app.Admins, storage.StaffRegistration{
			NameZH: a("name_zh"), NameForeign: a("name_foreign"), IDDocType: a("id_doc_type"), IDDocNumber: a("id_doc_number"),
			IDDocIssuePlace: a("id_doc_issue_place"), BirthDate: a("birth_date"), Mobile: a("mobile"), Email: a("email"),
			Language: a("language"),
		})
	}
	return app, blocks
}

// fieldErrors are the messages, in t, of the fields err refuses, by the
// form's field names (an admin's mapped back to its block), and the
// message of a refusal no field holds ("" when none).
func fieldErrors(t map[string]string, err error, blocks []int) (map[string]string, string) {
	errs := map[string]string{}
	summary := ""
	for _, e := range storage.FieldErrors(err) {
		text := t[e.Key]
		if text == "" {
			text = t["staff_error_invalid"]
		}
		name := e.Field
		if i, field, ok := activation.SplitAdminField(name); ok && i < len(blocks) {
			name = activation.AdminField(blocks[i], field)
		}
		switch {
		case name == "" && summary == "":
			summary = text
		case name != "" && errs[name] == "":
			errs[name] = text
		}
	}
	return errs, summary
}

func (h *intakePages) showIntake(w http.ResponseWriter, r *http.Request, d *Desk) error {
	h.renderIntake(w, d, http.StatusOK, blankIntake(), nil, "", "")
	return nil
}

// submitIntake opens the entity, or adds a blank admin to the form
// (add_admin), or shows the form again with what the use case refused.
func (h *intakePages) submitIntake(w http.ResponseWriter, r *http.Request, d *Desk) error {
	f := readIntake(r)
	if r.PostForm.Get("add_admin") != "" {
		focus := ""
		if f.admins < activation.MaxAdmins {
			f.admins++
			f.blankAdmin(f.admins - 1)
			focus = activation.AdminField(f.admins-1, adminFields[0])
		}
		h.renderIntake(w, d, http.StatusOK, f, nil, "", focus)
		return nil
	}
	app, blocks := f.application()
	opened, err := h.Intake.Open(r.Context(), d.Actor, app)
	if err != nil {
		errs, summary := fieldErrors(d.T(), err, blocks)
		if len(errs) == 0 && summary == "" {
			return err
		}
		return kit.InForm(err, func(status int, _ string) { h.renderIntake(w, d, status, f, errs, summary, "") })
	}
	h.renderDone(w, d, opened)
	return nil
}

// intakePage is desk_intake.html.
type intakePage struct {
	Chrome
	Entity, Account []formField
	Channel         formField
	Admins          []adminBlock
	Count           int  // admin blocks: the form's hidden "admins"
	CanAdd          bool // fewer than activation.MaxAdmins
	MaxAdmins       string
	Error           string // the summary, role=alert
}

type adminBlock struct {
	Heading string
	Fields  []formField
}

// renderIntake shows form f with errs next to their fields and summary on
// top; the first wrong field has the focus, else focus, else the first.
func (h *intakePages) renderIntake(w http.ResponseWriter, d *Desk, status int, f intakeForm, errs map[string]string, summary, focus string) {
	t := d.T()
	p := intakePage{Chrome: d.Chrome("intake"), Count: f.admins, CanAdd: f.admins < activation.MaxAdmins,
		MaxAdmins: fmt.Sprintf(t["desk_intake_max_admins"], activation.MaxAdmins)}
	p.Entity, p.Account, p.Channel = entityFields(t, f), accountFields(t, f), channelField(t, f)
	for i := 0; i < f.admins; i++ {
		p.Admins = append(p.Admins, adminBlock{Heading: fmt.Sprintf(t["desk_intake_admin"], i+1), Fields: adminBlockFields(t, f, i)})
	}
	p.Error = summary
	if summary == "" && len(errs) > 0 {
		p.Error = t["staff_error_fields"]
	}
	all := []*formField{}
	for _, list := range [][]formField{p.Entity, p.Account} {
		for i := range list {
			all = append(all, &list[i])
		}
	}
	all = append(all, &p.Channel)
	for _, b := range p.Admins {
		for i := range b.Fields {
			all = append(all, &b.Fields[i])
		}
	}
	placeFocus(all, errs, focus)
	h.k.Render(w, status, "desk_intake.html", p)
}

// placeFocus sets each field's error, and the focus on the first wrong
// field, else on the field named focus, else on the first.
func placeFocus(fields []*formField, errs map[string]string, focus string) {
	var first, named, wrong *formField
	for _, f := range fields {
		f.Error = errs[f.Name]
		if first == nil {
			first = f
		}
		if f.Error != "" && wrong == nil {
			wrong = f
		}
		if f.Name == focus && named == nil {
			named = f
		}
	}
	for _, f := range []*formField{wrong, named, first} {
		if f != nil {
			f.Focus = true
			return
		}
	}
}
