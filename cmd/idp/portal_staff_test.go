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

	"github.com/entity-account/idp/storage"
)

// The staff administration pages of the portal:
// 工作人員登入號列表, 新增工作人員登入號及關聯至實體, a login's page with its
// activation and the code buttons, 編輯 → 更改, and 關聯狀態, through HTTP
// on real stores, as an entity's admin uses them; and that nobody else
// reaches them.

// ---- helpers ----

// staffPOST submits a form of a staff page with the CSRF token of the
// browser's session (any signed-in portal page carries it).
func (b *browser) staffPOST(path string, form url.Values) page {
	b.t.Helper()
	f := url.Values{"csrf_token": {b.sessionCSRF()}}
	for k, v := range form {
		f[k] = v
	}
	return b.post(b.idp.portal(path), f)
}

// sessionCSRF is the form token of the browser's portal session.
func (b *browser) sessionCSRF() string {
	b.t.Helper()
	tok := submatch(csrfField, b.accountPage("/account").Body)
	if tok == "" {
		b.t.Fatal("no CSRF token on the profile page")
	}
	return tok
}

// registration is a good registration form.
func registration(nameZH, doc, mobile string) url.Values {
	return url.Values{
		"name_zh": {nameZH}, "name_foreign": {"CHAN, Tai Man"}, "id_doc_type": {storage.IDMacauPermanent},
		"id_doc_number": {doc}, "id_doc_issue_place": {"澳門"}, "birth_date": {"1991-03-04"},
		"mobile": {mobile}, "email": {""}, "language": {"zh-Hant"}, "channel": {"sms"},
	}
}

// ddText is the text of the element with id on a page.
func ddText(p page, id string) string {
	return html.UnescapeString(submatch(regexp.MustCompile(`id="`+regexp.QuoteMeta(id)+`">([^<]*)<`), p.Body))
}

var staffRowLine = regexp.MustCompile(`<tr id="row_(CU[0-9]+)">`)

