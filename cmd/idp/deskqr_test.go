package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/storage"
)

// The in-person approval of a 安全驗證碼 by QR code: the person's portal
// page shows it after the app's code, and the desk's /approve resolves it,
// shows the document (masked, then whole and audited) and approves with
// the document checked; through HTTP on real stores.

// pendingPerson makes the seeded login username a passport holder with a
// pending 安全驗證碼 (confirmed with the code of the previous step, so that
// now's and the next step's are unused) and returns its signed-in portal
// browser, the login and the secret.
func pendingPerson(t *testing.T, idp *testIDP, username string) (*browser, storage.StaffLogin, string) {
	t.Helper()
	l := idp.login(username)
	ctx := context.Background()
	if _, err := idp.app.pg.Pool().Exec(ctx, `UPDATE staff_logins SET id_doc_type = 'passport', id_doc_number = $2 WHERE euid = $1`,
		l.EUID, "K"+strings.TrimPrefix(l.EUID, "CU")); err != nil {
		t.Fatal(err)
	}
	b := idp.browser()
	b.accountSignedIn(idp.demo.EntityNumber, l.Username, l.Password)
	_, secret := b.beginTOTP()
	if p := b.confirmTOTP(totpCode(t, secret, time.Now().Add(-30*time.Second))); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d %.500s", p.StatusCode, p.Body)
	}
	sl, err := idp.app.pg.StaffLoginByEUID(ctx, l.EUID)
	if err != nil {
		t.Fatal(err)
	}
	return b, sl, secret
}

var (
	approvalCodeShown = regexp.MustCompile(`<code id="approval_code">([0-9A-Z-]+)</code>`)
	approvalQRShown   = regexp.MustCompile(`<figure class="qr" id="approval_qr">\s*<svg[^>]*viewBox="0 0 (\d+) (\d+)"[^>]*>.*?<path fill="#000" d="([^"]*)"/></svg>`)
	qrRun             = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-\d+z`)
	tokenField        = regexp.MustCompile(`name="token" value="(DA1\.[^"]+)"`)
)

// showApprovalQR types the app's code of now on the person's 安全驗證碼
// page and returns the page with the approval QR code.
func showApprovalQR(t *testing.T, b *browser, secret string) page {
	t.Helper()
	p := b.toolsPOST("/account/tools/totp", "approval", url.Values{"code": {totpCode(t, secret, time.Now())}})
	if p.StatusCode != http.StatusOK || submatch(approvalCodeShown, p.Body) == "" {
		t.Fatalf("approval QR code: %d %.1500s", p.StatusCode, p.Body)
	}
	return p
}

// qrModules reads the approval QR code drawn on a page back into its
// modules (true: dark), the quiet zone included.
func qrModules(t *testing.T, body string) [][]bool {
	t.Helper()
	m := approvalQRShown.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no approval QR code drawn: %.1500s", body)
	}
	n, _ := strconv.Atoi(m[1])
	grid := make([][]bool, n)
	for i := range grid {
		grid[i] = make([]bool, n)
	}
	for _, r := range qrRun.FindAllStringSubmatch(m[3], -1) {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		run, _ := strconv.Atoi(r[3])
		for i := range run {
			grid[y][x+i] = true
		}
	}
	return grid
}

// TestDeskApproveQR: the person's page shows the approval QR code only
// after the app's right code; at the desk a counter officer and a
// supervisor open /approve (a disabled officer and a staff session do
// not), look the typed code up, see the document masked and then whole
// (audited), are refused a document that is not the registration's and
// approve with the right one; the tool is active, the audit names the
// officer and the document, the code works once; the reset and the
// passkeys' forms act by the rule book.
func TestDeskApproveQR(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	person, sl, secret := pendingPerson(t, idp, "staff02")
	typed := personShowsQR(t, idp, person, secret)
	disabled := deskRefusals(t, w, person, typed)

	counter := w.officer(t, "chan.tm", storage.RoleCounter)
	cb := w.signedIn(t, counter)
	token, csrf := deskResolves(t, idp, cb, counter, sl, typed)
	deskApproves(t, idp, cb, counter, sl, token, csrf)
	// The person's next step-up takes a code of the app.
	stepUpWithCode(t, idp, idp.login("staff02"), secret)
	deskToolsForms(t, idp, cb, disabled, sl)
}

