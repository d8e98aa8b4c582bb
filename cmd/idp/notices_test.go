package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/entity-account/idp/login/notify"
)

// People are told of the changes to their accounts: through the pages and
// the operator's commands, the running node's outbox worker delivers one
// notice per person told, in their language, naming the entity and the
// login, with no code and no link. (The use cases' own tests, in
// login/manage, go through every change and refusal.)

// demoAccountMobile is the demo entity account's registered mobile.
const demoAccountMobile = "+85366000021"

var noticeCodeOrLink = regexp.MustCompile(`(?i)https?:|://|/account|/activate|[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}`)

// toldOf checks the n-th message delivered to to: in lang, saying words,
// naming the demo entity and username, without code or link.
func (w *actIDP) toldOf(t *testing.T, to string, n int, lang, words, username string) notify.Message {
	t.Helper()
	m := w.message(t, to, n)
	if m.Language != lang || !strings.Contains(m.Text, words) || !strings.Contains(m.Text, demoEntityNumber) || !strings.Contains(m.Text, username) {
		t.Errorf("message to %s: %+v; want %s, %q, %s and %s", to, m, lang, words, demoEntityNumber, username)
	}
	if noticeCodeOrLink.MatchString(m.Text) {
		t.Errorf("the notice to %s carries a code or a link: %q", to, m.Text)
	}
	return m
}

// noticesTo counts the notices (no activation code) to recipient.
func (w *actIDP) noticesTo(t *testing.T, recipient string) int {
	t.Helper()
	var n int
	if err := w.app.pg.Pool().QueryRow(t.Context(),
		`SELECT count(*) FROM outbox WHERE recipient = $1 AND activation_code_id IS NULL`, recipient).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// recordedNotice is the outbox id the newest audit event action of target
// records under key (notice, account_notice).
func (w *actIDP) recordedNotice(t *testing.T, action, target, key string) string {
	t.Helper()
	var id *int64
	if err := w.app.pg.Pool().QueryRow(t.Context(), `
		SELECT (details->$3->>'outbox_id')::bigint FROM audit_events
		WHERE action = $1 AND target = $2 ORDER BY id DESC LIMIT 1`, action, target, key).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if id == nil {
		t.Errorf("%s of %s records no %s", action, target, key)
		return ""
	}
	return fmt.Sprint(*id)
}

// TestPortalChangesAreTold: admin01 deletes staff02 at 關聯狀態; staff02 is
// told, at its mobile, in Chinese, and the deletion's audit event records
// the notice; deleting it again is refused and tells nobody. The entity
// account removes admin01's rights (the last admin's, confirmed): admin01
// and the entity account are each told once, at their mobiles.
func TestPortalChangesAreTold(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	staff02, admin01 := w.login("staff02"), w.login("admin01")
	staffMobile, adminMobile := w.staffRow(t, staff02).Mobile, w.staffRow(t, admin01).Mobile

	admin := w.loginBrowser("admin01")
	p := admin.staffPOST("/account/staff/"+staff02.EUID+"/status", url.Values{"status": {"deleted"}, "confirm": {"yes"}})
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("deletion = %d: %.500s", p.StatusCode, p.Body)
	}
	m := w.toldOf(t, staffMobile, 1, "zh-Hant", "已於", "staff02")
	if !strings.Contains(m.Text, "被刪除") {
		t.Errorf("the deletion's notice: %q", m.Text)
	}
	if id := w.recordedNotice(t, "staff.delete", staff02.EUID, "notice"); id != m.ID {
		t.Errorf("staff.delete records notice %s, the delivered one is %s", id, m.ID)
	}
	if again := admin.staffPOST("/account/staff/"+staff02.EUID+"/status", url.Values{"status": {"deleted"}, "confirm": {"yes"}}); again.StatusCode != http.StatusConflict {
		t.Errorf("deleting again = %d", again.StatusCode)
	}
	if n := w.noticesTo(t, staffMobile); n != 1 {
		t.Errorf("%d notices to staff02, want 1", n)
	}

	owner := w.entityAccountBrowser()
	ask := owner.submitRights("/account/admins", url.Values{"remove": {admin01.EUID}})
	if ask.StatusCode != http.StatusConflict || w.noticesTo(t, adminMobile)+w.noticesTo(t, demoAccountMobile) != 0 {
		t.Fatalf("the unconfirmed removal = %d, or it told someone", ask.StatusCode)
	}
	done := owner.post(w.portal("/account/admins"), url.Values{
		"csrf_token": {submatch(csrfField, ask.Body)}, "remove": {admin01.EUID}, "confirm_last": {"yes"},
	})
	if done.StatusCode != http.StatusOK {
		t.Fatalf("confirmed removal = %d: %.500s", done.StatusCode, done.Body)
	}
	holder := w.toldOf(t, adminMobile, 1, "zh-Hant", "管理員權限", "admin01")
	account := w.toldOf(t, demoAccountMobile, 1, "zh-Hant", "實體使用者帳戶", "admin01")
	if w.recordedNotice(t, "staff.admin_remove", admin01.EUID, "notice") != holder.ID ||
		w.recordedNotice(t, "staff.admin_remove", admin01.EUID, "account_notice") != account.ID {
		t.Error("staff.admin_remove does not record the notices delivered")
	}
	if w.noticesTo(t, adminMobile) != 1 || w.noticesTo(t, demoAccountMobile) != 1 {
		t.Errorf("notices: %d to admin01, %d to the entity account; want 1 each", w.noticesTo(t, adminMobile), w.noticesTo(t, demoAccountMobile))
	}
}

// TestOperatorGrantTold: `idp admin grant` gives staff01 admin rights:
// staff01 and the entity account are told (the command writes the notices;
// the node's outbox worker delivers them). Granting again is refused and
// tells nobody.
func TestOperatorGrantTold(t *testing.T) {
	w := startActivationIDP(t, nil)
	w.runsCommands(t)
	staff01 := w.login("staff01")
	staffMobile := w.staffRow(t, staff01).Mobile

	if err := adminGrant([]string{"--entity", demoEntityNumber, "--euid", staff01.EUID}); err != nil {
		t.Fatal(err)
	}
	holder := w.toldOf(t, staffMobile, 1, "zh-Hant", "行政公職局設定管理員權限", "staff01")
	account := w.toldOf(t, demoAccountMobile, 1, "zh-Hant", "實體使用者帳戶", "staff01")
	if w.recordedNotice(t, "staff.admin_grant", staff01.EUID, "notice") != holder.ID ||
		w.recordedNotice(t, "staff.admin_grant", staff01.EUID, "account_notice") != account.ID {
		t.Error("staff.admin_grant does not record the notices delivered")
	}
	if err := adminGrant([]string{"--entity", demoEntityNumber, "--euid", staff01.EUID}); err == nil {
		t.Error("granting again was accepted")
	}
	if w.noticesTo(t, staffMobile) != 1 || w.noticesTo(t, demoAccountMobile) != 1 {
		t.Errorf("notices: %d to staff01, %d to the entity account; want 1 each", w.noticesTo(t, staffMobile), w.noticesTo(t, demoAccountMobile))
	}
}
