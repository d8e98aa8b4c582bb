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
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
)

// The portal's 電子身份識別工具 pages, through HTTP on real stores: a staff
// login enrols its own 安全驗證碼 (active with a Macau resident ID card,
// pending the in-person check with any other document), the list and the
// profile show it, a session whose password is not fresh must type it
// again (on the sign-in's counters), and nobody else reaches the pages.

// ---- helpers ----

// toolsPOST submits a form of an identity-tool page, step and fields, with
// the CSRF token of the browser's session.
func (b *browser) toolsPOST(path, step string, form url.Values) page {
	b.t.Helper()
	f := url.Values{"csrf_token": {b.sessionCSRF()}, "step": {step}}
	for k, v := range form {
		f[k] = v
	}
	return b.post(b.idp.portal(path), f)
}

var secretShown = regexp.MustCompile(`<code id="totp_secret">([A-Z2-7 ]+)</code>`)

// beginTOTP presses 開始設定 and returns the page and the secret it shows
// (without the spaces that group it).
func (b *browser) beginTOTP() (page, string) {
	b.t.Helper()
	p := b.toolsPOST("/account/tools/totp", "begin", nil)
	if p.StatusCode != http.StatusOK {
		b.t.Fatalf("開始設定 = %d: %.800s", p.StatusCode, p.Body)
	}
	secret := strings.ReplaceAll(submatch(secretShown, p.Body), " ", "")
	if len(secret) < 16 {
		b.t.Fatalf("no secret on the enrolment page: %.2000s", p.Body)
	}
	return p, secret
}

// confirmTOTP sends a first code.
func (b *browser) confirmTOTP(code string) page {
	b.t.Helper()
	return b.toolsPOST("/account/tools/totp", "confirm", url.Values{"code": {code}})
}

// totpCode is the code of secret at.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: tools.Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wrongCode is a well-formed code that is none of the accepted steps'.
func wrongCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	taken := map[string]bool{}
	for d := -2; d <= 2; d++ {
		taken[totpCode(t, secret, now.Add(time.Duration(d)*tools.Period*time.Second))] = true
	}
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%06d", i); !taken[c] {
			return c
		}
	}
}

// sessionSecret is the browser's session cookie.
func (b *browser) sessionSecret() string {
	b.t.Helper()
	for _, c := range b.c.Jar.Cookies(mustURL(b.t, b.idp.issuer)) {
		if c.Name == "idp_session" {
			return c.Value
		}
	}
	b.t.Fatal("the browser has no session cookie")
	return ""
}

// ageSession moves the browser's session's password proof d into the past,
// as if the password had been typed d earlier.
func (b *browser) ageSession(d time.Duration) {
	b.t.Helper()
	_, err := b.idp.app.redis.ProveInSession(context.Background(), b.sessionSecret(), func(s *storage.Session) {
		s.AuthTime, s.PasswordAt = s.AuthTime.Add(-d), s.PasswordAt.Add(-d)
	})
	if err != nil {
		b.t.Fatal(err)
	}
}

