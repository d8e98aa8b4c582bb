package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/entity-account/idp/templates"
)

// The self-service portal: its sign-in (staff logins and the entity account),
// the profile page 「個人資料」 and 「變更密碼」.

// ---- helpers ----

// catalogue returns a message of the zh-Hant catalogue (the default page
// language, and the demo logins' language).
func catalogue(t *testing.T, key string) string {
	t.Helper()
	m, err := templates.Catalogue("zh-Hant")
	if err != nil {
		t.Fatal(err)
	}
	if m[key] == "" {
		t.Fatalf("catalogue has no %s", key)
	}
	return m[key]
}

// portal is the path of a portal page under the issuer.
func (idp *testIDP) portal(path string) string { return idp.issuerPath() + path }

// accountSignIn fills the portal's sign-in form.
func (b *browser) accountSignIn(entity, username, pw string) page {
	b.t.Helper()
	form := b.get(b.idp.portal("/account/login"))
	if form.StatusCode != http.StatusOK || !strings.Contains(form.Body, `name="entity_number"`) {
		b.t.Fatalf("portal sign-in form = %d: %.500s", form.StatusCode, form.Body)
	}
	return b.post(b.idp.portal("/account/login"), url.Values{
		"csrf_token": {submatch(csrfField, form.Body)}, "entity_number": {entity}, "username": {username}, "password": {pw},
	})
}

// accountSignedIn signs in at the portal and checks it lands on the profile.
func (b *browser) accountSignedIn(entity, username, pw string) {
	b.t.Helper()
	p := b.accountSignIn(entity, username, pw)
	if loc := p.location(b.t); loc != b.idp.issuer+"/account" {
		b.t.Fatalf("portal sign-in of %s goes to %s, want the profile", username, loc)
	}
}

// accountPage fetches a signed-in portal page and fails unless it is shown.
func (b *browser) accountPage(path string) page {
	b.t.Helper()
	p := b.get(b.idp.portal(path))
	if p.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s = %d (Location %q): %.500s", path, p.StatusCode, p.Header.Get("Location"), p.Body)
	}
	return p
}

// wantSignedOut asserts that the portal sends the browser to its sign-in.
func (b *browser) wantSignedOut(what string) {
	b.t.Helper()
	p := b.get(b.idp.portal("/account"))
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != b.idp.portal("/account/login") {
		b.t.Errorf("%s: GET /account = %d (Location %q), want 303 to the portal's sign-in", what, p.StatusCode, p.Header.Get("Location"))
	}
}

// changePassword fills the change-password form.
func (b *browser) changePassword(old, pw, again string) page {
	b.t.Helper()
	form := b.accountPage("/account/password")
	return b.post(b.idp.portal("/account/password"), url.Values{
		"csrf_token": {submatch(csrfField, form.Body)}, "old_password": {old}, "new_password": {pw}, "new_password2": {again},
	})
}

// profileField is the value shown for one row of the profile page.
func profileField(p page, id string) string {
	return html.UnescapeString(submatch(regexp.MustCompile(`id="`+regexp.QuoteMeta(id)+`">([^<]*)<`), p.Body))
}

func sessionCookieOf(p page) string {
	for _, c := range p.Cookies() {
		if c.Name == "idp_session" {
			return c.Value
		}
	}
	return ""
}

// ---- sign-in and profile ----

