package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// The portal's navigation by role and the administration pages that are
// not the staff pages: 實體資訊, 移除工作人員登入號
// 的管理員的權限, 服務管理員列表, 最近變更. Through HTTP, on real stores.

// ---- helpers ----

var (
	navBlock = regexp.MustCompile(`(?s)<nav class="account-nav"[^>]*>(.*?)</nav>`)
	navHref  = regexp.MustCompile(`<a href="([^"]*)"`)
)

// navOf is the paths (under the issuer) the page's portal navigation links to.
func (idp *testIDP) navOf(t *testing.T, p page) []string {
	t.Helper()
	block := submatch(navBlock, p.Body)
	if block == "" {
		t.Fatalf("no portal navigation in %.500s", p.Body)
	}
	var out []string
	for _, m := range navHref.FindAllStringSubmatch(block, -1) {
		out = append(out, strings.TrimPrefix(html.UnescapeString(m[1]), idp.issuerPath()))
	}
	return out
}

// The links by role: every staff login has its own 電子身份識別工具; the
// entity account holds no identity tools; the guide (/help) is everyone's.
var (
	navAdmin         = []string{"/account", "/account/password", "/account/devices", "/account/history", "/account/tools", "/account/entities", "/account/staff", "/account/admins", "/account/services", "/account/service-admins", "/account/changes", "/help"}
	navEntityAccount = []string{"/account", "/account/password", "/account/devices", "/account/history", "/account/entities", "/account/admins", "/help"}
	navStaff         = []string{"/account", "/account/password", "/account/devices", "/account/history", "/account/tools", "/help"}
	navServiceAdmin  = []string{"/account", "/account/password", "/account/devices", "/account/history", "/account/tools", "/account/entities", "/account/services", "/help"}
)

func wantNav(t *testing.T, idp *testIDP, who string, p page, want []string) {
	t.Helper()
	if got := idp.navOf(t, p); !slices.Equal(got, want) {
		t.Errorf("%s sees the links %v, want %v", who, got, want)
	}
}

// countAllAudit counts every audit row.
func countAllAudit(t *testing.T, idp *testIDP) int {
	t.Helper()
	var n int
	if err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// signedInAs is a new browser signed in at the portal.
func (idp *testIDP) signedInAs(entity, username, pw string) *browser {
	b := idp.browser()
	b.accountSignedIn(entity, username, pw)
	return b
}

func (idp *testIDP) entityAccountBrowser() *browser {
	acct := idp.demo.EntityAccount
	return idp.signedInAs(idp.demo.EntityNumber, acct["username"], acct["password"])
}

func (idp *testIDP) loginBrowser(username string) *browser {
	l := idp.login(username)
	return idp.signedInAs(idp.demo.EntityNumber, l.Username, l.Password)
}

// submitRights posts a rights form of path (its token taken from the page).
func (b *browser) submitRights(path string, form url.Values) page {
	b.t.Helper()
	if form.Get("csrf_token") == "" {
		form.Set("csrf_token", submatch(csrfField, b.accountPage(path).Body))
	}
	return b.post(b.idp.portal(path), form)
}

// listOf is the inner HTML of the page's list with id ("with", "without").
func listOf(p page, id string) string {
	return submatch(regexp.MustCompile(`(?s)<ul class="picks" id="`+id+`">(.*?)</ul>`), p.Body)
}

func (idp *testIDP) setServiceAdmin(t *testing.T, by seededLogin, target seededLogin, on bool) {
	t.Helper()
	if _, err := idp.app.manage.SetServiceAdmin(context.Background(), idp.actorOf(t, by), idp.demoEntity(t).ID, target.EUID, on); err != nil {
		t.Fatal(err)
	}
}

// otherEntity opens a second entity, 02-000077, with its entity account and
// an admin staff login, both activated; it returns the admin.
func (idp *testIDP) otherEntity(t *testing.T) (storage.StaffLogin, string) {
	t.Helper()
	ctx, pg := context.Background(), idp.app.pg
	e := storage.Entity{Number: "02-000077", NameZH: "公司77", NamePT: "Companhia 77", Kind: "company", Status: "active"}
	acct := &storage.EntityAccount{ApplicationNumber: "A2026-000077", Mobile: "+85366000077", Language: "zh-Hant"}
	if err := pg.CreateEntity(ctx, operator(), &e, acct); err != nil {
		t.Fatal(err)
	}
	const pw = "another entity's admin passphrase"
	if err := ensureActivated(ctx, pg, idp.app.hasher, storage.KindEntityAccount, acct.ID, "", "", "owner77", pw); err != nil {
		t.Fatal(err)
	}
	sl := storage.StaffLogin{EntityID: e.ID, NameZH: "何七七", NameForeign: "HO, Chat Chat", IDDocType: "macau_permanent_id",
		IDDocNumber: "1000077(7)", IDDocIssuePlace: "澳門", BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC),
		Mobile: "+85366007700", Language: "zh-Hant", Admin: true}
	if err := pg.CreateStaffLogin(ctx, operator(), &sl); err != nil {
		t.Fatal(err)
	}
	if err := ensureActivated(ctx, pg, idp.app.hasher, storage.KindStaff, sl.ID, "", "", "admin77", pw); err != nil {
		t.Fatal(err)
	}
	sl.Username = "admin77"
	return sl, pw
}

