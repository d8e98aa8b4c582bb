package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
)

// Service access in a real browser: an admin assigns
// testuser04 to the 「管理員」 group of 「社團服務」 through 服務列表, and the
// e-service then sees the group in testuser04's ID token, while a staff
// login left unassigned is refused by it.

// seedSocialService registers the e-service 「社團服務」 (code
// social, only assigned staff logins) of department IAS, with groups admin
// (管理員) and operator (操作員), opens it to the demo entity and registers
// a confidential web client for it.
func (idp *testIDP) seedSocialService() clientOutput {
	t, pg, ctx := idp.t, idp.app.pg, context.Background()
	t.Helper()
	dept, err := ensureDepartment(ctx, pg, "IAS", "社會工作局")
	if err != nil {
		t.Fatal(err)
	}
	sv := storage.Service{Code: "social", DepartmentID: dept.ID, NameZH: "社團服務",
		NamePT: "Serviço de Associações", NameEN: "Associations Service", AccessPolicy: storage.PolicyAssigned}
	if err := pg.CreateService(ctx, operator(), &sv); err != nil {
		t.Fatal(err)
	}
	for _, g := range []storage.Group{
		{ServiceID: sv.ID, Code: "admin", NameZH: "管理員", NamePT: "Administrador"},
		{ServiceID: sv.ID, Code: "operator", NameZH: "操作員", NamePT: "Operador"},
	} {
		if err := pg.CreateGroup(ctx, operator(), &g); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pg.EnrollEntity(ctx, operator(), sv.ID, idp.demoEntity(t).ID); err != nil {
		t.Fatal(err)
	}
	out, err := registerClient(ctx, pg, sv, "social-web", "社團服務網站", false, []string{idp.rpURL + "/social/callback"}, nil, "", "")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// followIn clicks the link labelled label inside the section whose heading
// starts with the text heading, or with a link of that text (a group's
// section on an e-service's page), and waits for the page it loads.
func (c *chrome) followIn(heading, label string) {
	c.t.Helper()
	h := xpathString(heading)
	sel := `//section[h2[normalize-space(text()[1])=` + h + ` or normalize-space(a[1])=` + h + `]]//a[normalize-space(.)=` + xpathString(label) + `]`
	if n := eval[int](c, `document.evaluate(`+jsString(`count(`+sel+`)`)+`, document, null, XPathResult.NUMBER_TYPE, null).numberValue`); n != 1 {
		c.t.Fatalf("%d links %q under the heading %q, want 1\n%s", n, label, heading, c.where())
	}
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible)); err != nil {
		c.t.Fatalf("follow the link %q of %q: %v\n%s", label, heading, err, c.where())
	}
}

// followButton clicks the link drawn as a button labelled label in the
// page's content (not the navigation), and waits for the page it loads.
func (c *chrome) followButton(label string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	sel := chromedp.Search(`//main//a[contains(concat(" ", @class, " "), " button ") and normalize-space(.)=` + xpathString(label) + `]`)
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(sel, chromedp.NodeVisible)); err != nil {
		c.t.Fatalf("follow the button %q: %v\n%s", label, err, c.where())
	}
}

// count is the number of elements a CSS selector matches.
func (c *chrome) count(css string) int {
	c.t.Helper()
	return eval[int](c, `document.querySelectorAll(`+jsString(css)+`).length`)
}