// toolsOf is what the store holds for a seeded login.
func (idp *testIDP) toolsOf(t *testing.T, l seededLogin) []storage.IdentityTool {
	t.Helper()
	list, err := idp.app.pg.Tools(context.Background(), l.id(t, idp.app.pg))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// toolCell is the text of a cell (by class) of the tools list's row of id.
func toolCell(p page, id int64, class string) string {
	row := submatch(regexp.MustCompile(`(?s)<tr id="tool_`+fmt.Sprint(id)+`">(.*?)</tr>`), p.Body)
	return html.UnescapeString(submatch(regexp.MustCompile(`<td class="`+regexp.QuoteMeta(class)+`[^"]*"[^>]*>([^<]*)<`), row))
}

// signInAttempts is the sign-in failure counter of a login.
func (idp *testIDP) signInAttempts(t *testing.T, username string) int64 {
	t.Helper()
	n, _, err := idp.app.redis.Attempts(context.Background(), "login-fail:acct:"+idp.demo.EntityNumber+"\x00"+username)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// ---- the enrolment ----

// TestPortalToolsTOTPMacauID: staff01 (a Macau resident ID card) opens
// 電子身份識別工具 from the profile, begins 安全驗證碼, reads the QR code
// (inline SVG) and the secret from the page, is refused a wrong code with
// the message at the field, confirms with the right one and is active at
// once; the same first code again is refused; the list shows the tool with
// its times, the last use after a sign-in's code; the profile sums it up; a
// second enrolment is refused with the operator's reset explained. The
// secret is in no address and no log line. (Not parallel: it captures the
// process's log.)
func TestPortalToolsTOTPMacauID(t *testing.T) {
	logs := captureLogs(t)

	idp := startIDP(t, nil)
	ctx := context.Background()
	staff := idp.login("staff01")
	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)

	// The profile: the navigation entry and the summary with its link.
	prof := b.accountPage("/account")
	mustContain(t, prof.Body, `<a href="/account/tools">`+catalogueText(t, "tools_title")+`</a>`)
	mustContain(t, prof.Body, `<p id="tools_summary" class="prose">`+catalogueText(t, "tools_summary_none")+` <a href="/account/tools">`)

	list := b.accountPage("/account/tools")
	mustContain(t, list.Body, `<a href="/account/tools" aria-current="page">`)
	mustContain(t, list.Body, catalogueText(t, "tools_none"))
	mustContain(t, list.Body, `href="/account/tools/totp"`)
	if strings.Contains(list.Body, "/account/tools/passkeys") {
		t.Error("the list links to the passkey pages, which are off")
	}

	start := b.accountPage("/account/tools/totp")
	mustContain(t, start.Body, `<input type="hidden" name="step" value="begin">`)
	if strings.Contains(start.Body, `name="password"`) {
		t.Error("a session just signed in is asked for its password again")
	}

	// 開始設定 without the session's token: nothing is made.
	if p := b.post(idp.portal("/account/tools/totp"), url.Values{"step": {"begin"}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("開始設定 without a CSRF token = %d, want 403", p.StatusCode)
	}
	if n := len(idp.toolsOf(t, staff)); n != 0 {
		t.Fatalf("a refused form made %d tools", n)
	}

	enrol, secret := b.beginTOTP()
	for _, bad := range []string{"<img", "data:", "<script", "<iframe", "<object"} {
		if strings.Contains(enrol.Body, bad) {
			t.Errorf("the enrolment page carries %s", bad)
		}
	}
	if !regexp.MustCompile(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 (\d+) (\d+)" role="img" aria-labelledby="qr_title"[^>]*><title id="qr_title">[^<]+</title><rect [^>]*/><path fill="#000" d="(M\d+ \d+h\d+v1h-\d+z)+"/></svg>`).MatchString(enrol.Body) {
		t.Errorf("no inline SVG QR code: %.3000s", enrol.Body)
	}
	if csp := enrol.Header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the enrolment page's CSP = %q", csp)
	}
	if cc := enrol.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the enrolment page may be stored: Cache-Control %q", cc)
	}
	if enrol.Header.Get("Location") != "" || strings.Contains(enrol.Request.URL.String(), secret) {
		t.Error("the secret is in an address")
	}
	for _, want := range []string{`autocomplete="one-time-code"`, `inputmode="numeric"`, `<label for="code">`} {
		mustContain(t, enrol.Body, want)
	}
	tl := idp.toolsOf(t, staff)
	if len(tl) != 1 || tl[0].Kind != storage.ToolTOTP || tl[0].State != storage.ToolUnconfirmed {
		t.Fatalf("after 開始設定 the store holds %+v", tl)
	}
	if got := toolCell(b.accountPage("/account/tools"), tl[0].ID, "state"); got != catalogue(t, "tools_state_unconfirmed") {
		t.Errorf("the list shows an unconfirmed tool as %q", got)
	}

	// A wrong code: 400, the message tied to the field, which is focused.
	now := time.Now()
	wrong := b.confirmTOTP(wrongCode(t, secret, now))
	if wrong.StatusCode != http.StatusBadRequest {
		t.Fatalf("a wrong code = %d: %.500s", wrong.StatusCode, wrong.Body)
	}
	mustContain(t, wrong.Body, `<p id="code_error" class="field-error" role="alert">`+catalogueText(t, "tool_error_code")+`</p>`)
	if !regexp.MustCompile(`<input id="code" [^>]*aria-describedby="code_help code_error" aria-invalid="true" autofocus>`).MatchString(wrong.Body) {
		t.Errorf("the code's field is not marked and focused: %s", submatch(regexp.MustCompile(`(<input id="code"[^>]*>)`), wrong.Body))
	}
	if strings.Contains(wrong.Body, secret[:8]) {
		t.Error("the page after a wrong code shows the secret again")
	}
	malformed := b.confirmTOTP("12ab56")
	if malformed.StatusCode != http.StatusBadRequest {
		t.Errorf("a malformed code = %d", malformed.StatusCode)
	}
	mustContain(t, malformed.Body, catalogueText(t, "tool_error_code_format"))

	// The right code, typed with a space: active at once.
	code := totpCode(t, secret, now)
	done := b.confirmTOTP(code[:3] + " " + code[3:])
	if loc := done.location(t); loc != idp.issuer+"/account/tools/totp?done=confirmed" {
		t.Fatalf("after the first code: %s", loc)
	}
	active := b.get(done.location(t))
	mustContain(t, active.Body, `<p class="notice" id="totp_state" role="status">`+catalogueText(t, "totp_active")+`</p>`)
	mustContain(t, active.Body, catalogueText(t, "totp_reset_by_operator"))

	// The same first code again is refused: it confirms nothing twice.
	replay := b.confirmTOTP(code)
	if replay.StatusCode != http.StatusConflict {
		t.Errorf("the first code replayed = %d, want 409", replay.StatusCode)
	}
	mustContain(t, replay.Body, `<p class="error" role="alert">`+catalogueText(t, "tool_error_state")+`</p>`)

	// The list: kind, name, state, added; used at a sign-in's second factor,
	// its last use.
	tl = idp.toolsOf(t, staff)
	if len(tl) != 1 || tl[0].State != storage.ToolActive || tl[0].LastUsedAt != nil {
		t.Fatalf("after the first code the store holds %+v", tl)
	}
	id := tl[0].ID
	list = b.accountPage("/account/tools")
	for class, want := range map[string]string{
		"kind": catalogue(t, "tools_kind_totp"), "name": catalogue(t, "tools_totp_name"), "state": catalogue(t, "tools_state_active"),
		"when added": tl[0].CreatedAt.In(macauZone).Format("2006-01-02 15:04"), "when last-used": "—",
	} {
		if got := toolCell(list, id, class); got != want {
			t.Errorf("the list's %s = %q, want %q", class, got, want)
		}
	}
	svc := idp.app.tools
	if err := svc.VerifyTOTP(ctx, staff.id(t, idp.app.pg), totpCode(t, secret, now.Add(tools.Period*time.Second))); err != nil {
		t.Fatalf("a sign-in's code: %v", err)
	}
	tl = idp.toolsOf(t, staff)
	if tl[0].LastUsedAt == nil {
		t.Fatal("the sign-in's code left no last use")
	}
	if got, want := toolCell(b.accountPage("/account/tools"), id, "when last-used"), tl[0].LastUsedAt.In(macauZone).Format("2006-01-02 15:04"); got != want {
		t.Errorf("the list's last use = %q, want %q", got, want)
	}
	mustContain(t, b.accountPage("/account").Body, html.EscapeString(fmt.Sprintf(catalogue(t, "tools_summary_totp"), catalogue(t, "tools_state_active"))))

	// A second enrolment: the page explains, and 開始設定 is refused.
	again := b.accountPage("/account/tools/totp")
	if strings.Contains(again.Body, `value="begin"`) {
		t.Error("an active 安全驗證碼 is offered 開始設定")
	}
	second := b.toolsPOST("/account/tools/totp", "begin", nil)
	if second.StatusCode != http.StatusConflict {
		t.Errorf("a second 開始設定 = %d, want 409", second.StatusCode)
	}
	mustContain(t, second.Body, catalogueText(t, "tool_error_enrolled"))
	if n := len(idp.toolsOf(t, staff)); n != 1 {
		t.Errorf("a refused second enrolment left %d tools", n)
	}

	// The audit trail names the login as its own actor.
	events, err := idp.app.pg.EntityAuditEvents(ctx, idp.demoEntity(t).ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		if strings.HasPrefix(ev.Action, "tool.") {
			got = append(got, ev.ActorID+" "+ev.Action+" "+ev.Target)
		}
	}
	if want := staff.EUID + " tool.confirm " + staff.EUID + "," + staff.EUID + " tool.enrol " + staff.EUID; strings.Join(got, ",") != want {
		t.Errorf("audit %q, want %q", got, want)
	}

	text := logs.String()
	if !strings.Contains(text, "enrolment begun") {
		t.Fatalf("the log was not captured: %.500s", text)
	}
	for _, s := range []string{secret, secret[:16], groupedSecret(secret)} {
		if strings.Contains(text, s) {
			t.Errorf("the log carries the secret: %s", s)
		}
	}
}