// ---- navigation ----

// TestPortalNavByRole: each role sees exactly its links, computed from its
// rights as read now: a staff login designated service admin meanwhile sees
// 服務列表 only, the entity account only the removal of admin rights, an
// admin all of them.
func TestPortalNavByRole(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin, staff02 := idp.login("admin01"), idp.login("staff02")

	adminB := idp.loginBrowser("admin01")
	for _, path := range []string{"/account", "/account/password", "/account/devices", "/account/entities", "/account/admins", "/account/service-admins", "/account/changes"} {
		p := adminB.accountPage(path)
		wantNav(t, idp, "admin01 on "+path, p, navAdmin)
		// The page's own link is the current one, and only it.
		if n := strings.Count(submatch(navBlock, p.Body), `aria-current="page"`); n != 1 {
			t.Errorf("admin01 on %s: %d links are current, want 1", path, n)
		}
		if !strings.Contains(submatch(navBlock, p.Body), `href="`+idp.portal(path)+`" aria-current="page"`) {
			t.Errorf("admin01 on %s: its link is not the current one", path)
		}
	}
	wantNav(t, idp, "the entity account", idp.entityAccountBrowser().accountPage("/account"), navEntityAccount)
	wantNav(t, idp, "staff01", idp.loginBrowser("staff01").accountPage("/account"), navStaff)

	staff02B := idp.loginBrowser("staff02")
	wantNav(t, idp, "staff02", staff02B.accountPage("/account"), navStaff)
	idp.setServiceAdmin(t, admin, staff02, true) // while signed in
	wantNav(t, idp, "staff02 as service admin", staff02B.accountPage("/account/password"), navServiceAdmin)

	// In Portuguese and English the labels are the catalogue's.
	pt := adminB.accountPage("/account?lang=pt")
	mustContain(t, pt.Body, "Lista de administradores de serviços")
	en := adminB.accountPage("/account?lang=en")
	mustContain(t, en.Body, "Recent changes")
}

// ---- 實體資訊 ----

// TestPortalEntityInfo: an admin sees its own entity, its entity account and
// the counts of its staff logins.
func TestPortalEntityInfo(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	idp.setServiceAdmin(t, idp.login("admin01"), idp.login("staff02"), true)
	p := idp.loginBrowser("admin01").accountPage("/account/entity")
	for id, want := range map[string]string{
		"entity_number":                   idp.demo.EntityNumber,
		"account_entity_name_zh":          "公司19",
		"account_entity_name_pt":          "Companhia 19",
		"account_entity_kind":             "公司",
		"entity_info_status":              "生效中",
		"entity_info_account_username":    idp.demo.EntityAccount["username"],
		"entity_info_staff_active":        "3",
		"entity_info_staff_not_activated": "0",
		"entity_info_staff_deleted":       "0",
		"entity_info_admins":              "1",
		"entity_info_service_admins":      "1",
	} {
		if got := profileField(p, id); got != want {
			t.Errorf("實體資訊 %s = %q, want %q", id, got, want)
		}
	}
	if got := profileField(p, "entity_info_account_activation"); !strings.HasPrefix(got, "已啟動 ") {
		t.Errorf("entity account activation = %q", got)
	}
	mustContain(t, p.Body, `href="`+idp.portal("/account/admins")+`"`)
}

// ---- 移除工作人員登入號的管理員的權限 ----

