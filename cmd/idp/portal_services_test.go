package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entity-account/idp/storage"
)

// 服務列表 in the portal: the e-services opened to the
// entity, a service's groups, and the 工作人員登入號列表 of a group or of the
// e-service with its two lists and 更新, through HTTP on real stores; and
// what a relying party sees of it in its tokens.

// ---- helpers ----

// userinfoGroups asks userinfo with an access token of the demo web client:
// the status and, when it answers, its service_groups.
func (r *rp) userinfoGroups(t *testing.T, accessToken string) (int, any) {
	t.Helper()
	status, body := r.postForm(t, r.discovery(t, "userinfo_endpoint"), url.Values{"access_token": {accessToken}}, false)
	return status, body["service_groups"]
}

// freshGroups signs username in at the demo web client in a new browser
// and returns the service_groups of its ID token, and its access token.
func (idp *testIDP) freshGroups(t *testing.T, r *rp, username string) (any, string) {
	t.Helper()
	p := newAuthParams(t)
	cb := idp.browser().signIn(r, p, username)
	if cb.Get("code") == "" {
		t.Fatalf("%s could not sign in to the demo e-service: %v", username, cb)
	}
	tok, err := r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	return r.idClaims(t, tok, p.Nonce)["service_groups"], tok.AccessToken
}

// updated posts a two-list form of path with the session's token and wants
// it done (200) with the result message msg; it returns the answer.
func (b *browser) updated(path string, form url.Values, msg string) page {
	b.t.Helper()
	p := b.staffPOST(path, form)
	if p.StatusCode != http.StatusOK {
		b.t.Fatalf("POST %s %v = %d: %.800s", path, form, p.StatusCode, p.Body)
	}
	mustContain(b.t, p.Body, msg)
	return p
}

