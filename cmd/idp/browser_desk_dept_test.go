package main

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// TestBrowserDeskDeptA11y: the desk's register and audit pages in Chromium,
// in each language, at a phone's width and a desktop's: no axe violation
// (WCAG 2.x A and AA), nothing wider than the viewport, no control under
// 44 × 44 px on the phone (the tour's rules, browser_a11y_test.go); and a
// refused form shown again with its marks.
func TestBrowserDeskDeptA11y(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	o := w.officer(t, "lei.sv", storage.RoleSupervisor)
	secret, err := idp.app.redis.CreateDeskSession(context.Background(), &storage.DeskSession{
		OfficerID: o.ID, Factor: "totp", ExpiresAt: time.Now().Add(storage.DeskMaxAge)})
	if err != nil {
		t.Fatal(err)
	}
	var eventID int64
	if err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT max(id) FROM audit_events`).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	c := newChrome(t)
	c.do("set the desk session cookie", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "idp_desk", Value: secret, URL: w.srv.URL, Path: "/"})
		return err
	}))
	paths := []string{"/", "/officers", "/departments", "/departments/OTHER", "/services", "/services/new", "/services/other", "/clients",
		"/clients/new", "/clients/other-web", "/audit", "/audit/" + strconv.FormatInt(eventID, 10)}
	for _, lang := range templates.Languages {
		tr := &a11yTour{t: t, c: c, lang: lang, T: messages(t, lang), dir: t.TempDir()}
		for _, p := range paths {
			c.open(w.srv.URL + p + "?lang=" + url.QueryEscape(lang))
			tr.deskCheck(p)
		}
		// A refused form, shown again: its marks, and the page as a whole.
		c.open(w.srv.URL + "/departments?lang=" + lang)
		c.fill("code", "bad code!")
		c.fill("name_zh", "交通事務局")
		c.press(tr.T["desk_dept_department_register_submit"])
		// autofocus is applied once the document is parsed: wait for it (a loaded machine is slow to).
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end) && eval[bool](c, `document.activeElement === document.body`); {
			time.Sleep(50 * time.Millisecond)
		}
		tr.fieldErrors("a refused department", formError{invalid: []string{"code"}, message: tr.T["desk_dept_err_field_code"], focus: "code"})
		tr.deskCheck("refused department")

		// A machine client registered in the browser: the page of its secret.
		c.open(w.srv.URL + "/clients/new?department=OTHER&lang=" + lang)
		if got := eval[bool](c, `document.querySelector('input[name=kind][value=machine]').checked`); !got {
			t.Errorf("%s: /clients/new?department= does not offer a machine client", lang)
		}
		c.press(tr.T["desk_dept_client_register_submit"])
		if got := c.text("#client_secret"); len(got) < 40 {
			t.Fatalf("%s: no secret shown: %q", lang, got)
		}
		tr.deskCheck("client secret")
	}
}

// deskCheck is the tour's check of a desk page (whose title is the desk's
// own): axe, overflow and target size at both widths.
func (tr *a11yTour) deskCheck(name string) {
	tr.t.Helper()
	c := tr.c
	for _, width := range []int64{1280, 390} {
		at := tr.lang + " " + name + " at " + strconv.FormatInt(width, 10) + " px"
		if width < 600 {
			c.do("emulate a phone", chromedp.EmulateViewport(width, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch))
		} else {
			c.do("emulate a desktop", chromedp.EmulateViewport(width, 900))
		}
		if got := eval[string](c, `document.documentElement.lang`); got != tr.lang {
			tr.t.Errorf("%s: <html lang=%q>", at, got)
		}
		for _, v := range tr.axe() {
			tr.t.Errorf("%s: axe %s", at, v)
		}
		if over := eval[string](c, overflowJS(width)); over != "" {
			tr.t.Errorf("%s: wider than the viewport: %s", at, over)
		}
		if width < 600 {
			for _, small := range eval[[]string](c, smallTargetsJS) {
				tr.t.Errorf("%s: control under 44×44 px: %s", at, small)
			}
		}
	}
}