// personShowsQR: a wrong code (or no CSRF token) shows no approval QR
// code, the right one does; the tools page leads there. It returns the
// typed code shown.
func personShowsQR(t *testing.T, idp *testIDP, person *browser, secret string) string {
	t.Helper()
	bad := person.toolsPOST("/account/tools/totp", "approval", url.Values{"code": {wrongCode(t, secret, time.Now())}})
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Body, `id="approval_code_error"`) || strings.Contains(bad.Body, `id="approval_qr"`) {
		t.Fatalf("approval QR code for a wrong code: %d %.800s", bad.StatusCode, bad.Body)
	}
	if p := person.post(idp.portal("/account/tools/totp"), url.Values{"step": {"approval"}, "code": {totpCode(t, secret, time.Now())}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("approval QR code without the CSRF token: %d", p.StatusCode)
	}
	if tools := person.accountPage("/account/tools"); !strings.Contains(tools.Body, `id="totp_pending"`) {
		t.Errorf("the tools page does not lead to the approval QR code: %.800s", tools.Body)
	}
	shown := showApprovalQR(t, person, secret)
	mustContain(t, shown.Body, html.EscapeString(catalogueText(t, "toolsqr_show_help")))
	if len(qrModules(t, shown.Body)) < 21 {
		t.Fatal("the QR code is too small")
	}
	return submatch(approvalCodeShown, shown.Body)
}

