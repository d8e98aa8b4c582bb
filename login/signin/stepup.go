package signin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

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

// Paths of the second step, under the issuer's path.
const (
	verifyPath        = "/login/verify"
	verifyPasskeyPath = "/login/verify/passkey"
	passkeyLoginPath  = "/login/passkey"
)

// secondStep is the second step of a sign-in (the code of 安全驗證碼 or a
// passkey) for a request whose session holds the password but not the
// level its e-service needs.
type secondStep struct {
	*requestFlow
}

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

// pending is the second step's state for a request: the browser's session,
// which must be good for ar but for the level. It answers itself (and
// returns false) when there is no second step to show.
func (h *secondStep) pending(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest) (*kit.Signed, bool, error) {
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

// show is the second step: the code of 安全驗證碼, or the passkey,
// whichever the login holds; a page that explains how to enable a tool
// when it holds none.
func (h *secondStep) show(w http.ResponseWriter, r *http.Request) error {
	ar, err := h.loadRequest(r, r.URL.Query().Get("authRequestID"))
	if err != nil {
		return err
	}
	cur, ok, err := h.pending(w, r, ar)
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
	return h.render(w, r, ar, cur, http.StatusOK, "", "")
}

func (h *secondStep) render(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, cur *kit.Signed, status int, codeErr, pageErr string) error {
	ctx := r.Context()
	st, err := h.factors.Status(ctx, cur.Session.LoginID)
	if err != nil {
		return err
	}
	if !h.factors.PasskeysEnabled() {
		st.Passkeys = 0
	}
	if !st.TOTPActive() && st.Passkeys == 0 {
		h.noTool(w, r, ar, cur, st)
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

// submitCode takes the code of 安全驗證碼.
func (h *secondStep) submitCode(w http.ResponseWriter, r *http.Request) error {
	ar, cur, ok, err := h.readForm(w, r)
	if !ok {
		return err
	}
	err = h.factors.VerifyTOTP(r.Context(), cur.Session.LoginID, r.PostForm.Get("code"))
	if err != nil {
		return h.refused(w, r, ar, cur, err, storage.MethodCode)
	}
	return h.proven(w, r, ar, cur, []string{storage.AMROTP})
}

// submitPasskey takes the passkey's answer to the check.
func (h *secondStep) submitPasskey(w http.ResponseWriter, r *http.Request) error {
	ar, cur, ok, err := h.readForm(w, r)
	if !ok {
		return err
	}
	amr, err := h.factors.FinishPasskeyCheck(r.Context(), cur.Session.LoginID, r.PostForm.Get("state"), []byte(r.PostForm.Get("credential")))
	if err != nil {
		return h.refused(w, r, ar, cur, err, storage.MethodPasskey)
	}
	return h.proven(w, r, ar, cur, amr)
}

// readForm reads a second-step form: parsed, its CSRF token this
// browser's, for a request waiting for the second step.
func (h *secondStep) readForm(w http.ResponseWriter, r *http.Request) (*storage.AuthRequest, *kit.Signed, bool, error) {
	ar, err := h.postedRequest(w, r)
	if ar == nil {
		return nil, nil, false, err
	}
	cur, ok, err := h.pending(w, r, ar)
	return ar, cur, ok, err
}

// refused shows the second step again with why the code or the
// passkey was not accepted; a failure of ours goes to the error writer.
func (h *secondStep) refused(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, cur *kit.Signed, err error, method storage.SignInMethod) error {
	var se *storage.Error
	if !errors.As(err, &se) || se.Code == storage.EUnavailable || se.Code == storage.EInternal {
		return err
	}
	h.history.record(r, ar.ClientID, cur.Principal, "", "", storage.SignInStepFailed, method)
	t := h.k.T(h.k.RequestLanguage(r, ar.UILocales))
	msg := t[se.Key]
	if msg == "" {
		msg = t["tool_error_passkey"]
	}
	status := kit.StatusOf(se.Code)
	slog.InfoContext(r.Context(), "second factor refused", "euid", cur.Session.Subject, "reason", se.Key, "ip", h.k.ClientIP(r))
	if method == storage.MethodCode {
		return h.render(w, r, ar, cur, status, msg, "")
	}
	return h.render(w, r, ar, cur, status, "", msg)
}

// proven raises the browser's session with the methods of the tool just
// proven, then completes the request at the level reached. cur is the
// session and its account as the second step read them.
func (h *secondStep) proven(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, cur *kit.Signed, methods []string) error {
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
	h.history.record(r, ar.ClientID, cur.Principal, "", "", storage.SignInStepPassed, secondStepMethod(methods))
	return h.finish(w, r, ar, &kit.Signed{Session: sess, Principal: cur.Principal}, false)
}

// secondStepMethod is the tool a second step proved: a passkey, or the code.
func secondStepMethod(methods []string) storage.SignInMethod {
	if slices.Contains(methods, storage.AMROTP) {
		return storage.MethodCode
	}
	return storage.MethodPasskey
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
func (h *secondStep) noTool(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, cur *kit.Signed, st tools.ToolStatus) {
	back := h.refusalURL(r, ar, "the staff login has no electronic identity tool for the assurance level this e-service needs")
	telemetry.SignIn(telemetry.SignInRefused)
	h.history.record(r, ar.ClientID, cur.Principal, "", "", storage.SignInRefusedByService, storage.MethodPassword)
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
