package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// TestBrowserDeskA11y is the accessibility tour (browser_a11y_test.go) of
// the desk's pages the other desk tours leave out, in zh-Hant, pt and en,
// at a desktop's width and a phone's, in one Chromium against one
// provider: the sign-in and its code step (each also refused), the
// activation (refused too) and its 安全驗證碼 step, the home page, the
// intake (refused when empty, and its answer), the QR approval (with and
// without a refusal) and its confirmation, the officers, an officer's
// confirmation page, the officer's own sign-ins, a refusal inside the desk
// and the desk's 404.
func TestBrowserDeskA11y(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	counter := w.officer(t, "tour.counter", storage.RoleCounter)
	sup := w.officer(t, "tour.sup", storage.RoleSupervisor)
	counterSession := deskSessionSecret(t, w, counter)
	supSession := deskSessionSecret(t, w, sup)
	person, _, secret := pendingPerson(t, idp, "staff02")
	typed := personShowsQR(t, idp, person, secret)

	c := newChrome(t)
	dir := screenshotDir(t)
	for i, lang := range templates.Languages {
		T := messages(t, lang)
		tr := &a11yTour{t: t, c: c, lang: lang, T: T, dir: dir}
		short := []string{"a", "b", "c", "d", "e"}[i]
		c.clearCookies()
		deskTourSignIn(t, w, tr, "tour.in"+short)
		deskTourActivate(t, w, tr, "tour.act"+short)

		c.clearCookies()
		c.setDeskCookie(w, counterSession)
		deskTourCounter(t, w, tr, "04-00070"+string(rune('1'+i)), typed)

		c.clearCookies()
		c.setDeskCookie(w, supSession)
		c.open(w.srv.URL + "/officers?lang=" + lang)
		tr.check(a11yPage{name: "desk officers", title: T["desk_auth_officers_title"]})
		c.open(w.srv.URL + "/officers/" + counter.Login + "/disable?lang=" + lang)
		tr.check(a11yPage{name: "desk officer disable", title: T["desk_auth_confirm_disable_title"]})
		c.open(w.srv.URL + "/officers/" + counter.Login + "/reset?lang=" + lang)
		tr.check(a11yPage{name: "desk officer reset", title: T["desk_auth_confirm_reset_title"]})
		c.open(w.srv.URL + "/me/history?lang=" + lang)
		tr.check(a11yPage{name: "desk history", title: T["desk_auth_history_title"]})
	}
}

// deskSessionSecret opens a desk session of o in the store, as the
// sign-in's last step does, and returns its cookie's value.
func deskSessionSecret(t *testing.T, w *deskWorld, o storage.Officer) string {
	t.Helper()
	secret, err := w.idp.app.redis.CreateDeskSession(context.Background(), &storage.DeskSession{
		OfficerID: o.ID, Factor: "totp", ExpiresAt: time.Now().Add(storage.DeskMaxAge)})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// officerWithCode creates a counter officer as the desk's form does: its
// activation code waits in the outbox.
func (w *deskWorld) officerWithCode(t *testing.T, login string) {
	t.Helper()
	ctx := context.Background()
	svc, err := newOfficers(w.idp.app.cfg, w.idp.app.pg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	boss, err := w.idp.app.pg.OfficerByLogin(ctx, demoOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, &boss, storage.Officer{Login: login, DisplayName: "Officer " + login, Role: storage.RoleCounter, Mobile: "66123456"}); err != nil {
		t.Fatal(err)
	}
}

// setDeskCookie gives the tab the desk session cookie secret.
func (c *chrome) setDeskCookie(w *deskWorld, secret string) {
	c.t.Helper()
	c.do("set the desk session cookie", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "idp_desk", Value: secret, URL: w.srv.URL + "/", Path: "/"})
		return err
	}))
}

// waitFocus waits until the page's autofocus has moved the focus off the
// body (a loaded machine is slow to apply it).
func (c *chrome) waitFocus() {
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end) && eval[bool](c, `document.activeElement === document.body`); {
		time.Sleep(50 * time.Millisecond)
	}
}

// deskTourSignIn: the sign-in, refused, and the code step, refused, of an
// officer activated (through HTTP) as login.
func deskTourSignIn(t *testing.T, w *deskWorld, tr *a11yTour, login string) {
	t.Helper()
	c, T := tr.c, tr.T
	w.officerWithCode(t, login)
	w.activate(t, w.browser(t), login)
	c.open(w.srv.URL + "/signin?lang=" + tr.lang)
	tr.check(a11yPage{name: "desk sign-in", title: T["desk_auth_signin_title"]})
	c.fill("login", "no.such.officer")
	c.fill("password", "not the passphrase")
	c.press(T["desk_auth_next"])
	c.waitFocus()
	tr.fieldErrors("desk sign-in refused", formError{invalid: []string{"login", "password"}, message: T["desk_auth_err_signin"], focus: "password"})
	tr.check(a11yPage{name: "desk sign-in refused", title: T["desk_auth_signin_title"], error: true})
	c.fill("login", login)
	c.fill("password", deskPassword)
	c.press(T["desk_auth_next"])
	if !strings.Contains(c.location(), "/signin/code") {
		t.Fatalf("%s: after the password: %s", tr.lang, c.where())
	}
	tr.check(a11yPage{name: "desk sign-in code", title: T["desk_auth_signin_title"]})
	c.fill("code", "000000")
	c.press(T["desk_auth_signin_submit"])
	c.waitFocus()
	tr.fieldErrors("desk sign-in code refused", formError{invalid: []string{"code"}, message: T["desk_auth_err_code"], focus: "code"})
	tr.check(a11yPage{name: "desk sign-in code refused", title: T["desk_auth_signin_title"], error: true})
}