// groupedSecret is the secret as the page groups it.
func groupedSecret(s string) string {
	var parts []string
	for len(s) > 4 {
		parts, s = append(parts, s[:4]), s[4:]
	}
	return strings.Join(append(parts, s), " ")
}

// macauZone is the pages' time zone.
var macauZone = time.FixedZone("UTC+8", 8*3600)

// TestPortalToolsTOTPPending: a login registered with a passport confirms
// its 安全驗證碼 and it stays pending; the page explains, in the page's
// language, the visit in person with the same document and the entity
// number; the list and the profile say so.
func TestPortalToolsTOTPPending(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff := idp.login("staff02")
	if _, err := idp.app.pg.Pool().Exec(context.Background(), `UPDATE staff_logins SET id_doc_type = 'passport' WHERE euid = $1`, staff.EUID); err != nil {
		t.Fatal(err)
	}
	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	_, secret := b.beginTOTP()
	done := b.confirmTOTP(totpCode(t, secret, time.Now()))
	pending := b.get(done.location(t))
	mustContain(t, pending.Body, `<p class="notice-warn" id="totp_state" role="status">`+catalogueText(t, "totp_pending")+`</p>`)
	for _, key := range []string{"totp_visit_heading", "totp_visit_document", "totp_visit_entity", "toolsqr_visit_qr", "toolsqr_intro", "totp_reset_by_operator"} {
		mustContain(t, pending.Body, catalogueText(t, key))
	}
	mustContain(t, pending.Body, `<strong class="nowrap">`+idp.demo.EntityNumber+"</strong>")
	tl := idp.toolsOf(t, staff)
	if len(tl) != 1 || tl[0].State != storage.ToolPending {
		t.Fatalf("after the first code of a passport login the store holds %+v", tl)
	}
	if got := toolCell(b.accountPage("/account/tools"), tl[0].ID, "state"); got != catalogue(t, "tools_state_pending") {
		t.Errorf("the list's state = %q", got)
	}
	mustContain(t, b.accountPage("/account").Body, html.EscapeString(fmt.Sprintf(catalogue(t, "tools_summary_totp"), catalogue(t, "tools_state_pending"))))

	// In Portuguese and in English, the same explanation in that language.
	for _, lang := range []string{"pt", "en"} {
		p := b.accountPage("/account/tools/totp?lang=" + lang)
		m := messages(t, lang)
		for _, key := range []string{"totp_pending", "totp_visit_document", "totp_visit_entity"} {
			mustContain(t, p.Body, html.EscapeString(m[key]))
		}
	}
}

