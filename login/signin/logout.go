package signin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/entity-account/idp/login/kit"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
)

// RP-initiated logout must ask the user before ending the OP session when
// end_session came without an id_token_hint naming the browser's user
// (OpenID Connect RP-Initiated Logout 1.0 §2): otherwise any site could sign
// a user out with a link. The protocol storage then sends the browser here
// with the post-logout address it already validated, signed so that this
// page cannot be turned into an open redirect.

const logoutPath = "/logout"

// logout is the confirmation of an RP-initiated logout and the signed-out
// page where every sign-out ends.
type logout struct {
	k   *kit.Kit
	cfg Config
}

// errBadLogoutTarget: the post-logout address is missing or not the one we
// signed; only a tampered link or form has that.
var errBadLogoutTarget = storage.Errorf(storage.EInvalid, "post-logout address missing or not signed")

// LogoutConfirmationURL is the confirmation page for a validated post-logout
// redirect URI, in the languages the end-session request asked for (not
// signed: a language is no one's secret).
func (h *logout) LogoutConfirmationURL(next string, uiLocales []string) string {
	q := url.Values{"next": {next}, "sig": {h.signNext(next)}}
	if len(uiLocales) > 0 {
		q.Set("ui_locales", strings.Join(uiLocales, " "))
	}
	return h.k.BasePath + logoutPath + "?" + q.Encode()
}

func (h *logout) signNext(next string) string {
	m := hmac.New(sha256.New, h.cfg.LogoutKey)
	m.Write([]byte(next))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// target returns the signed post-logout address of the request.
func (h *logout) target(form url.Values) (string, error) {
	next, sig := form.Get("next"), form.Get("sig")
	if next == "" || !hmac.Equal([]byte(sig), []byte(h.signNext(next))) {
		return "", errBadLogoutTarget
	}
	return next, nil
}

type logoutPage struct {
	kit.Common
	Next, Sig, CSRF string
}

// show asks "sign out?"; with no live session there is nothing to ask.
func (h *logout) show(w http.ResponseWriter, r *http.Request) error {
	next, err := h.target(r.URL.Query())
	if err != nil {
		return err
	}
	cur, err := h.k.SignedIn(r)
	if err != nil {
		return err
	}
	if cur == nil {
		http.Redirect(w, r, next, http.StatusFound)
		return nil
	}
	h.k.Render(w, http.StatusOK, "logout.html", logoutPage{
		Common: h.k.Common(r, h.k.RequestLanguage(r, strings.Fields(r.URL.Query().Get("ui_locales")))),
		Next:   next, Sig: r.URL.Query().Get("sig"), CSRF: h.k.CSRFToken(w, r, "logout\x00"+next),
	})
	return nil
}

// submit ends the browser's session and its tokens, then goes on to
// the e-service's post-logout address.
func (h *logout) submit(w http.ResponseWriter, r *http.Request) error {
	if err := kit.ParseForm(w, r); err != nil {
		return &storage.Error{Code: storage.EInvalid, Message: "unreadable logout form", Err: err}
	}
	next, err := h.target(r.PostForm)
	if err != nil {
		return err
	}
	if !h.k.CSRFValid(r, "logout\x00"+next, r.PostForm.Get("csrf_token")) {
		return errForged
	}
	if c, err := r.Cookie(idpop.SessionCookie); err == nil && c.Value != "" {
		sess, err := h.k.State.Session(r.Context(), c.Value, 0)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return err
		default:
			if err := h.k.State.EndSessionByID(r.Context(), sess.SessionID); err != nil {
				return err
			}
		}
		_ = h.k.State.DeleteSession(r.Context(), c.Value)
		http.SetCookie(w, h.k.SessionCookie("", -1))
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// loggedOut is the signed-out page.
func (h *logout) loggedOut(w http.ResponseWriter, r *http.Request) {
	h.k.RememberLanguage(w, r)
	h.k.Message(w, r, http.StatusOK, "logged_out_heading", "logged_out", false)
}
