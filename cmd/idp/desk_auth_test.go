package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

const deskPassword = "counter desk passphrase"

var (
	officerCodeRE = regexp.MustCompile(`[2-9A-Z]{5}-[2-9A-Z]{5}`)
	totpSecretRE  = regexp.MustCompile(`id="totp_secret">([A-Z2-7]+)<`)
)

// officerCode is the activation code of the officer's latest message in
// the outbox (no worker runs: the sealed body waits there).
func (w *deskWorld) officerCode(t *testing.T, login string) string {
	t.Helper()
	var m storage.OutboxMessage
	err := w.idp.app.pg.Pool().QueryRow(context.Background(), `SELECT o.channel, o.recipient, o.body_sealed FROM outbox o
		JOIN officer_codes c ON c.id = o.officer_code_id JOIN officers f ON f.id = c.officer_id
		WHERE f.login = $1 ORDER BY o.id DESC LIMIT 1`, login).Scan(&m.Channel, &m.Recipient, &m.Body)
	if err != nil {
		t.Fatalf("the code of %s: %v", login, err)
	}
	sealer, err := outboxSealer(w.idp.app.cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sealer.Open(m)
	if err != nil {
		t.Fatal(err)
	}
	return officerCodeRE.FindString(c.Text)
}

// deskTOTP is the code of secret at at.
func deskTOTP(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// activate takes b through the activation of login with its code: the
// password, the 安全驗證碼 shown, its first code. It returns the secret.
func (w *deskWorld) activate(t *testing.T, b *deskBrowser, login string) string {
	t.Helper()
	p := b.submit(activatePathT, activatePathT, url.Values{"login": {login}, "code": {w.officerCode(t, login)},
		"password": {deskPassword}, "confirm": {deskPassword}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/activate/totp" {
		t.Fatalf("activation's first step: %d %q %.600s", p.StatusCode, p.Header.Get("Location"), p.Body)
	}
	p = b.get("/activate/totp")
	secret := submatch(totpSecretRE, p.Body)
	if p.StatusCode != http.StatusOK || secret == "" || !strings.Contains(p.Body, "<svg") {
		t.Fatalf("the 安全驗證碼 to enrol: %d %.600s", p.StatusCode, p.Body)
	}
	if p := b.submit("/activate/totp", "/activate/totp", url.Values{"code": {"000000"}}); p.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(p.Body, "totp_secret") {
		t.Errorf("a wrong first code: %d", p.StatusCode)
	}
	p = b.submit("/activate/totp", "/activate/totp", url.Values{"code": {deskTOTP(t, secret, time.Now())}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("the first code: %d %q %.600s", p.StatusCode, p.Header.Get("Location"), p.Body)
	}
	return secret
}

const activatePathT = "/activate"

// TestDeskActivationSignIn: a supervisor creates an officer at the desk;
// the officer activates with the code sent to it, is signed in, signs out,
// and signs in again with its password and a code of its 安全驗證碼; the
// password alone opens nothing; failures say nothing of the login name;
// its history shows every attempt.
func TestDeskActivationSignIn(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	sup := w.signedIn(t, w.officer(t, "lei.kf", storage.RoleSupervisor))
	p := sup.submit("/officers", "/officers", url.Values{"login": {"chan.tm"}, "display_name": {"陳大文"}, "role": {"counter"}, "mobile": {"66123456"}})
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/officers?done=create") {
		t.Fatalf("create at the desk: %d %q %.400s", p.StatusCode, p.Header.Get("Location"), p.Body)
	}
	if p := sup.get(p.Header.Get("Location")); !strings.Contains(p.Body, "chan.tm") || !strings.Contains(p.Body, `role="status"`) {
		t.Errorf("the list after create: %.600s", p.Body)
	}

	b := w.browser(t)
	secret := w.activate(t, b, "chan.tm")
	if home := b.get("/"); home.StatusCode != http.StatusOK || !strings.Contains(home.Body, "陳大文") {
		t.Fatalf("home after activation: %d", home.StatusCode)
	}
	if p := b.submit("/", "/signout", nil); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", p.StatusCode)
	}

	// Failures: the same answer whether the login name exists or not.
	wrong := b.submit("/signin", "/signin", url.Values{"login": {"chan.tm"}, "password": {"not the password"}})
	unknown := b.submit("/signin", "/signin", url.Values{"login": {"nobody"}, "password": {deskPassword}})
	if wrong.StatusCode != http.StatusUnauthorized || unknown.StatusCode != http.StatusUnauthorized ||
		deskAlert(wrong.Body) == "" || deskAlert(wrong.Body) != deskAlert(unknown.Body) {
		t.Errorf("wrong password %d %q, unknown login %d %q", wrong.StatusCode, deskAlert(wrong.Body), unknown.StatusCode, deskAlert(unknown.Body))
	}

	p = b.submit("/signin?next=%2Fme%2Fhistory", "/signin", url.Values{"login": {"Chan.TM"}, "password": {deskPassword}, "next": {"/me/history"}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/signin/code?next=%2Fme%2Fhistory" {
		t.Fatalf("the password: %d %q %.400s", p.StatusCode, p.Header.Get("Location"), p.Body)
	}
	// The password alone signs nobody in.
	if p := b.get("/"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("the desk after the password alone: %d", p.StatusCode)
	}
	if p := b.submit("/signin/code?next=%2Fme%2Fhistory", "/signin/code", url.Values{"code": {"000000"}, "next": {"/me/history"}}); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("a wrong code: %d", p.StatusCode)
	}
	// The activation spent this step's code: the next step's is accepted.
	code := deskTOTP(t, secret, time.Now().Add(30*time.Second))
	p = b.submit("/signin/code?next=%2Fme%2Fhistory", "/signin/code", url.Values{"code": {code}, "next": {"/me/history"}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/me/history" {
		t.Fatalf("the code: %d %q %.400s", p.StatusCode, p.Header.Get("Location"), p.Body)
	}
	hist := b.get("/me/history")
	tr, err := templates.Catalogue(templates.Languages[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"desk_auth_outcome_success", "desk_auth_outcome_wrong_password", "desk_auth_outcome_wrong_code"} {
		if !strings.Contains(hist.Body, tr[k]) {
			t.Errorf("the history lacks %s: %.800s", k, hist.Body)
		}
	}
	if !strings.Contains(hist.Body, `href="/me/history" aria-current="page"`) {
		t.Errorf("the history's nav entry is not current")
	}

	// The same code again, from another browser with the password: a replay.
	other := w.browser(t)
	other.submit("/signin", "/signin", url.Values{"login": {"chan.tm"}, "password": {deskPassword}})
	if p := other.submit("/signin/code", "/signin/code", url.Values{"code": {code}}); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("a replayed code: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
}

var alertRE = regexp.MustCompile(`role="alert" id="form_error">([^<]*)<`)

func deskAlert(body string) string { return submatch(alertRE, body) }

// deskRoute is a route of the officers' pages; manage: a supervisor's.
type deskRoute struct {
	method, path string
	form         url.Values
	manage       bool
}

var officerRoutes = []deskRoute{
	{http.MethodGet, "/officers", nil, false},
	{http.MethodGet, "/me/history", nil, false},
	{http.MethodPost, "/officers", url.Values{"login": {"x"}}, true}, // invalid: refused after admission
	{http.MethodGet, "/officers/target/disable", nil, true},          // the confirmation
	{http.MethodGet, "/officers/target/reset", nil, true},
	{http.MethodPost, "/officers/nobody/disable", nil, true},
	{http.MethodPost, "/officers/nobody/reset", nil, true},
	{http.MethodPost, "/officers/nobody/enable", nil, true},
	{http.MethodPost, "/officers/nobody/role", url.Values{"role": {"supervisor"}}, true},
}

// deskWho is a browser at the desk and the status it gets for a read and
// for a supervisor's change (0: admitted, whatever the page then says).
type deskWho struct {
	name         string
	browser      func() *deskBrowser
	read, manage int
}

// checkDeskRoute requests r as c, a POST with the CSRF token of a page
// when c has one, and checks the status.
func checkDeskRoute(t *testing.T, c deskWho, r deskRoute) {
	t.Helper()
	b := c.browser()
	var p page
	switch {
	case r.method == http.MethodGet:
		p = b.get(r.path)
	case c.read == http.StatusForbidden:
		// Its first request ends its session: no page to take a token from.
		p = b.post(r.path, r.form)
	default:
		form := url.Values{}
		for k, v := range r.form {
			form[k] = v
		}
		p = b.submit("/me/history", r.path, form)
	}
	want := c.read
	if r.manage {
		want = c.manage
	}
	switch {
	case want == 0 && (p.StatusCode == http.StatusForbidden || p.StatusCode == http.StatusSeeOther || p.StatusCode >= 500):
		t.Errorf("%s, %s %s: %d, want admitted", c.name, r.method, r.path, p.StatusCode)
	case want != 0 && p.StatusCode != want:
		t.Errorf("%s, %s %s: %d, want %d", c.name, r.method, r.path, p.StatusCode, want)
	case want == http.StatusSeeOther && !strings.HasPrefix(p.Header.Get("Location"), "/signin"):
		t.Errorf("%s, %s %s: to %q", c.name, r.method, r.path, p.Header.Get("Location"))
	}
}

// TestDeskOfficersRoles: every officers' route for a counter officer, a
// supervisor, a disabled officer, no session and a staff login's portal
// session; a POST without the session's CSRF token is refused.
func TestDeskOfficersRoles(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	counter := w.officer(t, "chan.tm", storage.RoleCounter)
	supervisor := w.officer(t, "lei.kf", storage.RoleSupervisor)
	gone := w.officer(t, "ho.mk", storage.RoleCounter)
	w.officer(t, "target", storage.RoleCounter)
	boss, _ := idp.app.pg.OfficerByLogin(context.Background(), demoOfficer)
	staffCookies := func() *deskBrowser {
		b := w.browser(t)
		staff := idp.browser()
		acct := idp.demo.EntityAccount
		staff.accountSignedIn(idp.demo.EntityNumber, acct["username"], acct["password"])
		u, _ := url.Parse(w.srv.URL)
		for _, ck := range staff.c.Jar.Cookies(mustParse(t, idp.issuer)) {
			b.c.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
		}
		return b
	}()
	disabledSession := func() *deskBrowser { return w.signedIn(t, gone) }
	if _, err := idp.app.pg.DisableOfficer(context.Background(), boss, gone.Login); err != nil {
		t.Fatal(err)
	}
	for _, c := range []deskWho{
		{"no session", func() *deskBrowser { return w.browser(t) }, http.StatusSeeOther, http.StatusSeeOther},
		{"a staff login's portal session", func() *deskBrowser { return staffCookies }, http.StatusSeeOther, http.StatusSeeOther},
		{"a disabled officer", disabledSession, http.StatusForbidden, http.StatusForbidden},
		{"a counter officer", func() *deskBrowser { return w.signedIn(t, counter) }, http.StatusOK, http.StatusForbidden},
		{"a supervisor", func() *deskBrowser { return w.signedIn(t, supervisor) }, http.StatusOK, 0},
	} {
		for _, r := range officerRoutes {
			checkDeskRoute(t, c, r)
		}
	}
	// A supervisor's POST without the token, or with another session's.
	sb := w.signedIn(t, supervisor)
	other := w.signedIn(t, supervisor)
	foreign := submatch(csrfField, other.get("/officers").Body)
	for name, form := range map[string]url.Values{"no token": {}, "another session's token": {"csrf_token": {foreign}}} {
		if p := sb.post("/officers/target/disable", form); p.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d", name, p.StatusCode)
		}
	}
	if o, _ := idp.app.pg.OfficerByLogin(context.Background(), "target"); o.Status != storage.OfficerActive {
		t.Errorf("a forged POST disabled the officer")
	}
	// The supervisor sees the forms, the counter officer only the list.
	if p := sb.get("/officers"); !strings.Contains(p.Body, `href="/officers/target/disable"`) || !strings.Contains(p.Body, `action="/officers"`) {
		t.Errorf("the supervisor's list lacks the forms")
	}
	if p := sb.get("/officers/Target/reset"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `action="/officers/target/reset"`) {
		t.Errorf("the reset's confirmation: %d", p.StatusCode)
	}
	if p := sb.get("/officers/nobody/reset"); p.StatusCode != http.StatusNotFound {
		t.Errorf("the confirmation of nobody's reset: %d", p.StatusCode)
	}
	if p := w.signedIn(t, counter).get("/officers"); strings.Contains(p.Body, `action="/officers/`) || !strings.Contains(p.Body, "target") {
		t.Errorf("the counter officer's list shows forms or lacks officers")
	}
}

// TestDeskOfficerChanges: a supervisor disables, enables, resets and
// changes the role of an officer at the desk; a disabled or reset
// officer's desk sessions end at once and stay ended; each change is
// audited with the supervisor.
func TestDeskOfficerChanges(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	sup := w.signedIn(t, w.officer(t, "lei.kf", storage.RoleSupervisor))
	sup.submit("/officers", "/officers", url.Values{"login": {"chan.tm"}, "display_name": {"陳大文"}, "role": {"counter"}, "mobile": {"66123456"}})
	b := w.browser(t)
	secret := w.activate(t, b, "chan.tm")
	change := func(what string, form url.Values) page {
		t.Helper()
		from := "/officers"
		if what == "disable" || what == "reset" {
			from += "/chan.tm/" + what // asked again first
		}
		p := sup.submit(from, "/officers/chan.tm/"+what, form)
		if p.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %.400s", what, p.StatusCode, p.Body)
		}
		return p
	}
	change("disable", nil)
	if p := b.get("/"); p.StatusCode != http.StatusForbidden {
		t.Errorf("a disabled officer's session: %d", p.StatusCode)
	}
	change("enable", nil)
	if p := b.get("/"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("a session of before the disable, after enable: %d", p.StatusCode)
	}
	b = w.browser(t)
	w.signInAt(t, b, "chan.tm", secret, time.Now().Add(30*time.Second))
	if p := b.get("/"); p.StatusCode != http.StatusOK {
		t.Fatalf("signed in again after enable: %d", p.StatusCode)
	}
	change("reset", nil)
	if p := b.get("/"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/signin" {
		t.Errorf("a reset officer's session: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	if p := b.submit("/signin", "/signin", url.Values{"login": {"chan.tm"}, "password": {deskPassword}}); p.StatusCode != http.StatusUnauthorized {
		t.Errorf("a reset officer's old password: %d", p.StatusCode)
	}
	// The new code activates again.
	w.activate(t, b, "chan.tm")
	change("role", url.Values{"role": {"supervisor"}})
	if p := b.get("/officers"); !strings.Contains(p.Body, `href="/officers/lei.kf/disable"`) {
		t.Errorf("the promoted officer does not see the supervisor's forms")
	}
	// Self-reset is refused in the page.
	if p := sup.submit("/officers", "/officers/lei.kf/reset", nil); p.StatusCode != http.StatusForbidden || deskAlert(p.Body) == "" {
		t.Errorf("a self-reset: %d", p.StatusCode)
	}
	var n int
	if err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE actor_id = 'lei.kf'
		AND action IN ('officer.create', 'officer.disable', 'officer.enable', 'officer.reset', 'officer.role')
		AND details->>'desk_session' <> '' AND ip <> ''`).Scan(&n); err != nil || n != 5 {
		t.Errorf("%d changes audited with the supervisor, its desk session and address, %v; want 5", n, err)
	}
}

// signInAt signs b in as login with its password and the code of secret
// at at.
func (w *deskWorld) signInAt(t *testing.T, b *deskBrowser, login, secret string, at time.Time) {
	t.Helper()
	if p := b.submit("/signin", "/signin", url.Values{"login": {login}, "password": {deskPassword}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("password: %d %.400s", p.StatusCode, p.Body)
	}
	if p := b.submit("/signin/code", "/signin/code", url.Values{"code": {deskTOTP(t, secret, at)}}); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("code: %d %.400s", p.StatusCode, p.Body)
	}
}

// TestOfficerCommands: idp officer create sends a code; reset, enable and
// role act as the named supervisor, with the rule book's refusals.
func TestOfficerCommands(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	w := idp.startDesk(t)
	ctx := context.Background()
	run := func(fn func([]string) error, args ...string) error {
		_, err := captureStdout(t, func() error { return fn(args) })
		return err
	}
	if err := run(officerCreate, "--name", "chan.tm", "--display-name", "陳大文", "--role", "counter", "--mobile", "66123456"); err != nil {
		t.Fatal(err)
	}
	first := w.officerCode(t, "chan.tm")
	if first == "" {
		t.Fatal("no code sent at create")
	}
	if err := run(officerReset, "--name", "chan.tm"); err != nil {
		t.Fatal(err)
	}
	if second := w.officerCode(t, "chan.tm"); second == "" || second == first {
		t.Errorf("reset sent %q after %q", second, first)
	}
	if err := run(officerRole, "--name", "chan.tm", "--role", "supervisor"); err != nil {
		t.Fatal(err)
	}
	if err := run(officerDisable, "--name", "chan.tm"); err != nil {
		t.Fatal(err)
	}
	if err := run(officerEnable, "--name", "chan.tm"); err != nil {
		t.Fatal(err)
	}
	o, err := idp.app.pg.OfficerByLogin(ctx, "chan.tm")
	if err != nil || o.Role != storage.RoleSupervisor || o.Status != storage.OfficerActive {
		t.Fatalf("chan.tm = %+v, %v", o, err)
	}
	idp.refused(t, "a self-reset", "cannot reset itself", func() error { return officerReset([]string{"--name", demoOfficer}) })
	idp.refused(t, "a role unknown", "counter or supervisor", func() error {
		return officerRole([]string{"--name", "chan.tm", "--role", "boss"})
	})
	idp.refused(t, "enable an active officer", "active already", func() error { return officerEnable([]string{"--name", "chan.tm"}) })
	if err := run(officerRole, "--name", "chan.tm", "--role", "counter"); err != nil {
		t.Fatal(err)
	}
	idp.refused(t, "a counter officer resets", "only a supervisor", func() error {
		return officerReset([]string{"--officer", "chan.tm", "--name", demoOfficer})
	})
}