// ---- a fresh sign-in ----

// TestPortalToolsReauth: with IDP_TOOLS_REAUTH=2m, a session whose password
// was typed a minute ago may enrol; three minutes ago, the page asks for
// the password again instead, and a POST is refused with nothing done. A
// wrong password counts on the sign-in's counter; the right one resets it,
// moves the session's auth_time to now and goes back to the page, where
// 開始設定 works.
func TestPortalToolsReauth(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_TOOLS_REAUTH": "2m", "IDP_LOGIN_FAILURES_PER_ACCOUNT": "3"})
	ctx := context.Background()
	staff := idp.login("staff01")
	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)

	b.ageSession(time.Minute)
	mustContain(t, b.accountPage("/account/tools/totp").Body, `value="begin"`)

	b.ageSession(2 * time.Minute)
	stale := b.accountPage("/account/tools/totp")
	if strings.Contains(stale.Body, `value="begin"`) {
		t.Error("a session three minutes old is offered 開始設定")
	}
	mustContain(t, stale.Body, `<input type="hidden" name="step" value="reauth">`)
	if !regexp.MustCompile(`<input id="reauth_password" name="password" type="password" autocomplete="current-password" required autofocus`).MatchString(stale.Body) {
		t.Errorf("no password field: %.2000s", stale.Body)
	}
	if n := strings.Count(stale.Body, `type="password"`); n != 1 {
		t.Errorf("the re-entry form has %d password fields, want one", n)
	}

	refused := b.toolsPOST("/account/tools/totp", "begin", nil)
	if refused.StatusCode != http.StatusForbidden {
		t.Errorf("開始設定 in a stale session = %d, want 403", refused.StatusCode)
	}
	mustContain(t, refused.Body, catalogueText(t, "tools_reauth_needed"))
	if n := len(idp.toolsOf(t, staff)); n != 0 {
		t.Fatalf("a stale session enrolled %d tools", n)
	}

	// A wrong password: the sign-in's counter takes it.
	if n := idp.signInAttempts(t, staff.Username); n != 0 {
		t.Fatalf("sign-in counter before = %d", n)
	}
	wrong := b.toolsPOST("/account/tools/totp", "reauth", url.Values{"password": {"not the password"}})
	if wrong.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong password = %d, want 401", wrong.StatusCode)
	}
	mustContain(t, wrong.Body, `<p id="reauth_error" class="field-error" role="alert">`+catalogueText(t, "tools_reauth_wrong")+`</p>`)
	mustContain(t, wrong.Body, `aria-describedby="reauth_help reauth_error" aria-invalid="true"`)
	if n := idp.signInAttempts(t, staff.Username); n != 1 {
		t.Errorf("sign-in counter after a wrong password = %d, want 1", n)
	}
	before, err := idp.app.redis.Session(ctx, b.sessionSecret(), 0)
	if err != nil {
		t.Fatal(err)
	}

	// The right one: back to the page, fresh.
	right := b.toolsPOST("/account/tools/totp", "reauth", url.Values{"password": {staff.Password}})
	if loc := right.location(t); loc != idp.issuer+"/account/tools/totp?done=reauth" {
		t.Fatalf("after the password: %s", loc)
	}
	if n := idp.signInAttempts(t, staff.Username); n != 0 {
		t.Errorf("sign-in counter after the right password = %d, want 0", n)
	}
	after, err := idp.app.redis.Session(ctx, b.sessionSecret(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if since := time.Since(after.AuthTime); since < 0 || since > time.Minute || !after.AuthTime.After(before.AuthTime) {
		t.Errorf("auth_time %s → %s, want now", before.AuthTime, after.AuthTime)
	}
	if after.SessionID != before.SessionID || after.Subject != before.Subject {
		t.Error("the password typed again changed the session's sid or subject")
	}
	back := b.get(right.location(t))
	mustContain(t, back.Body, `<p class="notice" role="status">`+catalogueText(t, "tools_reauth_done")+`</p>`)
	mustContain(t, back.Body, `value="begin"`)
	b.beginTOTP()

	// Passwords guessed here are sign-in failures: past the account's limit
	// the form is throttled, and so is the portal's sign-in of the login.
	b.ageSession(3 * time.Minute)
	for i := range 3 {
		if p := b.toolsPOST("/account/tools/totp", "reauth", url.Values{"password": {"guess " + fmt.Sprint(i)}}); p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d = %d", i+1, p.StatusCode)
		}
	}
	throttled := b.toolsPOST("/account/tools/totp", "reauth", url.Values{"password": {staff.Password}})
	if throttled.StatusCode != http.StatusTooManyRequests || throttled.Header.Get("Retry-After") == "" {
		t.Errorf("the password after 3 wrong ones = %d (Retry-After %q), want 429", throttled.StatusCode, throttled.Header.Get("Retry-After"))
	}
	mustContain(t, throttled.Body, `<p id="reauth_error" class="field-error" role="alert">`)
	if p := idp.browser().accountSignIn(idp.demo.EntityNumber, staff.Username, staff.Password); p.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the portal's sign-in after the wrong passwords = %d, want 429", p.StatusCode)
	}
}