// TestAccountPortalStaff: a staff login signs in at the portal and sees its
// own profile, EUID included; sign-out ends the session.
func TestAccountPortalStaff(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff, admin := idp.login("staff01"), idp.login("admin01")
	b := idp.browser()

	b.wantSignedOut("before sign-in")
	p := b.accountSignIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("portal sign-in = %d: %.500s", p.StatusCode, p.Body)
	}
	var cookie *http.Cookie
	for _, c := range p.Cookies() {
		if c.Name == "idp_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path /", cookie)
	}

	// The form is skipped once signed in.
	if again := b.get(idp.portal("/account/login")); again.StatusCode != http.StatusSeeOther {
		t.Errorf("portal sign-in page when signed in = %d, want a redirect to the profile", again.StatusCode)
	}

	prof := b.accountPage("/account")
	for id, want := range map[string]string{
		"account_euid":           staff.EUID,
		"username":               staff.Username,
		"entity_number":          idp.demo.EntityNumber,
		"account_entity_name_zh": "公司19",
		"account_entity_name_pt": "Companhia 19",
		"account_entity_kind":    "公司",
		"account_name_zh":        "李小明",
		"account_name_foreign":   "LEI, Sio Meng",
		"account_type":           "工作人員登入號",
		"account_id_doc_type":    "澳門永久性居民身份證",
		"account_id_doc_number":  "100****(2)",
		"account_birth_date":     "1985-01-01",
		"account_email":          "staff01@company19.example.mo",
		"account_language":       "中文",
		"account_admin":          "否",
		"account_service_admin":  "否",
	} {
		if got := profileField(prof, id); got != want {
			t.Errorf("profile %s = %q, want %q", id, got, want)
		}
	}
	if strings.Contains(prof.Body, "1000002(2)") {
		t.Error("the profile shows the whole ID document number")
	}
	for _, want := range []string{"個人資料", "變更密碼", "登出", `hreflang="pt"`, `hreflang="en"`} {
		mustContain(t, prof.Body, want)
	}
	if strings.Contains(prof.Body, admin.EUID) {
		t.Error("the profile shows another login's EUID")
	}

	// Language switcher: the profile in Portuguese.
	if pt := b.accountPage("/account?lang=pt"); profileField(pt, "account_admin") != "Não" || !strings.Contains(pt.Body, "Dados pessoais") {
		t.Errorf("profile in Portuguese: admin = %q", profileField(pt, "account_admin"))
	}
	b.accountPage("/account?lang=zh-Hant")

	// Sign-out needs the form's CSRF token.
	noToken := b.post(idp.portal("/account/logout"), url.Values{})
	if noToken.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without CSRF token = %d, want 403", noToken.StatusCode)
	}
	b.accountPage("/account") // still signed in
	out := b.post(idp.portal("/account/logout"), url.Values{"csrf_token": {submatch(csrfField, prof.Body)}})
	if loc := out.location(t); loc != idp.issuer+"/logged-out" {
		t.Errorf("sign-out goes to %s", loc)
	}
	if c := sessionCookieOf(out); c != "" {
		t.Errorf("sign-out left the session cookie %q", c)
	}
	b.wantSignedOut("after sign-out")
	// The session is gone in the store too, not just the cookie.
	replay := idp.browser()
	replay.c.Jar.SetCookies(mustURL(t, idp.issuer), []*http.Cookie{{Name: "idp_session", Value: cookie.Value, Path: "/"}})
	replay.wantSignedOut("the old cookie replayed")
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAccountPortalEntityAccount: the entity account signs in at the portal,
// the only place it can, sees its entity's data, and is still refused at
// e-services, even from the browser where it is signed in.
func TestAccountPortalEntityAccount(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	acct := idp.demo.EntityAccount
	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, acct["username"], acct["password"])

	prof := b.accountPage("/account")
	for id, want := range map[string]string{
		"account_type":           "實體使用者帳戶",
		"username":               acct["username"],
		"entity_number":          idp.demo.EntityNumber,
		"account_entity_name_zh": "公司19",
		"account_entity_name_pt": "Companhia 19",
		"account_entity_kind":    "公司",
		"account_mobile":         "+85366000021",
		"account_language":       "中文",
	} {
		if got := profileField(prof, id); got != want {
			t.Errorf("profile %s = %q, want %q", id, got, want)
		}
	}
	if strings.Contains(prof.Body, `id="account_euid"`) || strings.Contains(prof.Body, "CU0000") {
		t.Error("the entity account's profile shows an EUID")
	}

	// At an e-service the portal session does not count: the form is shown,
	// and the entity account's right password is refused there.
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	login := b.startLogin(r, newAuthParams(t))
	p := b.submit(login.form(t), idp.demo.EntityNumber, acct["username"], acct["password"])
	wantNoRedirect(t, "entity account at an e-service", p, http.StatusForbidden)
	mustContain(t, p.errorMessage(), msgEntityAccount)
	np := newAuthParams(t)
	np.Extra = url.Values{"prompt": {"none"}}
	if cb := b.followToRP(b.get(r.authURL(np))); cb.Get("code") != "" || cb.Get("error") != "login_required" {
		t.Errorf("prompt=none with an entity account session = %v, want login_required", cb)
	}
	b.accountPage("/account") // still signed in at the portal

	// The entity account changes its password; the policy knows its entity number.
	form := b.changePassword(acct["password"], "ea-02-000021-pass", "ea-02-000021-pass")
	wantPasswordError(t, "entity number in the password", form, http.StatusBadRequest, catalogue(t, "pw_contains_identity"))
	const newPw = "quiet harbour lanterns at dusk"
	if done := b.changePassword(acct["password"], newPw, newPw); done.StatusCode != http.StatusOK {
		t.Fatalf("entity account password change = %d: %.500s", done.StatusCode, done.Body)
	}
	idp.browser().accountSignedIn(idp.demo.EntityNumber, acct["username"], newPw)
	old := idp.browser().accountSignIn(idp.demo.EntityNumber, acct["username"], acct["password"])
	wantNoRedirect(t, "entity account's old password", old, http.StatusUnauthorized)
	wantAuditEvent(t, idp, "entity_account.password_change", acct["subject"])
}

