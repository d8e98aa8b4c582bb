package portal

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/entity-account/idp/login/credential"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/storage"
)

type passwordPage struct {
	chrome
	CSRF     string
	Username string // for password managers
	Error    string
	Fields   kit.Fields // the fields the refusal (Error) concerns, and the focus
	Done     bool
}

// passwordFields are the form's fields, in the page's order.
var passwordFields = []string{"old_password", "new_password", "new_password2"}

// renderPassword shows the form (empty: passwords are never written back)
// with the message errMsg of a refusal that concerns the fields invalid,
// or the page that says the password was changed.
func (h *accountPages) renderPassword(w http.ResponseWriter, r *http.Request, pt *kit.Signed, status int, errMsg string, done bool, invalid ...string) {
	ch := h.chrome(w, r, pt, h.language(r, pt.Principal), "password")
	h.render.password(w, status, passwordPage{
		chrome:   ch,
		CSRF:     ch.LogoutCSRF, // the same binding: this browser and this session
		Username: pt.Principal.Username,
		Error:    errMsg,
		Fields:   kit.FieldsOf(passwordFields, nil, invalid...),
		Done:     done,
	})
}

// showPassword is the 「變更密碼」 form.
func (h *accountPages) showPassword(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	h.renderPassword(w, r, pt, http.StatusOK, "", false)
	return nil
}

// submitPassword changes the signed-in account's password through the use
// case (credential.Passwords.Change: the checks, the old password guarded
// like a sign-in, the write, every session and token ended); then this
// browser alone gets a fresh session. Passwords are never written back
// into the page.
func (h *accountPages) submitPassword(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	formErr := kit.ParseForm(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	p := pt.Principal
	t := h.k.T(h.language(r, p))
	fail := func(status int, msg string, invalid ...string) {
		h.renderPassword(w, r, pt, status, msg, false, invalid...)
	}
	if formErr != nil || !h.k.CSRFValid(r, sessionBinding(pt.Session.SessionID), r.PostForm.Get("csrf_token")) {
		return kit.InForm(kit.Fail(storage.EForbidden, "account_error_csrf"), func(status int, key string) { fail(status, t[key]) })
	}
	newHash, err := h.passwords.Change(ctx, credential.Change{
		Account: p, IP: h.k.ClientIP(r),
		Old: r.PostForm.Get("old_password"), New: r.PostForm.Get("new_password"), Again: r.PostForm.Get("new_password2"),
		Reserve: func(ctx context.Context) (credential.Attempt, time.Duration, error) {
			att, wait, err := h.signin.ReserveAttempt(ctx, r, p.EntityNumber, p.Username)
			if att == nil {
				return nil, wait, err // no typed nil in the interface
			}
			return att, wait, err
		},
	})
	if err != nil {
		return h.passwordRefused(t, fail, err)
	}
	p.PasswordHash = newHash
	sess, err := h.signin.StartSession(w, r, p)
	if err != nil {
		return err
	}
	h.renderPassword(w, r, &kit.Signed{Session: sess, Principal: p}, http.StatusOK, "", true)
	return nil
}

// passwordRefused answers a refused change: the form again with the
// message and the fields at fault, by the one error writer, which sets the
// status (and Retry-After) from the refusal's code; or err itself when it
// is not a refusal the form shows.
func (h *accountPages) passwordRefused(t map[string]string, fail func(int, string, ...string), err error) error {
	inForm := func(refusal error, invalid ...string) error {
		return kit.InForm(refusal, func(status int, key string) { fail(status, kit.Say(t, key, refusal), invalid...) })
	}
	if errors.Is(err, password.ErrBusy) {
		return inForm(kit.FailBusy())
	}
	fields := storage.FieldErrors(err)
	if len(fields) == 0 || t[fields[0].Key] == "" {
		return err
	}
	var invalid []string
	for _, f := range fields {
		if f.Field != "" {
			invalid = append(invalid, f.Field)
		}
	}
	return inForm(err, invalid...)
}
