package login

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"

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

// LogoutConfirmationURL is the confirmation page for a validated post-logout
// redirect URI.
func (h *Handler) LogoutConfirmationURL(next string) string {
	return h.cfg.BasePath + logoutPath + "?" + url.Values{"next": {next}, "sig": {h.signNext(next)}}.Encode()
}

func (h *Handler) signNext(next string) string {
	m := hmac.New(sha256.New, h.cfg.LogoutKey)
	m.Write([]byte(next))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// logoutTarget returns the signed post-logout address of the request.
func (h *Handler) logoutTarget(r *http.Request, form url.Values) (string, bool) {
	next, sig := form.Get("next"), form.Get("sig")
	if next == "" || !hmac.Equal([]byte(sig), []byte(h.signNext(next))) {
		return "", false
	}
	return next, true
}

type logoutPage struct {
	common
	Next, Sig, CSRF string
}

// showLogout asks "sign out?"; with no live session there is nothing to ask.
func (h *Handler) showLogout(w http.ResponseWriter, r *http.Request) {
	next, ok := h.logoutTarget(r, r.URL.Query())
	if !ok {
		h.message(w, r, http.StatusBadRequest, "error_request_heading", "error_request_invalid", true)
		return
	}
	cur, err := h.portalSession(r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if cur == nil {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	lang := h.pages.language(r, nil)
	h.pages.render(w, http.StatusOK, "logout.html", logoutPage{
		common: h.pages.common(r, h.cfg.BasePath, lang),
		Next:   next, Sig: r.URL.Query().Get("sig"), CSRF: h.csrf.token(w, r, "logout\x00"+next),
	})
}

// submitLogout ends the browser's session and its tokens, then goes on to
// the e-service's post-logout address.
func (h *Handler) submitLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		h.message(w, r, http.StatusBadRequest, "error_request_heading", "error_request_invalid", true)
		return
	}
	next, ok := h.logoutTarget(r, r.PostForm)
	if !ok {
		h.message(w, r, http.StatusBadRequest, "error_request_heading", "error_request_invalid", true)
		return
	}
	if !h.csrf.valid(r, "logout\x00"+next, r.PostForm.Get("csrf_token")) {
		h.message(w, r, http.StatusForbidden, "error_heading", "error_csrf", true)
		return
	}
	if c, err := r.Cookie(idpop.SessionCookie); err == nil && c.Value != "" {
		sess, err := h.state.Session(r.Context(), c.Value, 0)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			h.internalError(w, r, err)
			return
		default:
			if err := h.state.EndSessionByID(r.Context(), sess.SessionID); err != nil {
				h.internalError(w, r, err)
				return
			}
		}
		_ = h.state.DeleteSession(r.Context(), c.Value)
		http.SetCookie(w, &http.Cookie{Name: idpop.SessionCookie, Value: "", Path: cookiePath(h.cfg.BasePath), MaxAge: -1,
			HttpOnly: true, Secure: h.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