// TestAccountPortalSSO: a staff login signed in through an e-service lands
// on the portal without the form.
func TestAccountPortalSSO(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	admin := idp.login("admin01")
	b := idp.browser()
	if cb := b.signIn(r, newAuthParams(t), admin.Username); cb.Get("code") == "" {
		t.Fatalf("e-service sign-in: %v", cb)
	}
	p := b.get(idp.portal("/account/login"))
	if loc := p.location(t); loc != idp.issuer+"/account" {
		t.Fatalf("portal sign-in with an SSO session goes to %s", loc)
	}
	prof := b.accountPage("/account")
	if got := profileField(prof, "account_euid"); got != admin.EUID {
		t.Errorf("EUID = %q, want %s", got, admin.EUID)
	}
	if got := profileField(prof, "account_type"); got != "工作人員登入號（管理員）" {
		t.Errorf("account type = %q", got)
	}
	if got := profileField(prof, "account_admin"); got != "是" {
		t.Errorf("admin = %q", got)
	}
}

// TestAccountPortalSignInRefusals: the portal's sign-in gives the e-service
// sign-in's one generic answer, needs its CSRF token, and shares its throttle.
func TestAccountPortalSignInRefusals(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_ACCOUNT": "3"})
	staff, admin := idp.login("staff01"), idp.login("admin01")
	en := idp.demo.EntityNumber

	for _, tc := range []struct{ name, entity, username, pw string }{
		{"unknown entity", "99-999999", admin.Username, admin.Password},
		{"unknown username", en, "nobody77", admin.Password},
		{"wrong password", en, admin.Username, admin.Password + "x"},
	} {
		p := idp.browser().accountSignIn(tc.entity, tc.username, tc.pw)
		wantNoRedirect(t, tc.name, p, http.StatusUnauthorized)
		if got := p.errorMessage(); got != msgCredentials {
			t.Errorf("%s: message %q, want the generic %q", tc.name, got, msgCredentials)
		}
		if p.fieldValue("entity_number") != tc.entity || p.fieldValue("username") != tc.username || strings.Contains(p.Body, tc.pw) {
			t.Errorf("%s: fields not kept, or the password echoed", tc.name)
		}
	}

	// CSRF: no token, or a token of another browser.
	b := idp.browser()
	form := b.get(idp.portal("/account/login"))
	vals := url.Values{"entity_number": {en}, "username": {admin.Username}, "password": {admin.Password}}
	wantNoRedirect(t, "portal sign-in without CSRF token", b.post(idp.portal("/account/login"), vals), http.StatusForbidden)
	other := idp.browser().get(idp.portal("/account/login"))
	vals.Set("csrf_token", submatch(csrfField, other.Body))
	wantNoRedirect(t, "portal sign-in with another browser's token", b.post(idp.portal("/account/login"), vals), http.StatusForbidden)
	vals.Set("csrf_token", submatch(csrfField, form.Body))
	req, _ := http.NewRequest(http.MethodPost, idp.issuer+"/account/login", strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantNoRedirect(t, "cross-site portal sign-in", b.do(req), http.StatusForbidden)

	// Throttle: failures at the portal count for the e-service sign-in too.
	for i := range 3 {
		if p := idp.browser().accountSignIn(en, staff.Username, fmt.Sprintf("wrong-%d", i)); p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d", i+1, p.StatusCode)
		}
	}
	p := idp.browser().accountSignIn(en, staff.Username, staff.Password)
	wantNoRedirect(t, "portal sign-in after the limit", p, http.StatusTooManyRequests)
	wantRetryAfter(t, p)
	mustContain(t, p.errorMessage(), msgThrottled)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	eb := idp.browser()
	ep := eb.submit(eb.startLogin(r, newAuthParams(t)).form(t), en, staff.Username, staff.Password)
	wantNoRedirect(t, "e-service sign-in after portal failures", ep, http.StatusTooManyRequests)
}

