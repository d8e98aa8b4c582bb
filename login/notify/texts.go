package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// Texts composes notifications in the recipient's language from the
// notify_* entries of the page catalogues (templates/i18n), where the
// placeholders {code}, {entity}, {url} and {expires} (activation), and
// {entity}, {username}, {name} and {time} (identity tools) are filled in.
type Texts struct {
	m map[string]map[string]string // lang → key → text
}

var textKeys = []string{
	"notify_sms_entity_account", "notify_sms_staff",
	"notify_email_subject_entity_account", "notify_email_subject_staff", "notify_email_footer",
	"notify_tool_totp_added", "notify_tool_totp_pending", "notify_tool_totp_approved",
	"notify_tool_passkey_added", "notify_tool_passkey_removed", "notify_tool_passkeys_off", "notify_tool_passkeys_on",
	"notify_tool_reset", "notify_tool_voided", "notify_tool_email_subject", "notify_tool_email_footer",
	"notify_notice_email_subject",
	// Changes to a staff login (login/manage; templates/i18n/notices.*.json).
	"notify_staff_deleted", "notify_staff_restored", "notify_admin_granted", "notify_admin_removed",
	"notify_account_admin_granted", "notify_account_admin_removed",
	"notify_service_admin_granted", "notify_service_admin_removed", "notify_document_changed",
}

// LoadTexts reads the catalogues and checks that every language has every text.
func LoadTexts() (*Texts, error) {
	t := &Texts{m: map[string]map[string]string{}}
	for _, lang := range templates.Languages {
		cat, err := templates.Catalogue(lang)
		if err != nil {
			return nil, err
		}
		for _, k := range textKeys {
			if cat[k] == "" {
				return nil, fmt.Errorf("notify: catalogue %s lacks %q", lang, k)
			}
		}
		t.m[lang] = cat
	}
	return t, nil
}

// macau is Macau time (UTC+8 all year), in which expiry times are written.
var macau = time.FixedZone("UTC+8", 8*3600)

// ActivationVars fill an activation message.
type ActivationVars struct {
	Code         string // as the holder should type it
	EntityNumber string
	URL          string // the activation page
	Expires      time.Time
}

// Activation composes the activation message for an account of kind, in
// lang (the default language when unknown), for channel ch: the text of the
// SMS, or the subject and text of the e-mail (the SMS text and a footer).
func (t *Texts) Activation(lang string, kind storage.PrincipalKind, ch storage.Channel, v ActivationVars) Content {
	cat := t.catalogue(lang)
	suffix := "staff"
	if kind == storage.KindEntityAccount {
		suffix = "entity_account"
	}
	fill := strings.NewReplacer(
		"{code}", v.Code, "{entity}", v.EntityNumber, "{url}", v.URL,
		"{expires}", v.Expires.In(macau).Format("2006-01-02 15:04"),
	)
	text := fill.Replace(cat["notify_sms_"+suffix])
	if ch != storage.ChannelEmail {
		return Content{Text: text}
	}
	return Content{
		Subject: fill.Replace(cat["notify_email_subject_"+suffix]),
		Text:    text + "\n\n" + fill.Replace(cat["notify_email_footer"]),
	}
}

// catalogue is the catalogue of lang, or of the default language.
func (t *Texts) catalogue(lang string) map[string]string {
	if cat := t.m[lang]; cat != nil {
		return cat
	}
	return t.m[templates.Languages[0]]
}

// ToolEvent is a change to a staff login's identity tools that its holder
// is told of.
type ToolEvent string

// The changes of identity tools that send a notice; each names its text,
// notify_tool_<event>.
const (
	ToolTOTPAdded      ToolEvent = "totp_added"      // a TOTP confirmed, active at once
	ToolTOTPPending    ToolEvent = "totp_pending"    // a TOTP confirmed, waiting for the operator's in-person check
	ToolTOTPApproved   ToolEvent = "totp_approved"   // the operator approved a pending TOTP
	ToolPasskeyAdded   ToolEvent = "passkey_added"   // a passkey enrolled (name: its name)
	ToolPasskeyRemoved ToolEvent = "passkey_removed" // one passkey removed by its holder (name: its name)
	ToolPasskeysOff    ToolEvent = "passkeys_off"    // the holder switched passkeys off, removing them all
	ToolPasskeysOn     ToolEvent = "passkeys_on"     // the operator switched passkeys on again
	ToolsReset         ToolEvent = "reset"           // the operator removed every tool
	ToolsVoided        ToolEvent = "voided"          // an admin changed the identity document: every tool removed, sessions ended
)

// ToolVars fill a notice of an identity-tool change.
type ToolVars struct {
	EntityNumber string
	Username     string    // the login's username (its EUID before it has one)
	Name         string    // the passkey's name, for passkey events
	At           time.Time // when the change was made
}

// Tool composes the notice of ev in lang for channel ch: the text of the
// SMS, or the subject and text of the e-mail (the SMS text and a footer).
func (t *Texts) Tool(lang string, ev ToolEvent, ch storage.Channel, v ToolVars) Content {
	cat := t.catalogue(lang)
	fill := strings.NewReplacer(
		"{entity}", v.EntityNumber, "{username}", v.Username, "{name}", v.Name,
		"{time}", v.At.In(macau).Format("2006-01-02 15:04"),
	)
	text := fill.Replace(cat["notify_tool_"+string(ev)])
	if ch != storage.ChannelEmail {
		return Content{Text: text}
	}
	return Content{
		Subject: fill.Replace(cat["notify_tool_email_subject"]),
		Text:    text + "\n\n" + cat["notify_tool_email_footer"],
	}
}