// groupMembers counts the rows of a staff login in the groups of an e-service.
func (idp *testIDP) groupMembers(t *testing.T, euid, service string) int {
	t.Helper()
	var n int
	err := idp.app.pg.Pool().QueryRow(context.Background(), `
		SELECT count(*) FROM group_members gm JOIN service_groups g ON g.id = gm.group_id
		JOIN services sv ON sv.id = g.service_id JOIN staff_logins sl ON sl.id = gm.staff_login_id
		WHERE sl.euid = $1 AND sv.code = $2`, euid, service).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// foreignService registers e-service "foreign" with group "clerk", opened
// only to the entity otherID.
func (idp *testIDP) foreignService(t *testing.T, otherID int64) {
	t.Helper()
	ctx, pg := context.Background(), idp.app.pg
	dept, err := ensureDepartment(ctx, pg, "OTHER", "其他部門")
	if err != nil {
		t.Fatal(err)
	}
	sv := storage.Service{Code: "foreign", DepartmentID: dept.ID, NameZH: "外部服務"}
	if err := pg.CreateService(ctx, operator(), &sv); err != nil {
		t.Fatal(err)
	}
	if err := pg.CreateGroup(ctx, operator(), &storage.Group{ServiceID: sv.ID, Code: "clerk", NameZH: "文員"}); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.EnrollEntity(ctx, operator(), sv.ID, otherID); err != nil {
		t.Fatal(err)
	}
}

// ---- the pages and the tokens ----

// TestPortalServicesAssign: an admin puts staff02 in the demo e-service's
// group admin through the pages and a fresh ID token of the demo web client
// says so; taken out, userinfo says [] at once (claims cache off); a
// service admin puts it back and then takes it off the e-service itself,
// which takes it out of the groups too, and the e-service no longer answers
// for it.
func TestPortalServicesAssign(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_CLAIMS_CACHE_TTL": "0"})
	admin, staff01, staff02 := idp.login("admin01"), idp.login("staff01"), idp.login("staff02")
	r := idp.rp(idp.client(demoWebClient), idp.rpURL+"/callback")
	b := idp.loginBrowser("admin01")

	// 服務列表: the e-services opened to the entity, with their groups.
	list := b.accountPage("/account/services")
	wantNav(t, idp, "admin01", list, navAdmin)
	for _, want := range []string{"示範電子服務", "其他服務", `href="` + idp.portal("/account/services/demo") + `"`,
		`href="` + idp.portal("/account/services/demo/groups/admin/members") + `">管理員</a> — 1 人`} {
		mustContain(t, list.Body, want)
	}
	mustContain(t, b.accountPage("/account/services?lang=pt").Body, "Serviço electrónico de demonstração")
	b.accountPage("/account/services?lang=zh-Hant") // the choice is remembered: back to Chinese

	// The e-service's page: each group with its members, and who is assigned.
	sp := b.accountPage("/account/services/demo")
	group := submatch(regexp.MustCompile(`(?s)<section class="svc-group" id="group_admin">(.*?)</section>`), sp.Body)
	if !strings.Contains(group, "admin01") || !strings.Contains(group, admin.EUID) || !strings.Contains(group, "陳大文") || strings.Contains(group, staff02.EUID) {
		t.Errorf("group admin on the e-service's page: %s", group)
	}
	mustContain(t, group, `href="`+idp.portal("/account/services/demo/groups/admin")+`"`)
	if itself := submatch(regexp.MustCompile(`(?s)<section class="svc-group" id="service_staff">(.*?)</section>`), sp.Body); !strings.Contains(itself, staff02.EUID) {
		t.Errorf("staff02 is not listed as assigned to the e-service: %s", itself)
	}

	// The group's 工作人員登入號列表.
	gp := b.accountPage("/account/services/demo/groups/admin")
	for _, want := range []string{"工作人員登入號列表", "未獲指派的人員名單", "已獲指派的人員名單", "更新", `role="search"`} {
		mustContain(t, gp.Body, want)
	}
	if !strings.Contains(listOf(gp, "without"), `name="assign" value="`+staff02.EUID+`"`) || !strings.Contains(listOf(gp, "with"), `name="unassign" value="`+admin.EUID+`"`) {
		t.Fatalf("the two lists: %s | %s", listOf(gp, "without"), listOf(gp, "with"))
	}
	// The search narrows both lists.
	found := b.accountPage("/account/services/demo/groups/admin?q=" + url.QueryEscape("黃美"))
	if strings.Contains(found.Body, staff01.EUID) || !strings.Contains(listOf(found, "without"), staff02.EUID) || listOf(found, "with") != "" {
		t.Errorf("search 黃美: %s | %s", listOf(found, "without"), listOf(found, "with"))
	}

	// The admin assigns staff02.
	adds := countAudit(t, idp, "group.add_member")
	done := b.updated("/account/services/demo/groups/admin", url.Values{"assign": {staff02.EUID}},
		"已指派 staff02 ("+staff02.EUID+" 黃美玲) 至「示範電子服務」的「管理員」群組。")
	if !strings.Contains(listOf(done, "with"), staff02.EUID) || strings.Contains(listOf(done, "without"), staff02.EUID) {
		t.Error("after 更新 staff02 is not in the assigned list")
	}
	if n := countAudit(t, idp, "group.add_member"); n != adds+1 {
		t.Errorf("%d group.add_member events, want %d", n, adds+1)
	}
	groups, access := idp.freshGroups(t, r, "staff02")
	if !equalStrings(groups, []string{"admin"}) {
		t.Fatalf("fresh ID token service_groups = %v, want [admin]", groups)
	}

	// Taken out of the group: userinfo says [] on the next request.
	b.updated("/account/services/demo/groups/admin", url.Values{"unassign": {staff02.EUID}},
		"已從「示範電子服務」的「管理員」群組移除 staff02 ("+staff02.EUID+" 黃美玲)。")
	if status, g := r.userinfoGroups(t, access); status != http.StatusOK || !equalStrings(g, []string{}) {
		t.Errorf("userinfo right after the unassign = %d %v, want 200 []", status, g)
	}

	// A service admin, designated meanwhile, puts it back.
	idp.setServiceAdmin(t, admin, staff01, true)
	sa := idp.loginBrowser("staff01")
	wantNav(t, idp, "staff01 as service admin", sa.accountPage("/account/services"), navServiceAdmin)
	back := sa.updated("/account/services/demo/groups/admin", url.Values{"assign": {staff02.EUID}},
		"已指派 staff02 ("+staff02.EUID+" 黃美玲) 至「示範電子服務」的「管理員」群組。")
	if !strings.Contains(listOf(back, "with"), staff02.EUID) {
		t.Fatal("after the service admin's 更新 staff02 is not in the assigned list")
	}
	if groups, _ := idp.freshGroups(t, r, "staff02"); !equalStrings(groups, []string{"admin"}) {
		t.Errorf("fresh ID token after the service admin's assignment: %v, want [admin]", groups)
	}
	if status, g := r.userinfoGroups(t, access); status != http.StatusOK || !equalStrings(g, []string{"admin"}) {
		t.Errorf("userinfo after the service admin's assignment = %d %v", status, g)
	}
	// Assigning again changes nothing and writes nothing.
	before := countAllAudit(t, idp)
	sa.updated("/account/services/demo/groups/admin", url.Values{"assign": {staff02.EUID}},
		"staff02 ("+staff02.EUID+" 黃美玲) 已是所選的狀態，未作更改。")
	if got := countAllAudit(t, idp); got != before {
		t.Errorf("audit rows %d → %d for no change", before, got)
	}

	// Off the e-service itself: out of its groups too; the e-service (only
	// assigned logins) no longer answers for it.
	sp = sa.accountPage("/account/services/demo/staff")
	if !strings.Contains(listOf(sp, "with"), `name="unassign" value="`+staff02.EUID+`"`) {
		t.Fatalf("staff02 is not in the e-service's assigned list: %s", listOf(sp, "with"))
	}
	sa.updated("/account/services/demo/staff", url.Values{"unassign": {staff02.EUID}},
		"已從「示範電子服務」移除 staff02 ("+staff02.EUID+" 黃美玲)，並一併移出其群組。")
	if n := idp.groupMembers(t, staff02.EUID, "demo"); n != 0 {
		t.Errorf("staff02 is still in %d groups of demo", n)
	}
	if n := countAudit(t, idp, "service.unassign"); n != 1 {
		t.Errorf("%d service.unassign events, want 1", n)
	}
	if status, _ := r.userinfoGroups(t, access); status == http.StatusOK {
		t.Errorf("userinfo still answers for a login taken off the e-service")
	}
	// Its other e-service is untouched: staff01 keeps inspector in "other".
	if n := idp.groupMembers(t, staff01.EUID, "other"); n != 1 {
		t.Errorf("staff01 in %d groups of other, want 1", n)
	}
}

// TestPortalServicesRefusals: plain staff and the entity account are
// refused (403) and see no link; another entity's admin acts only in its
// own entity; EUIDs, groups and e-services not of the entity are not found
// (404) and nothing is written; a deleted login is not offered and cannot
// be assigned; a form without the session's token is refused.
func TestPortalServicesRefusals(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin, staff02 := idp.login("admin01"), idp.login("staff02")
	other, otherPW := idp.otherEntity(t)
	idp.foreignService(t, other.EntityID)
	paths := []string{"/account/services", "/account/services/demo", "/account/services/demo/groups/admin", "/account/services/demo/staff"}

	for who, b := range map[string]*browser{"staff02": idp.loginBrowser("staff02"), "the entity account": idp.entityAccountBrowser()} {
		if slices.Contains(idp.navOf(t, b.accountPage("/account")), "/account/services") {
			t.Errorf("%s sees 服務列表", who)
		}
		for _, path := range paths {
			if p := b.get(idp.portal(path)); p.StatusCode != http.StatusForbidden {
				t.Errorf("%s GET %s = %d, want 403", who, path, p.StatusCode)
			}
		}
		before := countAllAudit(t, idp)
		if p := b.staffPOST("/account/services/demo/groups/admin", url.Values{"assign": {staff02.EUID}}); p.StatusCode != http.StatusForbidden {
			t.Errorf("%s POST = %d, want 403", who, p.StatusCode)
		}
		if got := countAllAudit(t, idp); got != before {
			t.Errorf("%s: audit rows %d → %d", who, before, got)
		}
	}

	// Another entity's admin: its own list has only its own e-service;
	// the demo e-service, even once opened to its entity too, holds no
	// login of the demo entity for it.
	ob := idp.signedInAs("02-000077", other.Username, otherPW)
	ol := ob.accountPage("/account/services")
	if !strings.Contains(ol.Body, "外部服務") || strings.Contains(ol.Body, "示範電子服務") {
		t.Errorf("another entity's 服務列表: %.1500s", ol.Body)
	}
	if p := ob.get(idp.portal("/account/services/demo")); p.StatusCode != http.StatusNotFound {
		t.Errorf("another entity's admin GET the demo e-service = %d, want 404", p.StatusCode)
	}
	sv, err := idp.app.pg.ServiceByCode(context.Background(), demoService)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idp.app.pg.EnrollEntity(context.Background(), operator(), sv.ID, other.EntityID); err != nil {
		t.Fatal(err)
	}
	op := ob.accountPage("/account/services/demo/groups/admin")
	if strings.Contains(op.Body, admin.EUID) || strings.Contains(op.Body, staff02.EUID) {
		t.Errorf("another entity's admin sees the demo entity's staff: %.1500s", op.Body)
	}
	before := countAllAudit(t, idp)
	if p := ob.staffPOST("/account/services/demo/groups/admin", url.Values{"assign": {staff02.EUID}, "unassign": {admin.EUID}}); p.StatusCode != http.StatusNotFound {
		t.Errorf("another entity's admin POST demo EUIDs = %d, want 404", p.StatusCode)
	}
	if got := countAllAudit(t, idp); got != before {
		t.Errorf("audit rows %d → %d after another entity's forged EUIDs", before, got)
	}

	// The demo admin: forged EUIDs, groups and e-services.
	b := idp.loginBrowser("admin01")
	for _, path := range []string{"/account/services/foreign", "/account/services/foreign/groups/clerk", "/account/services/foreign/staff",
		"/account/services/demo/groups/inspector", "/account/services/demo/groups/nosuch", "/account/services/nosuch"} {
		if p := b.get(idp.portal(path)); p.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, p.StatusCode)
		} else {
			mustContain(t, p.Body, catalogue(t, "svc_error_not_found"))
		}
		if p := b.staffPOST(path, url.Values{"assign": {staff02.EUID}}); p.StatusCode != http.StatusNotFound && p.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s = %d, want 404", path, p.StatusCode)
		}
	}
	for _, euid := range []string{other.EUID, "CU999999999", "not-an-euid"} {
		p := b.staffPOST("/account/services/demo/groups/admin", url.Values{"assign": {euid}})
		if p.StatusCode != http.StatusNotFound {
			t.Errorf("assign %s = %d, want 404", euid, p.StatusCode)
		}
		p = b.staffPOST("/account/services/demo/staff", url.Values{"unassign": {euid}})
		if p.StatusCode != http.StatusNotFound {
			t.Errorf("unassign %s = %d, want 404", euid, p.StatusCode)
		}
	}
	if got := countAllAudit(t, idp); got != before {
		t.Errorf("audit rows %d → %d after forged requests", before, got)
	}

	// A deleted login: not offered, and refused if forged in.
	if _, err := idp.app.manage.DeleteStaff(context.Background(), idp.actorOf(t, admin), idp.demoEntity(t).ID, staff02.EUID); err != nil {
		t.Fatal(err)
	}
	gp := b.accountPage("/account/services/demo/groups/admin")
	if strings.Contains(listOf(gp, "without"), staff02.EUID) {
		t.Error("a deleted login is offered for assignment")
	}
	before = countAllAudit(t, idp)
	p := b.staffPOST("/account/services/demo/groups/admin", url.Values{"assign": {staff02.EUID}})
	if p.StatusCode != http.StatusConflict {
		t.Errorf("assigning a deleted login = %d, want 409", p.StatusCode)
	}
	mustContain(t, p.Body, "staff02 ("+staff02.EUID+" 黃美玲) 已刪除，不能獲指派；未作更改。")
	if got := countAllAudit(t, idp); got != before || idp.groupMembers(t, staff02.EUID, "demo") != 0 {
		t.Errorf("a deleted login was assigned (audit rows %d → %d)", before, got)
	}
	// It is still listed as assigned to the e-service, and can be taken off.
	if sp := b.accountPage("/account/services/demo/staff"); !strings.Contains(listOf(sp, "with"), staff02.EUID) {
		t.Error("the deleted login is not in the e-service's assigned list")
	}

	// Without the session's token: refused, nothing written.
	before = countAllAudit(t, idp)
	for _, token := range []string{"", "forged"} {
		p := b.post(idp.portal("/account/services/demo/groups/operator"), url.Values{"csrf_token": {token}, "assign": {admin.EUID}})
		if p.StatusCode != http.StatusForbidden {
			t.Errorf("POST with token %q = %d, want 403", token, p.StatusCode)
		}
	}
	if got := countAllAudit(t, idp); got != before {
		t.Errorf("audit rows %d → %d after forms without the token", before, got)
	}
	// Nothing ticked.
	if p := b.staffPOST("/account/services/demo/groups/operator", url.Values{}); p.StatusCode != http.StatusBadRequest {
		t.Errorf("nothing ticked = %d, want 400", p.StatusCode)
	}
}