// deskRefusals: a disabled officer and a staff login's session do not
// reach /approve; a supervisor does, with the scanner's script files. It
// returns the disabled officer's browser.
func deskRefusals(t *testing.T, w *deskWorld, person *browser, typed string) *deskBrowser {
	t.Helper()
	idp := w.idp
	super := w.officer(t, "lei.kf", storage.RoleSupervisor)
	gone := w.officer(t, "ho.mk", storage.RoleCounter)
	boss, _ := idp.app.pg.OfficerByLogin(context.Background(), demoOfficer)
	disabled := w.signedIn(t, gone)
	if _, err := officers.New(idp.app.pg).Disable(context.Background(), boss, gone.Login); err != nil {
		t.Fatal(err)
	}
	if p := disabled.get("/approve"); p.StatusCode != http.StatusForbidden {
		t.Errorf("a disabled officer's /approve: %d", p.StatusCode)
	}
	staffAtDesk := w.browser(t)
	u, _ := url.Parse(w.srv.URL)
	for _, ck := range person.c.Jar.Cookies(mustParse(t, idp.issuer)) {
		staffAtDesk.c.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	if p := staffAtDesk.get("/approve"); p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/signin") {
		t.Errorf("a staff session's /approve: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	if p := staffAtDesk.post("/approve", url.Values{"step": {"resolve"}, "token": {typed}}); p.StatusCode != http.StatusSeeOther {
		t.Errorf("a staff session's POST /approve: %d", p.StatusCode)
	}
	sb := w.signedIn(t, super)
	if p := sb.get("/approve"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `src="/static/deskqr.js"`) ||
		!strings.Contains(p.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("a supervisor's /approve: %d %q", p.StatusCode, p.Header.Get("Content-Security-Policy"))
	}
	for _, path := range []string{"/static/deskqr.js", "/static/vendor/jsQR.js", "/static/vendor/jsQR.LICENSE"} {
		if p := sb.get(path); p.StatusCode != http.StatusOK || len(p.Body) < 100 {
			t.Errorf("%s: %d", path, p.StatusCode)
		}
	}
	return disabled
}

// deskResolves: the counter officer looks the typed code up (a forged
// CSRF token and an unknown code refused), sees the document masked, then
// whole (audited). It returns the token and the page's CSRF token.
func deskResolves(t *testing.T, idp *testIDP, cb *deskBrowser, counter storage.Officer, sl storage.StaffLogin, typed string) (string, string) {
	t.Helper()
	if p := cb.post("/approve", url.Values{"step": {"resolve"}, "token": {typed}, "csrf_token": {"forged"}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("resolve with a forged CSRF token: %d", p.StatusCode)
	}
	if p := cb.submit("/approve", "/approve", url.Values{"step": {"resolve"}, "token": {"0000-0000-0000"}}); p.StatusCode != http.StatusBadRequest ||
		!strings.Contains(p.Body, html.EscapeString(catalogueText(t, "toolsqr_error_unknown"))) {
		t.Errorf("an unknown code: %d %.600s", p.StatusCode, p.Body)
	}
	confirm := cb.submit("/approve", "/approve", url.Values{"step": {"resolve"}, "token": {strings.ToLower(typed)}})
	if confirm.StatusCode != http.StatusOK {
		t.Fatalf("resolve: %d %.800s", confirm.StatusCode, confirm.Body)
	}
	mustContain(t, confirm.Body, `<dd id="approval_euid">`+sl.EUID+`</dd>`)
	mustContain(t, confirm.Body, `<dd id="approval_doc_number">`+html.EscapeString(storage.MaskDocNumber(sl.IDDocNumber))+`</dd>`)
	if strings.Contains(confirm.Body, sl.IDDocNumber) {
		t.Error("the whole document number before the officer opened it")
	}
	if p := cb.get("/approve?lang=pt"); !strings.Contains(p.Body, `<input type="hidden" name="lang" value="pt">`) {
		t.Error("the form of a page in Portuguese does not carry its language")
	}
	inPT := cb.submit("/approve?lang=pt", "/approve", url.Values{"step": {"resolve"}, "token": {typed}, "lang": {"pt"}})
	mustContain(t, inPT.Body, "<h1>"+html.EscapeString(messages(t, "pt")["desk_qr_confirm_title"])+"</h1>")
	// The choice holds at the desk until the officer chooses again.
	if p := cb.get("/approve"); !strings.Contains(p.Body, `<html lang="pt">`) {
		t.Error("the language chosen at the desk is not remembered")
	}
	cb.get("/approve?lang=zh-Hant")
	token := html.UnescapeString(submatch(tokenField, confirm.Body))
	csrf := submatch(csrfField, confirm.Body)
	full := cb.post("/approve", url.Values{"step": {"reveal"}, "token": {token}, "csrf_token": {csrf}})
	mustContain(t, full.Body, `<dd id="approval_doc_number">`+sl.IDDocNumber+`</dd>`)
	if got := deskAudit(t, idp, "staff.document.show", sl.EUID); got != counter.ID {
		t.Errorf("the opening of the record audited for officer %d, want %d", got, counter.ID)
	}
	return token, csrf
}

// deskApproves: another document is refused on the form; the right one
// approves (the tool active, tool.approve naming the officer); the token
// then is used.
func deskApproves(t *testing.T, idp *testIDP, cb *deskBrowser, counter storage.Officer, sl storage.StaffLogin, token, csrf string) {
	t.Helper()
	form := func(number string) url.Values {
		return url.Values{"step": {"approve"}, "token": {token}, "csrf_token": {csrf}, "document_type": {storage.IDPassport}, "document_number": {number}}
	}
	wrongDoc := cb.post("/approve", form("X1234567"))
	if wrongDoc.StatusCode != http.StatusBadRequest || !strings.Contains(wrongDoc.Body, `id="document_error"`) || !strings.Contains(wrongDoc.Body, `value="X1234567"`) {
		t.Errorf("another document: %d %.800s", wrongDoc.StatusCode, wrongDoc.Body)
	}
	done := cb.post("/approve", form(strings.ToLower(sl.IDDocNumber)))
	if done.StatusCode != http.StatusOK || !strings.Contains(done.Body, html.EscapeString(catalogueText(t, "desk_qr_done_heading"))) {
		t.Fatalf("approve: %d %.800s", done.StatusCode, done.Body)
	}
	if tl, _, err := idp.app.pg.TOTP(context.Background(), sl.ID); err != nil || tl.State != storage.ToolActive {
		t.Errorf("after the approval the tool is %+v, %v", tl, err)
	}
	if got := deskAudit(t, idp, "tool.approve", sl.EUID); got != counter.ID {
		t.Errorf("tool.approve names officer %d, want %d", got, counter.ID)
	}
	again := cb.post("/approve", form(sl.IDDocNumber))
	if again.StatusCode != http.StatusConflict || !strings.Contains(again.Body, html.EscapeString(catalogueText(t, "toolsqr_error_used"))) {
		t.Errorf("the QR code used twice: %d %.600s", again.StatusCode, again.Body)
	}
}

// deskToolsForms: switching passkeys on for a login that never switched
// them off is refused with its reason, an unknown entity with its own, a
// disabled officer's reset refused; the counter officer's reset removes
// the tool.
func deskToolsForms(t *testing.T, idp *testIDP, cb, disabled *deskBrowser, sl storage.StaffLogin) {
	t.Helper()
	sc := submatch(csrfField, cb.get("/approve").Body)
	form := url.Values{"entity_number": {idp.demo.EntityNumber}, "euid": {strings.ToLower(sl.EUID)}, "csrf_token": {sc}}
	if p := cb.post("/approve/passkeys", form); p.StatusCode != http.StatusConflict || !strings.Contains(p.Body, `id="tools_error"`) {
		t.Errorf("passkeys on, not off: %d %.600s", p.StatusCode, p.Body)
	}
	if p := cb.post("/approve/reset", url.Values{"entity_number": {"99-999999"}, "euid": {sl.EUID}, "csrf_token": {sc}}); p.StatusCode != http.StatusNotFound ||
		!strings.Contains(p.Body, html.EscapeString(catalogueText(t, "desk_qr_tools_not_found"))) {
		t.Errorf("reset in an unknown entity: %d %.600s", p.StatusCode, p.Body)
	}
	if p := disabled.post("/approve/reset", form); p.StatusCode != http.StatusForbidden && p.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled officer's reset: %d", p.StatusCode)
	}
	if p := cb.post("/approve/reset", form); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `id="notice"`) {
		t.Errorf("reset: %d %.600s", p.StatusCode, p.Body)
	}
	if tl := idp.toolsOf(t, idp.login("staff02")); len(tl) != 0 {
		t.Errorf("after the reset the login holds %+v", tl)
	}
}

