package main

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// 實體列表 and 實體資訊 for every account that administers something of
// its entity, as the rule book decides (storage.CanViewEntity); the
// navigation's labels in full. Through HTTP, on real stores.

var entityRow = regexp.MustCompile(`(?s)<tbody>(.*?)</tbody>`)

// TestPortalEntityList: an admin, a service admin and the entity account
// each find their entity in 實體列表 (實體編號, its name linking to
// 實體資訊) and open 實體資訊, which leads on to what each may do there:
// the entity account to 移除工作人員登入號的管理員的權限 only, the service
// admin to 服務列表 only. A plain staff login gets 403 at both; the admin
// of another entity sees its own entity only.
func TestPortalEntityList(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	idp.setServiceAdmin(t, idp.login("admin01"), idp.login("staff02"), true)
	info := idp.portal("/account/entity")
	for _, who := range []struct {
		name         string
		b            *browser
		links, never []string
	}{
		{"admin01", idp.loginBrowser("admin01"), []string{"/account/staff", "/account/admins", "/account/services", "/account/service-admins", "/account/changes"}, nil},
		{"the entity account", idp.entityAccountBrowser(), []string{"/account/admins"}, []string{"/account/staff", "/account/services", "/account/service-admins", "/account/changes"}},
		{"staff02, service admin", idp.loginBrowser("staff02"), []string{"/account/services"}, []string{"/account/staff", "/account/admins", "/account/service-admins", "/account/changes"}},
	} {
		list := who.b.accountPage("/account/entities")
		rows := submatch(entityRow, list.Body)
		if strings.Count(rows, "<tr>") != 1 || !strings.Contains(rows, ">"+idp.demo.EntityNumber+"<") ||
			!strings.Contains(rows, `<a href="`+info+`">公司19</a>`) {
			t.Errorf("%s: 實體列表 rows %q, want one: %s with its name linking to 實體資訊", who.name, rows, idp.demo.EntityNumber)
		}
		mustContain(t, list.Body, "<th scope=\"col\">"+catalogue(t, "entity_number")+"</th>")
		p := who.b.accountPage("/account/entity")
		if got := profileField(p, "entity_number"); got != idp.demo.EntityNumber {
			t.Errorf("%s: 實體資訊 entity number %q", who.name, got)
		}
		main := html.UnescapeString(p.Body[strings.Index(p.Body, "<h1>"):])
		for _, l := range who.links {
			if !strings.Contains(main, `href="`+idp.portal(l)+`"`) {
				t.Errorf("%s: 實體資訊 does not lead to %s", who.name, l)
			}
		}
		for _, l := range who.never {
			if strings.Contains(p.Body, `href="`+idp.portal(l)+`"`) {
				t.Errorf("%s: 實體資訊 leads to %s, which it may not open", who.name, l)
			}
		}
	}
	// The entity account's 實體資訊 names the page in the words people are taught.
	owner := idp.entityAccountBrowser().accountPage("/account/entity")
	mustContain(t, owner.Body, `href="`+idp.portal("/account/admins")+`">移除工作人員登入號的管理員的權限</a>`)

	staff := idp.loginBrowser("staff01")
	for _, path := range []string{"/account/entities", "/account/entity"} {
		if p := staff.get(idp.portal(path)); p.StatusCode != http.StatusForbidden {
			t.Errorf("plain staff GET %s = %d, want 403", path, p.StatusCode)
		}
	}

	other, pw := idp.otherEntity(t)
	ob := idp.signedInAs("02-000077", other.Username, pw)
	rows := submatch(entityRow, ob.accountPage("/account/entities").Body)
	if !strings.Contains(rows, "02-000077") || strings.Contains(rows, idp.demo.EntityNumber) || strings.Count(rows, "<tr>") != 1 {
		t.Errorf("the other entity's admin sees %q", rows)
	}
	if got := profileField(ob.accountPage("/account/entity"), "entity_number"); got != "02-000077" {
		t.Errorf("the other entity's admin: 實體資訊 of %q", got)
	}
}

// TestPortalNavFullLabels: the navigation names the removal of admin rights
// as people are taught it, in each language, and links 實體列表.
func TestPortalNavFullLabels(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	b := idp.entityAccountBrowser()
	for lang, want := range map[string][]string{
		"zh-Hant": {">移除工作人員登入號的管理員的權限</a>", ">實體列表</a>"},
		"pt":      {">Remover os direitos de administrador de códigos de acesso de trabalhador</a>", ">Lista de entidades</a>"},
		"en":      {">Remove administrator rights from staff logins</a>", ">Entity list</a>"},
	} {
		nav := html.UnescapeString(submatch(navBlock, b.accountPage("/account?lang="+lang).Body))
		for _, w := range want {
			if !strings.Contains(nav, w) {
				t.Errorf("%s navigation lacks %q: %s", lang, w, nav)
			}
		}
	}
}