// TestPortalToolsTOTPThrottled: the use case throttles first codes; past
// its limit even the right code is refused, with the message on the page.
func TestPortalToolsTOTPThrottled(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff := idp.login("staff01")
	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	_, secret := b.beginTOTP()
	now := time.Now()
	wrong := wrongCode(t, secret, now)
	for i := range 5 {
		if p := b.confirmTOTP(wrong); p.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code %d = %d", i+1, p.StatusCode)
		}
	}
	p := b.confirmTOTP(totpCode(t, secret, now))
	if p.StatusCode != http.StatusConflict {
		t.Errorf("the right code after 5 wrong ones = %d, want 409", p.StatusCode)
	}
	mustContain(t, p.Body, `<p class="error" role="alert">`+catalogueText(t, "tool_error_throttled")+`</p>`)
	mustContain(t, p.Body, `<input id="code" name="code"`)
	if tl := idp.toolsOf(t, staff); len(tl) != 1 || tl[0].State != storage.ToolUnconfirmed {
		t.Errorf("a throttled code confirmed: %+v", tl)
	}
}

// ---- who reaches the pages ----

// TestPortalToolsRefused: a browser not signed in goes to the portal's
// sign-in; the entity account gets the 403 of staff-only pages and no
// navigation entry; a form without this session's token is refused; an
// admin's pages act on its own login alone (no page takes a login from the
// request); the passkey pages, off here, answer 404.
func TestPortalToolsRefused(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin, staff := idp.login("admin01"), idp.login("staff01")
	paths := []string{"/account/tools", "/account/tools/totp", "/account/tools/passkeys"}

	out := idp.browser()
	for _, path := range paths {
		if p := out.get(idp.portal(path)); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != idp.portal("/account/login") {
			t.Errorf("GET %s signed out = %d (Location %q)", path, p.StatusCode, p.Header.Get("Location"))
		}
	}
	for _, path := range paths[1:] {
		if p := out.post(idp.portal(path), url.Values{"step": {"begin"}}); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != idp.portal("/account/login") {
			t.Errorf("POST %s signed out = %d (Location %q)", path, p.StatusCode, p.Header.Get("Location"))
		}
	}

	acct := idp.demo.EntityAccount
	ea := idp.browser()
	ea.accountSignedIn(idp.demo.EntityNumber, acct["username"], acct["password"])
	prof := ea.accountPage("/account")
	if strings.Contains(prof.Body, "/account/tools") || strings.Contains(prof.Body, "tools_summary") {
		t.Error("the entity account's profile offers identity tools")
	}
	for _, path := range paths {
		p := ea.get(idp.portal(path))
		if p.StatusCode != http.StatusForbidden {
			t.Errorf("the entity account GET %s = %d, want 403", path, p.StatusCode)
		}
		mustContain(t, p.Body, catalogueText(t, "nav_forbidden"))
	}
	if p := ea.toolsPOST("/account/tools/totp", "begin", nil); p.StatusCode != http.StatusForbidden {
		t.Errorf("the entity account's 開始設定 = %d, want 403", p.StatusCode)
	}

	// The admin: its own tool, whatever the form names.
	a := idp.browser()
	a.accountSignedIn(idp.demo.EntityNumber, admin.Username, admin.Password)
	other := idp.browser()
	other.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
	forged := a.post(idp.portal("/account/tools/totp"), url.Values{"csrf_token": {other.sessionCSRF()}, "step": {"begin"}})
	if forged.StatusCode != http.StatusForbidden {
		t.Errorf("開始設定 with another session's token = %d, want 403", forged.StatusCode)
	}
	mustContain(t, forged.Body, catalogueText(t, "account_error_csrf"))
	_, secret := a.beginTOTP()
	p := a.toolsPOST("/account/tools/totp", "confirm", url.Values{
		"code": {totpCode(t, secret, time.Now())}, "euid": {staff.EUID}, "login": {staff.EUID},
	})
	a.get(p.location(t))
	if tl := idp.toolsOf(t, admin); len(tl) != 1 || tl[0].State != storage.ToolActive {
		t.Errorf("the admin's tools: %+v", tl)
	}
	if tl := idp.toolsOf(t, staff); len(tl) != 0 {
		t.Errorf("the admin's pages gave staff01 tools: %+v", tl)
	}
	if strings.Contains(other.accountPage("/account/tools").Body, `<tr id="tool_`) {
		t.Error("staff01's list shows the admin's tool")
	}

	// The passkey pages are off: 404, without the page falling over.
	for _, p := range []page{
		a.get(idp.portal("/account/tools/passkeys")),
		a.toolsPOST("/account/tools/passkeys", "add", url.Values{"name": {"x"}, "credential": {"{}"}}),
		a.toolsPOST("/account/tools/passkeys", "off", url.Values{"confirm": {"yes"}}),
	} {
		if p.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s with no passkey use cases = %d, want 404", p.Request.Method, p.Request.URL.Path, p.StatusCode)
		}
		mustContain(t, p.Body, catalogueText(t, "passkeys_unavailable"))
	}
}