// deskTourActivate: the activation, refused, then with the code sent to a
// new officer login, its 安全驗證碼 step.
func deskTourActivate(t *testing.T, w *deskWorld, tr *a11yTour, login string) {
	t.Helper()
	c, T := tr.c, tr.T
	w.officerWithCode(t, login)
	c.clearCookies()
	c.open(w.srv.URL + "/activate?lang=" + tr.lang)
	tr.check(a11yPage{name: "desk activate", title: T["desk_auth_activate_title"]})
	c.fill("login", login)
	c.fill("code", "AAAAA-AAAAA")
	c.fill("password", deskPassword)
	c.fill("confirm", deskPassword)
	c.press(T["desk_auth_next"])
	c.waitFocus()
	tr.fieldErrors("desk activate refused", formError{invalid: []string{"login", "code"}, message: T["desk_auth_err_activation"], focus: "code"})
	tr.check(a11yPage{name: "desk activate refused", title: T["desk_auth_activate_title"], error: true})
	c.fill("login", login)
	c.fill("code", w.officerCode(t, login))
	c.fill("password", deskPassword)
	c.fill("confirm", deskPassword)
	c.press(T["desk_auth_next"])
	if !strings.HasSuffix(c.location(), "/activate/totp") {
		t.Fatalf("%s: after the code: %s", tr.lang, c.where())
	}
	tr.check(a11yPage{name: "desk activate totp", title: T["desk_auth_activate_title"]})
}

// deskTourCounter: a counter officer's pages: home, the intake (refused,
// and opened for the entity number), the QR approval (refused, and the
// confirmation of the typed code), a supervisor's page refused and an
// unknown address.
func deskTourCounter(t *testing.T, w *deskWorld, tr *a11yTour, number, typed string) {
	t.Helper()
	c, T, lang := tr.c, tr.T, tr.lang
	c.open(w.srv.URL + "/?lang=" + lang)
	tr.check(a11yPage{name: "desk home", title: T["desk_home_title"]})

	c.open(w.srv.URL + "/intake?lang=" + lang)
	tr.check(a11yPage{name: "desk intake", title: T["desk_intake_title"]})
	c.press(T["desk_intake_submit"])
	c.waitFocus()
	tr.fieldErrors("desk intake refused", formError{invalid: []string{"entity_number", "entity_name_zh",
		"application_number", "account_mobile", "admin1_name_zh", "admin1_id_doc_number", "admin1_birth_date"}, focus: "entity_number"})
	tr.check(a11yPage{name: "desk intake refused", title: T["desk_intake_title"], error: true})
	c.open(w.srv.URL + "/intake?lang=" + lang)
	v := intakeValues(number)
	for name := range v {
		eval[chromedp.Void](c, `((f, n, v) => { const e = f.elements[n]; if (e) e.value = v; })(document.querySelector("form[action='/intake']"), `+
			jsString(name)+`, `+jsString(v.Get(name))+`)`)
	}
	c.press(T["desk_intake_submit"])
	if got := c.text("h1"); got != T["desk_intake_done_title"] {
		t.Fatalf("%s: the intake's answer: heading %q\n%s", lang, got, c.where())
	}
	tr.check(a11yPage{name: "desk intake done", title: T["desk_intake_done_title"]})

	c.open(w.srv.URL + "/approve?lang=" + lang)
	tr.check(a11yPage{name: "desk approve", title: T["desk_qr_title"]})
	c.fill("token", "0000-0000-0000")
	c.press(T["desk_qr_lookup"])
	c.waitFocus()
	tr.fieldErrors("desk approve refused", formError{invalid: []string{"token"}, message: T["toolsqr_error_unknown"], focus: "token"})
	tr.check(a11yPage{name: "desk approve refused", title: T["desk_qr_title"], error: true})
	c.fill("token", typed)
	c.press(T["desk_qr_lookup"])
	tr.check(a11yPage{name: "desk approve confirm", title: T["desk_qr_confirm_title"]})

	c.open(w.srv.URL + "/officers/tour.sup/disable?lang=" + url.QueryEscape(lang))
	tr.check(a11yPage{name: "desk refused", title: T["desk_error_heading"], error: true})
	c.open(w.srv.URL + "/no-such-page?lang=" + lang)
	tr.check(a11yPage{name: "desk 404", title: T["desk_error_heading"], error: true})
}
