package desk

import (
	"net/http"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// Chrome is what every desk page shows around its content: the officer
// signed in, the navigation its role allows, the sign-out form, and the
// token of the page's forms. Page data embeds it.
type Chrome struct {
	kit.Common
	// Current names the page shown: its navigation link carries
	// aria-current.
	Current string
	Officer storage.Officer
	Nav     []navLink
	CSRF    string
}

// Chrome is the chrome of the page current, in the request's language,
// with language links back to the page's GET.
func (d *Desk) Chrome(current string) Chrome {
	return Chrome{
		Common:  d.c.k.CommonAt(d.r, d.Lang, d.r.URL.Path),
		Current: current,
		Officer: d.Officer,
		Nav:     d.c.nav(d.Officer, current, d.T()),
		CSRF:    d.CSRF(),
	}
}

// messagePage is desk_message.html: a heading and a message in the chrome.
type messagePage struct {
	Chrome
	Heading, Message string
	IsError          bool
	LinkURL, Link    string
}

// frame draws a refusal inside the desk's chrome when the browser has a
// live desk session of an officer who may be at the desk; else the kit's
// bare message page does.
func (c *core) frame(w http.ResponseWriter, r *http.Request, ref kit.Refused) bool {
	sess, err := c.session(r)
	if err != nil || sess == nil {
		return false
	}
	o, err := c.Officers.AdmitID(r.Context(), sess.OfficerID, storage.ActUseDesk)
	if err != nil || sess.CreatedAt.Before(o.SessionsValidAfter) {
		return false
	}
	d := &Desk{Officer: o, Session: sess, Lang: c.k.Language(r), c: c, w: w, r: r}
	t := d.T()
	page := messagePage{Chrome: d.Chrome(""), Heading: t[ref.Heading], Message: t[ref.Message], IsError: true}
	if ref.Link != "" {
		page.LinkURL, page.Link = ref.Link, t[ref.LinkText]
	}
	c.k.Render(w, ref.Status, "desk_message.html", page)
	return true
}

// showNotFound is the desk's answer to an address it does not have.
func (c *core) showNotFound(w http.ResponseWriter, r *http.Request, d *Desk) error {
	return kit.Fail(storage.ENotFound, "desk_error_not_found")
}

// nav is navLinks without the passkeys' page when the desk has none.
func (c *core) nav(o storage.Officer, current string, t map[string]string) []navLink {
	links := navLinks(o, current, t)
	if c.Officers.PasskeysEnabled() {
		return links
	}
	out := links[:0]
	for _, l := range links {
		if l.Path != passkeysPath {
			out = append(out, l)
		}
	}
	return out
}
