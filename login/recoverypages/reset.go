package recoverypages

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/portal"
	"github.com/entity-account/idp/login/recovery"
	"github.com/entity-account/idp/storage"
)

const codeBinding = "recover:code"

// ---- step 1: 已收到重設碼 ----

type codePage struct {
	kit.Common
	CSRF         string
	EntityNumber string
	Username     string
	Code         string
	Error        string
	Fields       kit.Fields
	invalid      []string
}

var codeFields = []string{"entity_number", "username", "code"}

func (p codePage) shown() map[string]string {
	return map[string]string{"entity_number": p.EntityNumber, "username": p.Username, "code": p.Code}
}

func (h *Handler) renderCode(w http.ResponseWriter, r *http.Request, status int, p codePage) {
	p.Common = h.common(r, ResetPath)
	p.CSRF = h.k.CSRFToken(w, r, codeBinding)
	p.Fields = kit.FieldsOf(codeFields, p.shown(), p.invalid...)
	h.k.Render(w, status, "recover_code.html", p)
}

func (h *Handler) codeForm(w http.ResponseWriter, r *http.Request, p codePage) func(int, string) {
	return func(status int, key string) {
		p.Error = h.k.T(h.k.Language(r))[key]
		switch key {
		case "resend_error_missing":
			p.invalid = kit.Empty(p.shown(), codeFields...)
		case "reset_error_mismatch":
			p.invalid = codeFields
		case "reset_error_code_format", "reset_error_code_gone":
			p.invalid = []string{"code"}
		}
		h.renderCode(w, r, status, p)
	}
}

// showCode is the form of a held reset code; the SMS's link fills in the
// entity number and username.
func (h *Handler) showCode(w http.ResponseWriter, r *http.Request) {
	h.k.RememberLanguage(w, r)
	q := r.URL.Query()
	h.renderCode(w, r, http.StatusOK, codePage{EntityNumber: kit.Printable(strings.TrimSpace(q.Get("entity_number"))),
		Username: kit.Printable(strings.TrimSpace(q.Get("username")))})
}

// limits are the counters of failed code checks: per client IP and per
// entity number (normalised).
func (h *Handler) limits(r *http.Request, entityNumber string) []kit.Limit {
	if n, ok := storage.NormalizeEntityNumber(entityNumber); ok {
		entityNumber = n
	}
	return []kit.Limit{{Key: "reset-fail:ip:" + h.k.ClientIP(r), Max: h.cfg.FailuresPerIP},
		{Key: "reset-fail:entity:" + strings.ToLower(entityNumber), Max: h.cfg.FailuresPerEntity}}
}

// submitCode checks the code without spending it and shows step 2 with a ticket.
func (h *Handler) submitCode(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	t := h.k.T(h.k.Language(r))
	if err := kit.ParseForm(w, r); err != nil || !h.k.CSRFValid(r, codeBinding, r.PostForm.Get("csrf_token")) {
		return kit.InForm(kit.Fail(storage.EForbidden, "activate_error_csrf"), h.codeForm(w, r, codePage{}))
	}
	p := codePage{EntityNumber: strings.TrimSpace(r.PostForm.Get("entity_number")),
		Username: strings.TrimSpace(r.PostForm.Get("username")), Code: strings.TrimSpace(r.PostForm.Get("code"))}
	if p.EntityNumber == "" || p.Username == "" || p.Code == "" {
		return kit.InForm(kit.Fail(storage.EInvalid, "resend_error_missing"), h.codeForm(w, r, p))
	}
	att, wait, err := h.k.ReserveAttempt(ctx, h.cfg.FailureWindow, h.limits(r, p.EntityNumber)...)
	if err != nil {
		return err
	}
	if att == nil {
		refused := kit.Throttled("activate_error_throttled", wait)
		p.Error = refused.Message(w, t)
		h.renderCode(w, r, refused.Status, p)
		return nil
	}
	start := time.Now()
	v, err := h.cfg.Service.Verify(ctx, h.k.PublicActor(r), recovery.Claim{EntityNumber: p.EntityNumber, Username: p.Username, Code: p.Code})
	padAnswer(ctx, start, h.cfg.MinDuration)
	if err != nil {
		if code := storage.CodeOf(err); code != storage.EUnauthenticated && code != storage.EInvalid {
			att.GiveBack(ctx) // only wrong facts or codes count
		}
		slog.InfoContext(ctx, "reset code refused", "entity", kit.Printable(p.EntityNumber), "code", storage.CodeOf(err), "ip", h.k.ClientIP(r))
		return kit.InForm(err, h.codeForm(w, r, p))
	}
	att.GiveBack(ctx)
	tk, err := h.ticket.Issue(ctx, v)
	if err != nil {
		return err
	}
	return h.renderNew(w, r, http.StatusOK, tk, v, "")
}

