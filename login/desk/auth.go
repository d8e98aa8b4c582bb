package desk

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/storage"
)

// The officers' way in: the sign-in (a password, then a code of the
// officer's 安全驗證碼) and the activation (the code sent to the officer, a
// new password, a 安全驗證碼 enrolled). Neither needs a desk session; both
// end by opening one.

const (
	signInCodePath   = "/signin/code"
	activatePath     = "/activate"
	activateTOTPPath = "/activate/totp"
	// stepCookie carries the sign-in's ticket from the password to the
	// code; activationCookie the activation's from the code to the TOTP.
	stepCookie       = "idp_desk_step"
	activationCookie = "idp_desk_activation"
	// anonBinding binds the CSRF tokens of the forms shown before sign-in.
	anonBinding = "desk-anonymous"
)

// authPages are the sign-in and the activation.
type authPages struct{ *core }

// Mount registers the sign-in's and the activation's pages.
func (h *authPages) Mount(r *mux.Router) {
	r.Handle(signInPath, h.open(h.showSignIn)).Methods(http.MethodGet)
	r.Handle(signInPath, h.open(h.postPassword)).Methods(http.MethodPost)
	r.Handle(signInCodePath, h.open(h.showCode)).Methods(http.MethodGet)
	r.Handle(signInCodePath, h.open(h.postCode)).Methods(http.MethodPost)
	r.Handle(activatePath, h.open(h.showActivate)).Methods(http.MethodGet)
	r.Handle(activatePath, h.open(h.postActivate)).Methods(http.MethodPost)
	r.Handle(activateTOTPPath, h.open(h.showTOTP)).Methods(http.MethodGet)
	r.Handle(activateTOTPPath, h.open(h.postTOTP)).Methods(http.MethodPost)
}

// open serves a page of the way in: a POST must come from our own origin
// with the browser's CSRF token.
func (c *core) open(p kit.Page) http.Handler {
	return kit.SameOrigin(c.k.Serve(c.look(), func(w http.ResponseWriter, r *http.Request) error {
		if r.Method == http.MethodPost {
			if err := kit.ParseForm(w, r); err != nil {
				return storage.Errorf(storage.EInvalid, "read the form: %v", err)
			}
			if !c.k.CSRFValid(r, anonBinding, r.PostFormValue("csrf_token")) {
				return kit.Fail(storage.EForbidden, "desk_error_form_expired")
			}
		} else {
			c.k.RememberLanguage(w, r) // a language chosen here holds for the steps that follow
		}
		return p(w, r)
	}))
}

// meta is where r comes from, as the sign-in history keeps it.
func (c *core) meta(r *http.Request) officers.Meta {
	d := c.k.DeviceOf(r)
	ua := strings.TrimSpace(d.Browser + " / " + d.System)
	if ua == "/" {
		ua = ""
	}
	return officers.Meta{IP: d.IP, UserAgent: ua}
}

// localNext is where to go after the sign-in: a local path starting with
// a single "/", else the home page.
func localNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return homePath
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return homePath
	}
	return next
}

// authPage is desk_signin.html and the activation's pages: an anonymous
// form, its error, and what the form shows again.
type authPage struct {
	kit.Common
	CSRF  string
	Error string
	Field string
	// Step: "password" or "code" (sign-in), "code" or "totp" (activation).
	Step  string
	Login string
	Next  string
	// The 安全驗證碼 to enrol (activation's second step).
	QR     kit.QRSVG
	Secret string
	// Passkey: the code's step also offers the officer's passkeys, with
	// the options for the browser (JSON) and their state.
	Passkey                      bool
	PasskeyOptions, PasskeyState string
}

func (c *core) authPage(w http.ResponseWriter, r *http.Request, path, step string) authPage {
	lang := c.k.Language(r)
	return authPage{Common: c.k.CommonAt(r, lang, path), CSRF: c.k.CSRFToken(w, r, anonBinding), Step: step}
}

// inForm shows p again with the message of err when err has one.
func (c *core) inForm(w http.ResponseWriter, err error, name string, p authPage) error {
	return kit.InForm(err, func(status int, key string) {
		p.Error = kit.Say(p.T, key, err)
		if e, ok := err.(*storage.Error); ok {
			p.Field = e.Field
		}
		c.k.Render(w, status, name, p)
	})
}

func (c *core) setStepCookie(w http.ResponseWriter, name, path, value string, life time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: c.k.SecureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: int(life.Seconds())})
}

func (c *core) clearStepCookie(w http.ResponseWriter, name, path string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, HttpOnly: true, Secure: c.k.SecureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

func cookieValue(r *http.Request, name string) string {
	if ck, err := r.Cookie(name); err == nil {
		return ck.Value
	}
	return ""
}

// signIn opens the officer's desk session (the way in's last step) and
// sends the browser on to next.
func (c *core) signIn(w http.ResponseWriter, r *http.Request, o storage.Officer, factor, next string) error {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		_ = c.Sessions.EndDeskSession(r.Context(), ck.Value) // no session of another officer lives on
	}
	secret, err := c.Sessions.CreateDeskSession(r.Context(), &storage.DeskSession{OfficerID: o.ID, Factor: factor,
		IP: c.k.ClientIP(r), ExpiresAt: time.Now().Add(storage.DeskMaxAge)})
	if err != nil {
		return err
	}
	c.setSession(w, secret)
	http.Redirect(w, r, localNext(next), http.StatusSeeOther)
	return nil
}

