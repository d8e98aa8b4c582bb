package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// A staff login's identity document decides how its identity tools are
// enrolled (self-confirmed with a Macau resident ID, checked in person
// otherwise) and whether it may hold passkeys. These tests hold that an
// admin's change of the document type or number voids the tools (pending
// ones included), tells the holder in its language through the outbox,
// audits it and ends the login's sessions; that other edits, and the
// operator's change, keep them.

// editFormOf is the 編輯 form of sl as the page fills it in, with changes.
func editFormOf(sl storage.StaffLogin, changes map[string]string) url.Values {
	f := url.Values{
		"name_zh": {sl.NameZH}, "name_foreign": {sl.NameForeign}, "id_doc_type": {sl.IDDocType},
		"id_doc_number": {sl.IDDocNumber}, "id_doc_issue_place": {sl.IDDocIssuePlace},
		"birth_date": {sl.BirthDate.Format(time.DateOnly)}, "mobile": {sl.Mobile}, "email": {sl.Email},
		"language": {sl.Language},
	}
	for k, v := range changes {
		f.Set(k, v)
	}
	return f
}

// registrationOf is the same form as the use case takes it.
func registrationOf(sl storage.StaffLogin, changes map[string]string) storage.StaffRegistration {
	f := editFormOf(sl, changes)
	return storage.StaffRegistration{NameZH: f.Get("name_zh"), NameForeign: f.Get("name_foreign"),
		IDDocType: f.Get("id_doc_type"), IDDocNumber: f.Get("id_doc_number"), IDDocIssuePlace: f.Get("id_doc_issue_place"),
		BirthDate: f.Get("birth_date"), Mobile: f.Get("mobile"), Email: f.Get("email"), Language: f.Get("language")}
}

// staffRow is what the store holds of a seeded login now.
func (idp *testIDP) staffRow(t *testing.T, l seededLogin) storage.StaffLogin {
	t.Helper()
	sl, err := idp.app.pg.StaffLoginByEUID(t.Context(), l.EUID)
	if err != nil {
		t.Fatal(err)
	}
	return sl
}

// sessionsOf is the number of live sessions of a login.
func (idp *testIDP) sessionsOf(t *testing.T, l seededLogin) int {
	t.Helper()
	sids, err := idp.app.redis.SubjectSessions(t.Context(), l.EUID)
	if err != nil {
		t.Fatal(err)
	}
	return len(sids)
}

// totpState enrols a 安全驗證碼 for l through the use cases and returns
// its state (active with a Macau resident ID, pending otherwise).
func (idp *testIDP) totpState(t *testing.T, l seededLogin) storage.ToolState {
	t.Helper()
	idp.enrolTOTP(t, l)
	tl := idp.toolsOf(t, l)
	if len(tl) != 1 {
		t.Fatalf("after an enrolment the login holds %+v", tl)
	}
	return tl[0].State
}

