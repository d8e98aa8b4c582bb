package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
)

// TestBrowserDeskIntake is the counter's onboarding in a real browser: an
// officer at the desk fills in the intake, adds a second admin with the
// form's own button (no script), and opens the entity; the activation
// codes arrive by SMS; the entity account and then the new admin activate
// on the public activation pages, and the admin signs in at the portal,
// whose profile shows the EUID the desk's answer gave.
func TestBrowserDeskIntake(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	desk := w.startDesk(t)
	officer := desk.officer(t, "browser.counter", storage.RoleCounter)
	c := newChrome(t)
	c.deskSession(desk, desk.signedIn(t, officer))
	T := messages(t, "zh-Hant")

	const number = "04-000601"
	c.open(desk.srv.URL + "/intake?lang=zh-Hant")
	if got := c.text("h1"); got != T["desk_intake_title"] {
		t.Fatalf("the intake's heading %q, want %q\n%s", got, T["desk_intake_title"], c.where())
	}
	v := intakeValues(number)
	for _, f := range []string{"entity_number", "entity_name_zh", "entity_name_pt", "application_number", "account_mobile",
		"admin1_name_zh", "admin1_name_foreign", "admin1_id_doc_number", "admin1_id_doc_issue_place", "admin1_birth_date", "admin1_mobile"} {
		c.fill(f, v.Get(f))
	}
	c.press(T["desk_intake_add_admin"])
	if got := c.value("admin1_id_doc_number"); got != v.Get("admin1_id_doc_number") {
		t.Fatalf("after adding an admin, the first admin's ID number is %q\n%s", got, c.where())
	}
	if got := eval[string](c, `document.activeElement ? document.activeElement.id : ""`); got != "admin2_name_zh" {
		t.Errorf("after adding an admin the focus is on %q, want the new admin's first field", got)
	}
	c.fill("admin2_name_zh", "第二位")
	c.fill("admin2_id_doc_number", "7654321(0)")
	c.fill("admin2_birth_date", "1979-11-30")
	c.fill("admin2_mobile", "66300601")
	c.press(T["desk_intake_submit"])
	if got := c.text("h1"); got != T["desk_intake_done_title"] {
		t.Fatalf("after opening: heading %q, want %q\n%s", got, T["desk_intake_done_title"], c.where())
	}
	euids := strings.Fields(eval[string](c, `Array.from(document.querySelectorAll("#admins td.euid")).map(e => e.textContent).join(" ")`))
	if len(euids) != 2 || !strings.HasPrefix(euids[0], "CU") {
		t.Fatalf("the answer's EUIDs: %v\n%s", euids, c.where())
	}

	// The codes, from the SMS the holders receive.
	ownerCode := codeIn(t, w.message(t, "+85366100601", 1))
	adminSMS := w.message(t, "+85366200601", 1)
	adminCode := codeIn(t, adminSMS)
	if body := c.text("body"); strings.Contains(body, ownerCode) || strings.Contains(body, adminCode) {
		t.Fatal("the desk's answer shows an activation code")
	}

	c.activateAndSignIn(w, number, v.Get("application_number"), ownerCode, adminSMS.Text, v.Get("admin1_id_doc_number"))
	if got := c.text("#account_euid"); got != euids[0] {
		t.Errorf("profile EUID %q, want %q\n%s", got, euids[0], c.where())
	}
}

// activateAndSignIn activates the entity account of number (啟動實體使用者帳戶)
// with its application number and code, then the admin (啟動工作人員登入號
// （管理員）) from the address and with the code of its SMS, and signs the
// admin in at the portal, from the activation's done page.
func (c *chrome) activateAndSignIn(w *actIDP, number, applicationNumber, ownerCode, adminSMS, adminID string) {
	t := c.t
	t.Helper()
	T := messages(t, "zh-Hant")
	c.open(w.issuer + "/activate/entity?lang=zh-Hant")
	c.fill("application_number", applicationNumber)
	c.fill("code", ownerCode)
	c.fill("entity_number", number)
	c.press(T["activate_next"])
	c.fill("username", "counter.owner")
	c.fill("password", ownerPassword)
	c.fill("password2", ownerPassword)
	c.press(T["activate_submit"])
	if got := c.text("h1"); got != T["activate_done_heading"] {
		t.Fatalf("entity account activation: heading %q\n%s", got, c.where())
	}
	c.open(urlInText.FindString(adminSMS))
	c.fill("entity_number", number)
	c.fill("code", codeInText.FindString(adminSMS))
	c.fill("id_doc_number", adminID)
	c.press(T["activate_next"])
	c.fill("username", "counter.admin")
	c.fill("password", adminPassword)
	c.fill("password2", adminPassword)
	c.press(T["activate_submit"])
	if got := c.text("h1"); got != T["activate_done_heading"] {
		t.Fatalf("admin activation: heading %q\n%s", got, c.where())
	}
	c.follow(T["activate_sign_in"])
	c.fill("entity_number", number)
	c.fill("username", "counter.admin")
	c.fill("password", adminPassword)
	c.press(T["sign_in"])
}

// deskSession gives the tab the desk session cookie of b (a desk browser
// signed in by deskWorld.signedIn), as the desk's sign-in sets it.
func (c *chrome) deskSession(desk *deskWorld, b *deskBrowser) {
	c.t.Helper()
	u, _ := url.Parse(desk.srv.URL)
	secret := ""
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == "idp_desk" {
			secret = ck.Value
		}
	}
	if secret == "" {
		c.t.Fatal("the desk browser has no desk session cookie")
	}
	httpOnly := true
	c.do("set the desk session cookie", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{Name: "idp_desk", Value: secret, URL: desk.srv.URL + "/",
			Path: "/", HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteStrict})
		return err
	}))
}