// TestPortalRemoveAdminRights: the entity account removes admin01's rights
// through the page; removing the last admin needs the confirmation, checked
// by the server; admin01's session lives on but its next request to an
// administration page is refused and its navigation shrinks.
func TestPortalRemoveAdminRights(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin, staff01 := idp.login("admin01"), idp.login("staff01")
	owner := idp.entityAccountBrowser()
	adminB := idp.loginBrowser("admin01")

	p := owner.accountPage("/account/admins")
	mustContain(t, p.Body, "移除工作人員登入號的管理員權限後，必須經行政公職局申請才可設定管理員權限。")
	if with := listOf(p, "with"); !strings.Contains(with, "admin01 ("+admin.EUID+" 陳大文)") || !strings.Contains(with, `value="`+admin.EUID+`"`) {
		t.Errorf("the list with admin rights: %s", with)
	}
	if without := listOf(p, "without"); !strings.Contains(without, "staff01 ("+staff01.EUID+" 李小明)") || strings.Contains(without, "checkbox") {
		t.Errorf("the list without admin rights (no action: only 行政公職局 grants): %s", without)
	}
	adminB.accountPage("/account/admins") // admin01 may, for now

	// Nothing ticked.
	before := countAllAudit(t, idp)
	none := owner.submitRights("/account/admins", url.Values{})
	if none.StatusCode != http.StatusBadRequest || !strings.Contains(none.Body, catalogue(t, "admins_none_chosen")) {
		t.Errorf("nothing ticked = %d", none.StatusCode)
	}
	// The last admin: the confirmation is asked, nothing is done.
	ask := owner.submitRights("/account/admins", url.Values{"remove": {admin.EUID}})
	if ask.StatusCode != http.StatusConflict || !strings.Contains(ask.Body, `name="confirm_last"`) {
		t.Fatalf("removing the last admin without confirmation = %d: %.800s", ask.StatusCode, ask.Body)
	}
	mustContain(t, ask.Body, catalogue(t, "admins_confirm_last"))
	if !strings.Contains(listOf(ask, "with"), `value="`+admin.EUID+`" checked`) {
		t.Error("the choice is not kept in the confirmation form")
	}
	if got := countAllAudit(t, idp); got != before {
		t.Errorf("audit rows %d → %d without the confirmation", before, got)
	}
	if !idp.actorOf(t, admin).Admin {
		t.Fatal("admin01 lost its rights without the confirmation")
	}
	// Confirmed.
	done := owner.post(idp.portal("/account/admins"), url.Values{
		"csrf_token": {submatch(csrfField, ask.Body)}, "remove": {admin.EUID}, "confirm_last": {"yes"},
	})
	if done.StatusCode != http.StatusOK {
		t.Fatalf("confirmed removal = %d: %.800s", done.StatusCode, done.Body)
	}
	mustContain(t, done.Body, "已移除 admin01 ("+admin.EUID+" 陳大文) 的管理員權限。")
	if strings.Contains(listOf(done, "with"), admin.EUID) || !strings.Contains(listOf(done, "without"), admin.EUID) {
		t.Error("after the removal admin01 is not in the list without admin rights")
	}
	if idp.actorOf(t, admin).Admin {
		t.Fatal("admin01 still has admin rights")
	}
	if got := countAudit(t, idp, "staff.admin_remove"); got != 1 {
		t.Errorf("%d staff.admin_remove events, want 1", got)
	}

	// admin01: signed in still, refused at once, its links gone.
	for _, path := range []string{"/account/admins", "/account/changes", "/account/entity", "/account/service-admins"} {
		if p := adminB.get(idp.portal(path)); p.StatusCode != http.StatusForbidden {
			t.Errorf("former admin GET %s = %d, want 403", path, p.StatusCode)
		} else {
			mustContain(t, p.Body, catalogue(t, "nav_forbidden"))
		}
	}
	wantNav(t, idp, "the former admin", adminB.accountPage("/account"), navStaff)
	// Removing again: the login has no rights to remove (a conflict, nothing written).
	before = countAllAudit(t, idp)
	again := owner.submitRights("/account/admins", url.Values{"remove": {admin.EUID}})
	if again.StatusCode != http.StatusConflict {
		t.Errorf("removing rights it has not = %d", again.StatusCode)
	}
	if got := countAllAudit(t, idp); got != before {
		t.Errorf("audit rows %d → %d", before, got)
	}
}