// listed is the EUIDs on a list page.
func listed(p page) []string {
	var out []string
	for _, m := range staffRowLine.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// createdEUID is the EUID a successful creation redirects to.
func createdEUID(t *testing.T, p page) string {
	t.Helper()
	loc := p.location(t)
	m := regexp.MustCompile(`/account/staff/(CU[0-9]{9})\?done=created-sms$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("creation goes to %s", loc)
	}
	return m[1]
}

// auditRows counts every audit event and staff login: what a refused
// request must leave as it was.
func (idp *testIDP) auditRows(t *testing.T) string {
	t.Helper()
	var events, logins, codes int
	err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM audit_events),
		(SELECT count(*) FROM staff_logins), (SELECT count(*) FROM activation_codes)`).Scan(&events, &logins, &codes)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("audit=%d logins=%d codes=%d", events, logins, codes)
}

// ---- the journey ----

// TestPortalStaffJourney: an admin lists, searches and pages the staff,
// registers a login (a bad form first), the code reaches the registered
// mobile, the login's page shows its activation; the admin edits it (a new
// mobile voids the code), sends codes up to the limit, the person activates
// and signs in, and the page shows it activated.
func TestPortalStaffJourney(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	w.app.manage.CodesPerLogin = 2 // before any request
	ctx := context.Background()
	e := w.demoEntity(t)
	admin, staff := w.login("admin01"), w.login("staff01")
	b := w.browser()
	b.accountSignedIn(w.demo.EntityNumber, admin.Username, admin.Password)

	// The list: every login, personal numbers masked.
	list := b.accountPage("/account/staff")
	mustContain(t, list.Body, catalogueText(t, "staff_list_title"))
	for _, col := range []string{"staff_col_name", "account_name_zh", "staff_col_name_pt", "account_id_doc_number", "staff_col_phone", "staff_col_code", "staff_col_activated", "staff_col_status"} {
		mustContain(t, list.Body, "<th scope=\"col\">"+catalogueText(t, col)+"</th>")
	}
	sl01, err := w.app.pg.StaffLoginByEUID(ctx, staff.EUID)
	if err != nil {
		t.Fatal(err)
	}
	if got := listed(list); len(got) != 3 {
		t.Errorf("the demo list shows %v, want the three demo logins", got)
	}
	mustContain(t, list.Body, html.EscapeString(storage.MaskDocNumber(sl01.IDDocNumber)))
	if strings.Contains(list.Body, html.EscapeString(sl01.IDDocNumber)) || (sl01.Mobile != "" && strings.Contains(list.Body, sl01.Mobile[4:])) {
		t.Error("the list shows a full document or phone number")
	}
	if sl01.Mobile != "" {
		mustContain(t, list.Body, storage.MaskPhone(sl01.Mobile))
	}
	if got := listed(b.accountPage("/account/staff?q=" + url.QueryEscape(staff.Username))); len(got) != 1 || got[0] != staff.EUID {
		t.Errorf("search by username: %v", got)
	}
	if got := listed(b.accountPage("/account/staff?q=" + strings.ToLower(admin.EUID))); len(got) != 1 || got[0] != admin.EUID {
		t.Errorf("search by EUID: %v", got)
	}
	none := b.accountPage("/account/staff?q=nobody-at-all")
	if len(listed(none)) != 0 {
		t.Error("a search matching nothing lists logins")
	}
	mustContain(t, none.Body, catalogueText(t, "staff_list_none_found"))

	// Paging: 50 a page, previous and next, the search kept.
	for i := range 52 {
		sl := storage.StaffLogin{EntityID: e.ID, NameZH: fmt.Sprintf("分頁員工%02d", i), IDDocType: storage.IDPassport,
			IDDocNumber: fmt.Sprintf("PG%06d", i), BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Language: "en"}
		if err := w.app.pg.CreateStaffLogin(ctx, operator(), &sl); err != nil {
			t.Fatal(err)
		}
	}
	first := b.accountPage("/account/staff?q=" + url.QueryEscape("分頁員工"))
	if n := len(listed(first)); n != 50 {
		t.Errorf("page 1 lists %d, want 50", n)
	}
	next := html.UnescapeString(submatch(regexp.MustCompile(`href="([^"]*)" rel="next"`), first.Body))
	if !strings.Contains(next, "page=2") || !strings.Contains(next, "q=") || strings.Contains(first.Body, `rel="prev"`) {
		t.Fatalf("page 1's links: next %q, prev shown %v", next, strings.Contains(first.Body, `rel="prev"`))
	}
	second := b.get(next)
	if n := len(listed(second)); second.StatusCode != 200 || n != 2 || !strings.Contains(second.Body, `rel="prev"`) || strings.Contains(second.Body, `rel="next"`) {
		t.Errorf("page 2: %d, %d rows", second.StatusCode, n)
	}
	mustContain(t, second.Body, html.EscapeString(fmt.Sprintf(catalogue(t, "staff_list_count"), 51, 52, 52)))

	// A bad form: 400, every value kept, each message next to its field,
	// the first wrong field focused; nothing written.
	before := w.auditRows(t)
	newForm := b.accountPage("/account/staff/new")
	mustContain(t, newForm.Body, catalogueText(t, "staff_new_title"))
	mustContain(t, newForm.Body, catalogueText(t, "staff_birth_date_help"))
	bad := registration("陳大明", "1357913(5)", "1234 5678")
	bad.Set("birth_date", "31/31/1990")
	p := b.staffPOST("/account/staff/new", bad)
	if p.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad form = %d: %.500s", p.StatusCode, p.Body)
	}
	for name, want := range map[string]string{"name_zh": "陳大明", "name_foreign": "CHAN, Tai Man", "id_doc_number": "1357913(5)", "mobile": "1234 5678", "birth_date": "31/31/1990"} {
		if got := html.UnescapeString(p.fieldValue(name)); got != want {
			t.Errorf("bad form: %s kept as %q, want %q", name, got, want)
		}
	}
	for _, key := range []string{"reg_error_birth_date", "reg_error_mobile", "staff_error_fields"} {
		mustContain(t, p.Body, catalogueText(t, key))
	}
	mustContain(t, p.Body, `id="birth_date_error"`)
	if !regexp.MustCompile(`<input id="birth_date"[^>]* autofocus[^>]* aria-invalid="true" aria-describedby="birth_date_help birth_date_error"`).MatchString(p.Body) {
		t.Errorf("the first wrong field is not focused and described: %s", submatch(regexp.MustCompile(`(<input id="birth_date"[^>]*>)`), p.Body))
	}
	if strings.Count(p.Body, "autofocus") != 1 || !regexp.MustCompile(`<input id="mobile"[^>]* aria-invalid="true"`).MatchString(p.Body) {
		t.Error("want one autofocus, and the mobile marked invalid")
	}
	if after := w.auditRows(t); after != before {
		t.Errorf("a bad form wrote: %s → %s", before, after)
	}

	// A good form: the login's page, the code at the registered mobile.
	p = b.staffPOST("/account/staff/new", registration("陳大明", "1357913(5)", "6677 0551"))
	euid := createdEUID(t, p)
	sp := b.get(p.location(t))
	mustContain(t, sp.Body, catalogueText(t, "staff_done_created_sms"))
	mustContain(t, sp.Body, `role="status"`)
	first1 := codeIn(t, w.message(t, "+85366770551", 1))
	if got := ddText(sp, "staff_activation_state"); got != catalogue(t, "staff_not_activated") {
		t.Errorf("啟動狀況 = %q", got)
	}
	var sent string
	for range 50 { // the worker marks the code sent just after the gateway takes it
		if sent = ddText(b.accountPage("/account/staff/"+euid), "staff_last_code_sent"); sent != "—" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d \(` + regexp.QuoteMeta(catalogue(t, "staff_channel_sms")) + `\)$`).MatchString(sent) {
		t.Errorf("最後發送啟動碼時間 = %q", sent)
	}
	sp = b.accountPage("/account/staff/" + euid)
	if !regexp.MustCompile(`<button type="submit" name="channel" value="email"[^>]* disabled>`).MatchString(sp.Body) ||
		regexp.MustCompile(`value="sms"[^>]* disabled>`).MatchString(sp.Body) {
		t.Error("want 手機短訊 enabled and 電子郵件 disabled (no e-mail registered)")
	}
	mustContain(t, sp.Body, catalogueText(t, "staff_code_off_no_email"))
	mustContain(t, sp.Body, ">"+euid+"<")
	if row := listed(b.accountPage("/account/staff?q=" + euid)); len(row) != 1 {
		t.Errorf("the new login in the list: %v", row)
	}

	// 編輯 → 更改: a new name keeps the code, a new mobile voids it.
	ref := w.staffRef(t, euid)
	edit := b.accountPage("/account/staff/" + euid + "/edit")
	if edit.fieldValue("name_zh") != "陳大明" || strings.Contains(edit.Body, `name="username"`) || strings.Contains(edit.Body, `name="channel"`) {
		t.Errorf("the edit form is not the registration without username and channel")
	}
	mustContain(t, edit.Body, catalogueText(t, "staff_edit_help"))
	form := registration("陳大明", "1357913(5)", "+85366770551")
	form.Set("name_foreign", "CHAN, Tai Ming")
	if p := b.staffPOST("/account/staff/"+euid+"/edit", form); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit = %d: %.500s", p.StatusCode, p.Body)
	}
	if c := w.code(t, ref); c.VoidedAt != nil {
		t.Error("editing the name voided the code")
	}
	form.Set("mobile", "not a phone")
	if p := b.staffPOST("/account/staff/"+euid+"/edit", form); p.StatusCode != http.StatusBadRequest || html.UnescapeString(p.fieldValue("name_foreign")) != "CHAN, Tai Ming" {
		t.Errorf("a bad edit = %d, fields not kept", p.StatusCode)
	}
	form.Set("mobile", "6677 0552")
	p = b.staffPOST("/account/staff/"+euid+"/edit", form)
	if loc := p.location(t); !strings.HasSuffix(loc, "/account/staff/"+euid+"?done=edited") {
		t.Errorf("edit goes to %s", loc)
	}
	if c := w.code(t, ref); c.VoidedAt == nil || c.VoidReason != storage.VoidContactChanged {
		t.Errorf("after the mobile changed the code is %+v", c)
	}
	wantActError(t, "the code to the old mobile", w.browser().activateStep1(storage.KindStaff, e.Number, "13579135", first1), http.StatusGone, "activate_error_replaced")

	// 手機短訊: a new code to the registered (new) mobile, up to the limit.
	for i := range 2 {
		loc := b.staffPOST("/account/staff/"+euid+"/code", url.Values{"channel": {"sms"}}).location(t)
		if !strings.HasSuffix(loc, "?done=sent-sms") {
			t.Fatalf("send %d goes to %s", i+1, loc)
		}
		mustContain(t, b.get(loc).Body, catalogueText(t, "staff_done_sent_sms"))
		// Delivered before the next: a newer code cancels an undelivered older message.
		w.message(t, "+85366770552", i+1)
	}
	code := codeIn(t, w.message(t, "+85366770552", 2))
	before = w.auditRows(t)
	p = b.staffPOST("/account/staff/"+euid+"/code", url.Values{"channel": {"sms"}})
	if p.StatusCode != http.StatusConflict || !strings.Contains(p.Body, `role="alert"`) {
		t.Errorf("over the limit = %d", p.StatusCode)
	}
	mustContain(t, p.Body, catalogueText(t, "staff_error_code_limit"))
	if after := w.auditRows(t); after != before {
		t.Errorf("a refused send wrote: %s → %s", before, after)
	}
	p = b.staffPOST("/account/staff/"+euid+"/code", url.Values{"channel": {"email"}})
	if p.StatusCode != http.StatusConflict {
		t.Errorf("a code by e-mail without an e-mail = %d", p.StatusCode)
	}

	// The person activates and signs in; the page says so.
	person := w.browser()
	person.activate(storage.KindStaff, e.Number, "1357913(5)", code, "chan551", "Chan-pass-0551")
	person.accountSignedIn(e.Number, "chan551", "Chan-pass-0551")
	sp = b.accountPage("/account/staff/" + euid)
	if got := ddText(sp, "staff_activation_state"); got != catalogue(t, "staff_activated") {
		t.Errorf("啟動狀況 after activation = %q", got)
	}
	if got := ddText(sp, "staff_activated_at"); !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d$`).MatchString(got) {
		t.Errorf("啟動工作人員登入號時間 = %q", got)
	}
	if n := len(regexp.MustCompile(`name="channel" value="(sms|email)"[^>]* disabled>`).FindAllString(sp.Body, -1)); n != 2 {
		t.Errorf("%d code buttons disabled after activation, want 2", n)
	}
	mustContain(t, sp.Body, catalogueText(t, "staff_code_off_activated"))

	// Editing keeps the EUID and the username.
	form.Set("name_zh", "陳大文")
	if p := b.staffPOST("/account/staff/"+euid+"/edit", form); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit after activation = %d", p.StatusCode)
	}
	if sl, err := w.app.pg.StaffLoginByEUID(ctx, euid); err != nil || sl.Username != "chan551" || sl.NameZH != "陳大文" || sl.Mobile != "+85366770552" {
		t.Errorf("after the edit: %+v, %v", sl, err)
	}
	if got := ddText(b.accountPage("/account/staff/"+euid+"/edit"), "sl_username"); got != "chan551" {
		t.Errorf("the edit page shows username %q", got)
	}
	w.browser().accountSignedIn(e.Number, "chan551", "Chan-pass-0551")

	// The language of the pages is the reader's.
	en := b.accountPage("/account/staff/" + euid + "?lang=en")
	mustContain(t, en.Body, "Activation status")
	pt := b.accountPage("/account/staff?lang=pt")
	mustContain(t, pt.Body, "Estado da associação")
}

