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