// TestOperatorServiceCommands: idp service assign and unassign run the use
// cases as the operator, for the login's own entity.
func TestOperatorServiceCommands(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	staff02 := idp.login("staff02")

	if err := serviceAssign([]string{"--service", "demo", "--euid", staff02.EUID, "--group", "operator"}); err != nil {
		t.Fatal(err)
	}
	if n := idp.groupMembers(t, staff02.EUID, "demo"); n != 1 {
		t.Fatalf("staff02 in %d groups of demo, want 1", n)
	}
	if err := serviceUnassign([]string{"--service", "demo", "--euid", staff02.EUID}); err != nil {
		t.Fatal(err)
	}
	access, err := idp.app.pg.ServiceAccess(context.Background(), staff02.id(t, idp.app.pg), mustService(t, idp, "demo").ID)
	if err != nil || access.Assigned || len(access.Groups) != 0 {
		t.Errorf("after service unassign: %+v %v", access, err)
	}
	for args, want := range map[string]string{
		"--service demo --euid CU999999999":                    "service assign: Staff login CU999999999 was not found.",
		"--service nosuch --euid " + staff02.EUID:              "service assign: E-service nosuch was not found.",
		"--service demo --euid " + staff02.EUID + " --group x": "service assign: Group x of e-service demo was not found.",
	} {
		if err := serviceAssign(strings.Fields(args)); err == nil || err.Error() != want {
			t.Errorf("service assign %s: %v, want %q", args, err, want)
		}
	}
	idp.deleteInStore(t, staff02)
	if err := serviceAssign([]string{"--service", "demo", "--euid", staff02.EUID}); err == nil || !strings.Contains(err.Error(), "is deleted") {
		t.Errorf("assigning a deleted login: %v", err)
	}
}

func mustService(t *testing.T, idp *testIDP, code string) storage.Service {
	t.Helper()
	sv, err := idp.app.pg.ServiceByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return sv
}
