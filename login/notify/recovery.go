package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// Recovery messages: the reset code and the username reminder. Unlike a
// notice they carry what the holder asked for (a code, a username), so
// they go only to the registered mobile or e-mail, never to an address
// typed in a form, and say who to ignore them if the holder did not ask.

// RecoveryMessage names the catalogue entry notify_<message> of a recovery message.
type RecoveryMessage string

const (
	ResetCodeMessage RecoveryMessage = "reset_code" // a reset code the holder asked for, and the page to type it on
	// ResetCodeByAdminMessage is a reset code an admin or the operator had sent.
	ResetCodeByAdminMessage RecoveryMessage = "reset_code_admin"
	UsernameMessage         RecoveryMessage = "username" // the username, and the sign-in page
)

// RecoveryVars fill a recovery message.
type RecoveryVars struct {
	Code         string // the reset code, as the holder should type it
	EntityNumber string
	Username     string
	URL          string // the page where the code is typed (the sign-in page for a username)
	Expires      time.Time
}

// recoveryKeys are the catalogue entries the recovery messages and
// notices need.
var recoveryKeys = []string{
	"notify_reset_code", "notify_reset_code_admin", "notify_username", "notify_recovery_email_subject",
	"notify_password_reset", "notify_password_changed", "notify_reset_requested", "notify_username_requested",
}

// CheckRecovery tells whether every language has the recovery texts.
func (t *Texts) CheckRecovery() error {
	for _, lang := range templates.Languages {
		for _, k := range recoveryKeys {
			if t.catalogue(lang)[k] == "" {
				return fmt.Errorf("notify: catalogue %s lacks %q", lang, k)
			}
		}
	}
	return nil
}

// Recovery composes message m in lang for channel ch: the text of the
// SMS, or the subject and text of the e-mail (the SMS text and a footer).
func (t *Texts) Recovery(lang string, m RecoveryMessage, ch storage.Channel, v RecoveryVars) Content {
	cat := t.catalogue(lang)
	fill := strings.NewReplacer(
		"{code}", v.Code, "{entity}", v.EntityNumber, "{username}", v.Username, "{url}", v.URL,
		"{expires}", v.Expires.In(macau).Format("2006-01-02 15:04"),
	)
	text := fill.Replace(cat["notify_"+string(m)])
	if ch != storage.ChannelEmail {
		return Content{Text: text}
	}
	return Content{Subject: fill.Replace(cat["notify_recovery_email_subject"]), Text: text + "\n\n" + cat["notify_tool_email_footer"]}
}
