package login

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/password"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/storage"
)

// The self-service portal (manual §七–§九): its own sign-in, where the
// entity account may sign in too (the only place it can), the profile page
// 「個人資料」 with the EUID, and 「變更密碼」. Its pages act only for the
// account of the browser's SSO session: none takes an account id from the
// request.

// Paths of the portal, under the issuer's path.
const (
	accountPath         = "/account"
	accountLoginPath    = "/account/login"
	accountPasswordPath = "/account/password"
	accountLogoutPath   = "/account/logout"
)

// CSRF bindings of the portal's forms (see csrf): the sign-in form is bound
// to the browser only; the forms of a signed-in page are bound to the
// session too, so a token dies with the session it was issued for.
const accountLoginBinding = "account-login"

func accountBinding(sid string) string { return "account\x00" + sid }

// mountAccount registers the portal: sign-in, profile and password change (issue 3).
func (h *Handler) mountAccount(r *mux.Router) {
	h.pages.mustHave("account_login.html", "account_profile.html", "account_password.html")
	post := func(f http.HandlerFunc) http.Handler { return http.NewCrossOriginProtection().Handler(f) }
	r.HandleFunc(accountPath, h.showProfile).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(accountLoginPath, h.showAccountLogin).Methods(http.MethodGet, http.MethodHead)
	r.Handle(accountLoginPath, post(h.submitAccountLogin)).Methods(http.MethodPost)
	r.HandleFunc(accountPasswordPath, h.showPassword).Methods(http.MethodGet, http.MethodHead)
	r.Handle(accountPasswordPath, post(h.submitPassword)).Methods(http.MethodPost)
	r.Handle(accountLogoutPath, post(h.accountLogout)).Methods(http.MethodPost)
}

// mustHave stops the start-up if a page is missing from the templates.
func (p *pages) mustHave(names ...string) {
	for _, n := range names {
		if p.tmpl.Lookup(n) == nil {
			panic("login: template " + n + " is missing")
		}
	}
}

// portal is who a signed-in portal page acts for.
type portal struct {
	sess *storage.Session
	p    storage.Principal
}

