// Package login serves the hosted pages: the three-field sign-in page
// (entity number, username, password), single sign-on through the browser
// session, and the signed-out page.
package login

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/entity-account/idp/login/password"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
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
}

// Handler serves the hosted pages.
type Handler struct {
	cfg    Config
	dir    storage.Directory
	state  storage.ShortLived
	hasher *password.Hasher
	flow   *idpop.Interaction
	pages  *pages
	csrf   *csrf
	now    func() time.Time
	act    *activationPages // set by EnableActivation (activate.go); nil: no activation pages
}

// New checks the templates and catalogues and returns the handler.
func New(cfg Config, dir storage.Directory, state storage.ShortLived, hasher *password.Hasher, flow *idpop.Interaction) (*Handler, error) {
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	return &Handler{
		cfg: cfg, dir: dir, state: state, hasher: hasher, flow: flow, pages: p, now: time.Now,
		csrf: &csrf{key: cfg.CSRFKey, cookieName: "idp_csrf", path: cookiePath(cfg.BasePath), secure: cfg.SecureCookies},
	}, nil
}

// Mount registers the pages on r (which must already be the issuer's path).
func (h *Handler) Mount(r *mux.Router) {
	r.HandleFunc("/login", h.showLogin).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/login", http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.submitLogin))).Methods(http.MethodPost)
	r.HandleFunc("/logged-out", h.loggedOut).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(logoutPath, h.showLogout).Methods(http.MethodGet, http.MethodHead)
	r.Handle(logoutPath, http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.submitLogout))).Methods(http.MethodPost)
	h.mountActivation(r)
	h.mountAccount(r)
	r.PathPrefix("/static/").Handler(http.StripPrefix(h.cfg.BasePath+"/static/", staticFiles()))
}

func staticFiles() http.Handler {
	files := http.FileServerFS(templates.Static())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: a directory gets no listing.
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		if f, err := fs.Stat(templates.Static(), strings.TrimPrefix(r.URL.Path, "/")); err != nil || f.IsDir() {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

func cookiePath(base string) string {
	if base == "" {
		return "/"
	}
	return base + "/"
}

// showLogin is where /authorize sends the browser. With a usable SSO session
// the request completes at once; prompt=none without one answers
// login_required; otherwise the form is shown.
func (h *Handler) showLogin(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	ar, ok := h.loadRequest(w, r, id)
	if !ok {
		return
	}
	h.rememberLanguage(w, r)
	if ar.Done {
		http.Redirect(w, r, h.flow.CallbackURL(ar.ID), http.StatusFound)
		return
	}
	sess, err := h.usableSession(r, ar)
	if err != nil {
		// A store is down: say "try again" rather than ask for a password
		// that cannot be checked either.
		h.internalError(w, r, err)
		return
	}
	if sess != nil {
		h.finish(w, r, ar, sess.Authentication, nil)
		return
	}
	if slices.Contains(ar.Prompt, oidc.PromptNone) {
		h.flow.Fail(h.issuerOnRedirect(w), r, ar, oidc.ErrLoginRequired().WithDescription("no usable sign-in session"))
		return
	}
	h.renderForm(w, r, ar, http.StatusOK, "", "", "")
}

// submitLogin checks the three fields. Unknown entity, unknown username and
// wrong password give one answer, after one password hash each.
func (h *Handler) submitLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		h.message(w, r, http.StatusBadRequest, "error_heading", "error_csrf", true)
		return
	}
	id := r.PostForm.Get("authRequestID")
	if !h.csrf.valid(r, id, r.PostForm.Get("csrf_token")) {
		h.message(w, r, http.StatusForbidden, "error_heading", "error_csrf", true)
		return
	}
	ar, ok := h.loadRequest(w, r, id)
	if !ok {
		return
	}
	if ar.Done {
		http.Redirect(w, r, h.flow.CallbackURL(ar.ID), http.StatusFound)
		return
	}
	c := readCredentials(r.PostForm)
	t := h.pages.messages[h.pages.language(r, ar.UILocales)]
	if !c.complete() {
		h.renderForm(w, r, ar, http.StatusBadRequest, c.entityNumber, c.username, t["error_missing_fields"])
		return
	}
	p, refused, err := h.verifySignIn(ctx, r, c)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if refused != nil {
		h.renderForm(w, r, ar, refused.status, c.entityNumber, c.username, refused.write(w, t))
		return
	}

	// The password was right. What follows may be told plainly.
	if p.Kind == storage.KindEntityAccount {
		telemetry.SignIn(telemetry.SignInRefused)
		h.renderForm(w, r, ar, http.StatusForbidden, c.entityNumber, c.username, t["error_entity_account"])
		return
	}
	if ar.HintSubject != "" && ar.HintSubject != p.Subject {
		telemetry.SignIn(telemetry.SignInRefused)
		// OIDC Core §3.1.2.1: the RP asked for another user (id_token_hint).
		h.flow.Fail(h.issuerOnRedirect(w), r, ar, oidc.ErrLoginRequired().WithDescription("signed in as a different user than id_token_hint"))
		return
	}
	// A new sign-in replaces whatever session this browser had.
	sess, err := h.startSession(w, r, p)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	slog.InfoContext(ctx, "sign-in", "euid", p.Subject, "entity", p.EntityNumber, "client", ar.ClientID, "ip", h.clientIP(r))
	h.finish(w, r, ar, sess.Authentication, &p)
}

