// Package login is the provider's web layer, as the server wires it: it
// builds the surfaces over one shared kit and mounts them. Each surface is
// a package of its own:
//
//	login/kit              what every surface shares, and the one error writer
//	login/signin           the e-service sign-in, SSO, logout confirmation, signed-out page
//	login/portal           the self-service portal (個人資料, 變更密碼, 電子身份識別工具, administration)
//	login/activationpages  activation and resend-code pages
//	login/edge             the protocol edge and the protocol error pages
//	login/guide            the guide (/help), for every role, readable without signing in
//
// The use cases behind the pages are login/activation, login/manage,
// login/notify, login/password and login/tools.
package login

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/activationpages"
	"github.com/entity-account/idp/login/edge"
	"github.com/entity-account/idp/login/guide"
	"github.com/entity-account/idp/login/history"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/portal"
	"github.com/entity-account/idp/login/recoverypages"
	"github.com/entity-account/idp/login/seal"
	"github.com/entity-account/idp/login/signin"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
)

// Config holds the settings of the hosted pages.
type Config struct {
	Issuer             string // the issuer URL (iss of authorization responses, RFC 9207)
	BasePath           string // the issuer's path ("" or "/oidc"); pages live under it
	SecureCookies      bool
	CSRFKey            []byte
	LogoutKey          []byte // signs the post-logout address the confirmation page redirects to
	SessionIdle        time.Duration
	SessionMax         time.Duration
	FailuresPerAccount int
	FailuresPerIP      int
	FailureWindow      time.Duration
	TrustProxyHeaders  bool
	// EntityMemoryKey seals the cookie of the entity numbers a browser
	// remembers on the sign-in page (seal.KeySize bytes, derived from the
	// master key for this alone); nil: the sign-in remembers none.
	EntityMemoryKey []byte
	// ToolsReauth is how recently a session's password must have been
	// proven for the portal to enrol or remove an identity tool; 0 means
	// portal.DefaultReauth.
	ToolsReauth time.Duration
}

// The types the server configures the surfaces with.
type (
	ActivationConfig = activationpages.Config
	// RecoveryConfig is the configuration of the recovery pages.
	RecoveryConfig = recoverypages.Config
	TicketStore    = activationpages.TicketStore
	Endpoints      = edge.Endpoints
	EdgeLimits     = edge.Limits
)

// SecurityHeaders sets the headers every response of ours carries.
var SecurityHeaders = kit.SecurityHeaders

// Handler is the web layer: every surface over one kit.
type Handler struct {
	kit    *kit.Kit
	hasher *password.Hasher
	signin *signin.Handler
	portal *portal.Handler
	edge   *edge.Handler
	guide  *guide.Handler           // the guide, under /help
	act    *activationpages.Handler // set by EnableActivation; nil: no activation pages
	rec    *recoverypages.Handler   // set by EnableRecovery; nil: no recovery pages

	toolsReauth time.Duration // Config.ToolsReauth, for EnableTools
}

// New checks the templates and catalogues and returns the web layer.
func New(cfg Config, dir storage.Directory, state storage.ShortLived, hasher *password.Hasher, flow *idpop.Interaction) (*Handler, error) {
	k, err := kit.New(kit.Config{
		BasePath: cfg.BasePath, SecureCookies: cfg.SecureCookies, CSRFKey: cfg.CSRFKey,
		SessionIdle: cfg.SessionIdle, TrustProxyHeaders: cfg.TrustProxyHeaders,
	}, dir, state)
	if err != nil {
		return nil, err
	}
	var memory *seal.Sealer
	if cfg.EntityMemoryKey != nil {
		if memory, err = seal.New(cfg.EntityMemoryKey); err != nil {
			return nil, err
		}
	}
	si := signin.New(k, signin.Config{
		Issuer: cfg.Issuer, LogoutKey: cfg.LogoutKey, SessionMax: cfg.SessionMax,
		FailuresPerAccount: cfg.FailuresPerAccount, FailuresPerIP: cfg.FailuresPerIP, FailureWindow: cfg.FailureWindow,
		EntityMemory: memory,
	}, hasher, flow)
	g, err := guide.New(k, cfg.Issuer)
	if err != nil {
		return nil, err
	}
	return &Handler{guide: g,
		kit: k, hasher: hasher, signin: si,
		portal: portal.New(k, si, hasher),
		edge:   edge.New(k, cfg.Issuer),

		toolsReauth: cfg.ToolsReauth,
	}, nil
}

