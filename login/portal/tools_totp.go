package portal

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// 安全驗證碼 enrolment (/account/tools/totp). The page shows where the
// login's TOTP stands: none (or one never confirmed) offers 開始 (after the
// password again when the session's is not fresh); 開始 begins the
// enrolment (tools.BeginTOTP) and answers with the QR code, drawn here as
// inline SVG, the secret as text to type in, and the field for the first
// code, which confirms it (tools.ConfirmTOTP): active for a login
// registered with a Macau resident ID card, otherwise pending until the
// person shows the same document at 行政公職局. A pending or active TOTP
// is explained, with who resets it (the operator, for a lost phone).
//
// The secret is in the answer to 開始 alone: never in an address (the
// form posts it nowhere), never in a log, and the page is not stored
// (Cache-Control: no-store).

// Modes of the 安全驗證碼 page.
const (
	totpStart   = "start"   // none yet (or one never confirmed): 開始
	totpReauth  = "reauth"  // as start, but the password first
	totpEnrol   = "enrol"   // the QR code, the secret and the first code's field
	totpConfirm = "confirm" // the first code's field again, after a refusal
	totpPending = "pending" // confirmed, waiting for the in-person check
	totpActive  = "active"
)

type totpPage struct {
	chrome
	CSRF   string
	Action string // this page, where its forms post
	Mode   string
	// Done: the first code was just accepted (the page says so as a status).
	Done         bool
	Notice       string // a status (the password was just proven)
	Error        string // a refusal not tied to a field
	CodeError    string // the refusal of the code typed
	EntityNumber string // to bring to 行政公職局
	QR           *kit.QRSVG
	Secret       string // grouped in fours for typing
	Reauth       reauthForm
	// Approval is the approval QR code just made (pending mode, see
	// tools_approval.go); ApprovalError the refusal of the app's code
	// typed for it.
	Approval      *approvalShown
	ApprovalError string
}

// totpPage is the page as the login's TOTP stands now.
func (h *accountPages) totpPage(w http.ResponseWriter, r *http.Request, tr *toolRequest) (totpPage, error) {
	list, err := h.k.Dir.Tools(r.Context(), tr.pt.Principal.ID)
	if err != nil {
		return totpPage{}, err
	}
	ch := h.chrome(w, r, tr.pt, tr.lang, "tools")
	p := totpPage{
		chrome: ch, CSRF: ch.LogoutCSRF, Action: h.k.BasePath + totpPath,
		EntityNumber: tr.pt.Principal.EntityNumber, Reauth: reauthForm{Username: tr.pt.Principal.Username},
	}
	tl, _ := toolOf(list, storage.ToolTOTP)
	switch {
	case tl.State == storage.ToolActive:
		p.Mode = totpActive
	case tl.State == storage.ToolPending:
		p.Mode = totpPending
	case tr.fresh:
		p.Mode = totpStart
	default:
		p.Mode = totpReauth
	}
	return p, nil
}

// renderTOTP shows the page as the TOTP stands, changed by edit.
func (h *accountPages) renderTOTP(w http.ResponseWriter, r *http.Request, tr *toolRequest, status int, edit func(*totpPage)) error {
	p, err := h.totpPage(w, r, tr)
	if err != nil {
		return err
	}
	if edit != nil {
		edit(&p)
	}
	h.render.totp(w, status, p)
	return nil
}

// showTOTP is the 安全驗證碼 page.
func (h *accountPages) showTOTP(w http.ResponseWriter, r *http.Request) error {
	tr, err := h.toolsSignedIn(w, r)
	if tr == nil {
		return err
	}
	done := r.URL.Query().Get("done")
	return h.renderTOTP(w, r, tr, http.StatusOK, func(p *totpPage) {
		p.Done = done == "confirmed" && (p.Mode == totpActive || p.Mode == totpPending)
		if done == "reauth" && p.Mode == totpStart {
			p.Notice = tr.t["tools_reauth_done"]
		}
	})
}