// TestPortalAdminRemovesOwnRights: with a second admin (granted by the
// operator), an admin removes its own rights, without the confirmation;
// the answer says so and shows no list, and it is refused from then on.
func TestPortalAdminRemovesOwnRights(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin, staff01 := idp.login("admin01"), idp.login("staff01")
	if _, err := idp.app.manage.GrantAdmin(context.Background(), operator(), idp.demoEntity(t).ID, staff01.EUID); err != nil {
		t.Fatal(err)
	}
	b := idp.loginBrowser("admin01")
	p := b.submitRights("/account/admins", url.Values{"remove": {admin.EUID}})
	if p.StatusCode != http.StatusOK {
		t.Fatalf("own removal = %d: %.800s", p.StatusCode, p.Body)
	}
	mustContain(t, p.Body, "已移除 admin01 ("+admin.EUID+" 陳大文) 的管理員權限。")
	mustContain(t, p.Body, catalogue(t, "admins_no_longer"))
	if strings.Contains(p.Body, `name="remove"`) {
		t.Error("the lists are shown to an account that may no longer remove rights")
	}
	wantNav(t, idp, "admin01 right after its own removal", p, navStaff)
	if again := b.get(idp.portal("/account/admins")); again.StatusCode != http.StatusForbidden {
		t.Errorf("next GET /account/admins = %d, want 403", again.StatusCode)
	}
	if !idp.actorOf(t, staff01).Admin {
		t.Error("the other admin lost its rights")
	}
}

// ---- 服務管理員列表 ----

// TestPortalServiceAdmins: an admin designates staff02 as service admin and
// removes it again through the page; the rights are those of the store.
func TestPortalServiceAdmins(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff02 := idp.login("staff02")
	b := idp.loginBrowser("admin01")

	p := b.accountPage("/account/service-admins")
	if !strings.Contains(listOf(p, "without"), `name="designate" value="`+staff02.EUID+`"`) {
		t.Fatalf("staff02 is not offered for designation: %s", listOf(p, "without"))
	}
	on := b.submitRights("/account/service-admins", url.Values{"designate": {staff02.EUID}})
	if on.StatusCode != http.StatusOK {
		t.Fatalf("designate = %d: %.800s", on.StatusCode, on.Body)
	}
	mustContain(t, on.Body, "已指定 staff02 ("+staff02.EUID+" 黃美玲) 為「服務管理員」。")
	if !strings.Contains(listOf(on, "with"), `name="remove" value="`+staff02.EUID+`"`) {
		t.Error("staff02 is not in the list of service admins after designation")
	}
	if a := idp.actorOf(t, staff02); !a.ServiceAdmin || !storage.CanAssignServices(a, idp.demoEntity(t).ID) {
		t.Errorf("staff02 as read now: %+v, want a service admin", a)
	}

	off := b.submitRights("/account/service-admins", url.Values{"remove": {staff02.EUID}})
	if off.StatusCode != http.StatusOK {
		t.Fatalf("remove = %d: %.800s", off.StatusCode, off.Body)
	}
	mustContain(t, off.Body, "已移除 staff02 ("+staff02.EUID+" 黃美玲) 的「服務管理員」權限。")
	if idp.actorOf(t, staff02).ServiceAdmin {
		t.Error("staff02 is still service admin")
	}
	if n := countAudit(t, idp, "staff.service_admin_grant") + countAudit(t, idp, "staff.service_admin_remove"); n != 2 {
		t.Errorf("%d service admin events, want 2", n)
	}
	if none := b.submitRights("/account/service-admins", url.Values{}); none.StatusCode != http.StatusBadRequest {
		t.Errorf("nothing ticked = %d, want 400", none.StatusCode)
	}
}

// ---- 最近變更 ----

var changeRows = regexp.MustCompile(`(?s)<tr><td class="when"[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td></tr>`)