// portalSession returns the browser's live SSO session and its account, or
// nil when there is none or the account may no longer sign in (deleted,
// entity closed). Sessions from an e-service sign-in count: a staff login
// signed in there is signed in here.
func (h *Handler) portalSession(r *http.Request) (*portal, error) {
	ctx := r.Context()
	c, err := r.Cookie(idpop.SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, err := h.state.Session(ctx, c.Value, h.cfg.SessionIdle)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := h.dir.PrincipalBySubject(ctx, sess.Subject)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !p.CanSignIn() || p.Kind != sess.Kind || p.ID != sess.LoginID {
		return nil, nil
	}
	return &portal{sess: sess, p: p}, nil
}

// requirePortal returns the signed-in account, or sends the browser to the
// portal's sign-in and returns false.
func (h *Handler) requirePortal(w http.ResponseWriter, r *http.Request) (*portal, bool) {
	pt, err := h.portalSession(r)
	if err != nil {
		h.internalError(w, r, err)
		return nil, false
	}
	if pt == nil {
		http.Redirect(w, r, h.cfg.BasePath+accountLoginPath, http.StatusSeeOther)
		return nil, false
	}
	return pt, true
}

// portalLanguage is the page language for a signed-in account: an explicit
// choice first, then the account's own language, then the browser's.
func (h *Handler) portalLanguage(r *http.Request, p storage.Principal) string {
	return h.pages.language(r, []string{p.Language})
}

// portalCommon is common with language links back to this page's GET (also
// after a POST, which the login pages' links would send elsewhere).
func (h *Handler) portalCommon(r *http.Request, lang string) common {
	c := h.pages.common(r, h.cfg.BasePath, lang)
	for i := range c.Langs {
		c.Langs[i].URL = (&url.URL{Path: r.URL.Path, RawQuery: url.Values{"lang": {c.Langs[i].Code}}.Encode()}).String()
	}
	return c
}

// ---- sign-in ----

type accountLoginPage struct {
	common
	CSRF         string
	EntityNumber string
	Username     string
	Error        string
}

func (h *Handler) renderAccountLogin(w http.ResponseWriter, r *http.Request, status int, entityNumber, username, errMsg string) {
	lang := h.pages.language(r, nil)
	h.pages.render(w, status, "account_login.html", accountLoginPage{
		common:       h.portalCommon(r, lang),
		CSRF:         h.csrf.token(w, r, accountLoginBinding),
		EntityNumber: entityNumber,
		Username:     username,
		Error:        errMsg,
	})
}

// showAccountLogin shows the portal's sign-in form, or goes straight to the
// profile when the browser is signed in already.
func (h *Handler) showAccountLogin(w http.ResponseWriter, r *http.Request) {
	h.rememberLanguage(w, r)
	pt, err := h.portalSession(r)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if pt != nil {
		http.Redirect(w, r, h.cfg.BasePath+accountPath, http.StatusSeeOther)
		return
	}
	h.renderAccountLogin(w, r, http.StatusOK, "", "", "")
}

// submitAccountLogin checks the three fields as the e-service sign-in does
// (same answers, timing, throttling and CSRF), but lets the entity account
// in, and lands on the profile.
func (h *Handler) submitAccountLogin(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	t := h.pages.messages[h.pages.language(r, nil)]
	if err := r.ParseForm(); err != nil {
		h.renderAccountLogin(w, r, http.StatusBadRequest, "", "", t["account_error_csrf"])
		return
	}
	c := readCredentials(r.PostForm)
	if !h.csrf.valid(r, accountLoginBinding, r.PostForm.Get("csrf_token")) {
		h.renderAccountLogin(w, r, http.StatusForbidden, c.entityNumber, c.username, t["account_error_csrf"])
		return
	}
	if !c.complete() {
		h.renderAccountLogin(w, r, http.StatusBadRequest, c.entityNumber, c.username, t["error_missing_fields"])
		return
	}
	p, refused, err := h.verifySignIn(ctx, r, c)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if refused != nil {
		h.renderAccountLogin(w, r, refused.status, c.entityNumber, c.username, refused.write(w, t))
		return
	}
	if _, err := h.startSession(w, r, p); err != nil {
		h.internalError(w, r, err)
		return
	}
	telemetry.SignIn(telemetry.SignInSuccess)
	slog.InfoContext(ctx, "portal sign-in", "subject", p.Subject, "kind", p.Kind, "entity", p.EntityNumber, "ip", h.clientIP(r))
	http.Redirect(w, r, h.cfg.BasePath+accountPath, http.StatusSeeOther)
}

// accountLogout ends the browser's session (and the tokens issued under
// it) and clears the cookie. Without a live session there is nothing to
// protect, and the cookie is cleared all the same.
func (h *Handler) accountLogout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		h.message(w, r, http.StatusBadRequest, "account_error_heading", "account_error_csrf", true)
		return
	}
	if c, err := r.Cookie(idpop.SessionCookie); err == nil && c.Value != "" {
		sess, err := h.state.Session(ctx, c.Value, 0)
		switch {
		case err == nil:
			if !h.csrf.valid(r, accountBinding(sess.SessionID), r.PostForm.Get("csrf_token")) {
				h.message(w, r, http.StatusForbidden, "account_error_heading", "account_error_csrf", true)
				return
			}
			if err := h.state.EndSessionByID(ctx, sess.SessionID); err != nil {
				h.internalError(w, r, err)
				return
			}
		case !errors.Is(err, storage.ErrNotFound):
			h.internalError(w, r, err)
			return
		}
		if err := h.state.DeleteSession(ctx, c.Value); err != nil {
			h.internalError(w, r, err)
			return
		}
	}
	http.SetCookie(w, h.sessionCookie("", -1))
	http.Redirect(w, r, h.cfg.BasePath+"/logged-out", http.StatusSeeOther)
}

// ---- signed-in pages ----

// accountChrome is what every signed-in portal page shows around its
// content: the navigation and the sign-out form.
type accountChrome struct {
	common
	Current    string // profile or password
	Who        string // username (entity number)
	LogoutCSRF string
}

func (h *Handler) chrome(w http.ResponseWriter, r *http.Request, pt *portal, lang, current string) accountChrome {
	return accountChrome{
		common:     h.portalCommon(r, lang),
		Current:    current,
		Who:        pt.p.Username + " (" + pt.p.EntityNumber + ")",
		LogoutCSRF: h.csrf.token(w, r, accountBinding(pt.sess.SessionID)),
	}
}

// profileRow is one labelled value of the profile; ID names it in the page.
type profileRow struct{ ID, Label, Value string }

type accountProfilePage struct {
	accountChrome
	Rows []profileRow
}

