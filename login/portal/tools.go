package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
)

// The portal's 電子身份識別工具 pages: the signed-in staff login's own
// identity tools. /account/tools lists them; /account/tools/totp enrols a
// 安全驗證碼 (tools_totp.go); /account/tools/passkeys adds, removes and
// switches off 通行密鑰 (tools_passkeys.go). Every page acts for the
// session's own login, whose EUID comes from the session, never from the
// request; it asks the rule book who may open it (storage.CanHoldTools:
// staff logins, not the entity account) and leaves every other question to
// the use cases, whose refusals go to the one error writer. Every POST that
// enrols or removes a tool first needs the session's password proven within
// Tools.Reauth; otherwise the page asks for it again (tools_reauth.go).

// Paths of the identity-tool pages.
const (
	toolsPath    = "/account/tools"
	totpPath     = "/account/tools/totp"
	passkeysPath = "/account/tools/passkeys"
)

// DefaultReauth is how recently the session's password must have been
// proven for a change of identity tools when Tools.Reauth is not set.
const DefaultReauth = 5 * time.Minute

// PasskeyTools are the passkey use cases the passkey pages act through.
// Each asks the rule book for actor and acts on the staff login euid of
// the actor's entity.
type PasskeyTools interface {
	// BeginPasskey starts adding a passkey: the options for the browser's
	// navigator.credentials.create (JSON) and the state FinishPasskey needs
	// back with the browser's answer.
	BeginPasskey(ctx context.Context, actor storage.Actor, euid string) (options json.RawMessage, state string, err error)
	// FinishPasskey checks the browser's answer (the credential as JSON)
	// against state and stores the passkey under name.
	FinishPasskey(ctx context.Context, actor storage.Actor, euid, state, name string, response []byte) (storage.IdentityTool, error)
	// RemovePasskey removes one passkey of the login.
	RemovePasskey(ctx context.Context, actor storage.Actor, euid string, toolID int64) error
	// SwitchOffPasskeys switches passkeys off for the login: none may be
	// used or added until a visit in person switches them on again.
	SwitchOffPasskeys(ctx context.Context, actor storage.Actor, euid string) error
	// Tools lists the identity tools of the login.
	Tools(ctx context.Context, actor storage.Actor, euid string) ([]storage.IdentityTool, error)
	// Status is where the login of id loginID stands with its tools.
	Status(ctx context.Context, loginID int64) (tools.ToolStatus, error)
}

// Tools is what the identity-tool pages act through.
type Tools struct {
	TOTP *tools.Service // 安全驗證碼; required
	// Passkeys are the passkey use cases; nil: the passkey pages answer
	// 404 and nothing links to them.
	Passkeys PasskeyTools
	// Reauth is how recently the session's password must have been proven
	// for a POST that enrols or removes a tool; 0 means DefaultReauth.
	Reauth time.Duration
}

// toolsErrors is the look of the identity-tool pages' error pages.
var toolsErrors = kit.ErrorPages{
	Heading: "account_error_heading", InvalidHeading: "account_error_heading", Invalid: "tools_error_invalid",
	Failed: "error_internal", LinksTo: toolsPath,
}

// serveTools serves an identity-tool page: a refusal answers as the other
// staff-only pages do (403), and a tool not found that brings no message
// of its own gets the pages' own.
func (h *accountPages) serveTools(p kit.Page) http.Handler {
	return h.k.Serve(h.framed(toolsErrors, toolsPath, "tools_title"), func(w http.ResponseWriter, r *http.Request) error {
		err := p(w, r)
		var own *storage.Error
		switch {
		case errors.As(err, &own) && own.Key != "":
			return err
		case storage.CodeOf(err) == storage.EForbidden:
			return refused()
		case storage.CodeOf(err) == storage.ENotFound:
			return kit.Fail(storage.ENotFound, "tools_error_not_found").WithHeading("nav_not_found_heading")
		}
		return err
	})
}

// toolRequest is a signed-in request to an identity-tool page.
type toolRequest struct {
	pt    *kit.Signed
	actor storage.Actor
	euid  string // the session's own login, never one named by the request
	lang  string
	t     map[string]string
	// fresh: the password was typed in the session within Tools.Reauth,
	// so a tool may be enrolled or removed now.
	fresh bool
}

// toolsSignedIn returns the request's staff login; nil after sending a
// browser without a session to the portal's sign-in, or with the refusal
// (403) when the rule book does not let the account hold tools.
func (h *accountPages) toolsSignedIn(w http.ResponseWriter, r *http.Request) (*toolRequest, error) {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return nil, err
	}
	a := h.actor(r, pt)
	if !storage.CanHoldTools(a) {
		return nil, refused()
	}
	lang := h.language(r, pt.Principal)
	return &toolRequest{
		pt: pt, actor: a, euid: pt.Principal.Subject, lang: lang, t: h.k.T(lang),
		fresh: h.passwordFresh(pt.Session),
	}, nil
}