// TestPortalRecentChanges: the events of the entity, newest first, with who
// did what to which login in sentences, in Macau time, 50 a page with older
// and newer links.
func TestPortalRecentChanges(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin, staff02 := idp.login("admin01"), idp.login("staff02")
	b := idp.loginBrowser("admin01")
	b.submitRights("/account/service-admins", url.Values{"designate": {staff02.EUID}})
	b.submitRights("/account/service-admins", url.Values{"remove": {staff02.EUID}})

	p := b.accountPage("/account/changes")
	rows := changeRows.FindAllStringSubmatch(p.Body, -1)
	if len(rows) < 2 {
		t.Fatalf("%d rows: %.1500s", len(rows), p.Body)
	}
	for i, want := range [][3]string{
		{"admin01", "移除「服務管理員」", staff02.EUID + " (staff02)"},
		{"admin01", "指定為「服務管理員」", staff02.EUID + " (staff02)"},
	} {
		got := [3]string{html.UnescapeString(rows[i][2]), html.UnescapeString(rows[i][3]), html.UnescapeString(rows[i][4])}
		if got != want {
			t.Errorf("row %d = %q, want %q", i, got, want)
		}
	}
	// The time is the event's, in Macau.
	events, err := idp.app.pg.EntityAuditEvents(context.Background(), idp.demoEntity(t).ID, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	macau, _ := time.LoadLocation("Asia/Macau")
	if want := events[0].At.In(macau).Format("2006-01-02 15:04:05"); rows[0][1] != want {
		t.Errorf("when = %q, want %q (Asia/Macau)", rows[0][1], want)
	}
	// The demo's seeding: by 行政公職局, with readable sentences.
	var seeded, activated bool
	for _, row := range rows {
		seeded = seeded || row[2] == "行政公職局" && row[3] == "新增工作人員登入號及關聯至實體"
		activated = activated || row[3] == "啟動工作人員登入號" && row[4] == admin.EUID+" (admin01)"
	}
	if !seeded || !activated {
		t.Errorf("the demo's seeding is not shown as sentences by 行政公職局: %v", rows)
	}

	// Past a page: 60 more events.
	for i := 0; i < 30; i++ {
		idp.setServiceAdmin(t, admin, staff02, true)
		idp.setServiceAdmin(t, admin, staff02, false)
	}
	total := 0
	if err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE entity_id = $1`, idp.demoEntity(t).ID).Scan(&total); err != nil {
		t.Fatal(err)
	}
	first := b.accountPage("/account/changes")
	if n := len(changeRows.FindAllString(first.Body, -1)); n != 50 {
		t.Errorf("first page: %d rows, want 50", n)
	}
	if strings.Contains(first.Body, catalogue(t, "changes_newer")) {
		t.Error("the newest page links to newer ones")
	}
	olderLink := regexp.MustCompile(`<a href="([^"]*)" rel="next">`)
	seen, pages := 50, 1
	cur := first
	for {
		next := html.UnescapeString(submatch(olderLink, cur.Body))
		if next == "" {
			break
		}
		prev := cur
		cur = b.get(next)
		if cur.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", next, cur.StatusCode)
		}
		pages++
		seen += len(changeRows.FindAllString(cur.Body, -1))
		// 較新 leads back to the page it came from.
		newer := html.UnescapeString(submatch(regexp.MustCompile(`<a href="([^"]*)" rel="prev">`), cur.Body))
		if back := b.get(newer); back.StatusCode != http.StatusOK || changeRows.FindString(back.Body) != changeRows.FindString(prev.Body) {
			t.Errorf("page %d: 較新 (%s) does not lead back to page %d", pages, newer, pages-1)
		}
	}
	if seen != total || pages != (total+49)/50 {
		t.Errorf("walked %d events on %d pages, want %d events", seen, pages, total)
	}
	if bad := b.get(idp.portal("/account/changes?before=x")); bad.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad cursor = %d, want 400", bad.StatusCode)
	}
	// An unknown action is shown by its code.
	if _, err := idp.app.pg.Pool().Exec(context.Background(), `INSERT INTO audit_events (at, actor_kind, actor_id, entity_id, action, target, ip, details)
		VALUES (now(), 'system', '', $1, 'staff.something_new', $2, '', '{}')`, idp.demoEntity(t).ID, staff02.EUID); err != nil {
		t.Fatal(err)
	}
	if rows := changeRows.FindAllStringSubmatch(b.accountPage("/account/changes").Body, -1); len(rows) == 0 ||
		rows[0][2] != "系統" || rows[0][3] != "staff.something_new" {
		t.Errorf("an unknown action: %v", rows[:min(len(rows), 1)])
	}
}

// ---- who may not ----

