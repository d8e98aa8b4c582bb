// Package signin is the e-service sign-in: the three-field sign-in page
// (entity number, username, password) an authorization request leads to,
// single sign-on through the browser's session, the confirmation of an
// RP-initiated logout and the signed-out page. Its verification of the
// three fields and its start of a session serve the portal's sign-in too.
package signin

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/mux"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/entity-account/idp/login/edge"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/op/telemetry"
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
}

// Handler serves the sign-in pages.
type Handler struct {
	k      *kit.Kit
	cfg    Config
	hasher *password.Hasher
	flow   *idpop.Interaction
	// factors are the electronic identity tools of the second step and of
	// the passkey sign-in (stepup.go); nil: neither.
	factors Factors
}

// New returns the sign-in pages over k.
func New(k *kit.Kit, cfg Config, hasher *password.Hasher, flow *idpop.Interaction) *Handler {
	return &Handler{k: k, cfg: cfg, hasher: hasher, flow: flow}
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
	r.Handle(loginPath, h.serve(h.showLogin)).Methods(get...)
	r.Handle(loginPath, kit.SameOrigin(h.serve(h.submitLogin))).Methods(http.MethodPost)
	r.Handle(verifyPath, h.serve(h.showVerify)).Methods(get...)
	r.Handle(verifyPath, kit.SameOrigin(h.serve(h.submitVerifyCode))).Methods(http.MethodPost)
	r.Handle(verifyPasskeyPath, kit.SameOrigin(h.serve(h.submitVerifyPasskey))).Methods(http.MethodPost)
	r.Handle(passkeyLoginPath, kit.SameOrigin(h.serve(h.submitPasskeyLogin))).Methods(http.MethodPost)
	r.HandleFunc(LoggedOutPath, h.loggedOut).Methods(get...)
	r.Handle(logoutPath, h.serve(h.showLogout)).Methods(get...)
	r.Handle(logoutPath, kit.SameOrigin(h.serve(h.submitLogout))).Methods(http.MethodPost)
}

func (h *Handler) serve(p kit.Page) http.Handler { return h.k.Serve(kit.SignInErrors, p) }

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

// showLogin is where /authorize sends the browser. With a usable SSO session
// the request completes at once; prompt=none without one answers
// login_required; otherwise the form is shown.
func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request) error {
	ar, err := h.loadRequest(r, r.URL.Query().Get("authRequestID"))
	if err != nil {
		return err
	}
	h.k.RememberLanguage(w, r)
	if ar.Done {
		http.Redirect(w, r, h.flow.CallbackURL(ar.ID), http.StatusFound)
		return nil
	}
	cur, err := h.usableSession(r, ar)
	if err != nil {
		// A store is down: say "try again" rather than ask for a password
		// that cannot be checked either.
		return err
	}
	if cur != nil {
		return h.finish(w, r, ar, cur, false)
	}
	if slices.Contains(ar.Prompt, oidc.PromptNone) {
		h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar, oidc.ErrLoginRequired().WithDescription("no usable sign-in session"))
		return nil
	}
	h.renderForm(w, r, ar, http.StatusOK, Credentials{}, "", "")
	return nil
}

// submitLogin checks the three fields. Unknown entity, unknown username and
// wrong password give one answer, after one password hash each.
func (h *Handler) submitLogin(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ar, err := h.postedRequest(w, r)
	if ar == nil {
		return err
	}
	c := ReadCredentials(r.PostForm)
	form := h.form(w, r, ar, c)
	if !c.Complete() {
		return kit.InForm(kit.Fail(storage.EInvalid, "error_missing_fields"), form)
	}
	p, refused, err := h.Verify(ctx, r, c)
	if err != nil {
		return err
	}
	if refused != nil {
		h.renderForm(w, r, ar, refused.Status, c, refused.Key, refused.Message(w, h.k.T(h.k.RequestLanguage(r, ar.UILocales))))
		return nil
	}

	// The password was right. What follows may be told plainly. Verify
	// admits only accounts that may sign in, so the account's refusal here
	// is the entity account's, told before it gets a session.
	if storage.AccountServiceRefusal(p) != storage.ServiceAllowed {
		telemetry.SignIn(telemetry.SignInRefused)
		return kit.InForm(kit.Fail(storage.EForbidden, "error_entity_account"), form)
	}
	if ar.HintSubject != "" && ar.HintSubject != p.Subject {
		telemetry.SignIn(telemetry.SignInRefused)
		// OIDC Core §3.1.2.1: the RP asked for another user (id_token_hint).
		h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar, oidc.ErrLoginRequired().WithDescription("signed in as a different user than id_token_hint"))
		return nil
	}
	// A new sign-in replaces whatever session this browser had.
	client, err := h.flow.Client(ctx, ar.ClientID)
	if err != nil {
		return err
	}
	cur, err := h.startSession(w, r, p, []string{storage.AMRPassword}, false, client.ServiceID)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "sign-in", "euid", p.Subject, "entity", p.EntityNumber, "client", ar.ClientID, "ip", h.k.ClientIP(r))
	return h.finish(w, r, ar, cur, true)
}

