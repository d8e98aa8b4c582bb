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
// placeholders {code}, {entity}, {url} and {expires} are filled in.
type Texts struct {
	m map[string]map[string]string // lang → key → text
}

var textKeys = []string{
	"notify_sms_entity_account", "notify_sms_staff",
	"notify_email_subject_entity_account", "notify_email_subject_staff", "notify_email_footer",
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
	cat := t.m[lang]
	if cat == nil {
		cat = t.m[templates.Languages[0]]
	}
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