// addAdmin registers and activates one more admin staff login of the demo
// entity (as the operator would), returning it with its password.
func (idp *testIDP) addAdmin(t *testing.T, username, docNo string) seededLogin {
	t.Helper()
	ctx, pg := context.Background(), idp.app.pg
	sl := storage.StaffLogin{EntityID: idp.demoEntity(t).ID, NameZH: "張三", NameForeign: "CHEONG, Sam", IDDocType: "macau_permanent_id",
		IDDocNumber: docNo, IDDocIssuePlace: "澳門", BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC),
		Mobile: "+85366009900", Language: "zh-Hant", Admin: true}
	if err := pg.CreateStaffLogin(ctx, operator(), &sl); err != nil {
		t.Fatal(err)
	}
	const pw = "a third admin's long passphrase"
	if err := ensureActivated(ctx, pg, idp.app.hasher, storage.KindStaff, sl.ID, "", "", username, pw); err != nil {
		t.Fatal(err)
	}
	return seededLogin{demoLogin{Username: username, Password: pw, EUID: sl.EUID, Admin: true}}
}

// TestPortalRightsPagesRefused: plain staff, a service admin, a deleted
// admin, an admin of another entity, the entity account (but for 實體列表,
// 實體資訊 and the removal of admin rights; a service admin may open the
// first two) and a browser not signed in are refused the
// administration pages not theirs, GET and POST, and nothing is written;
// EUIDs of another entity forged into the forms are not found; a POST
// without this session's CSRF token is refused.
func TestPortalRightsPagesRefused(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin, staff01, staff02 := idp.login("admin01"), idp.login("staff01"), idp.login("staff02")
	idp.setServiceAdmin(t, admin, staff02, true)
	other, otherPw := idp.otherEntity(t)
	// A deleted admin: signed in, then deleted in the store while its session lives.
	gone := idp.addAdmin(t, "admin09", "1000009(9)")
	goneB := idp.signedInAs(idp.demo.EntityNumber, gone.Username, gone.Password)
	idp.deleteInStore(t, gone)

	pages := []string{"/account/entities", "/account/entity", "/account/admins", "/account/service-admins", "/account/changes"}
	forms := map[string]url.Values{
		"/account/admins":         {"remove": {admin.EUID}, "confirm_last": {"yes"}},
		"/account/service-admins": {"designate": {staff01.EUID}, "remove": {staff02.EUID}},
	}
	unchanged := func(what string, before int) {
		t.Helper()
		if got := countAllAudit(t, idp); got != before {
			t.Errorf("%s: audit rows %d → %d", what, before, got)
		}
		if !idp.actorOf(t, admin).Admin || !idp.actorOf(t, staff02).ServiceAdmin || idp.actorOf(t, staff01).ServiceAdmin {
			t.Fatalf("%s: the demo entity's rights changed", what)
		}
	}

	type role struct {
		name    string
		b       *browser
		allowed map[string]bool
	}
	for _, r := range []role{
		{"plain staff", idp.loginBrowser("staff01"), nil},
		// 實體列表 and 實體資訊 lead the service admin to 服務列表 and the
		// entity account to the removal of admin rights.
		{"service admin", idp.loginBrowser("staff02"), map[string]bool{"/account/entities": true, "/account/entity": true}},
		{"entity account", idp.entityAccountBrowser(), map[string]bool{"/account/entities": true, "/account/entity": true, "/account/admins": true}},
	} {
		token := submatch(csrfField, r.b.accountPage("/account").Body)
		for _, path := range pages {
			if r.allowed[path] {
				r.b.accountPage(path)
				continue
			}
			if p := r.b.get(idp.portal(path)); p.StatusCode != http.StatusForbidden {
				t.Errorf("%s GET %s = %d, want 403", r.name, path, p.StatusCode)
			}
			if form, ok := forms[path]; ok {
				before := countAllAudit(t, idp)
				f := url.Values{"csrf_token": {token}}
				for k, v := range form {
					f[k] = v
				}
				if p := r.b.post(idp.portal(path), f); p.StatusCode != http.StatusForbidden {
					t.Errorf("%s POST %s = %d, want 403", r.name, path, p.StatusCode)
				}
				unchanged(r.name+" POST "+path, before)
			}
		}
	}

	// Not signed in, and a deleted admin whose session outlived it: to the sign-in.
	for name, b := range map[string]*browser{"not signed in": idp.browser(), "deleted admin": goneB} {
		for _, path := range pages {
			before := countAllAudit(t, idp)
			p := b.get(idp.portal(path))
			if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != idp.portal("/account/login") {
				t.Errorf("%s GET %s = %d (Location %q), want 303 to the sign-in", name, path, p.StatusCode, p.Header.Get("Location"))
			}
			if form, ok := forms[path]; ok {
				if p := b.post(idp.portal(path), form); p.StatusCode != http.StatusSeeOther && p.StatusCode != http.StatusForbidden {
					t.Errorf("%s POST %s = %d, want refused", name, path, p.StatusCode)
				}
			}
			unchanged(name+" "+path, before)
		}
	}

	// An admin of another entity sees its own entity only, and the demo
	// entity's logins forged into its forms are not found.
	otherB := idp.signedInAs("02-000077", other.Username, otherPw)
	info := otherB.accountPage("/account/entity")
	if got := profileField(info, "entity_number"); got != "02-000077" {
		t.Errorf("the other entity's admin sees entity %q", got)
	}
	for _, path := range pages {
		if body := otherB.accountPage(path).Body; strings.Contains(body, admin.EUID) || strings.Contains(body, "公司19") {
			t.Errorf("%s of the other entity shows the demo entity's data", path)
		}
	}
	for path, form := range forms {
		before := countAllAudit(t, idp)
		p := otherB.submitRights(path, form)
		if p.StatusCode != http.StatusNotFound {
			t.Errorf("other entity's admin POST %s with the demo's EUIDs = %d, want 404", path, p.StatusCode)
		}
		unchanged("other entity's admin "+path, before)
	}

	// The demo's admin forges the other entity's admin into its forms.
	adminB := idp.loginBrowser("admin01")
	for path, field := range map[string]string{"/account/admins": "remove", "/account/service-admins": "designate"} {
		before := countAllAudit(t, idp)
		p := adminB.submitRights(path, url.Values{field: {other.EUID}})
		if p.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s with another entity's EUID = %d, want 404", path, p.StatusCode)
		}
		mustContain(t, p.Body, "找不到此實體的工作人員登入號 "+other.EUID)
		unchanged("forged "+path, before)
	}
	if sl, err := idp.app.pg.StaffLoginByEUID(context.Background(), other.EUID); err != nil || !sl.Admin || sl.ServiceAdmin {
		t.Errorf("the other entity's admin after the forged forms: %+v, %v", sl, err)
	}

	// CSRF: no token, another session's token.
	staffToken := submatch(csrfField, idp.loginBrowser("staff01").accountPage("/account").Body)
	for path, form := range forms {
		for name, token := range map[string]string{"no token": "", "another session's token": staffToken} {
			before := countAllAudit(t, idp)
			f := url.Values{"csrf_token": {token}}
			for k, v := range form {
				f[k] = v
			}
			if p := adminB.post(idp.portal(path), f); p.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %s = %d, want 403", path, name, p.StatusCode)
			}
			unchanged(name+" "+path, before)
		}
	}
}