// deskAudit is the officer of the newest audit event of action on target.
func deskAudit(t *testing.T, idp *testIDP, action, target string) int64 {
	t.Helper()
	var officer *int64
	err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT officer_id FROM audit_events WHERE action = $1 AND target = $2
		ORDER BY id DESC LIMIT 1`, action, target).Scan(&officer)
	if err != nil || officer == nil {
		t.Fatalf("no %s of %s by an officer: %v", action, target, err)
	}
	return *officer
}

// stepUpWithCode signs l in to the demo web client at the higher level:
// the password, then the app's code of the next step (now's was taken by
// the approval QR code); the ID token says acr tool.
func stepUpWithCode(t *testing.T, idp *testIDP, l seededLogin, secret string) {
	t.Helper()
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	p := withExtra(newAuthParams(t), "acr_values", acrTool)
	v := b.secondStep(b.submit(b.startLogin(r, p).form(t), idp.demo.EntityNumber, l.Username, l.Password))
	cb := b.followToRP(b.verifyCode(v, totpCode(t, secret, time.Now().Add(30*time.Second))))
	tok, err := r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if claims := r.idClaims(t, tok, p.Nonce); claims["acr"] != acrTool {
		t.Errorf("the step-up after the approval: acr %v", claims["acr"])
	}
}
