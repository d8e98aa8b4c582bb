package portal

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
)

// 通行密鑰 (/account/tools/passkeys): the login's passkeys, 新增 (a name,
// then the browser's own passkey dialogue, which templates/static/passkey.js
// drives), 移除 one, and 關閉: every passkey goes, and only a visit in person
// switches them on again. The add form follows the script's contract: it
// carries data-passkey="create" with the options for
// navigator.credentials.create in data-options and the message for a
// browser that fails in data-passkey-error; the hidden fields state and
// credential (which the script fills with the credential's JSON before it
// submits), the name field, a submit button marked data-passkey-start and
// an empty hidden alert for the script's messages. Only a page with that
// form asks the kit for script-src 'self' (kit.AllowOwnScripts).
//
// A login whose document is not a Macau resident ID card is told why it
// cannot add passkeys here, and pointed to 安全驗證碼: the use case
// (tools.ToolStatus) decides, not the page.

type passkeysPage struct {
	chrome
	CSRF   string
	Action string
	Rows   []toolRow
	Status tools.ToolStatus
	Done   string // a status after a change
	Error  string // a refusal not tied to a field
	// Fresh: the password is fresh, so the page offers its changes (remove
	// buttons, the add form, 關閉); otherwise Reauth asks for it first.
	Fresh      bool
	ShowReauth bool
	Reauth     reauthForm
	// The add form (when the login may add passkeys and the password is
	// fresh): the options for the browser (JSON) and the state they belong to.
	AddForm         bool
	Options, State  string
	Name, NameError string
	// OffForm: 關閉 is offered (to a login that holds passkeys or may add
	// them), and OffError is the refusal of it without the confirmation.
	OffForm  bool
	OffError string
}

// passkeys are the passkey use cases, or the 404 of pages that are off.
func (h *accountPages) passkeys() (PasskeyTools, error) {
	if h.tools.Passkeys == nil {
		return nil, kit.Fail(storage.ENotFound, "passkeys_unavailable").WithLink(toolsPath, "tools_title")
	}
	return h.tools.Passkeys, nil
}

// renderPasskeys shows the page as the login's passkeys stand, changed by
// edit; with the add form it starts a new registration for it.
func (h *accountPages) renderPasskeys(w http.ResponseWriter, r *http.Request, tr *toolRequest, status int, edit func(*passkeysPage)) error {
	ctx := r.Context()
	pk := h.tools.Passkeys
	st, err := pk.Status(ctx, tr.pt.Principal.ID)
	if err != nil {
		return err
	}
	list, err := pk.Tools(ctx, tr.actor, tr.euid)
	if err != nil {
		return err
	}
	var own []storage.IdentityTool
	for _, tl := range list {
		if tl.Kind == storage.ToolPasskey {
			own = append(own, tl)
		}
	}
	ch := h.chrome(w, r, tr.pt, tr.lang, "tools")
	p := passkeysPage{
		chrome: ch, CSRF: ch.LogoutCSRF, Action: h.k.BasePath + passkeysPath, Rows: toolRows(tr.t, own), Status: st,
		Fresh:  tr.fresh && !st.PasskeysOff,
		Reauth: reauthForm{Username: tr.pt.Principal.Username},
	}
	p.ShowReauth = !tr.fresh && !st.PasskeysOff && (st.MayAddPasskey || len(own) > 0)
	p.AddForm = p.Fresh && st.MayAddPasskey
	p.OffForm = p.Fresh && (st.SelfConfirms || len(own) > 0)
	if edit != nil {
		edit(&p)
	}
	if p.AddForm {
		options, state, err := pk.BeginPasskey(ctx, tr.actor, tr.euid)
		if err != nil {
			return err
		}
		p.Options, p.State = string(options), state
		kit.AllowOwnScripts(w)
	}
	h.render.passkeys(w, status, p)
	return nil
}

// showPasskeys is the 通行密鑰 page.
func (h *accountPages) showPasskeys(w http.ResponseWriter, r *http.Request) error {
	tr, err := h.toolsSignedIn(w, r)
	if tr == nil {
		return err
	}
	if _, err := h.passkeys(); err != nil {
		return err
	}
	done := r.URL.Query().Get("done")
	return h.renderPasskeys(w, r, tr, http.StatusOK, func(p *passkeysPage) {
		switch done {
		case "added", "removed", "off", "reauth":
			p.Done = tr.t["passkeys_done_"+done]
		}
	})
}

