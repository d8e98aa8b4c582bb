// Package signin is the e-service sign-in: the three-field sign-in page
// (entity number, username, password) an authorization request leads to,
// single sign-on through the browser's session, the confirmation of an
// RP-initiated logout and the signed-out page. Its verification of the
// three fields and its start of a session serve the portal's sign-in too.
package signin

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/seal"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
)

// Config holds the settings of the sign-in.
type Config struct {
	Issuer             string // the issuer URL (iss of authorization responses, RFC 9207)
	LogoutKey          []byte // signs the post-logout address the confirmation page redirects to
	SessionMax         time.Duration
	FailuresPerAccount int
	FailuresPerIP      int
	FailureWindow      time.Duration
	// EntityMemory seals the cookie of the entity numbers a browser
	// remembers (記住此實體編號); nil: the sign-in remembers none.
	EntityMemory *seal.Sealer
}

// Handler serves the sign-in pages: it assembles the parts of the sign-in
// and mounts their routes. The portal's sign-in shares the check of the
// three fields (Verify, ReserveAttempt, StartSession) and of a passkey
// (PasskeySignInOptions, VerifyPasskey, StartPasskeySession); the protocol
// storage, the logout confirmation's address (LogoutConfirmationURL).
type Handler struct {
	*credentialCheck
	*passkeyCheck
	*logout
	requests *requestFlow
	form     *loginForm
	step     *secondStep
	forget   *forgetting
	attempts *attempts // the sign-in history (SetRecorder)
}

// New returns the sign-in pages over k.
func New(k *kit.Kit, cfg Config, hasher *password.Hasher, flow *idpop.Interaction) *Handler {
	att := &attempts{k: k}
	check := &credentialCheck{k: k, cfg: cfg, hasher: hasher, history: att}
	passkeys := &passkeyCheck{k: k, cfg: cfg, sessions: check, history: att}
	requests := &requestFlow{k: k, cfg: cfg, flow: flow, history: att}
	memory := &entityMemory{sealer: cfg.EntityMemory, path: k.BasePath + loginPath, secure: k.SecureCookies}
	return &Handler{
		credentialCheck: check,
		passkeyCheck:    passkeys,
		logout:          &logout{k: k, cfg: cfg},
		requests:        requests,
		form:            &loginForm{requestFlow: requests, check: check, passkeys: passkeys, memory: memory},
		step:            &secondStep{requestFlow: requests},
		forget:          &forgetting{k: k, memory: memory},
		attempts:        att,
	}
}

// EnableFactors turns on the second step and the passkey sign-in. Without
// it, a request that needs more than the password is refused at once.
func (h *Handler) EnableFactors(f Factors) {
	h.requests.factors = f
	h.passkeyCheck.factors = f
}

// Paths of the sign-in, under the issuer's path.
const (
	loginPath = "/login"
	// LoggedOutPath is the signed-out page, where every sign-out ends.
	LoggedOutPath = "/logged-out"
)

// Mount registers the pages on r (which must already be the issuer's path).
func (h *Handler) Mount(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.Handle(loginPath, h.serve(h.form.show)).Methods(get...)
	r.Handle(loginPath, kit.SameOrigin(h.serve(h.form.submit))).Methods(http.MethodPost)
	r.Handle(verifyPath, h.serve(h.step.show)).Methods(get...)
	r.Handle(verifyPath, kit.SameOrigin(h.serve(h.step.submitCode))).Methods(http.MethodPost)
	r.Handle(verifyPasskeyPath, kit.SameOrigin(h.serve(h.step.submitPasskey))).Methods(http.MethodPost)
	r.Handle(forgetPath, kit.SameOrigin(h.serve(h.forget.submit))).Methods(http.MethodPost)
	r.Handle(passkeyLoginPath, kit.SameOrigin(h.serve(h.form.submitPasskey))).Methods(http.MethodPost)
	r.HandleFunc(LoggedOutPath, h.logout.loggedOut).Methods(get...)
	r.Handle(logoutPath, h.serve(h.logout.show)).Methods(get...)
	r.Handle(logoutPath, kit.SameOrigin(h.serve(h.logout.submit))).Methods(http.MethodPost)
}

func (h *Handler) serve(p kit.Page) http.Handler { return h.requests.k.Serve(kit.SignInErrors, p) }

// Answers of the sign-in form that are not a refusal of the three fields.
var (
	// errUnreadableForm: the form cannot be parsed, as only a forged or
	// truncated one cannot.
	errUnreadableForm = kit.Fail(storage.EInvalid, "error_csrf")
	// errForged: the form's CSRF token is not this browser's.
	errForged = kit.Fail(storage.EForbidden, "error_csrf")
	// errExpired: the auth request is gone (expired, or never was).
	errExpired = kit.Fail(storage.EInvalid, "error_request_expired")
)
