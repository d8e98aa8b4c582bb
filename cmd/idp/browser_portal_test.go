package main

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
)

// The portal's administration pages in a real browser: an admin registers a
// staff login and sends it a code, the person activates it in a browser of
// their own and signs in to an e-service; the entity account moves an admin
// to the list without admin rights.

// portalSignIn signs in at the portal's sign-in page (in zh-Hant) and waits
// for the profile.
func (c *chrome) portalSignIn(issuer, entity, username, pw string) {
	c.t.Helper()
	T := messages(c.t, "zh-Hant")
	c.open(issuer + "/account/login?lang=zh-Hant")
	c.fill("entity_number", entity)
	c.fill("username", username)
	c.fill("password", pw)
	c.press(T["sign_in"])
	if got := c.text("h1"); got != T["account_profile_title"] {
		c.t.Fatalf("portal sign-in of %s: heading %q, want the profile\n%s", username, got, c.where())
	}
}

// choose picks the option with this value in the select element with this
// id (the pages run no script, so no change event is needed).
func (c *chrome) choose(id, value string) {
	c.t.Helper()
	c.do("choose "+value+" in #"+id, chromedp.SetValue(chromedp.ID(id), value))
	if got := c.value(id); got != value {
		c.t.Fatalf("#%s has no option %q (value now %q)", id, value, got)
	}
}

