package signin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/entity-account/idp/login/edge"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/tools"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// The second step of a sign-in: when the e-service (or the client) needs
// more than the password, the person proves an electronic identity tool —
// 安全驗證碼 or a passkey — and the browser's session rises to that level.
// Only the second step is asked when the session already holds the
// password. A staff login with a passkey may also sign in with the passkey
// alone, which is itself two factors.

// Factors is what the sign-in needs of the electronic identity tools
// (login/tools implements it).
type Factors interface {
	// Status is what the login holds: what it can prove at sign-in now,
	// and why not when it can prove nothing (for the page that explains).
	Status(ctx context.Context, loginID int64) (tools.ToolStatus, error)
	// PasskeysEnabled reports whether passkeys can be used here at all.
	PasskeysEnabled() bool
	// VerifyTOTP checks a code of the login's active 安全驗證碼: once, throttled.
	VerifyTOTP(ctx context.Context, loginID int64, code string) error
	BeginPasskeyCheck(ctx context.Context, loginID int64) (options json.RawMessage, state string, err error)
	FinishPasskeyCheck(ctx context.Context, loginID int64, state string, response []byte) (amr []string, err error)
	BeginPasskeySignIn(ctx context.Context) (options json.RawMessage, state string, err error)
	FinishPasskeySignIn(ctx context.Context, state string, response []byte) (loginID int64, subject string, amr []string, err error)
}

var _ Factors = (*tools.Service)(nil)

// EnableFactors turns on the second step and the passkey sign-in. Without
// it, a request that needs more than the password is refused at once.
func (h *Handler) EnableFactors(f Factors) { h.factors = f }

// Paths of the second step, under the issuer's path.
const (
	verifyPath        = "/login/verify"
	verifyPasskeyPath = "/login/verify/passkey"
	passkeyLoginPath  = "/login/passkey"
)

// sessionLevel is the level sess proves for ar: a tool counts only if it
// was proven within ar's max_age. The amr returned leaves out what does
// not count.
func sessionLevel(sess *storage.Session, ar *storage.AuthRequest, now time.Time) (storage.Level, []string) {
	l := storage.LevelOfAMR(sess.AMR)
	if l < storage.LevelTool || ar.MaxAge == nil || now.Sub(sess.ToolAt) <= time.Duration(*ar.MaxAge)*time.Second {
		return l, sess.AMR
	}
	if slices.Contains(sess.AMR, storage.AMRPassword) {
		return storage.LevelPassword, []string{storage.AMRPassword}
	}
	return storage.LevelNone, nil
}

// needsMore answers a session below the level ar needs (the rule book's
// storage.RefusedLevelTooLow): the second step, or interaction_required
// when the client wants no page shown, or the refusal when this provider
// has no second step.
func (h *Handler) needsMore(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) {
	switch {
	case slices.Contains(ar.Prompt, oidc.PromptNone):
		h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar,
			oidc.ErrInteractionRequired().WithDescription("the sign-in session is below the assurance level this e-service needs"))
	case h.factors == nil:
		h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar, idpop.LevelRefusal(ar, "this provider offers no second factor"))
	default:
		q := url.Values{"authRequestID": {ar.ID}}
		if l := h.k.Chosen(r); l != "" {
			// A language chosen on the sign-in page outranks ui_locales
			// on the second step too.
			q.Set("lang", l)
		}
		http.Redirect(w, r, h.k.BasePath+verifyPath+"?"+q.Encode(), http.StatusFound)
	}
}

type verifyPage struct {
	kit.Common
	ServiceName    string
	AuthRequestID  string
	CSRF           string
	TOTP           bool
	CodeError      string
	PasskeyOptions string // the passkey check's options ("" without passkeys)
	PasskeyState   string
	Error          string
	// BackURL leaves the second step: the client's redirect URI with the
	// refusal, as when the login has no tool.
	BackURL string
}

// stepUp is the second step's state for a request: the browser's session,
// which must be good for ar but for the level. It answers itself (and
// returns false) when there is no second step to show.
func (h *Handler) stepUp(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) (*kit.Signed, bool, error) {
	if ar.Done {
		http.Redirect(w, r, h.flow.CallbackURL(ar.ID), http.StatusFound)
		return nil, false, nil
	}
	if h.factors == nil {
		return nil, false, errExpired
	}
	cur, err := h.k.SignedIn(r)
	if err != nil {
		return nil, false, err
	}
	if cur == nil || !sessionSatisfies(cur.Session, ar, h.k.Now()) {
		// No password yet in this browser (or not for this request): the
		// whole sign-in first.
		http.Redirect(w, r, h.k.BasePath+loginPath+"?authRequestID="+ar.ID, http.StatusFound)
		return nil, false, nil
	}
	return cur, true, nil
}