// toolVoids is the demo entity's tool.void events of l, newest first.
func (idp *testIDP) toolVoids(t *testing.T, l seededLogin) []storage.AuditEvent {
	t.Helper()
	events, err := idp.app.pg.EntityAuditEvents(t.Context(), idp.demoEntity(t).ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []storage.AuditEvent
	for _, ev := range events {
		if ev.Action == "tool.void" && ev.Target == l.EUID {
			out = append(out, ev)
		}
	}
	return out
}

// outboxTo counts the outbox rows (delivered or not) to recipient.
func (idp *testIDP) outboxTo(t *testing.T, recipient string) int {
	t.Helper()
	var n int
	if err := idp.app.pg.Pool().QueryRow(t.Context(), `SELECT count(*) FROM outbox WHERE recipient = $1`, recipient).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEditDocumentVoidsTools: staff02, registered with a passport and
// writing in Portuguese, has a 安全驗證碼 waiting for the operator's
// in-person check and two sessions. Its admin changes the document to a
// Macau resident ID at the 編輯 form: the pending tool is gone (the
// operator can no longer approve it), the change is audited (tool.void with
// the notice's outbox id, in staff.update too), the holder is told in
// Portuguese, and both sessions have ended, so the passkeys its new
// document allows need a new sign-in with the password. The admin's own
// session lives on.
func TestEditDocumentVoidsTools(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, map[string]string{"ISSUER_HOST": "localhost"})
	ctx := t.Context()
	staff := w.login("staff02")
	if _, err := w.app.pg.Pool().Exec(ctx, `UPDATE staff_logins SET id_doc_type = 'passport', id_doc_number = 'K1234567', language = 'pt' WHERE euid = $1`, staff.EUID); err != nil {
		t.Fatal(err)
	}
	if st := w.totpState(t, staff); st != storage.ToolPending {
		t.Fatalf("a passport login's 安全驗證碼 is %s, want pending", st)
	}
	holder := w.loginBrowser("staff02")
	w.loginBrowser("staff02") // a second browser
	if n := w.sessionsOf(t, staff); n != 2 {
		t.Fatalf("staff02 has %d sessions, want 2", n)
	}
	// Passport: no passkey may be added.
	if _, _, err := w.app.tools.BeginPasskey(ctx, w.actorOf(t, staff), staff.EUID); storage.CodeOf(err) != storage.EForbidden {
		t.Fatalf("a passport login begins a passkey: %v", err)
	}
	before := w.staffRow(t, staff)

	admin := w.loginBrowser("admin01")
	form := editFormOf(before, map[string]string{"id_doc_type": storage.IDMacauPermanent, "id_doc_number": "5555555(5)"})
	if p := admin.staffPOST("/account/staff/"+staff.EUID+"/edit", form); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit = %d: %.500s", p.StatusCode, p.Body)
	}

	if tl := w.toolsOf(t, staff); len(tl) != 0 {
		t.Errorf("after the document changed the login holds %+v", tl)
	}
	if _, err := w.app.tools.ApproveTOTP(ctx, operator(), demoEntityNumber, staff.EUID, "123456"); storage.CodeOf(err) != storage.EConflict {
		t.Errorf("the operator approves the voided enrolment: %v", err)
	}
	voids := w.toolVoids(t, staff)
	if len(voids) != 1 || voids[0].ActorKind != "staff" {
		t.Fatalf("tool.void events %+v, want one by the admin", voids)
	}
	var details struct {
		Removed int    `json:"removed"`
		Reason  string `json:"reason"`
		Notice  struct {
			OutboxID int64 `json:"outbox_id"`
		} `json:"notice"`
	}
	raw, _ := json.Marshal(voids[0].Details)
	if err := json.Unmarshal(raw, &details); err != nil || details.Removed != 1 || details.Reason != "document_changed" || details.Notice.OutboxID == 0 {
		t.Errorf("tool.void details %s (%v)", raw, err)
	}
	var recipient string
	if err := w.app.pg.Pool().QueryRow(ctx, `SELECT recipient FROM outbox WHERE id = $1`, details.Notice.OutboxID).Scan(&recipient); err != nil || recipient != before.Mobile {
		t.Errorf("the notice's outbox row: %q, %v; want to %s", recipient, err, before.Mobile)
	}
	told := w.message(t, before.Mobile, 2) // after the notice of the enrolment
	if !strings.Contains(told.Text, "documento de identificação") || !strings.Contains(told.Text, staff.Username) || told.Language != "pt" {
		t.Errorf("the holder was told %+v, want the Portuguese notice", told)
	}

	if n := w.sessionsOf(t, staff); n != 0 {
		t.Errorf("staff02 keeps %d sessions after its document changed", n)
	}
	if p := holder.get(w.portal("/account/tools/passkeys")); p.StatusCode != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "/account/login") {
		t.Errorf("the old session on the passkeys page: %d → %q", p.StatusCode, p.Header.Get("Location"))
	}
	if p := admin.accountPage("/account/staff/" + staff.EUID); !strings.Contains(p.Body, "5555555(5)") && !strings.Contains(p.Body, "555****(5)") {
		t.Errorf("the admin's session after the edit: %.300s", p.Body)
	}
	// The route of the new document: a new sign-in with the password, after
	// which passkeys may be added.
	again := w.loginBrowser("staff02")
	page := again.accountPage("/account/tools/passkeys")
	if !strings.Contains(page.Body, `data-passkey="create"`) {
		t.Errorf("after signing in again with a Macau resident ID, no passkey form: %.1500s", page.Body)
	}
}