// showProfile is 「個人資料」: the signed-in account's own data.
func (h *Handler) showProfile(w http.ResponseWriter, r *http.Request) {
	h.rememberLanguage(w, r)
	pt, ok := h.requirePortal(w, r)
	if !ok {
		return
	}
	lang := h.portalLanguage(r, pt.p)
	rows, err := h.profileRows(r, pt.p, lang)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	h.pages.render(w, http.StatusOK, "account_profile.html", accountProfilePage{
		accountChrome: h.chrome(w, r, pt, lang, "profile"),
		Rows:          rows,
	})
}

// profileRows reads the account of p (by its own id, from the session) and
// its entity, and lays them out in lang.
func (h *Handler) profileRows(r *http.Request, p storage.Principal, lang string) ([]profileRow, error) {
	ctx := r.Context()
	t := h.pages.messages[lang]
	e, err := h.dir.Entity(ctx, p.EntityID)
	if err != nil {
		return nil, err
	}
	row := func(key, value string) profileRow {
		if value == "" {
			value = "—"
		}
		return profileRow{ID: key, Label: t[key], Value: value}
	}
	yesNo := func(b bool) string {
		if b {
			return t["account_yes"]
		}
		return t["account_no"]
	}
	langName := func(code string) string {
		if m := h.pages.messages[code]; m != nil {
			return m["lang_name"]
		}
		return code
	}
	entityRows := []profileRow{
		row("entity_number", e.Number),
		row("account_entity_name_zh", e.NameZH),
		row("account_entity_name_pt", e.NamePT),
		row("account_entity_kind", labelOf(t, "account_kind_", e.Kind)),
	}

	switch p.Kind {
	case storage.KindStaff:
		sl, err := h.dir.StaffLogin(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		if sl.EUID != p.Subject || sl.EntityID != e.ID {
			return nil, errors.New("profile: staff login does not match the session")
		}
		kind := t["account_type_staff"]
		if sl.Admin {
			kind = t["account_type_admin"]
		}
		rows := []profileRow{
			row("account_type", kind),
			row("username", sl.Username),
			row("account_euid", sl.EUID),
			row("account_name_zh", sl.NameZH),
			row("account_name_foreign", sl.NameForeign),
			row("account_id_doc_type", labelOf(t, "account_doc_", sl.IDDocType)),
			row("account_id_doc_number", maskDocNumber(sl.IDDocNumber)),
			row("account_id_doc_issue_place", sl.IDDocIssuePlace),
			row("account_birth_date", sl.BirthDate.Format("2006-01-02")),
			row("account_mobile", sl.Mobile),
			row("account_email", sl.Email),
			row("account_language", langName(sl.Language)),
			row("account_admin", yesNo(sl.Admin)),
			row("account_service_admin", yesNo(sl.ServiceAdmin)),
		}
		return append(rows, entityRows...), nil
	case storage.KindEntityAccount:
		a, err := h.dir.EntityAccount(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		if a.ID != p.ID || a.Subject != p.Subject {
			return nil, errors.New("profile: entity account does not match the session")
		}
		rows := []profileRow{
			row("account_type", t["account_type_entity_account"]),
			row("username", a.Username),
		}
		rows = append(rows, entityRows...)
		return append(rows,
			row("account_mobile", a.Mobile),
			row("account_email", a.Email),
			row("account_language", langName(a.Language)),
		), nil
	}
	return nil, errors.New("profile: unknown account kind " + string(p.Kind))
}

// labelOf is the catalogue's name for a code (prefix+code), or the code
// itself when the catalogue has none.
func labelOf(t map[string]string, prefix, code string) string {
	if v := t[prefix+code]; v != "" {
		return v
	}
	return code
}

// maskDocNumber shows enough of an identity document number for its holder
// to recognise it and hides the rest: the first character and the last
// three, so a Macao ID card 1234567(8) shows as 1******(8). Short numbers
// keep less.
func maskDocNumber(s string) string {
	r := []rune(s)
	head, tail := 1, 3
	switch n := len(r); {
	case n == 0:
		return ""
	case n <= 4:
		head, tail = 0, 1
	case n <= 7:
		head, tail = 1, 1
	}
	for i := head; i < len(r)-tail; i++ {
		r[i] = '*'
	}
	return string(r)
}

// ---- change password ----

type accountPasswordPage struct {
	accountChrome
	CSRF     string
	Username string // for password managers
	Error    string
	Done     bool
}

func (h *Handler) renderPassword(w http.ResponseWriter, r *http.Request, pt *portal, status int, errMsg string, done bool) {
	ch := h.chrome(w, r, pt, h.portalLanguage(r, pt.p), "password")
	h.pages.render(w, status, "account_password.html", accountPasswordPage{
		accountChrome: ch,
		CSRF:          ch.LogoutCSRF, // the same binding: this browser and this session
		Username:      pt.p.Username,
		Error:         errMsg,
		Done:          done,
	})
}

// showPassword is the 「變更密碼」 form.
func (h *Handler) showPassword(w http.ResponseWriter, r *http.Request) {
	h.rememberLanguage(w, r)
	pt, ok := h.requirePortal(w, r)
	if !ok {
		return
	}
	h.renderPassword(w, r, pt, http.StatusOK, "", false)
}

// submitPassword changes the signed-in account's password: old password,
// new twice, the policy (login/password.CheckPolicy). A wrong old password
// counts as a failed sign-in for the throttle. On success the new hash is
// stored (with its audit event) only if the old one is still in place;
// then every session and token of the account ends, and this browser gets
// a fresh session. Passwords are never written back into the page.
func (h *Handler) submitPassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	formErr := r.ParseForm()
	pt, ok := h.requirePortal(w, r)
	if !ok {
		return
	}
	p := pt.p
	t := h.pages.messages[h.portalLanguage(r, p)]
	fail := func(status int, msg string) { h.renderPassword(w, r, pt, status, msg, false) }
	if formErr != nil || !h.csrf.valid(r, accountBinding(pt.sess.SessionID), r.PostForm.Get("csrf_token")) {
		fail(http.StatusForbidden, t["account_error_csrf"])
		return
	}
	old, pw, again := r.PostForm.Get("old_password"), r.PostForm.Get("new_password"), r.PostForm.Get("new_password2")
	switch {
	case old == "" || pw == "" || again == "":
		fail(http.StatusBadRequest, t["account_error_missing"])
		return
	case pw != again:
		fail(http.StatusBadRequest, t["account_error_mismatch"])
		return
	}
	if err := password.CheckPolicy(pw, p.Username, p.EntityNumber, strings.ReplaceAll(p.EntityNumber, "-", "")); err != nil {
		var pe *password.PolicyError
		if !errors.As(err, &pe) || t[pe.Key] == "" {
			h.internalError(w, r, err)
			return
		}
		fail(http.StatusBadRequest, t[pe.Key])
		return
	}
	if pw == old {
		fail(http.StatusBadRequest, t["pw_same_as_old"])
		return
	}

	// The old password is guarded like a sign-in, on the same counters.
	att, wait, err := h.reserveAttempt(ctx, h.cfg.FailureWindow, h.signInLimits(r, p.EntityNumber, p.Username)...)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	if att == nil {
		fail(http.StatusTooManyRequests, throttledRefusal(wait).write(w, t))
		return
	}
	right, _, err := h.hasher.Verify(ctx, p.PasswordHash, old)
	if errors.Is(err, password.ErrBusy) {
		att.giveBack(ctx)
		fail(busyRefusal.status, busyRefusal.write(w, t))
		return
	}
	if err != nil {
		att.giveBack(ctx)
		h.internalError(w, r, err)
		return
	}
	if !right {
		slog.InfoContext(ctx, "password change: wrong old password", "subject", p.Subject, "ip", h.clientIP(r))
		fail(http.StatusUnauthorized, t["account_error_old_password"])
		return
	}
	att.succeeded(ctx)
	newHash, err := h.hasher.Hash(ctx, pw)
	if errors.Is(err, password.ErrBusy) {
		fail(busyRefusal.status, busyRefusal.write(w, t))
		return
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	err = h.dir.ChangePassword(ctx, p.Kind, p.ID, p.PasswordHash, newHash, h.clientIP(r))
	if errors.Is(err, storage.ErrConflict) {
		// Changed meanwhile (another change won), or the account was just disabled.
		fail(http.StatusConflict, t["account_error_conflict"])
		return
	}
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	// Every session and token of the account ends, this browser's too; then
	// this browser alone gets a new session.
	if err := h.state.EndAllForSubject(ctx, p.Subject); err != nil {
		h.internalError(w, r, err)
		return
	}
	p.PasswordHash = newHash
	sess, err := h.startSession(w, r, p)
	if err != nil {
		h.internalError(w, r, err)
		return
	}
	slog.InfoContext(ctx, "password changed", "subject", p.Subject, "kind", p.Kind, "entity", p.EntityNumber, "ip", h.clientIP(r))
	h.renderPassword(w, r, &portal{sess: sess, p: p}, http.StatusOK, "", true)
}
