package main

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
)

// Account recovery through HTTP as a browser uses it (忘記密碼,
// 忘記用戶名稱, 已收到重設碼, the admin's 重設密碼 and the operator's
// command), with the outbox worker delivering to a recorder.

// The demo staff logins' registration (cmd/idp/demo.go).
const (
	demoBirthDate    = "1985-01-01"
	staff02Doc       = "1000003(3)"
	staff02Mobile    = "+85366000300"
	staff02Email     = "staff02@company19.example.mo"
	staff01Mobile    = "+85366000200"
	entity01Mobile   = "+85366000021"
	demoApplicationN = "A2026-000021"
	newStaffPassword = "pearl river evening tide 42"
)

// ---- helpers ----

// forgot posts the 忘記密碼 (what "password") or 忘記用戶名稱 ("username")
// form with fields.
func (b *browser) forgot(what string, fields url.Values) page {
	b.t.Helper()
	path := b.idp.issuerPath() + "/activate/forgot-" + what
	form := b.get(path + "?kind=" + fields.Get("kind"))
	if form.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s = %d", path, form.StatusCode)
	}
	fields.Set("csrf_token", submatch(csrfField, form.Body))
	return b.post(path, fields)
}

// staffFacts are the 忘記密碼 facts of a demo staff login.
func staffFacts(entity, username, doc, birth string) url.Values {
	return url.Values{"kind": {"staff"}, "entity_number": {entity}, "username": {username}, "id_doc_number": {doc}, "birth_date": {birth}}
}

// resetStep1 posts 已收到重設碼: entity number, username and code.
func (b *browser) resetStep1(entity, username, code string) page {
	b.t.Helper()
	form := b.get(b.idp.issuerPath() + "/activate/reset")
	return b.post(b.idp.issuerPath()+"/activate/reset", url.Values{
		"csrf_token": {submatch(csrfField, form.Body)}, "entity_number": {entity}, "username": {username}, "code": {code},
	})
}

// resetStep2 posts the new password (and the tool's code, "" for none) on step1's page.
func (b *browser) resetStep2(step1 page, pw, again, toolCode string) page {
	b.t.Helper()
	if step1.StatusCode != http.StatusOK || step1.fieldValue("ticket") == "" {
		b.t.Fatalf("want the new-password form, got %d: %.600s", step1.StatusCode, step1.Body)
	}
	f := url.Values{"csrf_token": {submatch(csrfField, step1.Body)}, "ticket": {step1.fieldValue("ticket")},
		"new_password": {pw}, "new_password2": {again}}
	if toolCode != "" {
		f.Set("code", toolCode)
	}
	return b.post(b.idp.issuerPath()+"/activate/reset/complete", f)
}

// resetCodeMessage waits for the n-th reset-code message to to.
func (w *actIDP) resetCodeMessage(t *testing.T, to string, n int) notify.Message {
	t.Helper()
	return w.messageWhere(t, n, func(m notify.Message) bool { return m.To == to && codeInText.MatchString(m.Text) })
}

// messageWhere waits for the n-th delivered message that match accepts.
func (w *actIDP) messageWhere(t *testing.T, n int, match func(notify.Message) bool) notify.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	m, err := w.rec.Wait(ctx, n, match)
	if err != nil {
		t.Fatalf("no message #%d of those wanted (got %d messages in all): %v", n, len(w.rec.Messages()), err)
	}
	return m
}

