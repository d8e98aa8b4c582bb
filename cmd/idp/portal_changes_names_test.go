package main

import (
	"context"
	"crypto/sha256"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/entity-account/idp/storage"
)

// TestPortalChangesNameThings: 最近變更 names e-services and groups by
// their names in the page's language and a department's back end by the
// department's name, never by codes or the machine client's id; English
// pages take the Portuguese name of a group that has no English one.
func TestPortalChangesNameThings(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	ctx, pg := context.Background(), idp.app.pg
	staff02 := idp.login("staff02")
	b := idp.loginBrowser("admin01")

	// An admin puts staff02 in the demo e-service's group 管理員 (code admin).
	if p := b.staffPOST("/account/services/"+demoService+"/groups/admin", url.Values{"assign": {staff02.EUID}}); p.StatusCode != 200 {
		t.Fatalf("assign = %d: %.500s", p.StatusCode, p.Body)
	}
	// The department's back end closes the e-service to the entity and opens it again.
	sv, err := pg.ServiceByCode(ctx, demoService)
	if err != nil {
		t.Fatal(err)
	}
	secret := sha256.Sum256([]byte("a department's secret"))
	machine := storage.Client{ID: "demo-dept-backend-7", Kind: storage.ClientMachine, DepartmentID: sv.DepartmentID,
		GrantTypes: []string{storage.GrantClientCredentials}, Scopes: []string{storage.ScopeDepartmentWrite},
		Name: "demo back end", SecretHash: secret[:]}
	if err := pg.CreateClient(ctx, operator(), &machine); err != nil {
		t.Fatal(err)
	}
	dept := storage.DepartmentActor(machine.ID, sv.DepartmentID, "192.0.2.7")
	if _, _, err := pg.CloseServiceTo(ctx, dept, sv, idp.demo.EntityNumber); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.EnrollEntity(ctx, dept, sv.ID, idp.demoEntity(t).ID); err != nil {
		t.Fatal(err)
	}

	rowsOf := func(lang string) [][3]string {
		p := b.accountPage("/account/changes?lang=" + lang)
		var out [][3]string
		for _, m := range changeRows.FindAllStringSubmatch(p.Body, 4) {
			out = append(out, [3]string{html.UnescapeString(m[2]), html.UnescapeString(m[3]), html.UnescapeString(m[4])})
		}
		return out
	}
	for lang, want := range map[string][][3]string{
		"zh-Hant": {
			{"部門 示範部門", "開放電子服務「示範電子服務」予實體", "—"},
			{"部門 示範部門", "電子服務「示範電子服務」不再向實體開放", "—"},
			{"admin01", "加入電子服務「示範電子服務」的群組「管理員」", staff02.EUID + " (staff02)"},
		},
		"pt": {
			{"Serviço público 示範部門", "Abertura do serviço electrónico «Serviço electrónico de demonstração» à entidade", "—"},
			{"Serviço público 示範部門", "Encerramento do serviço electrónico «Serviço electrónico de demonstração» à entidade", "—"},
			{"admin01", "Inclusão no grupo «Administrador» do serviço electrónico «Serviço electrónico de demonstração»", staff02.EUID + " (staff02)"},
		},
		"en": {
			{"Department 示範部門", "E-service “Demo e-service” opened to the entity", "—"},
			{"Department 示範部門", "E-service “Demo e-service” closed to the entity", "—"},
			{"admin01", "Added to group “Administrador” of e-service “Demo e-service”", staff02.EUID + " (staff02)"},
		},
	} {
		got := rowsOf(lang)
		if len(got) < len(want) {
			t.Fatalf("%s: %d rows", lang, len(got))
		}
		for i, w := range want {
			if got[i] != w {
				t.Errorf("%s row %d = %q, want %q", lang, i, got[i], w)
			}
		}
		for _, row := range got {
			if s := strings.Join(row[:], " "); strings.Contains(s, machine.ID) || strings.Contains(s, "「"+demoService+"」") || strings.Contains(s, "「admin」") {
				t.Errorf("%s: a code or client id is shown: %q", lang, s)
			}
		}
	}
}

// TestPortalEnglishFallsBackToPortuguese: where a name has no English
// version, English pages show the Portuguese one (Latin script), not the
// Chinese: an e-service in 服務列表, the entity in 實體列表.
func TestPortalEnglishFallsBackToPortuguese(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	ctx, pg := context.Background(), idp.app.pg
	demo, err := pg.ServiceByCode(ctx, demoService)
	if err != nil {
		t.Fatal(err)
	}
	sv := storage.Service{Code: "licensing", DepartmentID: demo.DepartmentID, NameZH: "牌照申請", NamePT: "Pedido de licença", AccessPolicy: storage.PolicyAssigned}
	if err := pg.CreateService(ctx, operator(), &sv); err != nil {
		t.Fatal(err)
	}
	if _, err := pg.EnrollEntity(ctx, operator(), sv.ID, idp.demoEntity(t).ID); err != nil {
		t.Fatal(err)
	}
	b := idp.loginBrowser("admin01")
	for lang, want := range map[string][]string{
		"en":      {">Pedido de licença</a>", ">Companhia 19</a>"},
		"pt":      {">Pedido de licença</a>", ">Companhia 19</a>"},
		"zh-Hant": {">牌照申請</a>", ">公司19</a>"},
	} {
		services := html.UnescapeString(b.accountPage("/account/services?lang=" + lang).Body)
		entities := html.UnescapeString(b.accountPage("/account/entities?lang=" + lang).Body)
		if !strings.Contains(services, want[0]) {
			t.Errorf("%s 服務列表 lacks %s", lang, want[0])
		}
		if !strings.Contains(entities, want[1]) {
			t.Errorf("%s 實體列表 lacks %s", lang, want[1])
		}
	}
}
