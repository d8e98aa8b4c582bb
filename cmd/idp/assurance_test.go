package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/entity-account/idp/storage"
)

// The assurance levels seen by a relying party: acr_values, an essential
// acr claim and an e-service's minimum lead to the second step (安全驗證碼)
// or to a refusal at the client, never to a lower acr.

const (
	acrPassword = "urn:entity-account:acr:password"
	acrTool     = "urn:entity-account:acr:tool"
)

// enrolTOTP enrols and confirms a 安全驗證碼 for l through the use cases,
// with the code of the previous time step, so that the codes of now and
// the next step are still unused; it returns the secret.
func (idp *testIDP) enrolTOTP(t *testing.T, l seededLogin) string {
	t.Helper()
	svc := idp.app.tools
	en, err := svc.BeginTOTP(t.Context(), idp.actorOf(t, l), l.EUID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmTOTP(t.Context(), idp.actorOf(t, l), l.EUID, totpCode(t, en.Secret, time.Now().Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	return en.Secret
}

// verifyCode posts a code on the second-step page v.
func (b *browser) verifyCode(v page, code string) page {
	b.t.Helper()
	return b.post(b.idp.issuerPath()+"/login/verify", url.Values{
		"authRequestID": {submatch(arField, v.Body)}, "csrf_token": {submatch(csrfField, v.Body)}, "code": {code},
	})
}

// secondStep follows p to the second-step page and checks it is one.
func (b *browser) secondStep(p page) page {
	b.t.Helper()
	loc := p.location(b.t)
	if !strings.Contains(loc, "/login/verify?") {
		b.t.Fatalf("want the second step, redirected to %s", loc)
	}
	v := b.get(loc)
	if v.StatusCode != http.StatusOK || !strings.Contains(v.Body, `name="code"`) {
		b.t.Fatalf("second step page: %d %.600s", v.StatusCode, v.Body)
	}
	return v
}

func withExtra(p authParams, kv ...string) authParams {
	p.Extra = url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Extra.Add(kv[i], kv[i+1])
	}
	return p
}

// TestStepUpWithSecurityCode: a client asks for the higher level with
// acr_values; after the password the person sees only the code field; a
// wrong code is refused on the field; the right one gives acr tool and amr
// [pwd otp mfa]; the same browser then answers a second request at that
// level without a page, and a request for less still says the truth.
func TestStepUpWithSecurityCode(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	admin := idp.login("admin01")
	secret := idp.enrolTOTP(t, admin)

	var d map[string]any
	if err := r.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if !equalStrings(d["acr_values_supported"], []string{acrPassword, acrTool}) || d["claims_parameter_supported"] != true {
		t.Errorf("discovery acr_values_supported %v claims_parameter_supported %v", d["acr_values_supported"], d["claims_parameter_supported"])
	}

	b := idp.browser()
	p := withExtra(newAuthParams(t), "acr_values", acrTool)
	login := b.startLogin(r, p)
	v := b.secondStep(b.submit(login.form(t), idp.demo.EntityNumber, admin.Username, admin.Password))
	mustContain(t, v.Body, `autocomplete="one-time-code"`)
	if strings.Contains(v.Body, `name="password"`) {
		t.Error("the second step asks for the password again")
	}
	// The way out tells the client: access_denied, never a lower level.
	if out, _ := url.Parse(html.UnescapeString(submatch(cancelLink, v.Body))); out == nil ||
		!strings.HasPrefix(out.String(), web.RedirectURIs[0]) || out.Query().Get("error") != "access_denied" || out.Query().Get("state") != p.State {
		t.Errorf("cancel link %v", out)
	}

	bad := b.verifyCode(v, wrongCode(t, secret, time.Now()))
	if bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Body, `aria-invalid="true"`) || !strings.Contains(bad.Body, "安全驗證碼不正確") {
		t.Fatalf("wrong code: %d %.800s", bad.StatusCode, bad.Body)
	}
	// Typed as a person may: full-width digits with a space.
	code := totpCode(t, secret, time.Now())
	typed := strings.Map(func(r rune) rune { return r - '0' + '０' }, code[:3]) + " " + code[3:]
	cb := b.followToRP(b.verifyCode(bad, typed))
	tok, err := r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	claims := r.idClaims(t, tok, p.Nonce)
	if claims["acr"] != acrTool || !equalStrings(claims["amr"], []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("acr %v amr %v, want tool [pwd otp mfa]", claims["acr"], claims["amr"])
	}

	// The same browser: single sign-on at the higher level, no page.
	p2 := withExtra(newAuthParams(t), "acr_values", acrTool)
	cb2 := b.followToRP(b.get(r.authURL(p2)))
	tok2, err := r.exchange(cb2.Get("code"), p2.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.idClaims(t, tok2, p2.Nonce); c["acr"] != acrTool {
		t.Errorf("SSO acr = %v", c["acr"])
	}
	// A request for less still gets the truth.
	p3 := newAuthParams(t)
	cb3 := b.followToRP(b.get(r.authURL(p3)))
	tok3, err := r.exchange(cb3.Get("code"), p3.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	c3 := r.idClaims(t, tok3, p3.Nonce)
	if c3["acr"] != acrTool {
		t.Errorf("a password-level request in a raised session: acr %v", c3["acr"])
	}
	// A refreshed ID token keeps the level.
	ref, err := r.oauth.TokenSource(context.Background(), tok3).Token()
	if err == nil {
		ref.Expiry = time.Now().Add(-time.Minute)
		if fresh, err := r.oauth.TokenSource(context.Background(), ref).Token(); err != nil {
			t.Errorf("refresh: %v", err)
		} else if c := r.idClaims(t, fresh, ""); c["acr"] != acrTool {
			t.Errorf("refreshed acr %v", c["acr"])
		}
	}

	// The code used for the step-up does not work a second time, in
	// another browser at the same step.
	b2 := idp.browser()
	p4 := withExtra(newAuthParams(t), "acr_values", acrTool)
	v4 := b2.secondStep(b2.submit(b2.startLogin(r, p4).form(t), idp.demo.EntityNumber, admin.Username, admin.Password))
	if again := b2.verifyCode(v4, code); again.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed code: %d %.500s", again.StatusCode, again.Body)
	}
}

// TestStepUpFromPasswordSession: a browser signed in with the password
// meets an e-service that needs the higher level: only the second step is
// asked; prompt=none answers interaction_required; the code throttle holds.
func TestStepUpFromPasswordSession(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff := idp.login("staff01")
	secret := idp.enrolTOTP(t, staff)
	b := idp.browser()
	if cb := b.signIn(r, newAuthParams(t), "staff01"); cb.Get("code") == "" {
		t.Fatalf("password sign-in: %v", cb)
	}

	none := withExtra(newAuthParams(t), "acr_values", acrTool, "prompt", "none")
	cb := b.followToRP(b.get(r.authURL(none)))
	if cb.Get("error") != "interaction_required" || cb.Get("state") != none.State || cb.Get("iss") != idp.issuer {
		t.Fatalf("prompt=none below the level: %v", cb)
	}

	p := withExtra(newAuthParams(t), "acr_values", acrTool)
	first := b.get(r.authURL(p))
	loginPage := b.get(first.location(t))
	v := b.secondStep(loginPage)

	// Throttled like passwords: five wrong codes, then even the right one waits.
	bad := wrongCode(t, secret, time.Now())
	for i := range 5 {
		if got := b.verifyCode(v, bad); got.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d", i, got.StatusCode)
		}
	}
	if got := b.verifyCode(v, totpCode(t, secret, time.Now())); got.StatusCode != http.StatusConflict || !strings.Contains(got.Body, "次數過多") {
		t.Fatalf("right code after five wrong: %d %.500s", got.StatusCode, got.Body)
	}
}

// TestNoToolRefusals: a login without a tool cannot reach the higher
// level: it is told how to enable one (in the portal for a Macau resident
// ID, in person otherwise, pending when waiting for the check), and the
// client learns it at its redirect URI: access_denied for acr_values,
// unmet_authentication_requirements for an essential acr claim.
func TestNoToolRefusals(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff := idp.login("staff01")

	refused := func(p authParams, wantText string) url.Values {
		t.Helper()
		b := idp.browser()
		page := b.get(b.secondStepLocation(r, p, staff))
		if page.StatusCode != http.StatusForbidden || !strings.Contains(page.Body, wantText) {
			t.Fatalf("no-tool page: %d %.800s", page.StatusCode, page.Body)
		}
		back := html.UnescapeString(submatch(backLink, page.Body))
		u, err := url.Parse(back)
		if err != nil || !strings.HasPrefix(back, web.RedirectURIs[0]) {
			t.Fatalf("way back %q", back)
		}
		q := u.Query()
		if q.Get("state") != p.State || q.Get("iss") != idp.issuer {
			t.Errorf("way back %v", q)
		}
		return q
	}

	if q := refused(withExtra(newAuthParams(t), "acr_values", acrTool), "啟用安全驗證碼或通行密鑰"); q.Get("error") != "access_denied" {
		t.Errorf("acr_values: %v", q)
	}
	essential := `{"id_token":{"acr":{"essential":true,"values":["` + acrTool + `"]}}}`
	if q := refused(withExtra(newAuthParams(t), "claims", essential), "啟用安全驗證碼或通行密鑰"); q.Get("error") != "unmet_authentication_requirements" {
		t.Errorf("essential acr: %v", q)
	}

	// A passport: in person.
	if _, err := idp.app.pg.Pool().Exec(t.Context(), `UPDATE staff_logins SET id_doc_type = 'passport' WHERE euid = $1`, staff.EUID); err != nil {
		t.Fatal(err)
	}
	refused(withExtra(newAuthParams(t), "acr_values", acrTool), "親臨服務地點申請啟用")
	// Enrolled, waiting for the check in person.
	svc := idp.app.tools
	en, err := svc.BeginTOTP(t.Context(), idp.actorOf(t, staff), staff.EUID)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(en.Secret, time.Now())
	if tool, err := svc.ConfirmTOTP(t.Context(), idp.actorOf(t, staff), staff.EUID, code); err != nil || tool.State != storage.ToolPending {
		t.Fatalf("confirm: %+v %v", tool, err)
	}
	refused(withExtra(newAuthParams(t), "acr_values", acrTool), "尚待核實")

	// An essential acr this provider does not know: refused at once.
	b := idp.browser()
	p := withExtra(newAuthParams(t), "claims", `{"id_token":{"acr":{"essential":true,"value":"urn:other:loa:4"}}}`)
	u, _ := url.Parse(b.get(r.authURL(p)).location(t))
	if u.Query().Get("error") != "unmet_authentication_requirements" {
		t.Errorf("unknown essential acr: %v", u.Query())
	}
	// Unknown acr_values are a preference we cannot meet: the password level.
	p = withExtra(newAuthParams(t), "acr_values", "urn:other:loa:4")
	if cb := b.followToRP(b.submit(b.startLogin(r, p).form(t), idp.demo.EntityNumber, staff.Username, staff.Password)); cb.Get("code") == "" {
		t.Errorf("unknown acr_values: %v", cb)
	}
	// A claims parameter that is not JSON.
	p = withExtra(newAuthParams(t), "claims", `{"id_token":`)
	u, _ = url.Parse(b.get(r.authURL(p)).location(t))
	if u.Query().Get("error") != "invalid_request" {
		t.Errorf("bad claims: %v", u.Query())
	}
}

var cancelLink = regexp.MustCompile(`<p class="small"><a href="([^"]+)">`)

var backLink = regexp.MustCompile(`<a class="button" href="([^"]+)"`)

// secondStepLocation signs l in with its password for p and returns where
// the sign-in then sends the browser (the second step).
func (b *browser) secondStepLocation(r *rp, p authParams, l seededLogin) string {
	b.t.Helper()
	loc := b.submit(b.startLogin(r, p).form(b.t), b.idp.demo.EntityNumber, l.Username, l.Password).location(b.t)
	if !strings.Contains(loc, "/login/verify?") {
		b.t.Fatalf("want the second step, got %s", loc)
	}
	return loc
}

// TestServiceMinimumLevel: an e-service whose minimum is the higher level
// gets it whatever the request says.
func TestServiceMinimumLevel(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	if _, err := idp.app.pg.Pool().Exec(t.Context(),
		`UPDATE services SET min_acr = $1 WHERE id = (SELECT service_id FROM clients WHERE id = $2)`, acrTool, web.ClientID); err != nil {
		t.Fatal(err)
	}
	r := idp.rp(web, web.RedirectURIs[0])
	admin := idp.login("admin01")
	secret := idp.enrolTOTP(t, admin)

	b := idp.browser()
	p := withExtra(newAuthParams(t), "acr_values", acrPassword) // asks for less: not honoured
	v := b.secondStep(b.submit(b.startLogin(r, p).form(t), idp.demo.EntityNumber, admin.Username, admin.Password))
	cb := b.followToRP(b.verifyCode(v, totpCode(t, secret, time.Now())))
	tok, err := r.exchange(cb.Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.idClaims(t, tok, p.Nonce); c["acr"] != acrTool {
		t.Fatalf("acr %v", c["acr"])
	}

	// A login without a tool: refused, never a password-level token.
	staff := idp.login("staff01")
	b2 := idp.browser()
	p2 := newAuthParams(t)
	page := b2.get(b2.secondStepLocation(r, p2, staff))
	if page.StatusCode != http.StatusForbidden {
		t.Fatalf("no tool at a minimum-level e-service: %d", page.StatusCode)
	}
}

// TestRaisedMinimumMeetsLiveGrants: the department raises its e-service's
// minimum while a login holds a password-level session and refresh token:
// the refresh is invalid_grant, and the same browser is asked only for the
// second step at the next sign-in.
func TestRaisedMinimumMeetsLiveGrants(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	admin := idp.login("admin01")
	secret := idp.enrolTOTP(t, admin)
	b := idp.browser()
	p := newAuthParams(t)
	tok, err := r.exchange(b.signIn(r, p, "admin01").Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.idClaims(t, tok, p.Nonce); c["acr"] != acrPassword {
		t.Fatalf("acr before %v", c["acr"])
	}

	m := machineClient(t, idp, "DEMO", "department.read", "department.write")
	idp.api(t, machineToken(t, idp, m, ""), http.MethodPatch, "/services/demo", map[string]any{"min_acr": acrTool}).
		want(t, "PATCH min_acr tool", http.StatusOK, "")
	idp.clientLevelSoon(t, demoWebClient, storage.LevelTool)

	status, body := r.postForm(t, r.provider.Endpoint().TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, true)
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh below the raised minimum: %d %v", status, body)
	}
	p2 := newAuthParams(t)
	v := b.secondStep(b.get(b.get(r.authURL(p2)).location(t)))
	cb := b.followToRP(b.verifyCode(v, totpCode(t, secret, time.Now())))
	tok2, err := r.exchange(cb.Get("code"), p2.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.idClaims(t, tok2, p2.Nonce); c["acr"] != acrTool {
		t.Errorf("acr after %v", c["acr"])
	}
}
