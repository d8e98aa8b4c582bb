package portal

import (
	"github.com/gorilla/mux"

	"errors"
	"log/slog"
	"net/http"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/signin"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// entrance is the portal's sign-in (with a password or a passkey) and its
// sign-out.
type entrance struct {
	*core
	signin *signin.Handler // the three-field check and the session start
}

// Mount registers the sign-in and the sign-out.
func (h *entrance) Mount(r *mux.Router) {
	r.Handle(LoginPath, h.serve(h.showLogin)).Methods(http.MethodGet, http.MethodHead)
	r.Handle(LoginPath, kit.SameOrigin(h.serve(h.submitLogin))).Methods(http.MethodPost)
	r.Handle(LoginPath+"/passkey", kit.SameOrigin(h.serve(h.submitPasskeyLogin))).Methods(http.MethodPost)
	r.Handle(logoutPath, kit.SameOrigin(h.serve(h.logout))).Methods(http.MethodPost)
}

type loginPage struct {
	kit.Common
	CSRF         string
	EntityNumber string
	Username     string
	Error        string
	Fields       kit.Fields // the fields the refusal (Error) concerns, and the focus
	// Passkey: the sign-in with a passkey alone (staff logins; no Options
	// when the provider has no passkeys).
	Passkey kit.PasskeySignIn
	// Remember: the portal's sign-in remembers no entity number (its
	// box, of the e-service sign-in, is not shown).
	Remember *signin.RememberBox
}

// renderLogin shows the sign-in form with c kept (never its password) and
// the message errMsg of the refusal whose catalogue key is key.
func (h *entrance) renderLogin(w http.ResponseWriter, r *http.Request, status int, c signin.Credentials, key, errMsg string) {
	page := loginPage{
		Common:       h.common(r, h.k.Language(r)),
		CSRF:         h.k.CSRFToken(w, r, loginBinding),
		EntityNumber: c.EntityNumber,
		Username:     c.Username,
		Error:        errMsg,
		Fields:       c.Fields(key),
	}
	if opts, state, ok := h.signin.PasskeySignInOptions(r.Context()); ok {
		page.Passkey = kit.PasskeySignIn{Action: h.k.BasePath + LoginPath + "/passkey", Options: opts, State: state}
		kit.AllowOwnScripts(w)
	}
	h.render.login(w, status, page)
}

// loginForm is the sign-in form as submitted (c), for the error writer.
func (h *entrance) loginForm(w http.ResponseWriter, r *http.Request, c signin.Credentials) func(int, string) {
	return func(status int, key string) {
		h.renderLogin(w, r, status, c, key, h.k.T(h.k.Language(r))[key])
	}
}

// showLogin shows the portal's sign-in form, or goes straight to the
// profile when the browser is signed in already.
func (h *entrance) showLogin(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.k.SignedIn(r)
	if err != nil {
		return err
	}
	if pt != nil {
		http.Redirect(w, r, h.k.BasePath+profilePath, http.StatusSeeOther)
		return nil
	}
	h.renderLogin(w, r, http.StatusOK, signin.Credentials{}, "", "")
	return nil
}

// submitLogin checks the three fields as the e-service sign-in does (same
// answers, timing, throttling and CSRF), but lets the entity account in,
// and lands on the profile.
func (h *entrance) submitLogin(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := kit.ParseForm(w, r); err != nil {
		return kit.InForm(kit.Fail(storage.EInvalid, "account_error_csrf"), h.loginForm(w, r, signin.Credentials{}))
	}
	c := signin.ReadCredentials(r.PostForm)
	if !h.k.CSRFValid(r, loginBinding, r.PostForm.Get("csrf_token")) {
		return kit.InForm(kit.Fail(storage.EForbidden, "account_error_csrf"), h.loginForm(w, r, c))
	}
	if !c.Complete() {
		return kit.InForm(kit.Fail(storage.EInvalid, "error_missing_fields"), h.loginForm(w, r, c))
	}
	p, refused, err := h.signin.Verify(ctx, r, c)
	if err != nil {
		return err
	}
	if refused != nil {
		h.renderLogin(w, r, refused.Status, c, refused.Key, refused.Message(w, h.k.T(h.k.Language(r))))
		return nil
	}
	if _, err := h.signin.StartSession(w, r, p); err != nil {
		return err
	}
	telemetry.SignIn(telemetry.SignInSuccess)
	h.signin.RecordSignIn(r, p, []string{storage.AMRPassword})
	slog.InfoContext(ctx, "portal sign-in", "subject", p.Subject, "kind", p.Kind, "entity", p.EntityNumber, "ip", h.k.ClientIP(r))
	http.Redirect(w, r, h.k.BasePath+profilePath, http.StatusSeeOther)
	return nil
}

// submitPasskeyLogin is the portal's sign-in with a passkey alone (a
// staff login; the entity account holds none), checked as the e-service
// sign-in checks it, landing on the profile.
func (h *entrance) submitPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := kit.ParseForm(w, r); err != nil {
		return kit.InForm(kit.Fail(storage.EInvalid, "account_error_csrf"), h.loginForm(w, r, signin.Credentials{}))
	}
	if !h.k.CSRFValid(r, loginBinding, r.PostForm.Get("csrf_token")) {
		return kit.InForm(kit.Fail(storage.EForbidden, "account_error_csrf"), h.loginForm(w, r, signin.Credentials{}))
	}
	p, amr, refused, err := h.signin.VerifyPasskey(ctx, r)
	if err != nil {
		return err
	}
	if refused != nil {
		h.renderLogin(w, r, refused.Status, signin.Credentials{}, refused.Key, refused.Message(w, h.k.T(h.k.Language(r))))
		return nil
	}
	if _, err := h.signin.StartPasskeySession(w, r, p, amr); err != nil {
		return err
	}
	telemetry.SignIn(telemetry.SignInSuccess)
	h.signin.RecordSignIn(r, p, amr)
	slog.InfoContext(ctx, "portal sign-in with a passkey", "subject", p.Subject, "entity", p.EntityNumber, "ip", h.k.ClientIP(r))
	http.Redirect(w, r, h.k.BasePath+profilePath, http.StatusSeeOther)
	return nil
}

// The sign-out form is refused on a page of the portal's own heading.
var (
	errUnreadableLogout = kit.Fail(storage.EInvalid, "account_error_csrf").WithHeading("account_error_heading")
	errForgedLogout     = kit.Fail(storage.EForbidden, "account_error_csrf").WithHeading("account_error_heading")
)

// logout ends the browser's session (and the tokens issued under it) and
// clears the cookie. Without a live session there is nothing to protect,
// and the cookie is cleared all the same.
func (h *entrance) logout(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := kit.ParseForm(w, r); err != nil {
		return errUnreadableLogout
	}
	if c, err := r.Cookie(idpop.SessionCookie); err == nil && c.Value != "" {
		sess, err := h.k.State.Session(ctx, c.Value, 0)
		switch {
		case err == nil:
			if !h.k.CSRFValid(r, sessionBinding(sess.SessionID), r.PostForm.Get("csrf_token")) {
				return errForgedLogout
			}
			if err := h.k.State.EndSessionByID(ctx, sess.SessionID); err != nil {
				return err
			}
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		if err := h.k.State.DeleteSession(ctx, c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, h.k.SessionCookie("", -1))
	http.Redirect(w, r, h.k.BasePath+signin.LoggedOutPath, http.StatusSeeOther)
	return nil
}