// finish completes the auth request for the staff login of the browser's
// session, after asking the rule book (storage.ServiceUseRefusal) whether
// it may use the client's e-service at the level the session reaches:
// refused, the person and the client are told; below the level the request
// needs, the second step; else it hands the browser to the library's
// callback, which issues the code. cur is the session and its account, as
// read in this request (checked then: it may sign in, and is a staff
// login), with, when they were read together just now, the account's access
// to the e-service (then the token exchange reuses them, see
// Interaction.RememberClaims); now says the password was given just now
// (the sign-in is counted).
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, cur *kit.Signed, now bool) error {
	ctx := r.Context()
	sess := cur.Session
	auth := sess.Authentication
	c, err := h.flow.Client(ctx, ar.ClientID)
	if err != nil {
		return err
	}
	access := cur.Access
	if access == nil {
		a, err := h.k.Dir.ServiceAccess(ctx, auth.LoginID, c.ServiceID)
		if err != nil {
			return err
		}
		access = &a
	}
	// The acr is the level the session really reached (for this request's
	// max_age), never only the level asked for.
	level, amr := sessionLevel(sess, ar, h.k.Now())
	switch storage.ServiceUseRefusal(cur.Principal, *access, level, ar.RequiredLevel) {
	case storage.ServiceAllowed:
	case storage.RefusedLevelTooLow:
		h.needsMore(w, r, ar)
		return nil
	default:
		// Not enrolled, not assigned (and, were the account no longer
		// one that may use e-services, that too): the e-service does not
		// admit the login.
		if now {
			telemetry.SignIn(telemetry.SignInRefused)
		}
		if slices.Contains(ar.Prompt, oidc.PromptNone) {
			h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar, oidc.ErrAccessDenied().WithDescription("the staff login is not assigned to this e-service"))
			return nil
		}
		h.noAccess(w, r, ar)
		return nil
	}
	auth.ACR, auth.AMR = level.ACR(), amr
	if err := h.k.State.CompleteAuthRequest(ctx, ar.ID, auth); err != nil && !errors.Is(err, storage.ErrConflict) {
		if errors.Is(err, storage.ErrNotFound) {
			return errExpired
		}
		return err
	}
	if cur.Access != nil && cur.Principal.Subject == auth.Subject {
		// Read moments ago: the token exchange's claims need not read them again.
		h.flow.RememberClaims(cur.Principal, c.ServiceID, *cur.Access)
	}
	if now {
		telemetry.SignIn(telemetry.SignInSuccess)
	}
	http.Redirect(w, r, h.flow.CallbackURL(ar.ID), http.StatusFound)
	return nil
}

// usableSession returns the browser's SSO session if it may answer ar
// without asking for the password again, with its account and the account's
// access to ar's e-service; nil if there is none. An error means a store
// could not say. The account behind the session is checked again
// (kit.SignedInAt): a session may outlive a deletion.
func (h *Handler) usableSession(r *http.Request, ar *storage.AuthRequest) (*kit.Signed, error) {
	c, err := h.flow.Client(r.Context(), ar.ClientID)
	if err != nil {
		return nil, err
	}
	cur, err := h.k.SignedInAt(r, c.ServiceID)
	if err != nil || cur == nil {
		return nil, err
	}
	if !sessionSatisfies(cur.Session, ar, h.k.Now()) {
		return nil, nil
	}
	return cur, nil
}

// sessionSatisfies is the SSO rule of OIDC Core §3.1.2.1: a staff session
// answers a request unless the RP forces a new sign-in (prompt=login), the
// sign-in is older than max_age, or id_token_hint names someone else.
func sessionSatisfies(sess *storage.Session, ar *storage.AuthRequest, now time.Time) bool {
	if sess.Kind != storage.KindStaff {
		return false
	}
	if slices.Contains(ar.Prompt, oidc.PromptLogin) {
		return false
	}
	if ar.MaxAge != nil && now.Sub(sess.AuthTime) > time.Duration(*ar.MaxAge)*time.Second {
		return false
	}
	if ar.HintSubject != "" && ar.HintSubject != sess.Subject {
		return false
	}
	return true
}

