package main

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// TestBrowserDeskEntities is the accessibility tour (browser_a11y_test.go)
// of the desk's pages of entities, for a supervisor, in zh-Hant, pt and en:
// the search with its results and refused, an entity's page with every
// login's acts unfolded, and a staff login's record.
func TestBrowserDeskEntities(t *testing.T) {
	t.Parallel()
	w := startDeskEntities(t)
	sup := w.officer(t, "lam.sup", storage.RoleSupervisor)
	secret, err := w.idp.app.redis.CreateDeskSession(context.Background(), &storage.DeskSession{
		OfficerID: sup.ID, Factor: "totp", ExpiresAt: time.Now().Add(storage.DeskMaxAge)})
	if err != nil {
		t.Fatal(err)
	}
	w.lock(t) // the unlock form shows too
	c := newChrome(t)
	c.do("set the desk session", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "idp_desk", Value: secret, URL: w.srv.URL})
		return err
	}))
	dir := screenshotDir(t)
	admin := w.idp.login("admin01")
	for _, lang := range templates.Languages {
		T := messages(t, lang)
		tr := &a11yTour{t: t, c: c, lang: lang, T: T, dir: dir}
		c.open(w.srv.URL + "/entities?" + url.Values{"lang": {lang}, "q": {"1000"}}.Encode())
		tr.check(a11yPage{name: "desk search", title: T["desk_entities_title"]})
		c.open(w.srv.URL + "/entities?" + url.Values{"lang": {lang}, "q": {"x"}}.Encode())
		tr.check(a11yPage{name: "desk search refused", title: T["desk_entities_title"], error: true})
		c.open(w.srv.URL + entitiesPath(w.number) + "?lang=" + lang)
		eval[chromedp.Void](c, `document.querySelectorAll("details.acts").forEach(d => d.open = true)`)
		tr.check(a11yPage{name: "desk entity", title: T["desk_entities_page_title"] + " " + w.number})
		c.press(T["desk_entities_page_open_record"]) // the first login's: admin01's
		tr.check(a11yPage{name: "desk record", title: T["desk_entities_record_title"] + " " + admin.EUID})
	}
}