var errBadCredentials = errors.New("bad credentials")

// authenticate verifies (entity number, username, password). Every failure
// that could tell whether an account exists is errBadCredentials, and each
// costs one hash. An account that exists but may not sign in (not activated,
// deleted, entity closed) fails the same way.
func (h *Handler) authenticate(ctx context.Context, entityNumber, username, pw string) (storage.Principal, error) {
	var p storage.Principal
	err := storage.ErrNotFound // what cannot be an entity number or a username names no account
	number, okNumber := storage.NormalizeEntityNumber(entityNumber)
	user, okUser := storage.NormalizeUsername(username)
	if okNumber && okUser {
		p, err = h.dir.Principal(ctx, number, user)
	}
	if errors.Is(err, storage.ErrNotFound) || (err == nil && p.PasswordHash == "") {
		if err := h.hasher.VerifyNothing(ctx, pw); err != nil {
			return p, err
		}
		return p, errBadCredentials
	}
	if err != nil {
		return p, err
	}
	ok, rehash, err := h.hasher.Verify(ctx, p.PasswordHash, pw)
	if err != nil {
		return p, err
	}
	if !ok || !p.CanSignIn() {
		return p, errBadCredentials
	}
	if rehash {
		// Parameters were raised since this hash was made: upgrade it now
		// that we know the password. Failure only delays the upgrade.
		if fresh, err := h.hasher.Hash(ctx, pw); err == nil {
			if err := h.dir.UpdatePasswordHash(ctx, p.Kind, p.ID, p.PasswordHash, fresh); err != nil {
				slog.WarnContext(ctx, "upgrade password hash", "err", err)
			} else {
				p.PasswordHash = fresh // what the account holds now (startSession checks it)
			}
		}
	}
	return p, nil
}

// finish completes the auth request for an authenticated staff login, after
// checking that it may use the client's e-service, and hands the browser to
// the library's callback, which issues the code.
func (h *Handler) finish(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, auth storage.Authentication, p *storage.Principal) {
	ctx := r.Context()
	c, err := h.flow.Client(ctx, ar.ClientID)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	access, err := h.dir.ServiceAccess(ctx, auth.LoginID, c.ServiceID)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if !access.Allows() {
		if p != nil {
			telemetry.SignIn(telemetry.SignInRefused)
		}
		if slices.Contains(ar.Prompt, oidc.PromptNone) {
			h.flow.Fail(h.issuerOnRedirect(w), r, ar, oidc.ErrAccessDenied().WithDescription("the staff login is not assigned to this e-service"))
			return
		}
		t := h.pages.messages[h.pages.language(r, ar.UILocales)]
		entity, username := "", ""
		if p != nil {
			entity, username = p.EntityNumber, p.Username
		}
		h.renderForm(w, r, ar, http.StatusForbidden, entity, username, t["error_no_access"])
		return
	}
	if err := h.state.CompleteAuthRequest(ctx, ar.ID, auth); err != nil && !errors.Is(err, storage.ErrConflict) {
		if errors.Is(err, storage.ErrNotFound) {
			h.message(w, r, http.StatusBadRequest, "error_heading", "error_request_expired", true)
			return
		}
		h.internalError(w, r, err)
		return
	}
	if p != nil {
		telemetry.SignIn(telemetry.SignInSuccess)
	}
	http.Redirect(w, r, h.flow.CallbackURL(ar.ID), http.StatusFound)
}

