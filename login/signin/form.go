package signin

import (
	"log/slog"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/entity-account/idp/login/edge"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// loginForm is the e-service sign-in form: the three fields, or a passkey
// alone, for the authorization request that led the browser here; a usable
// single sign-on session answers without the form.
type loginForm struct {
	*requestFlow
	check    *credentialCheck
	passkeys *passkeyCheck
	memory   *entityMemory // the entity numbers this browser remembers
}

// show is where /authorize sends the browser. With a usable SSO session
// the request completes at once; prompt=none without one answers
// login_required; otherwise the form is shown.
func (h *loginForm) show(w http.ResponseWriter, r *http.Request) error {
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
	list := h.memory.read(w, r)
	h.renderPage(w, r, ar, http.StatusOK, prefill(r, ar, list), "", "", list)
	return nil
}

// submit checks the three fields. Unknown entity, unknown username and
// wrong password give one answer, after one password hash each.
func (h *loginForm) submit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ar, err := h.postedRequest(w, r)
	if ar == nil {
		return err
	}
	r = r.WithContext(forClient(ctx, ar.ClientID)) // the history records the e-service
	ctx = r.Context()
	c := ReadCredentials(r.PostForm)
	form := h.form(w, r, ar, c)
	if !c.Complete() {
		return kit.InForm(kit.Fail(storage.EInvalid, "error_missing_fields"), form)
	}
	p, refused, err := h.check.Verify(ctx, r, c)
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
		h.history.record(r, ar.ClientID, p, "", "", storage.SignInRefusedByService, storage.MethodPassword)
		return kit.InForm(kit.Fail(storage.EForbidden, "error_entity_account"), form)
	}
	if h.otherThanHinted(w, r, ar, p, storage.MethodPassword) {
		return nil
	}
	// A new sign-in replaces whatever session this browser had.
	client, err := h.flow.Client(ctx, ar.ClientID)
	if err != nil {
		return err
	}
	cur, err := h.check.startSession(w, r, p, []string{storage.AMRPassword}, false, client.ServiceID)
	if err != nil {
		return err
	}
	// Signed in: only now may the box change what this browser remembers.
	h.memory.afterSignIn(w, r, cur.Principal, r.PostForm.Get(rememberField) != "")
	slog.InfoContext(ctx, "sign-in", "euid", p.Subject, "entity", p.EntityNumber, "client", ar.ClientID, "ip", h.k.ClientIP(r))
	return h.finish(w, r, ar, cur, true)
}

// otherThanHinted answers, and reports, a sign-in as p (by method) when
// the RP asked for another user with id_token_hint: the request fails with
// login_required (OpenID Connect Core 3.1.2.1), and the attempt is recorded
// as refused.
func (h *loginForm) otherThanHinted(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, p storage.Principal, method storage.SignInMethod) bool {
	if ar.HintSubject == "" || ar.HintSubject == p.Subject {
		return false
	}
	telemetry.SignIn(telemetry.SignInRefused)
	h.history.record(r, ar.ClientID, p, "", "", storage.SignInRefusedByService, method)
	h.flow.Fail(edge.IssuerOnRedirect(w, h.cfg.Issuer), r, ar, oidc.ErrLoginRequired().WithDescription("signed in as a different user than id_token_hint"))
	return true
}

// submitPasskey is the sign-in with a passkey alone: the passkey
// names the login. Failures count on the address's sign-in counter like a
// wrong password, reserved before the check.
func (h *loginForm) submitPasskey(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	ar, err := h.postedRequest(w, r)
	if ar == nil {
		return err
	}
	r = r.WithContext(forClient(ctx, ar.ClientID)) // the history records the e-service
	ctx = r.Context()
	if h.factors == nil {
		return errExpired
	}
	p, amr, refused, err := h.passkeys.VerifyPasskey(ctx, r)
	if err != nil {
		return err
	}
	if refused != nil {
		h.renderForm(w, r, ar, refused.Status, Credentials{}, refused.Key, refused.Message(w, h.k.T(h.k.RequestLanguage(r, ar.UILocales))))
		return nil
	}
	if h.otherThanHinted(w, r, ar, p, storage.MethodPasskey) {
		return nil
	}
	c, err := h.flow.Client(ctx, ar.ClientID)
	if err != nil {
		return err
	}
	cur, err := h.check.startSession(w, r, p, amr, true, c.ServiceID)
	if err != nil {
		return err
	}
	slog.InfoContext(ctx, "sign-in with a passkey", "euid", p.Subject, "entity", p.EntityNumber, "client", ar.ClientID, "ip", h.k.ClientIP(r))
	return h.finish(w, r, ar, cur, true)
}

// usableSession returns the browser's SSO session if it may answer ar
// without asking for the password again, with its account and the account's
// access to ar's e-service; nil if there is none. An error means a store
// could not say. The account behind the session is checked again
// (kit.SignedInAt): a session may outlive a deletion.
func (h *loginForm) usableSession(r *http.Request, ar *storage.AuthRequest) (*kit.Signed, error) {
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

// form is the sign-in form of ar, as submitted (c), for the error writer
// (kit.InForm): it shows the form again with the message of key.
func (h *loginForm) form(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, c Credentials) func(int, string) {
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
	// Remember is the box 「記住此實體編號」 (nil: the provider remembers
	// no numbers), Remembered the numbers this browser remembers.
	Remember   *RememberBox
	Remembered []rememberedChoice
}

// renderForm shows the sign-in form of ar with c kept (never its password)
// and the message errMsg of the refusal whose catalogue key is key.
func (h *loginForm) renderForm(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, status int, c Credentials, key, errMsg string) {
	h.renderPage(w, r, ar, status, c, key, errMsg, h.memory.read(w, r))
}

// renderPage is renderForm with the numbers this browser remembers (list).
func (h *loginForm) renderPage(w http.ResponseWriter, r *http.Request, ar *storage.AuthRequest, status int, c Credentials, key, errMsg string, list []rememberedEntity) {
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
		Remember:      h.memory.rememberBox(r, list, c),
		Remembered:    choices(list, lang),
	}
	// Nothing is stored for it: the ceremony's state travels sealed in the
	// form, so an anonymous visit costs us no memory.
	if opts, state, ok := h.passkeys.PasskeySignInOptions(r.Context()); ok {
		page.Passkey = kit.PasskeySignIn{Action: h.k.BasePath + passkeyLoginPath, Options: opts, State: state, AuthRequestID: ar.ID}
		kit.AllowOwnScripts(w)
	}
	h.k.Render(w, status, "login.html", page)
}