// EnableActivation turns the activation and resend pages on. Call it before Mount.
func (h *Handler) EnableActivation(c ActivationConfig) error {
	act, err := activationpages.New(h.kit, c, h.hasher)
	if err != nil {
		return err
	}
	h.act = act
	return nil
}

// EnableRecovery turns the recovery pages on (忘記密碼, 忘記用戶名稱,
// 已收到重設碼, under 需要幫忙), and makes 變更密碼 tell the holder of
// every change through notices. Call it before Mount.
func (h *Handler) EnableRecovery(c RecoveryConfig, notices notify.Notices) error {
	rec, err := recoverypages.New(h.kit, c)
	if err != nil {
		return err
	}
	if err := h.portal.TellHolders(notices); err != nil {
		return err
	}
	h.rec = rec
	return nil
}

// EnableAdministration turns the portal's administration pages on (the
// entity's staff, admin rights, service admins, recent changes). Call it
// before Mount.
func (h *Handler) EnableAdministration(a portal.Administration) { h.portal.EnableAdministration(a) }

// EnableHistory records every sign-in attempt with rec and turns the
// portal's 登入記錄 on over view. Call it before Mount.
func (h *Handler) EnableHistory(rec signin.Recorder, view *history.Service) {
	h.signin.SetRecorder(rec)
	h.portal.EnableHistory(view)
}

// EnableFactors turns on the second step of the sign-in (安全驗證碼,
// passkeys) and the sign-in with a passkey alone.
func (h *Handler) EnableFactors(f signin.Factors) { h.signin.EnableFactors(f) }

// EnableTools turns the portal's identity-tool pages on (電子身份識別工具:
// 安全驗證碼, and 通行密鑰 when t.Passkeys is set), with the password
// freshness of Config.ToolsReauth unless t sets its own. Call it before Mount.
func (h *Handler) EnableTools(t portal.Tools) {
	if t.Reauth <= 0 {
		t.Reauth = h.toolsReauth
	}
	h.portal.EnableTools(t)
}

// Mount registers the pages on r (which must already be the issuer's path).
func (h *Handler) Mount(r *mux.Router) {
	h.signin.Mount(r)
	if h.act != nil {
		h.act.Mount(r)
	}
	if h.rec != nil {
		h.rec.Mount(r)
	}
	h.portal.Mount(r)
	h.guide.Mount(r)
	r.PathPrefix("/static/").Handler(http.StripPrefix(h.kit.BasePath+"/static/", kit.StaticFiles()))
}

// LogoutConfirmationURL is the confirmation page for a validated post-logout
// redirect URI.
func (h *Handler) LogoutConfirmationURL(next string, uiLocales []string) string {
	return h.signin.LogoutConfirmationURL(next, uiLocales)
}

// ProtocolEdge wraps the protocol engine (see edge.Handler.Protocol).
func (h *Handler) ProtocolEdge(next http.Handler, ep Endpoints, limits EdgeLimits) http.Handler {
	return h.edge.Protocol(next, ep, limits)
}

// ProtocolErrorPages shows our page when the protocol engine refuses a
// browser's request with a bare error, and when a browser asks for an
// address nobody serves (see edge.Handler.ErrorPages).
func (h *Handler) ProtocolErrorPages(next http.Handler, browserPaths []string) http.Handler {
	return h.edge.ErrorPages(next, browserPaths)
}

// Unavailable shows the "try again shortly" page (503 + Retry-After). The
// protocol endpoints use it when a store is down (op.StoreOutageGuard).
func (h *Handler) Unavailable(w http.ResponseWriter, r *http.Request) {
	h.kit.Unavailable(w, r, kit.SignInErrors)
}