// usableSession returns the browser's SSO session if it may answer ar
// without asking for the password again; nil if there is none. An error
// means a store could not say. The account behind the session is checked
// again (portalSession): a session may outlive a deletion.
func (h *Handler) usableSession(r *http.Request, ar *storage.AuthRequest) (*storage.Session, error) {
	cur, err := h.portalSession(r)
	if err != nil || cur == nil {
		return nil, err
	}
	if !sessionSatisfies(cur.sess, ar, h.now()) {
		return nil, nil
	}
	return cur.sess, nil
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

// loadRequest fetches the auth request or answers with the expired page.
func (h *Handler) loadRequest(w http.ResponseWriter, r *http.Request, id string) (*storage.AuthRequest, bool) {
	if id == "" {
		h.message(w, r, http.StatusBadRequest, "error_heading", "error_request_expired", true)
		return nil, false
	}
	ar, err := h.state.AuthRequest(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		h.message(w, r, http.StatusBadRequest, "error_heading", "error_request_expired", true)
		return nil, false
	}
	if err != nil {
		h.internalError(w, r, err)
		return nil, false
	}
	return ar, true
}

func (h *Handler) renderForm(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, status int, entityNumber, username, errMsg string) {
	lang := h.pages.language(r, ar.UILocales)
	serviceName := ""
	if c, err := h.flow.Client(r.Context(), ar.ClientID); err == nil {
		serviceName = c.Name
	}
	h.pages.render(w, status, "login.html", loginPage{
		common:        h.pages.common(r, h.cfg.BasePath, lang),
		ServiceName:   serviceName,
		AuthRequestID: ar.ID,
		CSRF:          h.csrf.token(w, r, ar.ID),
		EntityNumber:  entityNumber,
		Username:      username,
		Error:         errMsg,
	})
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, headingKey, messageKey string, isError bool) {
	lang := h.pages.language(r, nil)
	t := h.pages.messages[lang]
	h.pages.render(w, status, "message.html", messagePage{
		common: h.pages.common(r, h.cfg.BasePath, lang), Heading: t[headingKey], Message: t[messageKey], IsError: isError,
	})
}

// internalError answers an error the page could not handle, by what it is
// (failureStatus): a store that cannot serve now is "try again shortly"
// (503 + Retry-After); a value a store refused is a bad request (400); any
// other error is ours (500). Only the first and the last are logged at
// ERROR: they need an operator.
func (h *Handler) internalError(w http.ResponseWriter, r *http.Request, err error) {
	switch status := failureStatus(err); status {
	case http.StatusBadRequest:
		slog.InfoContext(r.Context(), "login page: value refused by a store", "path", r.URL.Path, "err", err)
		h.message(w, r, status, "error_request_heading", "error_request_invalid", true)
	case http.StatusServiceUnavailable:
		slog.ErrorContext(r.Context(), "login page: store unavailable", "path", r.URL.Path, "err", err)
		h.Unavailable(w, r)
	default:
		slog.ErrorContext(r.Context(), "login page", "path", r.URL.Path, "err", err)
		h.message(w, r, status, "error_heading", "error_internal", true)
	}
}

// failureStatus is the HTTP status of an error a page could not handle.
func failureStatus(err error) int {
	switch {
	case errors.Is(err, storage.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.Is(err, storage.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// Unavailable shows the "try again shortly" page (503 + Retry-After). The
// protocol endpoints use it too when a store is down (op.StoreOutageGuard).
func (h *Handler) Unavailable(w http.ResponseWriter, r *http.Request) {
	retryAfter(w, 5*time.Second)
	h.message(w, r, http.StatusServiceUnavailable, "error_heading", "error_internal", true)
}

func (h *Handler) loggedOut(w http.ResponseWriter, r *http.Request) {
	h.rememberLanguage(w, r)
	h.message(w, r, http.StatusOK, "logged_out_heading", "logged_out", false)
}

func (h *Handler) rememberLanguage(w http.ResponseWriter, r *http.Request) {
	if l := r.URL.Query().Get("lang"); h.pages.messages[l] != nil {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: cookiePath(h.cfg.BasePath),
			MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: h.cfg.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
}

// clientIP is the peer address, or with a trusted proxy the address it
// appended last to X-Forwarded-For (earlier entries are client-supplied).
func (h *Handler) clientIP(r *http.Request) string {
	if h.cfg.TrustProxyHeaders {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// SecurityHeaders sets the headers every response of ours carries: no
// framing, no referrer leaks, no MIME sniffing, and a strict CSP for pages.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
	})
}