func countRows(t *testing.T, w *actIDP, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := w.app.pg.Pool().QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// ---- 忘記密碼 ----

// TestForgotPassword: the code goes only to the registered mobile, with
// the entity number and the page's link; wrong facts, an unknown username
// or entity get the same answer and send nothing; the code sets a new
// password once, keeping the EUID; a used, superseded or expired code is
// refused; an activation code is no reset code.
func TestForgotPassword(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	entity := w.demo.EntityNumber
	staff02 := w.login("staff02")

	matched := w.browser().forgot("password", staffFacts(entity, "staff02", staff02Doc, demoBirthDate))
	if matched.StatusCode != http.StatusOK {
		t.Fatalf("forgot password = %d %.400s", matched.StatusCode, matched.Body)
	}
	mustContain(t, matched.Body, catalogueText(t, "recover_password_done"))
	sms := w.resetCodeMessage(t, staff02Mobile, 1)
	if !strings.Contains(sms.Text, entity) || !strings.Contains(sms.Text, w.issuer+"/activate/reset") {
		t.Errorf("the reset SMS names no entity number or link: %q", sms.Text)
	}
	// The request notice goes to the other registered address, without the code.
	notice := w.messageWhere(t, 1, func(m notify.Message) bool { return m.To == staff02Email })
	if codeInText.MatchString(notice.Text) || strings.Contains(notice.Text, "http") {
		t.Errorf("the request notice carries a code or a link: %q", notice.Text)
	}
	if strings.Contains(matched.Body, codeIn(t, sms)) {
		t.Fatal("the code is on the screen")
	}

	for name, f := range map[string]url.Values{
		"wrong birth date":  staffFacts(entity, "staff02", staff02Doc, "1985-01-02"),
		"wrong document":    staffFacts(entity, "staff02", "1000004(4)", demoBirthDate),
		"unknown username":  staffFacts(entity, "nobody", staff02Doc, demoBirthDate),
		"another's facts":   staffFacts(entity, "staff01", staff02Doc, demoBirthDate),
		"unknown entity":    staffFacts("09-000000", "staff02", staff02Doc, demoBirthDate),
		"malformed entity":  staffFacts("not a number", "staff02", staff02Doc, demoBirthDate),
		"entity, wrong app": {"kind": {"entity_account"}, "entity_number": {entity}, "username": {"entity01"}, "application_number": {"A-WRONG"}},
	} {
		p := w.browser().forgot("password", f)
		if p.StatusCode != matched.StatusCode || p.Body != matched.Body {
			t.Errorf("%s: answer differs from a match: %d %.300s", name, p.StatusCode, p.Body)
		}
	}
	time.Sleep(300 * time.Millisecond) // let the worker deliver anything wrongly issued
	if n := countRows(t, w, `SELECT count(*) FROM activation_codes WHERE purpose = 'reset'`); n != 1 {
		t.Errorf("%d reset codes after one matching request and six others, want 1", n)
	}

	// An activation code of the account's (it has none: it is activated) is
	// not a reset code, and a reset code does not activate: the activation
	// page does not know it.
	code := codeIn(t, sms)
	if p := w.browser().activateStep1(storage.KindStaff, entity, staff02Doc, code); p.StatusCode == http.StatusOK && p.fieldValue("ticket") != "" {
		t.Error("a reset code passed the activation page")
	}

	// Wrong code: refused, the form kept.
	b := w.browser()
	p := b.resetStep1(entity, "staff02", "ABCDE-FGHJK")
	wantActError(t, "wrong code", p, http.StatusUnauthorized, "reset_error_mismatch")
	// A new password that breaks the policy costs no try; the right one works.
	step1 := b.resetStep1(entity, "staff02", strings.ToLower(code))
	p = b.resetStep2(step1, "staff02 password", "staff02 password", "")
	wantActError(t, "password with the username", p, http.StatusBadRequest, "pw_contains_identity")
	p = b.resetStep2(step1, newStaffPassword, newStaffPassword, "")
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, catalogueText(t, "recover_reset_done")) {
		t.Fatalf("reset = %d %.500s", p.StatusCode, p.Body)
	}
	// The new password signs in; the old does not; the EUID is the same.
	if p := w.browser().accountSignIn(entity, "staff02", staff02.Password); p.StatusCode == http.StatusSeeOther {
		t.Error("the old password still signs in")
	}
	nb := w.browser()
	nb.accountSignedIn(entity, "staff02", newStaffPassword)
	if got := profileField(nb.accountPage("/account"), "account_euid"); got != staff02.EUID {
		t.Errorf("EUID after the reset %q, want %q", got, staff02.EUID)
	}
	// Audited and told.
	if countAuditAction(t, w, "staff.password_reset", staff02.EUID) != 1 || countAuditAction(t, w, "password_reset.issue", staff02.EUID) != 1 {
		t.Error("the reset is not audited")
	}
	told := w.messageWhere(t, 1, func(m notify.Message) bool {
		return m.To == staff02Mobile && !codeInText.MatchString(m.Text) && strings.Contains(m.Text, "staff02")
	})
	if strings.Contains(told.Text, "http") {
		t.Errorf("the reset notice carries a link: %q", told.Text)
	}

	// Used: refused.
	p = w.browser().resetStep1(entity, "staff02", code)
	wantActError(t, "used code", p, http.StatusGone, "reset_error_code_gone")

	// Superseded: a second request voids the first code.
	w.browser().forgot("password", staffFacts(entity, "staff02", staff02Doc, demoBirthDate))
	second := codeIn(t, w.resetCodeMessage(t, staff02Mobile, 2))
	w.browser().forgot("password", staffFacts(entity, "staff02", staff02Doc, demoBirthDate))
	third := codeIn(t, w.resetCodeMessage(t, staff02Mobile, 3))
	p = w.browser().resetStep1(entity, "staff02", second)
	wantActError(t, "superseded code", p, http.StatusGone, "reset_error_code_gone")

	// Expired: past its life, refused even typed right.
	if _, err := w.app.pg.Pool().Exec(context.Background(), `UPDATE activation_codes SET created_at = now() - interval '1 hour',
		expires_at = now() - interval '1 second' WHERE purpose = 'reset' AND used_at IS NULL AND voided_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	p = w.browser().resetStep1(entity, "staff02", third)
	wantActError(t, "expired code", p, http.StatusGone, "reset_error_code_gone")
}

// TestForgotPasswordEntityAccount: the entity account by 實體編號, 用戶名稱
// and 申請編號, under an issuer with a path (the SMS's link keeps it); a
// password reset clears the sign-in lockout.
func TestForgotPasswordEntityAccount(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_ACCOUNT": "2", "ISSUER_PATH": "/oidc"})
	entity := w.demo.EntityNumber
	// Lock the account out with wrong passwords.
	for range 3 {
		w.browser().accountSignIn(entity, "entity01", "wrong password here")
	}
	w.browser().forgot("password", url.Values{"kind": {"entity_account"}, "entity_number": {entity}, "username": {"ENTITY01"},
		"application_number": {strings.ToLower(demoApplicationN)}})
	sms := w.resetCodeMessage(t, entity01Mobile, 1)
	if link := urlInText.FindString(sms.Text); !strings.HasPrefix(link, w.issuer+"/activate/reset?") {
		t.Errorf("the SMS's link %q is not under the issuer %s", link, w.issuer)
	}
	b := w.browser()
	if p := b.resetStep2(b.resetStep1(entity, "entity01", codeIn(t, sms)), newStaffPassword, newStaffPassword, ""); p.StatusCode != http.StatusOK {
		t.Fatalf("reset = %d %.400s", p.StatusCode, p.Body)
	}
	w.browser().accountSignedIn(entity, "entity01", newStaffPassword) // the lockout is gone
}

// TestForgotPasswordWithTOTP: a login with an active 安全驗證碼 gives it too;
// a wrong code is refused and the password stays.
func TestForgotPasswordWithTOTP(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	entity := w.demo.EntityNumber
	staff02 := w.login("staff02")
	secret := w.enrolTOTP(t, staff02)
	w.browser().forgot("password", staffFacts(entity, "staff02", staff02Doc, demoBirthDate))
	code := codeIn(t, w.resetCodeMessage(t, staff02Mobile, 1))
	b := w.browser()
	step1 := b.resetStep1(entity, "staff02", code)
	if !strings.Contains(step1.Body, `name="code"`) {
		t.Fatalf("the new-password page does not ask for the 安全驗證碼: %.600s", step1.Body)
	}
	p := b.resetStep2(step1, newStaffPassword, newStaffPassword, "")
	wantActError(t, "no tool code", p, http.StatusBadRequest, "reset_error_tool_missing")
	wrong := totpCode(t, secret, time.Now().Add(-10*time.Minute))
	p = b.resetStep2(step1, newStaffPassword, newStaffPassword, wrong)
	wantActError(t, "wrong tool code", p, http.StatusBadRequest, "tool_error_code")
	if p := w.browser().accountSignIn(entity, "staff02", newStaffPassword); p.StatusCode == http.StatusSeeOther {
		t.Fatal("the password changed without the tool")
	}
	p = b.resetStep2(step1, newStaffPassword, newStaffPassword, totpCode(t, secret, time.Now()))
	if p.StatusCode != http.StatusOK {
		t.Fatalf("reset with the tool = %d %.400s", p.StatusCode, p.Body)
	}
	if tl := w.toolsOf(t, staff02); len(tl) != 1 || tl[0].State != storage.ToolActive {
		t.Errorf("the tools after the reset: %+v, want the TOTP kept active", tl)
	}
}

// TestForgotPasswordLimits: 30 requests at once for one set of facts get
// the per-facts limit through; then 30 for other facts from the same
// address get what is left of the per-address limit.
func TestForgotPasswordLimits(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, map[string]string{"IDP_RESEND_LIMIT": "3", "IDP_RESEND_LIMIT_PER_IP": "10"})
	entity := w.demo.EntityNumber
	burst := func(facts func(i int) url.Values) (ok, refused int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 30 {
			wg.Go(func() {
				p := w.browser().forgot("password", facts(i))
				mu.Lock()
				defer mu.Unlock()
				switch p.StatusCode {
				case http.StatusOK:
					ok++
				case http.StatusTooManyRequests:
					refused++
				default:
					t.Errorf("request %d: %d", i, p.StatusCode)
				}
			})
		}
		wg.Wait()
		return ok, refused
	}
	ok, refused := burst(func(int) url.Values { return staffFacts(entity, "staff02", staff02Doc, demoBirthDate) })
	if ok != 3 || refused != 27 {
		t.Errorf("one set of facts, 30 at once: %d answered, %d refused; want 3 and 27", ok, refused)
	}
	if n := countAuditAction(t, w, "password_reset.issue", w.login("staff02").EUID); n != 3 {
		t.Errorf("%d reset codes issued, want 3", n)
	}
	ok, refused = burst(func(i int) url.Values {
		return staffFacts(entity, "staff02", staff02Doc, time.Date(1970, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
	})
	if ok != 7 || refused != 23 {
		t.Errorf("other facts from the same address: %d answered, %d refused; want 7 and 23", ok, refused)
	}
}

// ---- 忘記用戶名稱 ----

// TestForgotUsername: the username and entity number go by SMS to the
// registered mobile; unknown facts get the same answer and nothing.
func TestForgotUsername(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	entity := w.demo.EntityNumber
	f := url.Values{"kind": {"staff"}, "entity_number": {entity}, "id_doc_number": {"1000003 3"}, "birth_date": {"1985/1/1"}}
	matched := w.browser().forgot("username", f)
	mustContain(t, matched.Body, catalogueText(t, "recover_username_done"))
	sms := w.messageWhere(t, 1, func(m notify.Message) bool { return m.To == staff02Mobile })
	if !strings.Contains(sms.Text, "staff02") || !strings.Contains(sms.Text, entity) {
		t.Errorf("the username SMS lacks the username or the entity number: %q", sms.Text)
	}
	if strings.Contains(matched.Body, "staff02") {
		t.Error("the username is on the screen")
	}
	for name, f := range map[string]url.Values{
		"wrong birth date": {"kind": {"staff"}, "entity_number": {entity}, "id_doc_number": {staff02Doc}, "birth_date": {"1985-01-02"}},
		"unknown document": {"kind": {"staff"}, "entity_number": {entity}, "id_doc_number": {"9999999(9)"}, "birth_date": {demoBirthDate}},
		"unknown entity":   {"kind": {"staff"}, "entity_number": {"09-000000"}, "id_doc_number": {staff02Doc}, "birth_date": {demoBirthDate}},
	} {
		p := w.browser().forgot("username", f)
		if p.StatusCode != matched.StatusCode || p.Body != matched.Body {
			t.Errorf("%s: answer differs from a match: %d %.300s", name, p.StatusCode, p.Body)
		}
	}
	// The entity account by its application number.
	w.browser().forgot("username", url.Values{"kind": {"entity_account"}, "entity_number": {entity}, "application_number": {demoApplicationN}})
	if m := w.messageWhere(t, 1, func(m notify.Message) bool { return m.To == entity01Mobile }); !strings.Contains(m.Text, "entity01") {
		t.Errorf("the entity account's username SMS: %q", m.Text)
	}
	time.Sleep(300 * time.Millisecond)
	if n := countRows(t, w, `SELECT count(*) FROM audit_events WHERE action = 'username.remind'`); n != 2 {
		t.Errorf("%d usernames sent, want 2", n)
	}
}

// ---- 重設密碼 by an admin, and by the operator ----

// TestAdminResetPassword: an admin's 重設密碼 sends a reset code to the
// login's registered mobile (the page never shows it); a plain staff
// login and a service admin are refused; another entity's login is not
// found and nothing is written; the operator's command does the same.
func TestAdminResetPassword(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	entity := w.demo.EntityNumber
	admin, staff01, staff02 := w.login("admin01"), w.login("staff01"), w.login("staff02")
	b := w.browser()
	b.accountSignedIn(entity, admin.Username, admin.Password)
	detail := b.accountPage("/account/staff/" + staff02.EUID)
	mustContain(t, detail.Body, catalogueText(t, "staff_reset_submit"))
	resetURL := w.portal("/account/staff/" + staff02.EUID + "/reset-password")
	p := b.post(resetURL, url.Values{"csrf_token": {submatch(csrfField, detail.Body)}})
	if loc := p.location(t); !strings.HasSuffix(loc, "?done=reset-sms") {
		t.Fatalf("reset went to %s", loc)
	}
	done := b.get(p.location(t))
	mustContain(t, done.Body, catalogueText(t, "staff_done_reset_sms"))
	sms := w.resetCodeMessage(t, staff02Mobile, 1)
	code := codeIn(t, sms)
	if strings.Contains(done.Body, code) {
		t.Fatal("the admin sees the code")
	}
	if !strings.Contains(sms.Text, "管理員") || !strings.Contains(sms.Text, w.demo.EntityNumber) {
		t.Errorf("the SMS of an admin's reset does not say the admin asked, or names no entity: %q", sms.Text)
	}
	if countAuditAction(t, w, "password_reset.issue", staff02.EUID) != 1 {
		t.Error("the admin's reset is not audited")
	}
	// The holder sets the password with the code.
	hb := w.browser()
	if p := hb.resetStep2(hb.resetStep1(entity, "staff02", code), newStaffPassword, newStaffPassword, ""); p.StatusCode != http.StatusOK {
		t.Fatalf("reset by the holder = %d", p.StatusCode)
	}

	// Another entity's login: 404, nothing written.
	other := w.newEntity(t, standardEntity("03-000777"))
	w.message(t, standardEntity("03-000777").Admins[0].Mobile, 1)
	codes := countRows(t, w, `SELECT count(*) FROM activation_codes`)
	events := countRows(t, w, `SELECT count(*) FROM audit_events`)
	p = b.post(w.portal("/account/staff/"+other.Admins[0].EUID+"/reset-password"), url.Values{"csrf_token": {submatch(csrfField, detail.Body)}})
	if p.StatusCode != http.StatusNotFound {
		t.Errorf("another entity's login: %d, want 404", p.StatusCode)
	}
	if countRows(t, w, `SELECT count(*) FROM activation_codes`) != codes || countRows(t, w, `SELECT count(*) FROM audit_events`) != events {
		t.Error("something was written for another entity's login")
	}

	// A plain staff login and a service admin: refused.
	sb := w.browser()
	sb.accountSignedIn(entity, staff01.Username, staff01.Password)
	prof := sb.accountPage("/account")
	p = sb.post(w.portal("/account/staff/"+staff02.EUID+"/reset-password"), url.Values{"csrf_token": {submatch(csrfField, prof.Body)}})
	if p.StatusCode != http.StatusForbidden {
		t.Errorf("a plain staff login: %d, want 403", p.StatusCode)
	}
	e, _ := w.app.pg.EntityByNumber(context.Background(), entity)
	if _, err := w.app.pg.SetServiceAdmin(context.Background(), operator(), e.ID, staff01.EUID, true, nil); err != nil {
		t.Fatal(err)
	}
	p = sb.post(w.portal("/account/staff/"+staff02.EUID+"/reset-password"), url.Values{"csrf_token": {submatch(csrfField, prof.Body)}})
	if p.StatusCode != http.StatusForbidden {
		t.Errorf("a service admin: %d, want 403", p.StatusCode)
	}
	if countAuditAction(t, w, "password_reset.issue", staff02.EUID) != 1 {
		t.Error("a refused reset wrote a code")
	}

}

// TestOperatorPasswordReset: `idp password reset` sends the reset code of
// a staff login (by username or EUID) or of the entity account to its
// registered mobile, through the same use case; an unknown login is refused.
func TestOperatorPasswordReset(t *testing.T) {
	w := startActivationIDP(t, nil)
	entity := w.demo.EntityNumber
	w.runsCommands(t)
	if err := run([]string{"password", "reset", "--entity", entity, "--username", "staff01"}); err != nil {
		t.Fatalf("password reset --username: %v", err)
	}
	w.resetCodeMessage(t, staff01Mobile, 1)
	if err := run([]string{"password", "reset", "--entity", entity, "--euid", w.login("staff02").EUID}); err != nil {
		t.Fatalf("password reset --euid: %v", err)
	}
	w.resetCodeMessage(t, staff02Mobile, 1)
	if err := run([]string{"password", "reset", "--entity", entity, "--entity-account"}); err != nil {
		t.Fatalf("password reset --entity-account: %v", err)
	}
	code := codeIn(t, w.resetCodeMessage(t, entity01Mobile, 1))
	b := w.browser()
	if p := b.resetStep2(b.resetStep1(entity, "entity01", code), newStaffPassword, newStaffPassword, ""); p.StatusCode != http.StatusOK {
		t.Fatalf("the entity account's reset = %d", p.StatusCode)
	}
	for _, args := range [][]string{
		{"--entity", entity, "--euid", "CU999999999"},
		{"--entity", "09-000000", "--username", "staff01"},
		{"--entity", entity, "--username", "staff01", "--entity-account"},
	} {
		if err := run(append([]string{"password", "reset"}, args...)); err == nil {
			t.Errorf("password reset %v succeeded", args)
		}
	}
	if n := countRows(t, w, `SELECT count(*) FROM audit_events WHERE action = 'password_reset.issue' AND actor_kind = 'operator'`); n != 3 {
		t.Errorf("%d resets by the operator audited, want 3", n)
	}
}

// TestChangePasswordTellsHolder: 變更密碼 writes the notice "password
// changed" in its transaction, with no code and no link.
func TestChangePasswordTellsHolder(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	staff02 := w.login("staff02")
	b := w.browser()
	b.accountSignedIn(w.demo.EntityNumber, "staff02", staff02.Password)
	if p := b.changePassword(staff02.Password, newStaffPassword, newStaffPassword); p.StatusCode != http.StatusOK {
		t.Fatalf("password change = %d", p.StatusCode)
	}
	m := w.messageWhere(t, 1, func(m notify.Message) bool { return m.To == staff02Mobile })
	if !strings.Contains(m.Text, "staff02") || codeInText.MatchString(m.Text) || strings.Contains(m.Text, "http") {
		t.Errorf("password-changed notice: %q", m.Text)
	}
}

// TestForgotAnswersInEqualTime: whether the facts matched a login (a code
// or a username is sent) or not (an unknown username, a wrong birth date)
// cannot be told by how long the answer takes. Every answer is padded to
// the pages' minimum (300 ms), well above the work of either branch, so
// the medians of the two differ by less than the machine's noise.
func TestForgotAnswersInEqualTime(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, map[string]string{"IDP_RESEND_LIMIT": "1000", "IDP_RESEND_LIMIT_PER_IP": "100000"})
	entity := w.demo.EntityNumber
	const pad, rounds = 300 * time.Millisecond, 7
	for _, what := range []string{"password", "username"} {
		matched, unmatched := staffFacts(entity, "staff02", staff02Doc, demoBirthDate), staffFacts(entity, "nobody", staff02Doc, demoBirthDate)
		if what == "username" {
			matched.Del("username")
			unmatched = staffFacts(entity, "", staff02Doc, "1985-01-02")
			unmatched.Del("username")
		}
		var took [2][]time.Duration
		for i := range 2 * rounds {
			f := []url.Values{matched, unmatched}[i%2]
			b := w.browser()
			start := time.Now()
			p := b.forgot(what, f)
			d := time.Since(start)
			if p.StatusCode != http.StatusOK {
				t.Fatalf("forgot %s = %d", what, p.StatusCode)
			}
			if d < pad {
				t.Errorf("forgot %s answered in %v, under the %v pad", what, d, pad)
			}
			took[i%2] = append(took[i%2], d)
		}
		m, u := median(took[0]), median(took[1])
		if diff := (m - u).Abs(); diff > 100*time.Millisecond {
			t.Errorf("forgot %s: median %v when matched, %v when not: %v apart", what, m, u, diff)
		}
		t.Logf("forgot %s: median %v when matched, %v when not", what, m, u)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
