package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestPortalServiceGroupLinks: on an e-service's page each group's name is
// a link to the group's page, which shows who is assigned to it and leads
// on to its 工作人員登入號列表 (and the page keeps a button to that list
// too). A group of another e-service, or none, is not found.
func TestPortalServiceGroupLinks(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin, staff01 := idp.login("admin01"), idp.login("staff01")
	b := idp.loginBrowser("admin01")

	sp := b.accountPage("/account/services/demo")
	for code, name := range map[string]string{"admin": "管理員", "operator": "操作員"} {
		section := submatch(regexp.MustCompile(`(?s)<section class="svc-group" id="group_`+code+`">(.*?)</section>`), sp.Body)
		if !strings.Contains(section, `<h2><a href="`+idp.portal("/account/services/demo/groups/"+code+"/members")+`">`+name+`</a>`) {
			t.Errorf("group %s: its name is not a link to its page: %s", code, section)
		}
		if !strings.Contains(section, `<a class="button inline" href="`+idp.portal("/account/services/demo/groups/"+code)+`">工作人員登入號列表</a>`) {
			t.Errorf("group %s: no button to its 工作人員登入號列表: %s", code, section)
		}
	}

	gp := b.accountPage("/account/services/demo/groups/admin/members")
	mustContain(t, gp.Body, "<h1>管理員")
	mustContain(t, gp.Body, admin.EUID)
	mustContain(t, gp.Body, "陳大文")
	if strings.Contains(gp.Body, staff01.EUID) {
		t.Error("staff01, of the group 操作員, is shown in 管理員")
	}
	mustContain(t, gp.Body, `<a class="button inline" href="`+idp.portal("/account/services/demo/groups/admin")+`">工作人員登入號列表</a>`)
	mustContain(t, gp.Body, `href="`+idp.portal("/account/services/demo")+`"`)
	wantNav(t, idp, "admin01 on a group's page", gp, navAdmin)

	for _, path := range []string{"/account/services/demo/groups/nosuch/members", "/account/services/nosuch/groups/admin/members"} {
		if p := b.get(idp.portal(path)); p.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, p.StatusCode)
		}
	}
	if p := idp.loginBrowser("staff01").get(idp.portal("/account/services/demo/groups/admin/members")); p.StatusCode != http.StatusForbidden {
		t.Errorf("plain staff GET a group's page = %d, want 403", p.StatusCode)
	}
}