// TestEditDocumentNumberOnly: staff01 (a Macau resident ID) holds an
// active 安全驗證碼 and a passkey. A new name or mobile keeps them and its
// session; a new number of the same type voids them both.
func TestEditDocumentNumberOnly(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	ctx := t.Context()
	staff := w.login("staff01")
	if st := w.totpState(t, staff); st != storage.ToolActive {
		t.Fatalf("a Macau login's 安全驗證碼 is %s, want active", st)
	}
	sl := w.staffRow(t, staff)
	if _, err := w.app.pg.AddPasskey(ctx, w.actorOf(t, staff), sl, storage.Passkey{
		IdentityTool: storage.IdentityTool{Name: "phone"}, CredentialID: []byte("credential-1"), PublicKey: []byte{0xa5},
	}, nil); err != nil {
		t.Fatal(err)
	}
	w.loginBrowser("staff01")
	admin := w.actorOf(t, w.login("admin01"))
	e := w.demoEntity(t)
	oldMobile := sl.Mobile
	noticesBefore := w.outboxTo(t, oldMobile)

	for _, change := range []map[string]string{
		{"name_zh": "李大明"},
		{"mobile": "66998877"},
		{"id_doc_number": " " + sl.IDDocNumber[:7] + sl.IDDocNumber[8:9] + " "}, // the same number typed without brackets
	} {
		cur := w.staffRow(t, staff)
		if _, err := w.app.manage.EditStaff(ctx, admin, e.ID, staff.EUID, registrationOf(cur, change), time.Now()); err != nil {
			t.Fatalf("edit %v: %v", change, err)
		}
		if n := len(w.toolsOf(t, staff)); n != 2 {
			t.Errorf("after an edit of %v the login holds %d tools, want 2", change, n)
		}
		if n := w.sessionsOf(t, staff); n != 1 {
			t.Errorf("after an edit of %v the login has %d sessions, want 1", change, n)
		}
	}
	if v := w.toolVoids(t, staff); len(v) != 0 || w.outboxTo(t, oldMobile) != noticesBefore {
		t.Fatalf("edits of other fields voided tools (%d events) or told the holder", len(v))
	}

	cur := w.staffRow(t, staff)
	if _, err := w.app.manage.EditStaff(ctx, admin, e.ID, staff.EUID, registrationOf(cur, map[string]string{"id_doc_number": "7654321(0)"}), time.Now()); err != nil {
		t.Fatal(err)
	}
	if tl := w.toolsOf(t, staff); len(tl) != 0 {
		t.Errorf("after a new document number the login holds %+v", tl)
	}
	if n := w.sessionsOf(t, staff); n != 0 {
		t.Errorf("after a new document number the login has %d sessions", n)
	}
	if v := w.toolVoids(t, staff); len(v) != 1 {
		t.Errorf("tool.void events: %d, want 1", len(v))
	}
	// Told at the mobile it has now (changed above, by an edit that voided nothing).
	if m := w.message(t, "+85366998877", 1); !strings.Contains(m.Text, "身份證明文件") {
		t.Errorf("the notice: %+v", m)
	}
}

// TestEditDocumentByOperator: the operator changes a document after seeing
// the person with it: the tools and sessions stay, nothing is voided.
// Without the notices configured, an admin's document change is refused
// and nothing is written.
func TestEditDocumentByOperator(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	ctx := t.Context()
	staff := w.login("staff01")
	w.enrolTOTP(t, staff)
	w.loginBrowser("staff01")
	e := w.demoEntity(t)

	cur := w.staffRow(t, staff)
	if _, err := w.app.manage.EditStaff(ctx, operator(), e.ID, staff.EUID, registrationOf(cur, map[string]string{"id_doc_type": storage.IDPassport, "id_doc_number": "K7654321"}), time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := w.staffRow(t, staff); got.IDDocType != storage.IDPassport {
		t.Fatalf("the operator's edit was not stored: %+v", got)
	}
	if n := len(w.toolsOf(t, staff)); n != 1 {
		t.Errorf("after the operator's change the login holds %d tools, want 1", n)
	}
	if n := w.sessionsOf(t, staff); n != 1 {
		t.Errorf("after the operator's change the login has %d sessions, want 1", n)
	}
	if v := w.toolVoids(t, staff); len(v) != 0 {
		t.Errorf("the operator's change voided tools: %+v", v)
	}

	// Use cases without the notices: the admin's change is refused whole.
	bare := manage.New(w.app.pg, w.app.redis)
	cur = w.staffRow(t, staff)
	admin := w.actorOf(t, w.login("admin01"))
	if _, err := bare.EditStaff(ctx, admin, e.ID, staff.EUID, registrationOf(cur, map[string]string{"id_doc_number": "K1111111"}), time.Now()); err == nil {
		t.Fatal("a document change without notices was accepted")
	}
	if got := w.staffRow(t, staff); got.IDDocNumber != "K7654321" || len(w.toolsOf(t, staff)) != 1 {
		t.Errorf("a refused change wrote: %s, %d tools", got.IDDocNumber, len(w.toolsOf(t, staff)))
	}
}

// TestEditDocumentNoticeToOldContact: an admin changes staff02's document
// and mobile in one edit. staff02 held no tool, and is told all the same
// (its document changed), at the mobile it had: the one its holder knew.
func TestEditDocumentNoticeToOldContact(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	ctx := t.Context()
	staff := w.login("staff02")
	cur := w.staffRow(t, staff)
	admin := w.actorOf(t, w.login("admin01"))
	change := map[string]string{"id_doc_number": "8765432(1)", "mobile": "66554433"}
	if _, err := w.app.manage.EditStaff(ctx, admin, w.demoEntity(t).ID, staff.EUID, registrationOf(cur, change), time.Now()); err != nil {
		t.Fatal(err)
	}
	if m := w.message(t, cur.Mobile, 1); !strings.Contains(m.Text, "身份證明文件") || m.Language != "zh-Hant" {
		t.Errorf("the notice to the old mobile: %+v", m)
	}
	if n := w.outboxTo(t, "+85366554433"); n != 0 {
		t.Errorf("%d messages to the new mobile, want none", n)
	}
	if v := w.toolVoids(t, staff); len(v) != 1 || v[0].Details["removed"] != float64(0) {
		t.Errorf("tool.void events %+v, want one removing none", v)
	}
}
