package desk

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// Paths every area links to.
const (
	homePath    = "/"
	signInPath  = "/signin"
	signOutPath = "/signout"
)

// sessionCookie carries a desk session's secret. It is the desk's own: the
// browsers' SSO session cookie opens nothing here.
const sessionCookie = "idp_desk"

// core is what the areas share: the desk's kit and what it acts through.
type core struct {
	k *kit.Kit
	Deps
}

// look is how the desk's error pages look; a refusal of a signed-in
// officer is drawn inside the desk's navigation (frame).
func (c *core) look() kit.ErrorPages {
	return kit.ErrorPages{
		Heading: "desk_error_heading", InvalidHeading: "error_request_heading", Invalid: "error_request_invalid",
		Failed: "error_internal", LinksTo: homePath, Frame: c.frame,
	}
}

// Desk is one request of a signed-in officer, admitted to its page's act.
type Desk struct {
	Officer storage.Officer
	// Actor is the officer as the rule book and the audit trail see it:
	// its name, its desk session and the client address.
	Actor   storage.Actor
	Session *storage.DeskSession
	Lang    string
	c       *core
	w       http.ResponseWriter
	r       *http.Request
}

// DeskPage is a desk page: what it returns goes to the one error writer.
type DeskPage func(w http.ResponseWriter, r *http.Request, d *Desk) error

// page serves p to a signed-in officer whom the rule book admits to act,
// read afresh at every request (a disabled officer or a changed role
// counts at once). Without a desk session the browser goes to the
// sign-in. A POST must also come from our own origin and carry the
// session's CSRF token.
func (c *core) page(act storage.OperatorAct, p DeskPage) http.Handler {
	serve := c.k.Serve(c.look(), func(w http.ResponseWriter, r *http.Request) error {
		d, err := c.admit(w, r, act)
		if err != nil || d == nil {
			return err
		}
		if r.Method != http.MethodPost {
			// A language chosen on a page holds for the pages and forms that follow.
			c.k.RememberLanguage(w, r)
		} else {
			if err := kit.ParseForm(w, r); err != nil {
				return storage.Errorf(storage.EInvalid, "read the form: %v", err)
			}
			if !c.k.CSRFValid(r, csrfBinding(d.Session.ID), r.PostFormValue("csrf_token")) {
				return kit.Fail(storage.EForbidden, "desk_error_form_expired")
			}
			// A form's language (its hidden lang, Chrome.Chosen) is read now.
			d.Lang = c.k.Language(r)
		}
		return p(w, r, d)
	})
	return kit.SameOrigin(serve)
}

// admit is the request's officer admitted to act: nil (and the browser
// sent to the sign-in) without a live desk session; an EForbidden error
// when the rule book refuses.
func (c *core) admit(w http.ResponseWriter, r *http.Request, act storage.OperatorAct) (*Desk, error) {
	sess, err := c.session(r)
	if err != nil || sess == nil {
		if err == nil {
			c.toSignIn(w, r)
		}
		return nil, err
	}
	d := &Desk{Session: sess, c: c, w: w, r: r}
	o, err := c.Officers.AdmitID(r.Context(), sess.OfficerID, act)
	d.Officer = o
	d.Lang = c.k.Language(r)
	if err != nil {
		if o.ID == 0 || o.Status != storage.OfficerActive {
			// No longer an officer who may be here at all: the session ends.
			c.endSession(w, r)
		}
		return d, err
	}
	if sess.CreatedAt.Before(o.SessionsValidAfter) {
		// Opened before the officer was disabled or reset: over.
		c.endSession(w, r)
		c.toSignIn(w, r)
		return nil, nil
	}
	d.Actor = storage.OfficerActor(o)
	d.Actor.IP = c.k.ClientIP(r)
	d.Actor.DeskSession = sess.ID
	return d, nil
}

// session is the request's live desk session, nil when there is none.
func (c *core) session(r *http.Request) (*storage.DeskSession, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	sess, err := c.Sessions.DeskSession(r.Context(), ck.Value)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	return sess, err
}

// toSignIn sends the browser to the sign-in, which brings it back to the
// page it asked for (a GET's address; a POST's form is not kept).
func (c *core) toSignIn(w http.ResponseWriter, r *http.Request) {
	to := signInPath
	if r.Method == http.MethodGet && r.URL.Path != homePath {
		to += "?" + url.Values{"next": {r.URL.RequestURI()}}.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// StartSession sets the cookie of a new desk session (the sign-in's last
// step). The cookie is strict: no other site's link carries it.
func (c *core) setSession(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true,
		Secure: c.k.SecureCookies, SameSite: http.SameSiteStrictMode, MaxAge: int(storage.DeskMaxAge.Seconds())})
}

// endSession ends the request's desk session and deletes its cookie.
func (c *core) endSession(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		_ = c.Sessions.EndDeskSession(r.Context(), ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: c.k.SecureCookies, SameSite: http.SameSiteStrictMode})
}

// csrfBinding binds the desk's forms to the session they were shown in: a
// token dies with its session.
func csrfBinding(sessionID string) string { return "desk\x00" + sessionID }

// CSRF is the token of this session's forms.
func (d *Desk) CSRF() string { return d.c.k.CSRFToken(d.w, d.r, csrfBinding(d.Session.ID)) }

// may reports whether the officer's role allows act: a form is shown only
// to whom it opens (the page of the act asks the rule book itself).
func (d *Desk) may(act storage.OperatorAct) bool { return officerMay(d.Officer, act) }

// officerMay is the rule book's answer (storage.OfficerMay) as a yes or no.
func officerMay(o storage.Officer, act storage.OperatorAct) bool {
	return storage.OfficerMay(o, act) == nil
}

// T is the catalogue of the page's language.
func (d *Desk) T() map[string]string { return d.c.k.T(d.Lang) }