// tick clicks the checkbox or radio button matched by a CSS selector.
func (c *chrome) tick(css string) {
	c.t.Helper()
	c.do("tick "+css, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

var staffPagePath = regexp.MustCompile(`/account/staff/(CU[0-9]{9})(\?|$)`)

// TestBrowserPortalStaff: an admin signs in to the portal, opens
// 工作人員登入號列表, registers a login through 新增工作人員登入號及關聯至實體
// (the form filled, 新增 pressed), lands on the login's page and presses
// 手機短訊 to send a new code; the person activates with that code in a
// browser of their own and signs in to the e-service.
func TestBrowserPortalStaff(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	admin := w.login("admin01")
	number := w.demo.EntityNumber
	T := messages(t, "zh-Hant")
	const (
		mobile   = "+85366770661"
		doc      = "1357913(5)"
		username = "chan661"
		password = "Chan-pass-0661 harbour"
	)

	a := newChrome(t)
	a.portalSignIn(w.issuer, number, admin.Username, admin.Password)
	a.follow(T["nav_staff"])
	if got := a.text("h1"); got != T["staff_list_title"] {
		t.Fatalf("staff list heading %q, want %q", got, T["staff_list_title"])
	}
	a.follow(T["staff_new_title"])
	a.fill("name_zh", "陳大明")
	a.fill("name_foreign", "CHAN, Tai Ming")
	a.choose("id_doc_type", storage.IDMacauPermanent)
	a.fill("id_doc_number", doc)
	a.fill("id_doc_issue_place", "澳門")
	a.fill("birth_date", "1991-03-04")
	a.fill("mobile", "6677 0661")
	a.choose("language", "zh-Hant")
	a.tick(`input[name="channel"][value="sms"]`)
	a.press(T["staff_new_submit"])

	m := staffPagePath.FindStringSubmatch(a.location())
	if m == nil {
		t.Fatalf("after 新增 the browser is not on a login's page\n%s", a.where())
	}
	euid := m[1]
	if got := a.text("#sl_euid"); got != euid {
		t.Errorf("the login's page shows EUID %q, want %q", got, euid)
	}
	if got := a.text(`[role="status"]`); got != T["staff_done_created_sms"] {
		t.Errorf("after 新增: notice %q, want %q", got, T["staff_done_created_sms"])
	}
	codeIn(t, w.message(t, mobile, 1)) // the code of the registration
	a.press(T["staff_channel_sms"])
	if got := a.text(`[role="status"]`); got != T["staff_done_sent_sms"] {
		t.Errorf("after 手機短訊: notice %q, want %q", got, T["staff_done_sent_sms"])
	}
	code := codeIn(t, w.message(t, mobile, 2))

	// The e-service admits the new login (the department's assignment, not
	// a page of ours).
	ctx := context.Background()
	sv, err := w.app.pg.ServiceByCode(ctx, demoService)
	if err != nil {
		t.Fatal(err)
	}
	if err := assignToService(ctx, w.app.pg, w.staffRef(t, euid).ID, sv.ID, "operator"); err != nil {
		t.Fatal(err)
	}

	// The person, in a browser of their own.
	p := newChrome(t)
	p.open(w.issuer + "/activate/staff?lang=zh-Hant")
	p.fill("entity_number", number)
	p.fill("code", code)
	p.fill("id_doc_number", doc)
	p.press(T["activate_next"])
	p.fill("username", username)
	p.fill("password", password)
	p.fill("password2", password)
	p.press(T["activate_submit"])
	if got := p.text("h1"); got != T["activate_done_heading"] {
		t.Fatalf("activation with the code of 手機短訊: heading %q\n%s", got, p.where())
	}

	web := w.client(demoWebClient)
	r := w.rp(web, web.RedirectURIs[0])
	params := newAuthParams(t)
	params.Extra = url.Values{"ui_locales": {"zh-Hant"}}
	p.open(r.authURL(params))
	p.fill("entity_number", number)
	p.fill("username", username)
	p.fill("password", password)
	cb, err := url.Parse(p.pressUntil(T["sign_in"], web.RedirectURIs[0]))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := r.exchange(cb.Query().Get("code"), params.Verifier)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if claims := r.idClaims(t, tok, params.Nonce); claims["sub"] != euid || claims["preferred_username"] != username {
		t.Errorf("ID token of the new login: %v", claims)
	}

	// The admin's page of the login now says it is activated.
	a.open(w.issuer + "/account/staff/" + euid)
	if got := a.text("#staff_activation_state"); got != T["staff_activated"] {
		t.Errorf("啟動狀況 after activation = %q, want %q", got, T["staff_activated"])
	}
}

// TestBrowserRemoveAdminRights: the entity account opens 移除管理員的權限,
// ticks an admin in the list of those with admin rights, presses 更新, and
// the admin moves to the other list.
func TestBrowserRemoveAdminRights(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin := idp.login("admin01")
	T := messages(t, "zh-Hant")
	// A second admin, so that removing admin01's rights leaves one.
	second := storage.StaffLogin{EntityID: idp.demoEntity(t).ID, NameZH: "張三", NameForeign: "CHEONG, Sam",
		IDDocType: storage.IDMacauPermanent, IDDocNumber: "1234567(8)", IDDocIssuePlace: "澳門",
		BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), Mobile: "+85366009901", Language: "zh-Hant", Admin: true}
	if err := idp.app.pg.CreateStaffLogin(context.Background(), operator(), &second); err != nil {
		t.Fatal(err)
	}
	acct := idp.demo.EntityAccount

	c := newChrome(t)
	c.portalSignIn(idp.issuer, idp.demo.EntityNumber, acct["username"], acct["password"])
	c.follow(T["nav_admins"])
	if got := c.text("h1"); got != T["admins_title"] {
		t.Fatalf("heading %q, want %q", got, T["admins_title"])
	}
	box := `#with input[name="remove"][value="` + admin.EUID + `"]`
	if n := eval[int](c, `document.querySelectorAll(`+jsString(box)+`).length`); n != 1 {
		t.Fatalf("admin01 is not ticked-able in the list with admin rights\n%s", c.where())
	}
	if strings.Contains(c.text("#without"), admin.EUID) {
		t.Fatal("admin01 is already in the list without admin rights")
	}
	c.tick(box)
	c.press(T["nav_update"])

	if got := c.text(`[role="status"]`); !strings.Contains(got, admin.EUID) {
		t.Errorf("the result %q does not name admin01", got)
	}
	if !strings.Contains(c.text("#without"), admin.EUID) {
		t.Errorf("admin01 is not in the list without admin rights: %q", c.text("#without"))
	}
	if n := eval[int](c, `document.querySelectorAll(`+jsString(`input[name="remove"][value="`+admin.EUID+`"]`)+`).length`); n != 0 {
		t.Error("admin01 is still in the list with admin rights")
	}
	if !strings.Contains(c.text("#with"), second.EUID) {
		t.Errorf("the other admin left the list with admin rights: %q", c.text("#with"))
	}
	if sl, err := idp.app.pg.StaffLoginByEUID(context.Background(), admin.EUID); err != nil || sl.Admin {
		t.Errorf("admin01 after the removal: admin=%v, %v", sl.Admin, err)
	}
}