// ---- step 2: the new password ----

type newPage struct {
	kit.Common
	CSRF         string
	Ticket       string
	EntityNumber string
	Username     string
	TOTP         bool   // the login has an active 安全驗證碼: its field is shown
	Passkey      string // options of the passkey check, when the login has passkeys
	PasskeyState string
	Error        string
	Fields       kit.Fields
}

var newFields = []string{"new_password", "new_password2", "code"}

// errTicketGone: the ticket is missing, forged or expired: step 1 again.
var errTicketGone = kit.Fail(storage.EInvalid, "activate_error_ticket").WithLink(ResetPath, "activate_start_again")

// renderNew shows step 2 with the message errMsg about the fields invalid;
// a passkey check is begun afresh each time (nothing is stored for it).
func (h *Handler) renderNew(w http.ResponseWriter, r *http.Request, status int, tk string, v recovery.Verified, errMsg string, invalid ...string) error {
	p := newPage{Common: h.common(r, ResetPath), CSRF: h.ticket.CSRF(h.k, w, r, tk), Ticket: tk,
		EntityNumber: v.EntityNumber, Username: v.Username, TOTP: v.Tools.TOTP, Error: errMsg,
		Fields: kit.FieldsOf(newFields, nil, invalid...)}
	if v.Tools.Passkeys {
		opts, state, err := h.cfg.Service.PasskeyOptions(r.Context(), v)
		if err != nil {
			return err
		}
		p.Passkey, p.PasskeyState = string(opts), state
		if !p.TOTP {
			kit.AllowOwnScripts(w) // the passkey form's script (static/passkey.js)
		}
	}
	h.k.Render(w, status, "recover_new.html", p)
	return nil
}

// submitNew sets the new password through the use case (policy, tool,
// write, sessions ended, lockout cleared, holder told).
func (h *Handler) submitNew(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	t := h.k.T(h.k.Language(r))
	var v recovery.Verified
	tk, err := h.ticket.Posted(h.k, w, r, &v)
	if err != nil {
		return err
	}
	err = h.cfg.Service.Complete(ctx, v, recovery.NewPassword{
		New: r.PostForm.Get("new_password"), Again: r.PostForm.Get("new_password2"),
		TOTP: r.PostForm.Get("code"), PasskeyState: r.PostForm.Get("state"), Passkey: []byte(r.PostForm.Get("credential")),
		IP: h.k.ClientIP(r),
	})
	if err != nil {
		return h.newRefused(w, r, t, tk, v, err)
	}
	h.ticket.Spend(ctx, tk)
	h.done(w, r, ResetPath, t["recover_reset_done_heading"], t["recover_reset_done"], portal.LoginPath, t["activate_sign_in"])
	return nil
}

// newRefused answers a refused step 2: the form again with the message
// (the fields marked), or step 1 again when the code is gone.
func (h *Handler) newRefused(w http.ResponseWriter, r *http.Request, t map[string]string, tk string, v recovery.Verified, err error) error {
	if errors.Is(err, password.ErrBusy) {
		return kit.InForm(kit.FailBusy(), func(status int, key string) { _ = h.renderNew(w, r, status, tk, v, t[key]) })
	}
	if storage.CodeOf(err) == storage.EGone {
		h.ticket.Spend(r.Context(), tk)
		return kit.Fail(storage.EGone, "reset_error_code_gone").WithLink(ResetPath, "activate_start_again")
	}
	fields := storage.FieldErrors(err)
	var invalid []string
	for _, f := range fields {
		if f.Field != "" {
			invalid = append(invalid, f.Field)
		}
	}
	var se *storage.Error
	if !errors.As(err, &se) || t[se.Key] == "" {
		return err
	}
	return kit.InForm(err, func(status int, key string) { _ = h.renderNew(w, r, status, tk, v, kit.Say(t, key, err), invalid...) })
}