// TestAccountProfileOnlyOwnData: the profile shows the signed-in login's
// data whatever the request names.
func TestAccountProfileOnlyOwnData(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff, admin := idp.login("staff01"), idp.login("admin01")
	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	adminID := admin.id(t, idp.app.pg)
	for _, q := range []string{
		"?euid=" + admin.EUID,
		fmt.Sprintf("?id=%d", adminID),
		fmt.Sprintf("?id=%d&login_id=%d&sub=%s&username=admin01", adminID, adminID, admin.EUID),
	} {
		p := b.accountPage("/account" + q)
		if got := profileField(p, "account_euid"); got != staff.EUID {
			t.Errorf("%s: EUID %q, want the caller's %s", q, got, staff.EUID)
		}
		if strings.Contains(p.Body, admin.EUID) || strings.Contains(p.Body, "陳大文") {
			t.Errorf("%s: the page shows admin01's data", q)
		}
	}
}

// ---- change password ----

func wantPasswordError(t *testing.T, what string, p page, status int, msg string) {
	t.Helper()
	if p.StatusCode != status {
		t.Errorf("%s: status %d, want %d: %.500s", what, p.StatusCode, status, p.Body)
	}
	if got := p.errorMessage(); got != msg {
		t.Errorf("%s: message %q, want %q", what, got, msg)
	}
	if !strings.Contains(p.Body, `name="old_password"`) {
		t.Errorf("%s: the form is not shown again", what)
	}
}

func wantAuditEvent(t *testing.T, idp *testIDP, action, target string) {
	t.Helper()
	events, err := idp.app.pg.AuditEvents(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Action == action && e.Target == target {
			if e.ActorID != target || e.ActorKind == "" || e.IP == "" {
				t.Errorf("audit %s: actor %s %q from %q, want the account itself with an address", action, e.ActorKind, e.ActorID, e.IP)
			}
			return
		}
	}
	t.Errorf("no audit event %s %s", action, target)
}