// postedRequest reads a sign-in form: parsed, its CSRF token this
// browser's for its auth request, the request still waiting for a sign-in.
// A request answered already goes on to the callback; then, as on every
// refusal, it returns nil (with the error to answer, if any).
func (h *Handler) postedRequest(w http.ResponseWriter, r *http.Request) (*storage.AuthRequest, error) {
	if err := kit.ParseForm(w, r); err != nil {
		return nil, errUnreadableForm
	}
	id := r.PostForm.Get("authRequestID")
	if !h.k.CSRFValid(r, id, r.PostForm.Get("csrf_token")) {
		return nil, errForged
	}
	ar, err := h.loadRequest(r, id)
	if err != nil {
		return nil, err
	}
	if ar.Done {
		http.Redirect(w, r, h.flow.CallbackURL(ar.ID), http.StatusFound)
		return nil, nil
	}
	return ar, nil
}

// loadRequest fetches the auth request; errExpired when there is none.
func (h *Handler) loadRequest(r *http.Request, id string) (*storage.AuthRequest, error) {
	if id == "" {
		return nil, errExpired
	}
	ar, err := h.k.State.AuthRequest(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errExpired
	}
	return ar, err
}

// form is the sign-in form of ar, as submitted (c), for the error writer
// (kit.InForm): it shows the form again with the message of key.
func (h *Handler) form(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c Credentials) func(int, string) {
	return func(status int, key string) {
		h.renderForm(w, r, ar, status, c, key, h.k.T(h.k.RequestLanguage(r, ar.UILocales))[key])
	}
}

type loginPage struct {
	kit.Common
	ServiceName   string
	AuthRequestID string
	CSRF          string
	EntityNumber  string
	Username      string
	Error         string
	Fields        kit.Fields // the fields the refusal (Error) concerns, and the focus
	// Passkey: the sign-in with a passkey alone (no Options when the
	// provider has no passkeys).
	Passkey kit.PasskeySignIn
}

// renderForm shows the sign-in form of ar with c kept (never its password)
// and the message errMsg of the refusal whose catalogue key is key.
func (h *Handler) renderForm(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, status int, c Credentials, key, errMsg string) {
	lang := h.k.RequestLanguage(r, ar.UILocales)
	page := loginPage{
		Common:        h.k.Common(r, lang),
		ServiceName:   h.serviceName(r.Context(), ar, lang),
		AuthRequestID: ar.ID,
		CSRF:          h.k.CSRFToken(w, r, ar.ID),
		EntityNumber:  c.EntityNumber,
		Username:      c.Username,
		Error:         errMsg,
		Fields:        c.Fields(key),
	}
	// Nothing is stored for it: the ceremony's state travels sealed in the
	// form, so an anonymous visit costs us no memory.
	if opts, state, ok := h.PasskeySignInOptions(r.Context()); ok {
		page.Passkey = kit.PasskeySignIn{Action: h.k.BasePath + passkeyLoginPath, Options: opts, State: state, AuthRequestID: ar.ID}
		kit.AllowOwnScripts(w)
	}
	h.k.Render(w, status, "login.html", page)
}

func (h *Handler) loggedOut(w http.ResponseWriter, r *http.Request) {
	h.k.RememberLanguage(w, r)
	h.k.Message(w, r, http.StatusOK, "logged_out_heading", "logged_out", false)
}

// noAccess tells a person whose login the e-service does not admit (an
// assigned-only e-service, a login not assigned) why, in their language,
// and offers the way back: the e-service's redirect URI with access_denied
// (and its state and iss), as the e-service must learn the answer too.
func (h *Handler) noAccess(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) {
	back := &redirectCatcher{header: http.Header{}}
	h.flow.Fail(edge.IssuerOnRedirect(back, h.cfg.Issuer), r, ar,
		oidc.ErrAccessDenied().WithDescription("the staff login is not assigned to this e-service"))
	lang := h.k.RequestLanguage(r, ar.UILocales)
	t := h.k.T(lang)
	page := kit.MessagePage{Common: h.k.Common(r, lang), Heading: t["no_access_heading"], Message: t["error_no_access"], IsError: true}
	if loc := back.header.Get("Location"); loc != "" {
		page.LinkURL, page.LinkText = loc, t["no_access_back"]
	}
	h.k.Render(w, http.StatusForbidden, "message.html", page)
}

// redirectCatcher keeps the headers of an answer that is not sent: where
// the library would redirect.
type redirectCatcher struct{ header http.Header }

func (c *redirectCatcher) Header() http.Header         { return c.header }
func (c *redirectCatcher) Write(p []byte) (int, error) { return len(p), nil }
func (c *redirectCatcher) WriteHeader(int)             {}