// showVerify is the second step: the code of 安全驗證碼, or the passkey,
// whichever the login holds; a page that explains how to enable a tool
// when it holds none.
func (h *Handler) showVerify(w http.ResponseWriter, r *http.Request) error {
	ar, err := h.loadRequest(r, r.URL.Query().Get("authRequestID"))
	if err != nil {
		return err
	}
	cur, ok, err := h.stepUp(w, r, ar)
	if !ok {
		return err
	}
	h.k.RememberLanguage(w, r)
	// The second step is owed while the session is below the level ar
	// needs (the level part of storage.ServiceUseRefusal); once it is not,
	// finish asks the whole rule.
	if level, _ := sessionLevel(cur.Session, ar, h.k.Now()); level.Satisfies(ar.RequiredLevel) {
		return h.finish(w, r, ar, cur, false)
	}
	return h.renderVerify(w, r, ar, cur, http.StatusOK, "", "")
}

func (h *Handler) renderVerify(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, cur *kit.Signed, status int, codeErr, pageErr string) error {
	ctx := r.Context()
	st, err := h.factors.Status(ctx, cur.Session.LoginID)
	if err != nil {
		return err
	}
	if !h.factors.PasskeysEnabled() {
		st.Passkeys = 0
	}
	if !st.TOTPActive() && st.Passkeys == 0 {
		h.noTool(w, r, ar, st)
		return nil
	}
	lang := h.k.RequestLanguage(r, ar.UILocales)
	page := verifyPage{
		Common: h.k.Common(r, lang), ServiceName: h.serviceName(ctx, ar, lang), AuthRequestID: ar.ID,
		CSRF: h.k.CSRFToken(w, r, ar.ID), TOTP: st.TOTPActive(), CodeError: codeErr, Error: pageErr,
		BackURL: h.refusalURL(r, ar, "the person left the second step"),
	}
	if st.Passkeys > 0 {
		opts, state, err := h.factors.BeginPasskeyCheck(ctx, cur.Session.LoginID)
		if err != nil {
			return err
		}
		page.PasskeyOptions, page.PasskeyState = string(opts), state
		kit.AllowOwnScripts(w)
	}
	h.k.Render(w, status, "login_verify.html", page)
	return nil
}

// submitVerifyCode takes the code of 安全驗證碼.
func (h *Handler) submitVerifyCode(w http.ResponseWriter, r *http.Request) error {
	ar, cur, ok, err := h.stepUpForm(w, r)
	if !ok {
		return err
	}
	err = h.factors.VerifyTOTP(r.Context(), cur.Session.LoginID, r.PostForm.Get("code"))
	if err != nil {
		return h.verifyRefused(w, r, ar, cur, err, true)
	}
	return h.proven(w, r, ar, cur, []string{storage.AMROTP})
}

// submitVerifyPasskey takes the passkey's answer to the check.
func (h *Handler) submitVerifyPasskey(w http.ResponseWriter, r *http.Request) error {
	ar, cur, ok, err := h.stepUpForm(w, r)
	if !ok {
		return err
	}
	amr, err := h.factors.FinishPasskeyCheck(r.Context(), cur.Session.LoginID, r.PostForm.Get("state"), []byte(r.PostForm.Get("credential")))
	if err != nil {
		return h.verifyRefused(w, r, ar, cur, err, false)
	}
	return h.proven(w, r, ar, cur, amr)
}

// stepUpForm reads a second-step form: parsed, its CSRF token this
// browser's, for a request waiting for the second step.
func (h *Handler) stepUpForm(w http.ResponseWriter, r *http.Request) (*storage.AuthRequest, *kit.Signed, bool, error) {
	ar, err := h.postedRequest(w, r)
	if ar == nil {
		return nil, nil, false, err
	}
	cur, ok, err := h.stepUp(w, r, ar)
	return ar, cur, ok, err
}