// TestBrowserServiceAccess: admin01 signs in to the portal, opens 服務列表,
// 「社團服務」, the 工作人員登入號列表 of its 「管理員」 group, ticks testuser04
// among those not assigned and presses 更新; testuser04 is then among the
// assigned. testuser04 signs in to 社團服務's client in a browser of its own,
// and the ID token carries service_groups ["admin"]; staff02, not
// assigned, is told that its admin must assign it, with the way back to the
// e-service carrying access_denied.
func TestBrowserServiceAccess(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	social := idp.seedSocialService()
	admin, staff02 := idp.login("admin01"), idp.login("staff02")
	const username, password = "testuser04", "Testuser04 harbour lantern"
	user := idp.newStaffLogin(username, password)
	number := idp.demo.EntityNumber
	T := messages(t, "zh-Hant")

	// The admin, in the portal.
	a := newChrome(t)
	a.portalSignIn(idp.issuer, number, admin.Username, admin.Password)
	a.follow(T["nav_services"])
	if got := a.text("h1"); got != T["svc_list_title"] {
		t.Fatalf("服務列表 heading %q, want %q", got, T["svc_list_title"])
	}
	a.follow("社團服務")
	if got := a.text("h1"); got != "社團服務 (social)" {
		t.Fatalf("the e-service's heading %q, want 社團服務 (social)\n%s", got, a.where())
	}
	// The group's name leads to who is assigned to it, and on to its list.
	a.followIn("管理員", "管理員")
	if got := a.text("h1"); got != "管理員 (admin)" {
		t.Fatalf("the group's heading %q, want 管理員 (admin)\n%s", got, a.where())
	}
	a.followButton(T["svc_staff_list"]) // the navigation's 工作人員登入號列表 is the entity's
	if got := a.text("h1"); got != T["svc_staff_list"] {
		t.Fatalf("heading %q, want %q\n%s", got, T["svc_staff_list"], a.where())
	}
	target := strings.NewReplacer("{service}", "社團服務", "{group}", "管理員").Replace(T["svc_target_group"])
	if got := a.text("h1 + p strong"); got != target {
		t.Errorf("the list is of %q, want %q", got, target)
	}
	box := `#without input[name="assign"][value="` + user.EUID + `"]`
	if a.count(box) != 1 || a.count(`#with input[value="`+user.EUID+`"]`) != 0 {
		t.Fatalf("testuser04 is not (only) in 未獲指派的人員名單\n%s", a.where())
	}
	a.tick(box)
	a.press(T["nav_update"])

	login := username + " (" + user.EUID + " " + user.NameZH + ")"
	want := strings.NewReplacer("{login}", login, "{target}", target).Replace(T["svc_result_assigned"])
	if got := a.text(`[role="status"]`); got != want {
		t.Errorf("after 更新: %q, want %q", got, want)
	}
	if a.count(`#with input[name="unassign"][value="`+user.EUID+`"]`) != 1 || !strings.Contains(a.text("#with"), login) {
		t.Fatalf("testuser04 is not in 已獲指派的人員名單\n%s", a.where())
	}
	if a.count(`#without input[value="`+user.EUID+`"]`) != 0 {
		t.Error("testuser04 is still offered in 未獲指派的人員名單")
	}

	// testuser04 signs in to 社團服務, in a browser of its own.
	r := idp.rp(social, social.RedirectURIs[0])
	params := newAuthParams(t)
	params.Extra = url.Values{"ui_locales": {"zh-Hant"}}
	p := newChrome(t)
	p.open(r.authURL(params))
	p.fill("entity_number", number)
	p.fill("username", username)
	p.fill("password", password)
	cb, err := url.Parse(p.pressUntil(T["sign_in"], social.RedirectURIs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if cb.Query().Get("state") != params.State {
		t.Errorf("callback %s: state, want %s", cb, params.State)
	}
	tok, err := r.exchange(cb.Query().Get("code"), params.Verifier)
	if err != nil {
		t.Fatalf("exchange with 社團服務's secret: %v", err)
	}
	claims := r.idClaims(t, tok, params.Nonce)
	if claims["sub"] != user.EUID || claims["preferred_username"] != username || !equalStrings(claims["service_groups"], []string{"admin"}) {
		t.Errorf("testuser04's ID token for 社團服務: sub %v, username %v, service_groups %v; want %s, %s, [admin]",
			claims["sub"], claims["preferred_username"], claims["service_groups"], user.EUID, username)
	}

	// staff02, assigned to nothing of 社團服務, is refused.
	refused := newAuthParams(t)
	refused.Extra = url.Values{"ui_locales": {"zh-Hant"}}
	q := newChrome(t)
	q.open(r.authURL(refused))
	q.fill("entity_number", number)
	q.fill("username", staff02.Username)
	q.fill("password", staff02.Password)
	q.press(T["sign_in"])
	if got := q.text("h1"); got != T["no_access_heading"] {
		t.Fatalf("staff02 at 社團服務: heading %q, want %q\n%s", got, T["no_access_heading"], q.where())
	}
	if got := q.text(`[role="alert"]`); got != T["error_no_access"] {
		t.Errorf("staff02 at 社團服務 is told %q, want %q", got, T["error_no_access"])
	}
	back := eval[string](q, `Array.from(document.querySelectorAll("a")).filter(a => a.textContent.trim() === `+
		jsString(T["no_access_back"])+`).map(a => a.href).join(" ")`)
	u, err := url.Parse(back)
	if err != nil || !strings.HasPrefix(back, social.RedirectURIs[0]+"?") {
		t.Fatalf("the way back (%q) is not one link to 社團服務's redirect URI\n%s", back, q.where())
	}
	if bq := u.Query(); bq.Get("error") != "access_denied" || bq.Get("state") != refused.State || bq.Has("code") {
		t.Errorf("the way back %s: want error=access_denied, state %s and no code", back, refused.State)
	}
	q.mu.Lock()
	docs := append([]string(nil), q.docs...)
	q.mu.Unlock()
	for _, d := range docs {
		if strings.HasPrefix(d, social.RedirectURIs[0]) {
			t.Errorf("staff02's browser was sent to 社團服務: %s", d)
		}
	}
}