// passwordFresh reports whether the password was typed in the session (at
// sign-in, or again on these pages) within Tools.Reauth.
func (h *accountPages) passwordFresh(s *storage.Session) bool {
	return storage.PasswordTypedWithin(*s, h.k.Now(), h.tools.Reauth)
}

// toolRow is one identity tool as the pages show it, in the page's language.
type toolRow struct {
	ID                int64
	Kind, Name, State string
	StateCode         storage.ToolState // for the page's marks
	Added, LastUsed   string            // Macau time; "—" when never used
}

// toolRows lays tools out in t.
func toolRows(t map[string]string, list []storage.IdentityTool) []toolRow {
	rows := make([]toolRow, 0, len(list))
	for _, tl := range list {
		row := toolRow{
			ID: tl.ID, Kind: labelOf(t, "tools_kind_", string(tl.Kind)), Name: tl.Name,
			State: labelOf(t, "tools_state_", string(tl.State)), StateCode: tl.State,
			Added: macauTime(tl.CreatedAt), LastUsed: "—",
		}
		if tl.Kind == storage.ToolTOTP {
			// Its stored name is the kind's, in Chinese; the page names
			// the device in its own language.
			row.Name = t["tools_totp_name"]
		}
		if tl.LastUsedAt != nil {
			row.LastUsed = macauTime(*tl.LastUsedAt)
		}
		rows = append(rows, row)
	}
	return rows
}

// macauTime is a time as the portal's pages show it.
func macauTime(at time.Time) string { return at.In(macau).Format("2006-01-02 15:04") }

// toolOf is the login's tool of kind (the first), if any.
func toolOf(list []storage.IdentityTool, kind storage.ToolKind) (storage.IdentityTool, bool) {
	for _, t := range list {
		if t.Kind == kind {
			return t, true
		}
	}
	return storage.IdentityTool{}, false
}

type toolsPage struct {
	chrome
	Rows        []toolRow
	Passkeys    bool // the passkey pages are on
	PasskeysOff bool
	// TOTPPending: the 安全驗證碼 waits for the in-person check; the page
	// leads to its approval QR code.
	TOTPPending bool
}

// showTools is 「電子身份識別工具」: the login's tools, and where to add them.
func (h *accountPages) showTools(w http.ResponseWriter, r *http.Request) error {
	tr, err := h.toolsSignedIn(w, r)
	if tr == nil {
		return err
	}
	ctx := r.Context()
	list, err := h.k.Dir.Tools(ctx, tr.pt.Principal.ID)
	if err != nil {
		return err
	}
	page := toolsPage{chrome: h.chrome(w, r, tr.pt, tr.lang, "tools"), Rows: toolRows(tr.t, list), Passkeys: h.tools.Passkeys != nil}
	if tl, ok := toolOf(list, storage.ToolTOTP); ok && tl.State == storage.ToolPending {
		page.TOTPPending = true
	}
	if page.Passkeys {
		st, err := h.tools.Passkeys.Status(ctx, tr.pt.Principal.ID)
		if err != nil {
			return err
		}
		page.PasskeysOff = st.PasskeysOff
	}
	h.render.tools(w, page)
	return nil
}

// toolsSummary is the profile's line about the login's identity tools, in
// t: "" when the account holds none by the rule book (the entity account)
// or the pages are off.
func (h *accountPages) toolsSummary(r *http.Request, pt *kit.Signed, t map[string]string) (string, error) {
	if h.tools == nil || !storage.CanHoldTools(h.actor(r, pt)) {
		return "", nil
	}
	ctx := r.Context()
	list, err := h.k.Dir.Tools(ctx, pt.Principal.ID)
	if err != nil {
		return "", err
	}
	var parts []string
	if tl, ok := toolOf(list, storage.ToolTOTP); ok {
		parts = append(parts, fmt.Sprintf(t["tools_summary_totp"], labelOf(t, "tools_state_", string(tl.State))))
	}
	passkeys := 0
	for _, tl := range list {
		if tl.Kind == storage.ToolPasskey {
			passkeys++
		}
	}
	if passkeys > 0 {
		parts = append(parts, fmt.Sprintf(t["tools_summary_passkeys"], passkeys))
	}
	if h.tools.Passkeys != nil {
		st, err := h.tools.Passkeys.Status(ctx, pt.Principal.ID)
		if err != nil {
			return "", err
		}
		if st.PasskeysOff {
			parts = append(parts, t["tools_summary_passkeys_off"])
		}
	}
	if len(parts) == 0 {
		return t["tools_summary_none"], nil
	}
	return strings.Join(parts, t["tools_summary_sep"]), nil
}