// passkeySession gives the browser a session of l as a sign-in with a
// passkey alone opens it (the higher level, no password typed), as the
// portal's 以通行密鑰登入 does.
func (b *browser) passkeySession(l seededLogin) {
	b.t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	amr := []string{storage.AMRHardwareKey, storage.AMRUser, storage.AMRMulti}
	sess := &storage.Session{
		Kind: storage.KindStaff,
		Authentication: storage.Authentication{Subject: l.EUID, LoginID: l.id(b.t, b.idp.app.pg), EntityNumber: b.idp.demo.EntityNumber,
			AuthTime: now, AMR: amr, ACR: storage.LevelOfAMR(amr).ACR()},
		ToolAt: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour),
	}
	secret, err := b.idp.app.redis.CreateSession(context.Background(), sess, time.Hour)
	if err != nil {
		b.t.Fatal(err)
	}
	b.c.Jar.SetCookies(mustURL(b.t, b.idp.issuer), []*http.Cookie{{Name: "idp_session", Value: secret, Path: "/"}})
}

// TestPortalToolsPasskeySessionReauth: a session opened with a passkey
// alone, however new, has not had the password typed: the tool pages ask
// for it before 開始設定, 移除 or 關閉, refuse those POSTs (403, nothing
// changed), and take them once the password is typed on the page. A
// session opened with the password a moment ago goes straight on.
func TestPortalToolsPasskeySessionReauth(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"ISSUER_HOST": "localhost"})
	ctx := t.Context()
	staff := idp.login("staff01")
	sl, err := idp.app.pg.StaffLoginByEUID(ctx, staff.EUID)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := idp.app.pg.AddPasskey(ctx, idp.actorOf(t, staff), sl, storage.Passkey{
		IdentityTool: storage.IdentityTool{Name: "phone"}, CredentialID: []byte("credential-1"), PublicKey: []byte{0xa5},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := idp.browser()
	b.passkeySession(staff)
	if p := b.accountPage("/account"); !strings.Contains(p.Body, staff.EUID) {
		t.Fatalf("the passkey session is not signed in: %.300s", p.Body)
	}

	totpPage := b.accountPage("/account/tools/totp")
	if strings.Contains(totpPage.Body, `value="begin"`) {
		t.Error("a passkey-only session is offered 開始設定")
	}
	mustContain(t, totpPage.Body, `<input type="hidden" name="step" value="reauth">`)
	passkeysPage := b.accountPage("/account/tools/passkeys")
	mustContain(t, passkeysPage.Body, `<input type="hidden" name="step" value="reauth">`)
	if strings.Contains(passkeysPage.Body, `value="remove"`) || strings.Contains(passkeysPage.Body, `data-passkey="create"`) {
		t.Error("a passkey-only session is offered 新增 or 移除")
	}

	if p := b.toolsPOST("/account/tools/totp", "begin", nil); p.StatusCode != http.StatusForbidden {
		t.Errorf("開始設定 in a passkey-only session = %d, want 403", p.StatusCode)
	}
	if p := b.toolsPOST("/account/tools/passkeys", "remove", url.Values{"tool": {fmt.Sprint(pk.ID)}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("移除 in a passkey-only session = %d, want 403", p.StatusCode)
	}
	if p := b.toolsPOST("/account/tools/passkeys", "off", url.Values{"confirm": {"yes"}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("關閉 in a passkey-only session = %d, want 403", p.StatusCode)
	}
	if tl := idp.toolsOf(t, staff); len(tl) != 1 || tl[0].ID != pk.ID {
		t.Fatalf("a passkey-only session changed the tools: %+v", tl)
	}

	// The password typed on the page: now the changes are taken.
	right := b.toolsPOST("/account/tools/passkeys", "reauth", url.Values{"password": {staff.Password}})
	if loc := right.location(t); loc != idp.issuer+"/account/tools/passkeys?done=reauth" {
		t.Fatalf("after the password: %s", loc)
	}
	if p := b.toolsPOST("/account/tools/passkeys", "remove", url.Values{"tool": {fmt.Sprint(pk.ID)}}); p.StatusCode != http.StatusSeeOther {
		t.Errorf("移除 after the password = %d: %.500s", p.StatusCode, p.Body)
	}
	if tl := idp.toolsOf(t, staff); len(tl) != 0 {
		t.Errorf("after 移除 the login holds %+v", tl)
	}
	b.beginTOTP()

	// A session opened with the password, a moment ago, goes straight on.
	other := idp.browser()
	admin := idp.login("admin01")
	other.accountSignedIn(idp.demo.EntityNumber, admin.Username, admin.Password)
	other.beginTOTP()
}