// TestPortalStaffDelete: 關聯狀態 → 已刪除 → 更新, confirmed in the form: the
// login cannot sign in, its refresh token and portal session die at once;
// 生效中 restores it without bringing them back.
func TestPortalStaffDelete(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff, admin := idp.login("staff01"), idp.login("admin01")
	tok, portal := idp.signedInTwice(r, staff)

	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, admin.Username, admin.Password)
	form := b.accountPage("/account/staff/" + staff.EUID + "/status")
	for _, key := range []string{"staff_status_title", "staff_delete_effects", "staff_delete_confirm", "staff_status_active", "staff_status_deleted", "staff_status_submit"} {
		mustContain(t, form.Body, catalogueText(t, key))
	}
	mustContain(t, form.Body, `name="confirm" value="yes" required`)
	if got := ddText(form, "staff_user"); got != staff.Username {
		t.Errorf("用戶 = %q", got)
	}

	before := idp.auditRows(t)
	p := b.staffPOST("/account/staff/"+staff.EUID+"/status", url.Values{"status": {"deleted"}})
	if p.StatusCode != http.StatusBadRequest || !strings.Contains(p.Body, catalogueText(t, "staff_error_confirm")) || !strings.Contains(p.Body, `id="confirm_error"`) {
		t.Errorf("unconfirmed deletion = %d", p.StatusCode)
	}
	if after := idp.auditRows(t); after != before {
		t.Errorf("an unconfirmed deletion wrote: %s → %s", before, after)
	}
	p = b.staffPOST("/account/staff/"+staff.EUID+"/status", url.Values{"status": {"deleted"}, "confirm": {"yes"}})
	if loc := p.location(t); !strings.HasSuffix(loc, "?done=deleted") {
		t.Fatalf("deletion goes to %s", loc)
	}
	sp := b.accountPage("/account/staff/" + staff.EUID + "?done=deleted")
	mustContain(t, sp.Body, catalogueText(t, "staff_done_deleted"))
	if got := ddText(sp, "staff_status"); got != catalogue(t, "staff_status_deleted") {
		t.Errorf("關聯狀態 = %q", got)
	}
	wantAuditEvent2(t, idp, "staff.delete", staff.EUID, admin.EUID)

	status, out := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "refresh after deletion", status, out)
	portal.wantSignedOut("portal after deletion")
	if p := idp.browser().accountSignIn(idp.demo.EntityNumber, staff.Username, staff.Password); p.StatusCode == http.StatusSeeOther {
		t.Error("the deleted login signs in at the portal")
	}
	sb := idp.browser()
	wantNoRedirect(t, "sign-in after deletion", sb.submit(sb.startLogin(r, newAuthParams(t)).form(t), idp.demo.EntityNumber, staff.Username, staff.Password), http.StatusUnauthorized)
	list := b.accountPage("/account/staff?q=" + staff.Username)
	mustContain(t, list.Body, "<strong>"+catalogueText(t, "staff_status_deleted")+"</strong>")

	// Deleting again: the form says it already is.
	p = b.staffPOST("/account/staff/"+staff.EUID+"/status", url.Values{"status": {"deleted"}, "confirm": {"yes"}})
	if p.StatusCode != http.StatusConflict || !strings.Contains(p.Body, catalogueText(t, "staff_error_status_same")) {
		t.Errorf("deleting twice = %d", p.StatusCode)
	}

	// 生效中: restored; the old refresh token stays dead.
	p = b.staffPOST("/account/staff/"+staff.EUID+"/status", url.Values{"status": {"active"}})
	if loc := p.location(t); !strings.HasSuffix(loc, "?done=restored") {
		t.Fatalf("restore goes to %s", loc)
	}
	status, out = r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "the old refresh token after restore", status, out)
	idp.browser().accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
}

