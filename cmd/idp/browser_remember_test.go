package main

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserRememberedEntityNumber is 記住此實體編號 in a real browser: the
// number typed, the box ticked, 登入; signed out at the e-service's request;
// back at the sign-in, the number is offered with its entity's name, and
// pressing it fills the field (the box ticked, the focus on the username),
// so that the username and password complete the sign-in.
func TestBrowserRememberedEntityNumber(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin := idp.login("admin01")
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	T := messages(t, "zh-Hant")
	number := idp.demo.EntityNumber
	auth := func() string { return r.authURL(withExtra(newAuthParams(t), "ui_locales", "zh-Hant")) }

	c := newChrome(t)
	c.open(auth())
	if n := c.count(`button[form="pick_entity"]`); n != 0 {
		t.Fatalf("a new browser is offered %d numbers", n)
	}
	if eval[bool](c, `document.getElementById("remember_entity").checked`) {
		t.Fatal("記住此實體編號 is ticked before anyone ticked it")
	}
	signInRemembering(c, T, number, admin.Username, admin.Password, web.RedirectURIs[0])

	endSession := r.discovery(t, "end_session_endpoint")
	c.open(endSession + "?" + url.Values{"client_id": {web.ClientID}, "post_logout_redirect_uri": {web.PostLogoutRedirectURIs[0]}, "ui_locales": {"zh-Hant"}}.Encode())
	c.pressUntil(T["logout_confirm"], web.PostLogoutRedirectURIs[0])

	c.open(auth())
	if got := c.text("h1"); got != T["sign_in_title"] {
		t.Fatalf("after signing out, the authorization URL shows %q, want the sign-in form", got)
	}
	if n := c.count(`button[form="pick_entity"]`); n != 1 {
		t.Fatalf("offered %d numbers, want 1", n)
	}
	if got := c.value("entity_number"); got != "" {
		t.Fatalf("the field holds %q before a number is picked", got)
	}
	c.pickRemembered(number+" 公司19", number)
	if !eval[bool](c, `document.getElementById("remember_entity").checked`) {
		t.Error("a picked number's box is not ticked: signing in would forget it")
	}
	if got := eval[string](c, `document.activeElement.id`); got != "username" {
		t.Errorf("the focus is on %q after picking, want the username", got)
	}
	c.fill("username", admin.Username)
	c.fill("password", admin.Password)
	c.pressUntil(T["sign_in"], web.RedirectURIs[0])
}

// signInRemembering signs in on the sign-in page the browser shows with
// 記住此實體編號 ticked, and waits for the e-service's callback.
func signInRemembering(c *chrome, T map[string]string, entity, username, pw, callback string) {
	c.t.Helper()
	c.fill("entity_number", entity)
	c.fill("username", username)
	c.fill("password", pw)
	c.tick("#remember_entity")
	c.pressUntil(T["sign_in"], callback)
}

// pickRemembered presses the remembered number's button labelled label and
// waits for the sign-in form it loads, its field filled with number. The
// page it replaces is marked first, so that only the new document answers
// (the old one may show the number too, and a check that reads it while
// the new one loads finds no document).
func (c *chrome) pickRemembered(label, number string) {
	c.t.Helper()
	eval[bool](c, `window.__replaced = true`)
	c.do("pick "+label, chromedp.Click(buttonLabelled(label), chromedp.NodeVisible))
	expr := `(() => { const e = document.getElementById("entity_number"); return !window.__replaced && document.readyState === "complete" && !!e && e.value === ` + jsString(number) + `; })()`
	// The new page must answer twice, 100 ms apart: right after the
	// navigation a check may still reach the document being replaced.
	settled := 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		// A page being replaced cannot answer: ask again.
		ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
		filled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if settled++; err != nil || !filled {
			settled = 0
		}
		if settled == 2 {
			return
		}
	}
	c.t.Fatalf("picking %q did not fill in %s\n%s", label, number, c.where())
}