// verifyRefused shows the second step again with why the code or the
// passkey was not accepted; a failure of ours goes to the error writer.
func (h *Handler) verifyRefused(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, cur *kit.Signed, err error, code bool) error {
	var se *storage.Error
	if !errors.As(err, &se) || se.Code == storage.EUnavailable || se.Code == storage.EInternal {
		return err
	}
	t := h.k.T(h.k.RequestLanguage(r, ar.UILocales))
	msg := t[se.Key]
	if msg == "" {
		msg = t["tool_error_passkey"]
	}
	status := kit.StatusOf(se.Code)
	slog.InfoContext(r.Context(), "second factor refused", "euid", cur.Session.Subject, "reason", se.Key, "ip", h.k.ClientIP(r))
	if code {
		return h.renderVerify(w, r, ar, cur, status, msg, "")
	}
	return h.renderVerify(w, r, ar, cur, status, "", msg)
}

// proven raises the browser's session with the methods of the tool just
// proven, then completes the request at the level reached. cur is the
// session and its account as the second step read them.
func (h *Handler) proven(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, cur *kit.Signed, methods []string) error {
	c, err := r.Cookie(idpop.SessionCookie)
	if err != nil {
		return errExpired
	}
	now := h.k.Now().UTC().Truncate(time.Second)
	sess, err := h.k.State.ProveInSession(r.Context(), c.Value, func(s *storage.Session) {
		s.AMR = withMethods(s.AMR, methods...)
		s.ToolAt = now
		s.ACR = storage.LevelOfAMR(s.AMR).ACR()
	})
	if errors.Is(err, storage.ErrNotFound) {
		http.Redirect(w, r, h.k.BasePath+loginPath+"?authRequestID="+ar.ID, http.StatusFound)
		return nil
	}
	if err != nil {
		return err
	}
	slog.InfoContext(r.Context(), "second factor proven", "euid", sess.Subject, "amr", sess.AMR, "client", ar.ClientID)
	return h.finish(w, r, ar, &kit.Signed{Session: sess, Principal: cur.Principal}, false)
}

// withMethods adds methods (and mfa, once two factors are in) to amr.
func withMethods(amr []string, methods ...string) []string {
	out := slices.Clone(amr)
	for _, m := range methods {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if storage.LevelOfAMR(out) >= storage.LevelTool && !slices.Contains(out, storage.AMRMulti) {
		out = append(out, storage.AMRMulti)
	}
	return out
}

// noTool tells a person whose login holds no tool the e-service needs how
// to enable one, in their language — in the portal for a Macau resident ID,
// by a visit in person otherwise — and offers the way back to the
// e-service, which learns that the level was not reached.
func (h *Handler) noTool(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, st tools.ToolStatus) {
	back := h.refusalURL(r, ar, "the staff login has no electronic identity tool for the assurance level this e-service needs")
	telemetry.SignIn(telemetry.SignInRefused)
	lang := h.k.RequestLanguage(r, ar.UILocales)
	t := h.k.T(lang)
	key := "no_tool_in_person"
	switch {
	case st.TOTP == storage.ToolPending:
		key = "no_tool_pending"
	case st.SelfConfirms:
		key = "no_tool_self"
	}
	page := kit.MessagePage{Common: h.k.Common(r, lang), Heading: t["no_tool_heading"], Message: t[key], IsError: true}
	if back != "" {
		page.LinkURL, page.LinkText = back, t["no_access_back"]
	}
	h.k.Render(w, http.StatusForbidden, "message.html", page)
}

// refusalURL is where the client learns that the sign-in did not reach
// the level ar needs: its redirect URI with the refusal (LevelRefusal),
// state and iss; "" when the library would not redirect.
func (h *Handler) refusalURL(r *http.Request, ar *storage.AuthRequest, why string) string {
	back := &redirectCatcher{header: http.Header{}}
	h.flow.Fail(edge.IssuerOnRedirect(back, h.cfg.Issuer), r, ar, idpop.LevelRefusal(ar, why))
	return back.header.Get("Location")
}

// submitPasskeyLogin is the sign-in with a passkey alone: the passkey
// names the login. Failures count on the address's sign-in counter like a
// wrong password, reserved before the check.
func (h *Handler) submitPasskeyLogin(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ar, err := h.postedRequest(w, r)
	if ar == nil {
		return err
	}
	if h.factors == nil {
		return errExpired
	}
	p, amr, refused, err := h.VerifyPasskey(ctx, r)
	if err != nil {
		return err
	}
	if refused != nil {
		h.renderForm(w, r, ar, refused.Status, Credentials{}, refused.Key, refused.Message(w, h.k.T(h.k.RequestLanguage(r, ar.UILocales))))
		return nil
	}
	if ar.HintSubject != "" && ar.HintSubject != p.Subject {
		telemetry.SignIn(telemetry.SignInRefused)
		h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar, oidc.ErrLoginRequired().WithDescription("signed in as a different user than id_token_hint"))
		return nil
	}
	c, err := h.flow.Client(ctx, ar.ClientID)
	if err != nil {
		return err
	}
	cur, err := h.startSession(w, r, p, amr, true, c.ServiceID)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "sign-in with a passkey", "euid", p.Subject, "entity", p.EntityNumber, "client", ar.ClientID, "ip", h.k.ClientIP(r))
	return h.finish(w, r, ar, cur, true)
}