// wantAuditEvent2 finds an audit event of action on target by actor.
func wantAuditEvent2(t *testing.T, idp *testIDP, action, target, actor string) {
	t.Helper()
	events, err := idp.app.pg.AuditEvents(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Action == action && e.Target == target && e.ActorID == actor && e.IP != "" {
			return
		}
	}
	t.Errorf("no audit event %s %s by %s", action, target, actor)
}

// ---- who may ----

// staffRequest is one request to a staff page (a form filled to succeed).
type staffRequest struct {
	method, path string
	form         url.Values
}

// staffRequests are every page and form of the staff administration, for
// the login target.
func staffRequests(target string) []staffRequest {
	return append([]staffRequest{
		{"GET", "/account/staff", nil},
		{"GET", "/account/staff/new", nil},
		{"POST", "/account/staff/new", registration("入侵者", "7777777(7)", "66770777")},
	}, loginRequests(target)...)
}

// loginRequests are the pages and forms of the login target.
func loginRequests(target string) []staffRequest {
	return []staffRequest{
		{"GET", "/account/staff/" + target, nil},
		{"GET", "/account/staff/" + target + "/edit", nil},
		{"GET", "/account/staff/" + target + "/status", nil},
		{"POST", "/account/staff/" + target + "/code", url.Values{"channel": {"sms"}}},
		{"POST", "/account/staff/" + target + "/edit", registration("改名", "7777778(7)", "66770778")},
		{"POST", "/account/staff/" + target + "/status", url.Values{"status": {"deleted"}, "confirm": {"yes"}}},
		{"POST", "/account/staff/" + target + "/signout", nil},
		{"POST", "/account/staff/" + target + "/unlock", nil},
	}
}