// TestPortalRightsListsSearch: the search over the two lists shows only the
// matching logins (by username, name, EUID or document number), and a
// search in the form survives its answer.
func TestPortalRightsListsSearch(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff01, staff02, admin01 := idp.login("staff01"), idp.login("staff02"), idp.login("admin01")
	b := idp.loginBrowser("admin01")
	for _, path := range []string{"/account/admins", "/account/service-admins"} {
		for _, q := range []string{"staff01", "李小明", strings.ToLower(staff01.EUID)} {
			p := b.accountPage(path + "?q=" + url.QueryEscape(q))
			lists := listOf(p, "without") + listOf(p, "with")
			if !strings.Contains(lists, staff01.EUID) || strings.Contains(lists, staff02.EUID) || strings.Contains(lists, admin01.EUID) {
				t.Errorf("%s?q=%s lists %s", path, q, lists)
			}
		}
	}
	p := b.accountPage("/account/service-admins")
	if lists := listOf(p, "without") + listOf(p, "with"); !strings.Contains(lists, staff02.EUID) || !strings.Contains(lists, staff01.EUID) {
		t.Errorf("without a search the lists lack logins: %s", lists)
	}
	on := b.submitRights("/account/service-admins", url.Values{"designate": {staff01.EUID}, "q": {"staff01"}})
	if lists := listOf(on, "without") + listOf(on, "with"); on.StatusCode != http.StatusOK || strings.Contains(lists, staff02.EUID) {
		t.Errorf("the answer forgets the search: %d %s", on.StatusCode, lists)
	}
}
