// Package portal is the self-service portal: its own sign-in, where the
// entity account may sign in too (the only place it can), the profile page
// 「個人資料」 with the EUID, 「變更密碼」, a staff login's own
// 「電子身份識別工具」 (tools*.go), 「已登入的裝置」 (devices.go) and the
// entity's administration. Each
// area is a handler type of its own with its own Mount, over the core the
// areas share (core.go): entrance (signin.go), accountPages (account.go),
// entityPages (entities.go), staffPages (staff*.go), rightsPages
// (rights.go), servicePages (services*.go) and changePages (changes.go).
// Its pages act only for the account of the browser's SSO session: none
// takes an account id from the request.
package portal

import (
	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/credential"
	"github.com/entity-account/idp/login/devices"
	"github.com/entity-account/idp/login/history"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/recovery"
	"github.com/entity-account/idp/login/signin"
)

// Paths of the portal, under the issuer's path.
const (
	profilePath  = "/account"
	passwordPath = "/account/password"
	logoutPath   = "/account/logout"
	// LoginPath is the portal's sign-in, where activation leads.
	LoginPath = "/account/login"
)

// CSRF bindings of the portal's forms (see kit.CSRFToken): the sign-in form
// is bound to the browser only; the forms of a signed-in page are bound to
// the session too, so a token dies with the session it was issued for.
const loginBinding = "account-login"

func sessionBinding(sid string) string { return "account\x00" + sid }

// Handler serves the portal: it holds the core the areas share and mounts
// each area's pages.
type Handler struct {
	core   *core
	signin *signin.Handler // the three-field check and the session start
	hasher *password.Hasher
	// passwords is the password change (password.go).
	passwords *credential.Passwords
}

// New returns the portal over k, signing in as si does.
func New(k *kit.Kit, si *signin.Handler, hasher *password.Hasher) *Handler {
	return &Handler{core: &core{k: k, render: renderer{k: k}}, signin: si, hasher: hasher, passwords: credential.New(k.Dir, k.State, hasher)}
}

// Administration is what the administration pages act through.
type Administration struct {
	Manage     *manage.Service
	Activation *activation.Service // registers staff logins and sends their codes
	Recovery   *recovery.Service   // 重設密碼: a reset code to a login's registered mobile (nil: none)
}

// TellHolders makes 「變更密碼」 tell the account's holder of every change.
func (h *Handler) TellHolders(n notify.Notices) error { return h.passwords.TellHolders(n) }

// EnableAdministration turns the administration pages on. Call it before Mount.
func (h *Handler) EnableAdministration(a Administration) { h.core.admin = &a }

// EnableHistory turns 登入記錄 on over view. Call it before Mount.
func (h *Handler) EnableHistory(view *history.Service) { h.core.history = view }

// EnableTools turns the identity-tool pages on. Call it before Mount.
func (h *Handler) EnableTools(t Tools) {
	if t.TOTP == nil {
		panic("portal: EnableTools without the 安全驗證碼 use cases")
	}
	if t.Reauth <= 0 {
		t.Reauth = DefaultReauth
	}
	h.core.tools = &t
}

// Mount registers the portal, area by area: the sign-in and sign-out, the
// account's own pages, and, when on, the entity's administration.
func (h *Handler) Mount(r *mux.Router) {
	c := h.core
	(&entrance{core: c, signin: h.signin}).Mount(r)
	(&accountPages{core: c, signin: h.signin, hasher: h.hasher, passwords: h.passwords}).Mount(r)
	(&devicePages{core: c, devices: devices.New(c.k.State, c.k.Dir)}).Mount(r)
	if c.history != nil {
		(&historyPages{core: c}).Mount(r)
	}
	if c.admin != nil {
		(&entityPages{core: c}).Mount(r)
		(&rightsPages{core: c}).Mount(r)
		(&changePages{core: c}).Mount(r)
		(&servicePages{core: c}).Mount(r)
		(&staffPages{core: c}).Mount(r)
	}
	// Last: an address under /account that no page above has is the
	// portal's 404, inside its navigation (refusals.go).
	r.PathPrefix(profilePath + "/").Handler(c.serve(c.showNotFound))
}
