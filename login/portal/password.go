package portal

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

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
func (h *Handler) renderPassword(w http.ResponseWriter, r *http.Request, pt *kit.Signed, status int, errMsg string, done bool, invalid ...string) {
	ch := h.chrome(w, r, pt, h.language(r, pt.Principal), "password")
	h.k.Render(w, status, "account_password.html", passwordPage{
		chrome:   ch,
		CSRF:     ch.LogoutCSRF, // the same binding: this browser and this session
		Username: pt.Principal.Username,
		Error:    errMsg,
		Fields:   kit.FieldsOf(passwordFields, nil, invalid...),
		Done:     done,
	})
}

// showPassword is the 「變更密碼」 form.
func (h *Handler) showPassword(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	h.renderPassword(w, r, pt, http.StatusOK, "", false)
	return nil
}

// submitPassword changes the signed-in account's password: old password,
// new twice, the policy (login/password.CheckPolicy). A wrong old password
// counts as a failed sign-in for the throttle. On success the new hash is
// stored (with its audit event) only if the old one is still in place;
// then every session and token of the account ends, and this browser gets
// a fresh session. Passwords are never written back into the page.
func (h *Handler) submitPassword(w http.ResponseWriter, r *http.Request) error {
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
	// refuse answers with the form again, the fields invalid marked.
	refuse := func(code storage.ErrorCode, key string, invalid ...string) error {
		return kit.InForm(kit.Fail(code, key), func(status int, key string) { fail(status, t[key], invalid...) })
	}
	if formErr != nil || !h.k.CSRFValid(r, sessionBinding(pt.Session.SessionID), r.PostForm.Get("csrf_token")) {
		return refuse(storage.EForbidden, "account_error_csrf")
	}
	old, pw, again := r.PostForm.Get("old_password"), r.PostForm.Get("new_password"), r.PostForm.Get("new_password2")
	switch {
	case old == "" || pw == "" || again == "":
		return refuse(storage.EInvalid, "account_error_missing",
			kit.Empty(map[string]string{"old_password": old, "new_password": pw, "new_password2": again}, passwordFields...)...)
	case pw != again:
		return refuse(storage.EInvalid, "account_error_mismatch", "new_password2")
	}
	if err := password.CheckPolicy(pw, p.Username, p.EntityNumber, strings.ReplaceAll(p.EntityNumber, "-", "")); err != nil {
		var pe *password.PolicyError
		if !errors.As(err, &pe) || t[pe.Key] == "" {
			return err
		}
		return refuse(storage.EInvalid, pe.Key, "new_password")
	}
	if pw == old {
		return refuse(storage.EInvalid, "pw_same_as_old", "new_password")
	}

	// The old password is guarded like a sign-in, on the same counters.
	att, wait, err := h.signin.ReserveAttempt(ctx, r, p.EntityNumber, p.Username)
	if err != nil {
		return err
	}
	if att == nil {
		f := kit.Throttled("error_throttled", wait)
		fail(f.Status, f.Message(w, t))
		return nil
	}
	right, _, err := h.hasher.Verify(ctx, p.PasswordHash, old)
	if errors.Is(err, password.ErrBusy) {
		att.GiveBack(ctx)
		fail(kit.Busy.Status, kit.Busy.Message(w, t))
		return nil
	}
	if err != nil {
		att.GiveBack(ctx)
		return err
	}
	if !right {
		slog.InfoContext(ctx, "password change: wrong old password", "subject", p.Subject, "ip", h.k.ClientIP(r))
		fail(http.StatusUnauthorized, t["account_error_old_password"], "old_password")
		return nil
	}
	att.Succeeded(ctx)
	newHash, err := h.hasher.Hash(ctx, pw)
	if errors.Is(err, password.ErrBusy) {
		fail(kit.Busy.Status, kit.Busy.Message(w, t))
		return nil
	}
	if err != nil {
		return err
	}
	err = h.k.Dir.ChangePassword(ctx, p.Kind, p.ID, p.PasswordHash, newHash, h.k.ClientIP(r))
	if errors.Is(err, storage.ErrConflict) {
		// Changed meanwhile (another change won), or the account was just disabled.
		return refuse(storage.EConflict, "account_error_conflict")
	}
	if err != nil {
		return err
	}
	// Every session and token of the account ends, this browser's too; then
	// this browser alone gets a new session.
	if err := h.k.State.EndAllForSubject(ctx, p.Subject); err != nil {
		return err
	}
	p.PasswordHash = newHash
	sess, err := h.signin.StartSession(w, r, p)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "password changed", "subject", p.Subject, "kind", p.Kind, "entity", p.EntityNumber, "ip", h.k.ClientIP(r))
	h.renderPassword(w, r, &kit.Signed{Session: sess, Principal: p}, http.StatusOK, "", true)
	return nil
}