// PasskeySignInOptions are the options and sealed state of a sign-in with
// a passkey alone, for a page's passkey form; ok is false when this
// provider has no passkeys. Nothing is stored for them.
func (h *Handler) PasskeySignInOptions(ctx context.Context) (options, state string, ok bool) {
	if h.factors == nil || !h.factors.PasskeysEnabled() {
		return "", "", false
	}
	opts, st, err := h.factors.BeginPasskeySignIn(ctx)
	if err != nil {
		slog.WarnContext(ctx, "passkey sign-in unavailable", "err", err)
		return "", "", false
	}
	return string(opts), st, true
}

// VerifyPasskey checks the passkey answer of a parsed sign-in form (fields
// state and credential): the passkey names a staff login that may sign in.
// It returns that login and the methods proven (amr, mfa included), or a
// refusal to show (throttled, or not verified). Failures count on the
// address's sign-in counter, reserved before the check; a passkey cannot
// be guessed, but its checks cost us work.
func (h *Handler) VerifyPasskey(ctx context.Context, r *http.Request) (storage.Principal, []string, *kit.Refusal, error) {
	if h.factors == nil {
		return storage.Principal{}, nil, nil, errExpired
	}
	att, wait, err := h.k.ReserveAttempt(ctx, h.cfg.FailureWindow, kit.Limit{Key: "login-fail:ip:" + h.k.ClientIP(r), Max: h.cfg.FailuresPerIP})
	if err != nil {
		return storage.Principal{}, nil, nil, err
	}
	if att == nil {
		telemetry.SignIn(telemetry.SignInThrottled)
		f := kit.Throttled("error_throttled", wait)
		return storage.Principal{}, nil, &f, nil
	}
	loginID, subject, amr, err := h.factors.FinishPasskeySignIn(ctx, r.PostForm.Get("state"), []byte(r.PostForm.Get("credential")))
	var p storage.Principal
	if err == nil {
		p, err = h.k.Dir.PrincipalBySubject(ctx, subject)
		if err == nil && (p.ID != loginID || p.Kind != storage.KindStaff || !p.CanSignIn()) {
			err = storage.ErrNotFound
		}
	}
	if err != nil {
		if c := storage.CodeOf(err); c == storage.EUnavailable || c == storage.EInternal {
			att.GiveBack(ctx)
			return p, nil, nil, err
		}
		telemetry.SignIn(telemetry.SignInBadCredentials)
		slog.InfoContext(ctx, "passkey sign-in failed", "ip", h.k.ClientIP(r), "err", err)
		return p, nil, &kit.Refusal{Status: http.StatusUnauthorized, Key: "error_passkey_sign_in"}, nil
	}
	att.Succeeded(ctx)
	return p, withMethods(nil, amr...), nil, nil
}

// StartPasskeySession starts the SSO session of p, signed in with a
// passkey alone (methods amr), in this browser, and sets the cookie.
func (h *Handler) StartPasskeySession(w http.ResponseWriter, r *http.Request, p storage.Principal, amr []string) (*storage.Session, error) {
	cur, err := h.startSession(w, r, p, amr, true, 0)
	if err != nil {
		return nil, err
	}
	return cur.Session, nil
}

// serviceName is the e-service's name in lang (storage.Names.In picks the
// fallback when there is no translation; the client's own name if it has none).
func (h *Handler) serviceName(ctx context.Context, ar *storage.AuthRequest, lang string) string {
	c, err := h.flow.Client(ctx, ar.ClientID)
	if err != nil {
		return ""
	}
	if name := c.ServiceName.In(lang); name != "" {
		return name
	}
	return c.Name
}