func countAudit(t *testing.T, idp *testIDP, action string) int {
	t.Helper()
	var n int
	err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = $1`, action).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestChangePasswordRefusals: each refusal re-renders the form with its
// message, in the page language, never echoes a password and changes nothing.
func TestChangePasswordRefusals(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff := idp.login("staff01")
	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)

	for _, tc := range []struct {
		name, old, pw, again string
		status               int
		key                  string
	}{
		{"wrong old password", staff.Password + "x", "Nine-Dragons-Bay", "Nine-Dragons-Bay", http.StatusUnauthorized, "account_error_old_password"},
		{"new passwords differ", staff.Password, "Nine-Dragons-Bay", "Nine-Dragons-Bax", http.StatusBadRequest, "account_error_mismatch"},
		{"missing field", staff.Password, "Nine-Dragons-Bay", "", http.StatusBadRequest, "account_error_missing"},
		{"too short", staff.Password, "Ab3$xy", "Ab3$xy", http.StatusBadRequest, "pw_too_short"},
		{"too long", staff.Password, strings.Repeat("lotus ", 22), strings.Repeat("lotus ", 22), http.StatusBadRequest, "pw_too_long"},
		{"common", staff.Password, "baseball", "baseball", http.StatusBadRequest, "pw_common"},
		{"common with a year", staff.Password, "Sunshine2024!", "Sunshine2024!", http.StatusBadRequest, "pw_common"},
		{"contains the username", staff.Password, "my-STAFF01-secret", "my-STAFF01-secret", http.StatusBadRequest, "pw_contains_identity"},
		{"contains the entity number", staff.Password, "co-02-000021-pass", "co-02-000021-pass", http.StatusBadRequest, "pw_contains_identity"},
		{"same as the old one", staff.Password, staff.Password, staff.Password, http.StatusBadRequest, "pw_same_as_old"},
	} {
		p := b.changePassword(tc.old, tc.pw, tc.again)
		wantPasswordError(t, tc.name, p, tc.status, catalogue(t, tc.key))
		for _, secret := range []string{tc.old, tc.pw, tc.again} {
			if secret != "" && strings.Contains(p.Body, secret) {
				t.Errorf("%s: a password is echoed in the page", tc.name)
			}
		}
	}

	// In the language the browser chose.
	b.accountPage("/account/password?lang=en")
	p := b.changePassword(staff.Password, "Nine-Dragons-Bay", "Nine-Dragons-Bax")
	wantPasswordError(t, "mismatch in English", p, http.StatusBadRequest, "The two new passwords do not match.")
	if !strings.Contains(p.Body, `href="/account/password?lang=pt"`) {
		t.Error("after a POST the language links do not lead back to the form")
	}
	b.accountPage("/account/password?lang=zh-Hant")

	// CSRF: no token, another browser's token, a cross-site post.
	vals := url.Values{"old_password": {staff.Password}, "new_password": {"Nine-Dragons-Bay"}, "new_password2": {"Nine-Dragons-Bay"}}
	wantPasswordError(t, "no CSRF token", b.post(idp.portal("/account/password"), vals), http.StatusForbidden, catalogue(t, "account_error_csrf"))
	other := idp.browser()
	other.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	vals.Set("csrf_token", submatch(csrfField, other.accountPage("/account/password").Body))
	wantPasswordError(t, "another browser's token", b.post(idp.portal("/account/password"), vals), http.StatusForbidden, catalogue(t, "account_error_csrf"))
	vals.Set("csrf_token", submatch(csrfField, b.accountPage("/account/password").Body))
	req, _ := http.NewRequest(http.MethodPost, idp.issuer+"/account/password", strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site password change = %d, want 403", p.StatusCode)
	}
	// Without a session: to the sign-in, nothing changed.
	anon := idp.browser()
	if p := anon.post(idp.portal("/account/password"), vals); p.StatusCode != http.StatusSeeOther {
		t.Errorf("password change without a session = %d, want 303 to the sign-in", p.StatusCode)
	}

	// Nothing was changed: the old password still signs in, no audit event.
	idp.browser().accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	if n := countAudit(t, idp, "staff.password_change"); n != 0 {
		t.Errorf("%d password_change audit events after refusals", n)
	}
}

// TestChangePasswordThrottle: a wrong old password counts as a failed
// sign-in of the login.
func TestChangePasswordThrottle(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_ACCOUNT": "3"})
	staff := idp.login("staff01")
	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	for i := range 3 {
		p := b.changePassword(fmt.Sprintf("wrong-old-%d", i), "Nine-Dragons-Bay", "Nine-Dragons-Bay")
		wantPasswordError(t, "wrong old password", p, http.StatusUnauthorized, catalogue(t, "account_error_old_password"))
	}
	p := b.changePassword(staff.Password, "Nine-Dragons-Bay", "Nine-Dragons-Bay")
	if p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right old password after the limit = %d, want 429", p.StatusCode)
	}
	wantRetryAfter(t, p)
	mustContain(t, p.errorMessage(), msgThrottled)
	// The sign-in of the same login is throttled as well.
	q := idp.browser().accountSignIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	wantNoRedirect(t, "sign-in after wrong old passwords", q, http.StatusTooManyRequests)
}

// TestChangePassword: the new password works and the old does not; every
// other session and refresh token of the login ends; this browser stays
// signed in; other logins are untouched; the change is audited.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff, admin := idp.login("staff01"), idp.login("admin01")
	en := idp.demo.EntityNumber

	// Before: another browser has an SSO session of staff01 and a refresh
	// token (offline_access); admin01 has its own session and refresh token.
	elsewhere := idp.browser()
	tok, _ := elsewhere.tokens(r, staff.Username)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}
	adminBrowser := idp.browser()
	adminTok, _ := adminBrowser.tokens(r, admin.Username)

	b := idp.browser()
	b.accountSignedIn(en, staff.Username, staff.Password)
	form := b.accountPage("/account/password")
	for _, want := range []string{"舊密碼", "新密碼", "再次輸入新密碼", `autocomplete="new-password"`} {
		mustContain(t, form.Body, want)
	}

	const newPw = "lotus bridge over nam van lake"
	done := b.changePassword(staff.Password, newPw, newPw)
	if done.StatusCode != http.StatusOK {
		t.Fatalf("password change = %d: %.500s", done.StatusCode, done.Body)
	}
	mustContain(t, done.Body, catalogue(t, "account_password_done"))
	if strings.Contains(done.Body, newPw) || strings.Contains(done.Body, staff.Password) {
		t.Error("a password is echoed in the confirmation")
	}
	if sessionCookieOf(done) == "" {
		t.Error("no fresh session cookie after the change")
	}

	// This browser stays signed in, at the portal and for SSO at e-services.
	if got := profileField(b.accountPage("/account"), "account_euid"); got != staff.EUID {
		t.Errorf("after the change the profile shows %q", got)
	}
	if cb := b.followToRP(b.get(r.authURL(newAuthParams(t)))); cb.Get("code") == "" {
		t.Errorf("this browser's SSO after the change: %v", cb)
	}

	// The other browser's session has ended: its next authorize shows the form.
	elsewhere.startLogin(r, newAuthParams(t)).form(t)
	// Its refresh token and access token are dead.
	status, body := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "refresh token issued before the change", status, body)
	if intro := r.introspect(t, tok.AccessToken); intro["active"] != false {
		t.Errorf("access token issued before the change: %v", intro)
	}

	// The new password signs in, the old one does not.
	if cb := idp.browser().followToRP(func() page {
		nb := idp.browser()
		return nb.submit(nb.startLogin(r, newAuthParams(t)).form(t), en, staff.Username, newPw)
	}()); cb.Get("code") == "" {
		t.Errorf("sign-in with the new password: %v", cb)
	}
	ob := idp.browser()
	old := ob.submit(ob.startLogin(r, newAuthParams(t)).form(t), en, staff.Username, staff.Password)
	wantNoRedirect(t, "sign-in with the old password", old, http.StatusUnauthorized)
	wantNoRedirect(t, "portal sign-in with the old password", idp.browser().accountSignIn(en, staff.Username, staff.Password), http.StatusUnauthorized)

	// admin01 is untouched.
	if cb := adminBrowser.followToRP(adminBrowser.get(r.authURL(newAuthParams(t)))); cb.Get("code") == "" {
		t.Errorf("admin01's SSO after staff01's change: %v", cb)
	}
	if status, body := r.refresh(t, adminTok.RefreshToken); status != http.StatusOK {
		t.Errorf("admin01's refresh token after staff01's change = %d %v", status, body)
	}

	wantAuditEvent(t, idp, "staff.password_change", staff.EUID)
	if n := countAudit(t, idp, "staff.password_change"); n != 1 {
		t.Errorf("%d password_change audit events, want 1", n)
	}
}

// TestAccountPortalUnderIssuerPath: with the issuer under a path, the portal
// lives under it too, and its links, forms and cookie follow.
func TestAccountPortalUnderIssuerPath(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"ISSUER_PATH": "/oidc"})
	staff := idp.login("staff01")
	b := idp.browser()
	b.wantSignedOut("before sign-in")
	p := b.accountSignIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	if c := p.Cookies(); len(c) == 0 || sessionCookieOf(p) == "" {
		t.Fatalf("no session cookie: %v", c)
	}
	for _, c := range p.Cookies() {
		if c.Name == "idp_session" && c.Path != "/oidc/" {
			t.Errorf("session cookie path %q, want /oidc/", c.Path)
		}
	}
	if loc := p.location(t); loc != idp.issuer+"/account" {
		t.Fatalf("sign-in goes to %s", loc)
	}
	prof := b.accountPage("/account")
	for _, want := range []string{`href="/oidc/account/password"`, `action="/oidc/account/logout"`, `href="/oidc/static/style.css"`} {
		mustContain(t, prof.Body, want)
	}
	const newPw = "ruins of saint paul at noon"
	if done := b.changePassword(staff.Password, newPw, newPw); done.StatusCode != http.StatusOK {
		t.Fatalf("password change = %d: %.300s", done.StatusCode, done.Body)
	}
	out := b.post(idp.portal("/account/logout"), url.Values{"csrf_token": {submatch(csrfField, b.accountPage("/account").Body)}})
	if loc := out.location(t); loc != idp.issuer+"/logged-out" {
		t.Errorf("sign-out goes to %s", loc)
	}
	b.wantSignedOut("after sign-out")
}