// submitPasskeys takes the page's forms: the password again, 新增, 移除, 關閉.
func (h *accountPages) submitPasskeys(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	formErr := kit.ParseForm(w, r)
	tr, err := h.toolsSignedIn(w, r)
	if tr == nil {
		return err
	}
	pk, err := h.passkeys()
	if err != nil {
		return err
	}
	if formErr != nil || !h.csrfOK(r, tr.pt) {
		return csrfRefused(passkeysPath, "passkeys_title")
	}
	step := r.PostForm.Get("step")
	if step == "reauth" {
		err := h.reauthenticate(w, r, tr, passkeysPath)
		if err == nil {
			return nil // answered: back to the page, or to the sign-in
		}
		return h.inPasskeys(w, r, tr, err, func(p *passkeysPage, msg string) { p.Reauth.Error = msg })
	}
	if step != "add" && step != "remove" && step != "off" {
		return kit.Fail(storage.EInvalid, "account_error_csrf").WithLink(passkeysPath, "passkeys_title")
	}
	if !tr.fresh {
		// Nothing is done: the password first, then the page again.
		return h.inPasskeys(w, r, tr, errReauthNeeded, func(p *passkeysPage, msg string) {
			if p.ShowReauth {
				p.Error = msg
			}
		})
	}
	var done string
	switch step {
	case "add":
		name := strings.TrimSpace(r.PostForm.Get("name"))
		credential := r.PostForm.Get("credential")
		if credential == "" {
			// No script ran, or the browser made no passkey.
			return h.inPasskeys(w, r, tr, kit.Fail(storage.EInvalid, "passkeys_error_no_credential"), func(p *passkeysPage, msg string) {
				p.Name, p.Error = name, msg
			})
		}
		if _, err := pk.FinishPasskey(ctx, tr.actor, tr.euid, r.PostForm.Get("state"), name, []byte(credential)); err != nil {
			return h.passkeyRefusal(w, r, tr, err, name)
		}
		done = "added"
	case "remove":
		id, perr := strconv.ParseInt(r.PostForm.Get("tool"), 10, 64)
		if perr != nil || id <= 0 {
			return h.inPasskeys(w, r, tr, kit.Fail(storage.EInvalid, "tools_error_not_found"), func(p *passkeysPage, msg string) { p.Error = msg })
		}
		if err := pk.RemovePasskey(ctx, tr.actor, tr.euid, id); err != nil {
			return h.passkeyRefusal(w, r, tr, err, "")
		}
		done = "removed"
	case "off":
		if r.PostForm.Get("confirm") != "yes" {
			return h.inPasskeys(w, r, tr, kit.Fail(storage.EInvalid, "passkeys_off_unconfirmed"), func(p *passkeysPage, msg string) { p.OffError = msg })
		}
		if err := pk.SwitchOffPasskeys(ctx, tr.actor, tr.euid); err != nil {
			return h.passkeyRefusal(w, r, tr, err, "")
		}
		done = "off"
	}
	slog.InfoContext(ctx, "identity tools: passkeys changed", "subject", tr.euid, "change", done, "ip", h.k.ClientIP(r))
	http.Redirect(w, r, h.k.BasePath+passkeysPath+"?done="+done, http.StatusSeeOther)
	return nil
}

// passkeyRefusal hands a use case's refusal to the error writer with the
// page attached: a refused name is tied to its field, anything else is
// said above the forms. A refusal by the rule book is the 403 of
// staff-only pages.
func (h *accountPages) passkeyRefusal(w http.ResponseWriter, r *http.Request, tr *toolRequest, err error, name string) error {
	if storage.CodeOf(err) == storage.EForbidden {
		return refused()
	}
	var e *storage.Error
	field := ""
	if errors.As(err, &e) {
		field = e.Field
	}
	return h.inPasskeys(w, r, tr, err, func(p *passkeysPage, msg string) {
		p.Name = name
		if field == "name" {
			p.NameError = msg
		} else {
			p.Error = msg
		}
	})
}

// inPasskeys hands refusal (its code and message key) to the one
// error writer with the page attached: the writer sets the status from the
// code, and set puts the message where the page shows it.
func (h *accountPages) inPasskeys(w http.ResponseWriter, r *http.Request, tr *toolRequest, refusal error, set func(p *passkeysPage, msg string)) error {
	return kit.InForm(refusal, func(status int, key string) {
		if err := h.renderPasskeys(w, r, tr, status, func(p *passkeysPage) { set(p, kit.Say(tr.t, key, refusal)) }); err != nil {
			h.k.Error(w, r, toolsErrors, err)
		}
	})
}
