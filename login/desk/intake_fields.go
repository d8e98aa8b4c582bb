package desk

import (
	"net/http"
	"strings"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/storage"
)

// formField is one field of a desk form (desk_intake_field in
// desk_intake.html).
type formField struct {
	Name, Label             string
	Kind                    string // text, email, tel, select or radio
	Value                   string
	Help                    string // under the field (id Name_help)
	Error                   string // under the field (id Name_error)
	Required, Focus         bool
	Autocomplete, InputMode string
	MaxLength               int
	Options                 []formOption // select and radio
}

type formOption struct {
	Value, Label string
	Selected     bool
}

// options lists values labelled by their catalogue texts prefix+value,
// selected the one selected.
func options(t map[string]string, prefix string, values []string, selected string) []formOption {
	out := make([]formOption, 0, len(values))
	for _, v := range values {
		label := t[prefix+v]
		if label == "" {
			label = v
		}
		out = append(out, formOption{Value: v, Label: label, Selected: v == selected})
	}
	return out
}

func entityFields(t map[string]string, f intakeForm) []formField {
	return []formField{
		{Name: activation.FieldNumber, Label: t["entity_number"], Kind: "text", Value: f.get(activation.FieldNumber), Required: true,
			Help: t["entity_number_hint"], Autocomplete: "off", InputMode: "numeric"},
		{Name: activation.FieldNameZH, Label: t["desk_intake_entity_name_zh"], Kind: "text", Value: f.get(activation.FieldNameZH),
			Help: t["desk_intake_entity_name_help"], Autocomplete: "off", MaxLength: 200},
		{Name: activation.FieldNamePT, Label: t["desk_intake_entity_name_pt"], Kind: "text", Value: f.get(activation.FieldNamePT),
			Autocomplete: "off", MaxLength: 200},
		{Name: activation.FieldKind, Label: t["desk_intake_entity_kind"], Kind: "select", Required: true,
			Options: options(t, "account_kind_", activation.EntityKinds, f.get(activation.FieldKind))},
	}
}

func accountFields(t map[string]string, f intakeForm) []formField {
	return []formField{
		{Name: activation.FieldApplicationNumber, Label: t["desk_intake_application_number"], Kind: "text", Required: true,
			Value: f.get(activation.FieldApplicationNumber), Help: t["desk_intake_application_number_help"], Autocomplete: "off", MaxLength: 64},
		{Name: activation.FieldAccountMobile, Label: t["account_mobile"], Kind: "tel", Value: f.get(activation.FieldAccountMobile),
			Help: t["desk_intake_account_mobile_help"], Autocomplete: "off"},
		{Name: activation.FieldAccountEmail, Label: t["account_email"], Kind: "email", Value: f.get(activation.FieldAccountEmail),
			Autocomplete: "off", MaxLength: storage.MaxEmailLength},
		{Name: activation.FieldAccountLanguage, Label: t["account_language"], Kind: "select", Required: true,
			Options: options(t, "staff_lang_", storage.Languages, f.get(activation.FieldAccountLanguage))},
	}
}

func channelField(t map[string]string, f intakeForm) formField {
	return formField{Name: activation.FieldChannel, Label: t["staff_channel"], Kind: "radio", Required: true, Help: t["desk_intake_channel_help"],
		Options: options(t, "staff_channel_", []string{string(storage.ChannelSMS), string(storage.ChannelEmail)}, f.get(activation.FieldChannel))}
}

// adminBlockFields are the registration fields of admin i, as the portal's
// registration form lays them out.
func adminBlockFields(t map[string]string, f intakeForm, i int) []formField {
	name := func(field string) string { return activation.AdminField(i, field) }
	v := func(field string) string { return f.get(name(field)) }
	return []formField{
		{Name: name("name_zh"), Label: t["account_name_zh"], Kind: "text", Value: v("name_zh"), Help: t["staff_name_help"], Autocomplete: "off", MaxLength: storage.MaxNameLength},
		{Name: name("name_foreign"), Label: t["account_name_foreign"], Kind: "text", Value: v("name_foreign"), Autocomplete: "off", MaxLength: storage.MaxNameLength},
		{Name: name("id_doc_type"), Label: t["account_id_doc_type"], Kind: "select", Required: true,
			Options: options(t, "staff_doc_", storage.IDDocTypes, v("id_doc_type"))},
		{Name: name("id_doc_number"), Label: t["account_id_doc_number"], Kind: "text", Value: v("id_doc_number"), Required: true,
			Help: t["staff_id_doc_number_help"], Autocomplete: "off"},
		{Name: name("id_doc_issue_place"), Label: t["account_id_doc_issue_place"], Kind: "text", Value: v("id_doc_issue_place"), Autocomplete: "off", MaxLength: storage.MaxNameLength},
		{Name: name("birth_date"), Label: t["account_birth_date"], Kind: "text", Value: v("birth_date"), Required: true,
			Help: t["staff_birth_date_help"], Autocomplete: "off", InputMode: "numeric"},
		{Name: name("mobile"), Label: t["account_mobile"], Kind: "tel", Value: v("mobile"), Help: t["desk_intake_admin_mobile_help"], Autocomplete: "off"},
		{Name: name("email"), Label: t["account_email"], Kind: "email", Value: v("email"), Autocomplete: "off", MaxLength: storage.MaxEmailLength},
		{Name: name("language"), Label: t["account_language"], Kind: "select", Required: true,
			Options: options(t, "staff_lang_", storage.Languages, v("language"))},
	}
}

// intakeDonePage is desk_intake_done.html: what was opened and where each
// activation code went (never a code: it reaches its holder alone).
type intakeDonePage struct {
	Chrome
	Number, EntityName string
	EntityURL          string
	Account            string // the entity account's subject
	AccountSentTo      string
	Admins             []openedAdmin
	Sent               string // how the codes went
}

type openedAdmin struct {
	Name, EUID, SentTo string
}

func (h *intakePages) renderDone(w http.ResponseWriter, d *Desk, o activation.Opened) {
	t := d.T()
	p := intakeDonePage{Chrome: d.Chrome("intake"), Number: o.Entity.Number,
		EntityName: strings.TrimSpace(o.Entity.NameZH + " " + o.Entity.NamePT), EntityURL: "/entities/" + o.Entity.Number,
		Account: o.Account.Subject, AccountSentTo: sentTo(o.Channel, o.Account.Mobile, o.Account.Email),
		Sent: t["desk_intake_done_sent_"+string(o.Channel)]}
	for _, sl := range o.Admins {
		p.Admins = append(p.Admins, openedAdmin{Name: strings.TrimSpace(sl.NameZH + " " + sl.NameForeign), EUID: sl.EUID,
			SentTo: sentTo(o.Channel, sl.Mobile, sl.Email)})
	}
	h.k.Render(w, http.StatusOK, "desk_intake_done.html", p)
}

// sentTo is where a code went, as the desk shows it: a mobile masked.
func sentTo(ch storage.Channel, mobile, email string) string {
	if ch == storage.ChannelEmail {
		return email
	}
	return storage.MaskPhone(mobile)
}