// ---- the sign-in ----

func (h *authPages) showSignIn(w http.ResponseWriter, r *http.Request) error {
	p := h.authPage(w, r, signInPath, "password")
	p.Next = localNext(r.URL.Query().Get("next"))
	h.k.Render(w, http.StatusOK, "desk_signin.html", p)
	return nil
}

func (h *authPages) postPassword(w http.ResponseWriter, r *http.Request) error {
	p := h.authPage(w, r, signInPath, "password")
	p.Login, p.Next = strings.TrimSpace(r.PostFormValue("login")), localNext(r.PostFormValue("next"))
	ticket, err := h.Officers.SignInPassword(r.Context(), p.Login, r.PostFormValue("password"), h.meta(r))
	if err != nil {
		return h.inForm(w, err, "desk_signin.html", p)
	}
	h.setStepCookie(w, stepCookie, signInCodePath, ticket, 5*time.Minute)
	http.Redirect(w, r, signInCodePath+"?"+url.Values{"next": {p.Next}}.Encode(), http.StatusSeeOther)
	return nil
}

func (h *authPages) showCode(w http.ResponseWriter, r *http.Request) error {
	if cookieValue(r, stepCookie) == "" {
		http.Redirect(w, r, signInPath, http.StatusSeeOther)
		return nil
	}
	p := h.authPage(w, r, signInCodePath, "code")
	p.Next = localNext(r.URL.Query().Get("next"))
	h.offerPasskey(w, r, &p)
	h.k.Render(w, http.StatusOK, "desk_signin.html", p)
	return nil
}

func (h *authPages) postCode(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("method") == "passkey" {
		return h.signInPasskey(w, r)
	}
	p := h.authPage(w, r, signInCodePath, "code")
	p.Next = localNext(r.PostFormValue("next"))
	o, err := h.Officers.SignInCode(r.Context(), cookieValue(r, stepCookie), r.PostFormValue("code"), h.meta(r))
	if err != nil {
		if errKey(err) == "desk_auth_err_stale" {
			h.clearStepCookie(w, stepCookie, signInCodePath)
			p.Step = "password"
		} else {
			h.offerPasskey(w, r, &p)
		}
		return h.inForm(w, err, "desk_signin.html", p)
	}
	h.clearStepCookie(w, stepCookie, signInCodePath)
	return h.signIn(w, r, o, "totp", p.Next)
}

// ---- the activation ----

func (h *authPages) showActivate(w http.ResponseWriter, r *http.Request) error {
	h.k.Render(w, http.StatusOK, "desk_activate.html", h.authPage(w, r, activatePath, "code"))
	return nil
}

func (h *authPages) postActivate(w http.ResponseWriter, r *http.Request) error {
	p := h.authPage(w, r, activatePath, "code")
	p.Login = strings.TrimSpace(r.PostFormValue("login"))
	e, err := h.Officers.BeginActivation(r.Context(), officers.ActivationForm{Login: p.Login, Code: r.PostFormValue("code"),
		Password: r.PostFormValue("password"), Confirm: r.PostFormValue("confirm")}, h.meta(r))
	if err != nil {
		return h.inForm(w, err, "desk_activate.html", p)
	}
	h.setStepCookie(w, activationCookie, activatePath, e.Ticket, 30*time.Minute)
	http.Redirect(w, r, activateTOTPPath, http.StatusSeeOther)
	return nil
}

// totpPage is the activation's second step: the 安全驗證碼 to enrol.
func (h *authPages) totpPage(w http.ResponseWriter, r *http.Request) (authPage, error) {
	p := h.authPage(w, r, activateTOTPPath, "totp")
	e, err := h.Officers.Staged(r.Context(), cookieValue(r, activationCookie))
	if err != nil {
		return p, err
	}
	p.Login, p.Secret = e.Login, e.Secret
	p.QR, err = kit.NewQRSVG(e.URL)
	return p, err
}

func (h *authPages) showTOTP(w http.ResponseWriter, r *http.Request) error {
	p, err := h.totpPage(w, r)
	if err != nil {
		if storage.CodeOf(err) == storage.EUnauthenticated {
			http.Redirect(w, r, activatePath, http.StatusSeeOther)
			return nil
		}
		return err
	}
	h.k.Render(w, http.StatusOK, "desk_activate.html", p)
	return nil
}

func (h *authPages) postTOTP(w http.ResponseWriter, r *http.Request) error {
	p, err := h.totpPage(w, r)
	if err != nil {
		return h.inForm(w, err, "desk_activate.html", h.authPage(w, r, activatePath, "code"))
	}
	o, err := h.Officers.ConfirmActivation(r.Context(), cookieValue(r, activationCookie), r.PostFormValue("code"), h.meta(r))
	if err != nil {
		return h.inForm(w, err, "desk_activate.html", p)
	}
	h.clearStepCookie(w, activationCookie, activatePath)
	return h.signIn(w, r, o, "totp", homePath)
}

// errKey is the catalogue key of err's message, "" when none.
func errKey(err error) string {
	var e *storage.Error
	if errors.As(err, &e) {
		return e.Key
	}
	return ""
}

func asError(err error, target **storage.Error) bool { return errors.As(err, target) }
