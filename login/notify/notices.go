package notify

import (
	"errors"
	"strings"
	"time"

	"github.com/entity-account/idp/storage"
)

// Notices tell the holder of an account of a change to it (its password,
// its rights, its identity tools, a request made in its name): a short
// text in the holder's language from the catalogue entry notify_<key>,
// where {entity}, {username}, {name}, {time} and {url} are filled in, by
// SMS to the registered mobile, else by e-mail, else not at all. A notice
// never carries a code or a link that signs anyone in. It is sealed like
// every outbox body; the use case hands it to the store, which writes it
// to the outbox in the transaction of the change, and the outbox worker
// delivers it.
type Notices struct {
	Sealer *Sealer // the outbox sealer (op.DeriveKey(master, "outbox-body"))
	Texts  *Texts
	// Wake, when set, is called after a notice was written, to make the
	// local outbox worker deliver it at once.
	Wake func()
}

// Check tells whether the notices can be composed.
func (n Notices) Check() error {
	if n.Sealer == nil || n.Texts == nil {
		return errors.New("notify: notices need the outbox sealer and the texts")
	}
	return nil
}

// NoticeVars fill a notice's text.
type NoticeVars struct {
	EntityNumber string
	Username     string    // the login's username (its EUID before it has one)
	Name         string    // what the notice is about: a passkey's name, an e-service's name, …
	At           time.Time // when the change was made
	URL          string    // a page to go to (never one that signs anyone in)
}

// Notice composes the notice of catalogue entry notify_<key> in lang for
// channel ch: the text of the SMS, or the subject and text of the e-mail
// (the SMS text and a footer).
func (t *Texts) Notice(lang, key string, ch storage.Channel, v NoticeVars) Content {
	cat := t.catalogue(lang)
	fill := strings.NewReplacer(
		"{entity}", v.EntityNumber, "{username}", v.Username, "{name}", v.Name, "{url}", v.URL,
		"{time}", v.At.In(macau).Format("2006-01-02 15:04"),
	)
	text := fill.Replace(cat["notify_"+key])
	if ch != storage.ChannelEmail {
		return Content{Text: text}
	}
	return Content{
		Subject: fill.Replace(cat["notify_notice_email_subject"]),
		Text:    text + "\n\n" + cat["notify_tool_email_footer"],
	}
}

// To composes the sealed notice of key for a holder reached by ch at to,
// in lang; nil when to is empty (nobody to tell).
func (n Notices) To(ch storage.Channel, to, lang, key string, v NoticeVars) (*storage.OutboxMessage, error) {
	if to == "" {
		return nil, nil
	}
	body, err := n.Sealer.Seal(ch, to, n.Texts.Notice(lang, key, ch, v))
	if err != nil {
		return nil, err
	}
	return &storage.OutboxMessage{Channel: ch, Recipient: to, Language: lang, Body: body}, nil
}

// ForStaff composes the sealed notice of key for the holder of staff login
// sl of entity entityNumber, as registered (SMS, else e-mail); nil when sl
// registered neither.
func (n Notices) ForStaff(sl storage.StaffLogin, entityNumber, key string, v NoticeVars) (*storage.OutboxMessage, error) {
	ch, to, ok := storage.ToolNoticeTo(sl)
	if !ok {
		return nil, nil
	}
	v.EntityNumber = entityNumber
	if v.Username == "" {
		v.Username = sl.Username
	}
	if v.Username == "" {
		v.Username = sl.EUID
	}
	return n.To(ch, to, sl.Language, key, v)
}

// Woke tells the local outbox worker that m, when not nil, was written.
func (n Notices) Woke(m ...*storage.OutboxMessage) {
	for _, one := range m {
		if one != nil && n.Wake != nil {
			n.Wake()
			return
		}
	}
}