// TestPortalStaffRefusals: plain staff, a service admin and the entity
// account get 403 on every staff page and form, a browser without a
// session the sign-in, a deleted admin too; another entity's admin finds
// none of this entity's logins (404), nor does an admin that forges another
// entity's EUID; a forged or missing CSRF token is refused. None of them
// writes anything.
func TestPortalStaffRefusals(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	ctx := context.Background()
	e := w.demoEntity(t)
	admin, staff, staff02 := w.login("admin01"), w.login("staff01"), w.login("staff02")
	if _, err := w.app.manage.SetServiceAdmin(ctx, operator(), e.ID, staff02.EUID, true); err != nil {
		t.Fatal(err)
	}

	// A second entity with an activated admin.
	const number = "03-000561"
	spec := standardEntity(number)
	other := w.newEntity(t, spec)
	otherAdminCode := codeIn(t, w.message(t, spec.Admins[0].Mobile, 1))
	w.browser().activate(storage.KindEntityAccount, number, spec.ApplicationNumber, codeIn(t, w.message(t, spec.AccountMobile, 1)), "owner561", "Owner-pass-561")
	w.browser().activate(storage.KindStaff, number, spec.Admins[0].IDNumber, otherAdminCode, "boss561", "Boss-pass-5610")
	otherEUID := other.Admins[0].EUID

	target := staff.EUID
	// wantStatus sends each request as b (forms with b's session token)
	// and wants status, its message on the pages, and nothing written.
	wantStatus := func(who string, b *browser, requests []staffRequest, status int) {
		t.Helper()
		csrf := b.sessionCSRF()
		message := map[int]string{http.StatusForbidden: "staff_error_forbidden", http.StatusNotFound: "staff_error_not_found"}[status]
		for _, rq := range requests {
			before := w.auditRows(t)
			var p page
			if rq.method == "GET" {
				p = b.get(w.portal(rq.path))
			} else {
				f := url.Values{"csrf_token": {csrf}}
				for k, v := range rq.form {
					f[k] = v
				}
				p = b.post(w.portal(rq.path), f)
			}
			if p.StatusCode != status {
				t.Errorf("%s: %s %s = %d, want %d", who, rq.method, rq.path, p.StatusCode, status)
			}
			// In the account's language, as the portal's pages around it
			// (the other entity's admin reads Portuguese).
			if rq.method == "GET" && message != "" && !strings.Contains(p.Body, html.EscapeString(messages(t, submatch(htmlLang, p.Body))[message])) {
				t.Errorf("%s: %s %s lacks the message %s", who, rq.method, rq.path, message)
			}
			if after := w.auditRows(t); after != before {
				t.Errorf("%s: %s %s wrote: %s → %s", who, rq.method, rq.path, before, after)
			}
		}
	}
	signedIn := func(entity, username, pw string) *browser {
		b := w.browser()
		b.accountSignedIn(entity, username, pw)
		return b
	}
	acct := w.demo.EntityAccount
	wantStatus("plain staff", signedIn(w.demo.EntityNumber, staff.Username, staff.Password), staffRequests(admin.EUID), http.StatusForbidden)
	wantStatus("service admin", signedIn(w.demo.EntityNumber, staff02.Username, staff02.Password), staffRequests(target), http.StatusForbidden)
	wantStatus("entity account", signedIn(w.demo.EntityNumber, acct["username"], acct["password"]), staffRequests(target), http.StatusForbidden)

	// Another entity's admin: its own list, never this entity's logins.
	ob := signedIn(number, "boss561", "Boss-pass-5610")
	if got := listed(ob.accountPage("/account/staff")); len(got) != 1 || got[0] != otherEUID {
		t.Errorf("the other entity's list: %v", got)
	}
	wantStatus("other entity's admin", ob, loginRequests(target), http.StatusNotFound)
	// And this entity's admin forging the other entity's EUID.
	ab := signedIn(w.demo.EntityNumber, admin.Username, admin.Password)
	wantStatus("forged EUID", ab, loginRequests(otherEUID), http.StatusNotFound)
	if sl, _ := w.app.pg.StaffLoginByEUID(ctx, otherEUID); sl.Status != storage.StatusActive || sl.NameZH != spec.Admins[0].NameZH {
		t.Errorf("the other entity's admin changed: %+v", sl)
	}

	// CSRF: a forged token, none, or a cross-site form is refused.
	for _, rq := range staffRequests(target) {
		if rq.method != "POST" {
			continue
		}
		before := w.auditRows(t)
		f := url.Values{"csrf_token": {"forged"}}
		for k, v := range rq.form {
			f[k] = v
		}
		if p := ab.post(w.portal(rq.path), f); p.StatusCode != http.StatusForbidden || !strings.Contains(p.Body, catalogueText(t, "account_error_csrf")) {
			t.Errorf("forged token: %s = %d", rq.path, p.StatusCode)
		}
		f.Del("csrf_token")
		if p := ab.post(w.portal(rq.path), f); p.StatusCode != http.StatusForbidden {
			t.Errorf("no token: %s = %d", rq.path, p.StatusCode)
		}
		f.Set("csrf_token", ab.sessionCSRF())
		req, _ := http.NewRequest(http.MethodPost, ab.abs(w.portal(rq.path)), strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if p := ab.do(req); p.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site: %s = %d", rq.path, p.StatusCode)
		}
		if after := w.auditRows(t); after != before {
			t.Errorf("refused forms wrote: %s → %s", before, after)
		}
	}

	// Without a session, and as a deleted admin: the sign-in.
	toSignIn := func(who string, b *browser) {
		t.Helper()
		for _, rq := range staffRequests(target) {
			before := w.auditRows(t)
			var p page
			if rq.method == "GET" {
				p = b.get(w.portal(rq.path))
			} else {
				p = b.post(w.portal(rq.path), rq.form)
			}
			if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != w.portal("/account/login") {
				t.Errorf("%s: %s %s = %d (Location %q), want the sign-in", who, rq.method, rq.path, p.StatusCode, p.Header.Get("Location"))
			}
			if after := w.auditRows(t); after != before {
				t.Errorf("%s: %s %s wrote: %s → %s", who, rq.method, rq.path, before, after)
			}
		}
	}
	toSignIn("no session", w.browser())
	oe, err := w.app.pg.EntityByNumber(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.manage.DeleteStaff(ctx, operator(), oe.ID, otherEUID); err != nil {
		t.Fatal(err)
	}
	toSignIn("deleted admin", ob)
	if p := w.browser().accountSignIn(number, "boss561", "Boss-pass-5610"); p.StatusCode == http.StatusSeeOther {
		t.Error("the deleted admin signs in")
	}
}