// submitTOTP takes the page's forms: the password again, 開始, the first code.
func (h *accountPages) submitTOTP(w http.ResponseWriter, r *http.Request) error {
	formErr := kit.ParseForm(w, r)
	tr, err := h.toolsSignedIn(w, r)
	if tr == nil {
		return err
	}
	if formErr != nil || !h.csrfOK(r, tr.pt) {
		return csrfRefused(totpPath, "totp_title")
	}
	step := r.PostForm.Get("step")
	if step == "reauth" {
		err := h.reauthenticate(w, r, tr, totpPath)
		if err == nil {
			return nil // answered: back to the page, or to the sign-in
		}
		return h.inTOTP(w, r, tr, err, func(p *totpPage, msg string) { p.Reauth.Error = msg })
	}
	if step == "approval" {
		// The app's code is the proof: no password again.
		return h.showApproval(w, r, tr)
	}
	if step != "begin" && step != "confirm" {
		return kit.Fail(storage.EInvalid, "account_error_csrf").WithLink(totpPath, "totp_title")
	}
	if !tr.fresh {
		// Nothing is done: the password first, then the page again.
		return h.inTOTP(w, r, tr, errReauthNeeded, func(p *totpPage, msg string) {
			if p.Mode == totpReauth {
				p.Error = msg
			}
		})
	}
	if step == "begin" {
		return h.beginTOTP(w, r, tr)
	}
	return h.confirmTOTP(w, r, tr)
}

// beginTOTP makes the login a new secret and shows it.
func (h *accountPages) beginTOTP(w http.ResponseWriter, r *http.Request, tr *toolRequest) error {
	ctx := r.Context()
	en, err := h.tools.TOTP.BeginTOTP(ctx, tr.actor, tr.euid)
	if err != nil {
		return h.totpRefusal(w, r, tr, err)
	}
	qr, err := kit.NewQRSVG(en.URL)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "identity tools: 安全驗證碼 enrolment begun", "subject", tr.euid, "ip", h.k.ClientIP(r))
	return h.renderTOTP(w, r, tr, http.StatusOK, func(p *totpPage) {
		p.Mode, p.QR, p.Secret = totpEnrol, &qr, groupsOfFour(en.Secret)
	})
}

// confirmTOTP takes the first code and sends the browser to the page,
// which then says what became of the TOTP.
func (h *accountPages) confirmTOTP(w http.ResponseWriter, r *http.Request, tr *toolRequest) error {
	ctx := r.Context()
	code := strings.Join(strings.Fields(r.PostForm.Get("code")), "")
	tl, err := h.tools.TOTP.ConfirmTOTP(ctx, tr.actor, tr.euid, code)
	if err != nil {
		return h.totpRefusal(w, r, tr, err)
	}
	slog.InfoContext(ctx, "identity tools: 安全驗證碼 confirmed", "subject", tr.euid, "state", tl.State, "ip", h.k.ClientIP(r))
	http.Redirect(w, r, h.k.BasePath+totpPath+"?done=confirmed", http.StatusSeeOther)
	return nil
}

// totpRefusal hands a use case's refusal to the error writer with the page
// attached: a wrong code (or too many) shows the code's field again, the
// message tied to it; any other refusal shows the page as the TOTP stands,
// with the message. A refusal by the rule book is the 403 of staff-only
// pages.
func (h *accountPages) totpRefusal(w http.ResponseWriter, r *http.Request, tr *toolRequest, err error) error {
	if storage.CodeOf(err) == storage.EForbidden {
		return refused()
	}
	var e *storage.Error
	field, throttled := "", false
	if errors.As(err, &e) {
		field, throttled = e.Field, e.Key == "tool_error_throttled"
	}
	return h.inTOTP(w, r, tr, err, func(p *totpPage, msg string) {
		switch {
		case field == "code":
			p.Mode, p.CodeError = totpConfirm, msg
		case throttled:
			p.Mode, p.Error = totpConfirm, msg
		default:
			p.Error = msg
		}
	})
}

// inTOTP hands refusal (its code and message key) to the one
// error writer with the page attached: the writer sets the status from the
// code, and set puts the message where the page shows it.
func (h *accountPages) inTOTP(w http.ResponseWriter, r *http.Request, tr *toolRequest, refusal error, set func(p *totpPage, msg string)) error {
	return kit.InForm(refusal, func(status int, key string) {
		if err := h.renderTOTP(w, r, tr, status, func(p *totpPage) { set(p, kit.Say(tr.t, key, refusal)) }); err != nil {
			h.k.Error(w, r, toolsErrors, err)
		}
	})
}

// groupsOfFour writes a secret in groups of four characters, as people
// type it into an authenticator app.
func groupsOfFour(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}
