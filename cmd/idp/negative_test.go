package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/entity-account/idp/storage"
)

// Messages of the zh-Hant catalogue (the default page language) that a user
// reads on a refusal.
const (
	msgCredentials   = "實體編號、用戶名稱或密碼不正確。"
	msgEntityAccount = "實體使用者帳戶不能登入電子服務"
	msgNoAccess      = "此工作人員登入號未獲指派使用此電子服務"
	msgThrottled     = "嘗試登入次數過多"
	msgExpired       = "登入連結已失效"
)

// ---- helpers ----

var errorText = regexp.MustCompile(`class="error" role="alert"[^>]*>([^<]*)<`)

// errorMessage is the error a rendered page shows the user ("" if none).
func (p page) errorMessage() string { return submatch(errorText, p.Body) }

// code signs username in through b at r and returns the callback's code with
// the request's parameters.
func (b *browser) code(r *rp, username string) (string, authParams) {
	b.t.Helper()
	p := newAuthParams(b.t)
	cb := b.signIn(r, p, username)
	if cb.Get("code") == "" || cb.Get("state") != p.State {
		b.t.Fatalf("callback = %v, want a code and state %s", cb, p.State)
	}
	return cb.Get("code"), p
}

// tokens signs username in at r and redeems the code.
func (b *browser) tokens(r *rp, username string) (*oauth2.Token, authParams) {
	b.t.Helper()
	code, p := b.code(r, username)
	tok, err := r.exchange(code, p.Verifier)
	if err != nil {
		b.t.Fatalf("exchange: %v", err)
	}
	return tok, p
}

// oauthError returns the OAuth error code of a failed x/oauth2 exchange.
func oauthError(t *testing.T, err error) (int, string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want an OAuth error response, got %v", err)
	}
	return re.Response.StatusCode, re.ErrorCode
}

// wantGrantError asserts a token endpoint answer of 400 invalid_grant.
func wantGrantError(t *testing.T, what string, status int, body map[string]any) {
	t.Helper()
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("%s = %d %v, want 400 invalid_grant", what, status, body)
	}
}

func (r *rp) refresh(t *testing.T, rt string) (int, map[string]any) {
	t.Helper()
	return r.postForm(t, r.oauth.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, true)
}

func (r *rp) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	status, out := r.postForm(t, r.discovery(t, "introspection_endpoint"), url.Values{"token": {token}}, true)
	if status != http.StatusOK {
		t.Fatalf("introspection = %d %v", status, out)
	}
	return out
}

// authorizeURL is the authorization endpoint with hand-made parameters.
func (r *rp) authorizeURL(q url.Values) string {
	return r.oauth.Endpoint.AuthURL + "?" + q.Encode()
}

// wantNoRedirect asserts a page that keeps the browser at the provider.
func wantNoRedirect(t *testing.T, what string, p page, status int) {
	t.Helper()
	if p.StatusCode != status {
		t.Errorf("%s: status %d, want %d: %.500s", what, p.StatusCode, status, p.Body)
	}
	if loc := p.Header.Get("Location"); loc != "" {
		t.Errorf("%s: redirects to %s", what, loc)
	}
	for _, c := range p.Cookies() {
		if c.Name == "idp_session" && c.Value != "" {
			t.Errorf("%s: a session cookie was set", what)
		}
	}
}

// newStaffLogin registers a staff login of the demo entity, activated with
// username and pw unless username is "", and assigned to no e-service.
func (idp *testIDP) newStaffLogin(username, pw string) storage.StaffLogin {
	t, pg, ctx := idp.t, idp.app.pg, context.Background()
	t.Helper()
	e, err := pg.EntityByNumber(ctx, demoEntityNumber)
	if err != nil {
		t.Fatal(err)
	}
	sl := storage.StaffLogin{EntityID: e.ID, NameZH: "張新人", IDDocType: "macau_permanent_id",
		IDDocNumber: "1000099(" + randHex(t, 1) + ")", BirthDate: time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := pg.CreateStaffLogin(ctx, operator(), &sl); err != nil {
		t.Fatal(err)
	}
	if username == "" {
		return sl
	}
	hash, err := idp.app.hasher.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.ActivateStaffLogin(ctx, operator(), sl.ID, username, hash); err != nil {
		t.Fatal(err)
	}
	return sl
}

// rawTokenPost posts a form to the token endpoint with Basic client
// authentication; safe to call from any goroutine.
func rawTokenPost(endpoint, clientID, secret string, form url.Values) (int, map[string]any, error) {
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("not JSON: %.200s", raw)
	}
	return resp.StatusCode, out, nil
}

// ---- authorization codes ----

// TestCodeReplay: a code redeemed twice fails the second time, and the
// tokens the first redemption issued are revoked (RFC 6749 §4.1.2).
func TestCodeReplay(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	code, p := idp.browser().code(r, "staff01")

	tok, err := r.exchange(code, p.Verifier)
	if err != nil {
		t.Fatalf("first redemption: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}
	if intro := r.introspect(t, tok.AccessToken); intro["active"] != true {
		t.Fatalf("access token inactive before the replay: %v", intro)
	}

	_, err = r.exchange(code, p.Verifier)
	if status, ecode := oauthError(t, err); status != http.StatusBadRequest || ecode != "invalid_grant" {
		t.Errorf("second redemption = %d %s, want 400 invalid_grant", status, ecode)
	}
	if intro := r.introspect(t, tok.AccessToken); intro["active"] != false {
		t.Errorf("the first redemption's access token survives the replay: %v", intro)
	}
	status, body := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "refresh with the first redemption's refresh token", status, body)
	if _, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo accepted an access token revoked by the replay")
	}
}

// TestCodeWrongRedirectURI: the token request must repeat the redirect_uri
// of the authorization request (RFC 6749 §4.1.3).
func TestCodeWrongRedirectURI(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	code, p := idp.browser().code(r, "staff01")

	status, body := r.postForm(t, r.oauth.Endpoint.TokenURL, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {p.Verifier},
		"redirect_uri": {idp.rpURL + "/elsewhere"},
	}, true)
	if status != http.StatusBadRequest || (body["error"] != "invalid_grant" && body["error"] != "invalid_request") {
		t.Errorf("token request with another redirect_uri = %d %v, want 400 invalid_grant", status, body)
	}
	if _, ok := body["access_token"]; ok {
		t.Error("tokens issued for a mismatched redirect_uri")
	}
}

// TestCodeWrongPKCEVerifier: a code is bound to its PKCE challenge, for
// public and confidential clients alike (RFC 7636 §4.6).
func TestCodeWrongPKCEVerifier(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	for name, r := range map[string]*rp{
		"public":       idp.rp(idp.client(demoMobileClient), "http://127.0.0.1:53111/callback"),
		"confidential": idp.rp(web, web.RedirectURIs[0]),
	} {
		t.Run(name, func(t *testing.T) {
			code, _ := idp.browser().code(r, "staff01")
			tok, err := r.exchange(code, oauth2.GenerateVerifier())
			if err == nil {
				t.Fatalf("tokens for a wrong verifier: %v", tok)
			}
			if status, ecode := oauthError(t, err); status != http.StatusBadRequest || ecode != "invalid_grant" {
				t.Errorf("wrong verifier = %d %s, want 400 invalid_grant", status, ecode)
			}
		})
	}
}

// TestAuthorizePKCERules: a public client must send a challenge, and nobody
// may use the plain method; the RP hears it at its redirect URI.
func TestAuthorizePKCERules(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	mobileRedirect := "http://127.0.0.1:53111/callback"
	mobile := idp.rp(idp.client(demoMobileClient), mobileRedirect)
	web := idp.client(demoWebClient)
	webRP := idp.rp(web, web.RedirectURIs[0])
	verifier := oauth2.GenerateVerifier()

	for _, tc := range []struct {
		name     string
		r        *rp
		redirect string
		extra    url.Values
	}{
		{"public without PKCE", mobile, mobileRedirect, nil},
		{"public with plain", mobile, mobileRedirect, url.Values{"code_challenge": {verifier}, "code_challenge_method": {"plain"}}},
		{"confidential with plain", webRP, web.RedirectURIs[0], url.Values{"code_challenge": {verifier}, "code_challenge_method": {"plain"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := randHex(t, 8)
			q := url.Values{"client_id": {tc.r.oauth.ClientID}, "response_type": {"code"}, "scope": {"openid"},
				"redirect_uri": {tc.redirect}, "state": {state}, "nonce": {randHex(t, 8)}}
			for k, v := range tc.extra {
				q[k] = v
			}
			resp := idp.browser().get(tc.r.authorizeURL(q))
			loc := resp.location(t)
			if !strings.HasPrefix(loc, tc.redirect+"?") {
				t.Fatalf("redirect = %s, want the RP's redirect URI", loc)
			}
			u, _ := url.Parse(loc)
			if got := u.Query(); got.Get("error") != "invalid_request" || got.Get("state") != state || got.Get("code") != "" {
				t.Errorf("RP callback = %v, want error=invalid_request and state %s", got, state)
			}
		})
	}
}

// TestAuthorizeUnregisteredRedirect: an unregistered redirect URI or an
// unknown client gets an error page at the provider, never a redirect.
func TestAuthorizeUnregisteredRedirect(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	params := func(clientID, redirect string) url.Values {
		return url.Values{"client_id": {clientID}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {redirect}, "state": {"s1"}, "nonce": {"n1"},
			"code_challenge": {s256("v")}, "code_challenge_method": {"S256"}}
	}
	for name, q := range map[string]url.Values{
		"unregistered redirect URI":  params(web.ClientID, "http://evil.example/callback"),
		"registered URI with suffix": params(web.ClientID, web.RedirectURIs[0]+"/x"),
		"unknown client":             params("no-such-client", web.RedirectURIs[0]),
	} {
		t.Run(name, func(t *testing.T) {
			p := idp.browser().get(r.authorizeURL(q))
			wantNoRedirect(t, name, p, http.StatusBadRequest)
			// Our page, in the user's language, not the library's bare text.
			if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s: Content-Type %q, want our HTML page", name, ct)
			}
			mustContain(t, p.Body, "無法處理此要求")
			if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s: CSP %q", name, csp)
			}
		})
	}
}

// TestEndSessionUnregisteredRedirect: a post_logout_redirect_uri the client
// did not register is refused with our page, and the browser is not sent there.
func TestEndSessionUnregisteredRedirect(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	q := url.Values{"client_id": {web.ClientID}, "post_logout_redirect_uri": {"http://evil.example/"}, "state": {"s"}}
	p := idp.browser().get(r.discovery(t, "end_session_endpoint") + "?" + q.Encode())
	wantNoRedirect(t, "end_session with an unregistered post_logout_redirect_uri", p, http.StatusBadRequest)
	mustContain(t, p.Body, "無法處理此要求")
	mustContain(t, p.Body, "post_logout_redirect_uri")
}

// ---- the login form ----

// TestLoginGenericFailure: a wrong entity number, an unknown entity, an
// unknown username and a wrong password look the same to the user.
func TestLoginGenericFailure(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	ctx := context.Background()
	// A second, real entity in which admin01 does not exist.
	other := storage.Entity{Number: "02-000022", NameZH: "公司20", Kind: "company"}
	if err := idp.app.pg.CreateEntity(ctx, operator(), &other, &storage.EntityAccount{ApplicationNumber: "A2026-000022"}); err != nil {
		t.Fatal(err)
	}
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	admin := idp.login("admin01")
	en := idp.demo.EntityNumber

	var bodies []string
	for _, tc := range []struct{ name, entity, username, pw string }{
		{"wrong entity number", other.Number, admin.Username, admin.Password},
		{"unknown entity", "99-999999", admin.Username, admin.Password},
		{"unknown username", en, "nobody77", admin.Password},
		{"wrong password", en, admin.Username, admin.Password + "x"},
	} {
		b := idp.browser()
		form := b.startLogin(r, newAuthParams(t)).form(t)
		p := b.submit(form, tc.entity, tc.username, tc.pw)
		wantNoRedirect(t, tc.name, p, http.StatusUnauthorized)
		if got := p.errorMessage(); got != msgCredentials {
			t.Errorf("%s: message %q, want %q", tc.name, got, msgCredentials)
		}
		if got := p.fieldValue("entity_number"); got != tc.entity {
			t.Errorf("%s: entity_number field = %q, want it kept as %q", tc.name, got, tc.entity)
		}
		if got := p.fieldValue("username"); got != tc.username {
			t.Errorf("%s: username field = %q, want it kept as %q", tc.name, got, tc.username)
		}
		if strings.Contains(p.Body, tc.pw) || p.fieldValue("password") != "" {
			t.Errorf("%s: the password is echoed in the page", tc.name)
		}
		// The form is usable again: same request, a CSRF token.
		if again := p.form(t); again.AuthRequestID != form.AuthRequestID || again.CSRF == "" {
			t.Errorf("%s: re-rendered form = %+v, want request %s", tc.name, again, form.AuthRequestID)
		}
		bodies = append(bodies, p.errorMessage())
	}
	for i := 1; i < len(bodies); i++ {
		if bodies[i] != bodies[0] {
			t.Errorf("failures are distinguishable: %q vs %q", bodies[0], bodies[i])
		}
	}
}

// TestDeletedStaffLogin: a deleted staff login cannot sign in, its refresh
// token stops working, and its SSO session no longer answers.
func TestDeletedStaffLogin(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff := idp.login("staff01")
	b := idp.browser()
	tok, _ := b.tokens(r, staff.Username)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}

	idp.deleteInStore(t, staff)

	// The browser that signed in before the deletion gets the form, not SSO.
	b.startLogin(r, newAuthParams(t)).form(t)

	other := idp.browser()
	p := other.submit(other.startLogin(r, newAuthParams(t)).form(t), idp.demo.EntityNumber, staff.Username, staff.Password)
	wantNoRedirect(t, "sign-in of a deleted login", p, http.StatusUnauthorized)
	if got := p.errorMessage(); got != msgCredentials {
		t.Errorf("deleted login: message %q, want the generic %q", got, msgCredentials)
	}

	status, body := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "refresh after deletion", status, body)
}

// TestUnactivatedStaffLogin: a staff login that was registered but not
// activated cannot sign in, and is refused like any unknown account.
func TestUnactivatedStaffLogin(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	sl := idp.newStaffLogin("", "")
	ctx := context.Background()

	// Half-provisioned: a username and password hash, but never activated.
	// (Activation sets all three at once; this checks the activated flag alone.)
	const username, pw = "pending01", "Pending-Pass-1"
	hash, err := idp.app.hasher.Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idp.app.pg.Pool().Exec(ctx, `UPDATE staff_logins SET username = $2, password_hash = $3 WHERE id = $1`, sl.ID, username, hash); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, username, pw string }{
		{"by EUID", sl.EUID, pw},
		{"with its pending username and password", username, pw},
	} {
		b := idp.browser()
		p := b.submit(b.startLogin(r, newAuthParams(t)).form(t), idp.demo.EntityNumber, tc.username, tc.pw)
		wantNoRedirect(t, tc.name, p, http.StatusUnauthorized)
		if got := p.errorMessage(); got != msgCredentials {
			t.Errorf("%s: message %q, want the generic %q", tc.name, got, msgCredentials)
		}
	}
}

// TestEntityAccountAtEService: the entity account's right password is told
// plainly that it cannot use e-services; the RP gets nothing.
func TestEntityAccountAtEService(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	acct := idp.demo.EntityAccount
	p := b.submit(b.startLogin(r, newAuthParams(t)).form(t), idp.demo.EntityNumber, acct["username"], acct["password"])
	wantNoRedirect(t, "entity account sign-in", p, http.StatusForbidden)
	mustContain(t, p.errorMessage(), msgEntityAccount)
	// And no SSO session came of it.
	b.startLogin(r, newAuthParams(t)).form(t)
}

// TestStaffLoginNotAssigned: a staff login with no assignment to an
// e-service of policy "assigned" is told so and gets no code; an e-service of
// policy "enrolled" lets it in.
func TestStaffLoginNotAssigned(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	const username, pw = "newbie01", "Newbie-Pass-1"
	sl := idp.newStaffLogin(username, pw)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])

	b := idp.browser()
	params := newAuthParams(t)
	p := b.submit(b.startLogin(r, params).form(t), idp.demo.EntityNumber, username, pw)
	if p.StatusCode != http.StatusForbidden || p.Header.Get("Location") != "" {
		t.Fatalf("unassigned sign-in = %d (Location %q), want 403 and no redirect", p.StatusCode, p.Header.Get("Location"))
	}
	mustContain(t, p.errorMessage(), msgNoAccess)
	// The page leads back to the e-service with access_denied, its state and iss.
	back, err := url.Parse(html.UnescapeString(submatch(regexp.MustCompile(`<a class="button" href="([^"]*)"`), p.Body)))
	if err != nil || !strings.HasPrefix(back.String(), r.oauth.RedirectURL) || back.Query().Get("error") != "access_denied" ||
		back.Query().Get("state") != params.State || back.Query().Get("iss") != idp.issuer || back.Query().Get("code") != "" {
		t.Errorf("the way back from the refusal: %v (%v)", back, err)
	}
	// Nor does the browser get a code by asking again with prompt=none.
	np := newAuthParams(t)
	np.Extra = url.Values{"prompt": {"none"}}
	if cb := b.followToRP(b.get(r.authURL(np))); cb.Get("code") != "" || cb.Get("error") == "" {
		t.Errorf("prompt=none for an unassigned login = %v, want an error and no code", cb)
	}

	other := idp.rp(idp.other, idp.other.RedirectURIs[0])
	ob := idp.browser()
	oparams := newAuthParams(t)
	cb := ob.followToRP(ob.submit(ob.startLogin(other, oparams).form(t), idp.demo.EntityNumber, username, pw))
	tok, err := other.exchange(cb.Get("code"), oparams.Verifier)
	if err != nil {
		t.Fatalf("enrolled e-service: %v (callback %v)", err, cb)
	}
	if claims := other.idClaims(t, tok, oparams.Nonce); claims["sub"] != sl.EUID || !equalStrings(claims["service_groups"], []string{}) {
		t.Errorf("enrolled e-service claims = %v", claims)
	}
}

// TestLoginCSRF: the form must carry this browser's token, and a cross-site
// POST is refused even with one.
func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff := idp.login("staff01")
	en := idp.demo.EntityNumber

	victim := idp.browser()
	form := victim.startLogin(r, newAuthParams(t)).form(t)
	attacker := idp.browser()
	attackerForm := attacker.startLogin(r, newAuthParams(t)).form(t)

	noToken := form
	noToken.CSRF = ""
	wantNoRedirect(t, "no csrf_token", victim.submit(noToken, en, staff.Username, staff.Password), http.StatusForbidden)

	// The attacker's own token (bound to the attacker's cookie) in the victim's browser.
	forged := form
	forged.CSRF = attackerForm.CSRF
	wantNoRedirect(t, "another browser's csrf_token", victim.submit(forged, en, staff.Username, staff.Password), http.StatusForbidden)
	wantNoRedirect(t, "another browser's request and token", victim.submit(attackerForm, en, staff.Username, staff.Password), http.StatusForbidden)
	// A browser without the CSRF cookie at all, replaying the victim's form.
	wantNoRedirect(t, "no csrf cookie", idp.browser().submit(form, en, staff.Username, staff.Password), http.StatusForbidden)

	// A valid form posted from another site.
	vals := url.Values{"authRequestID": {form.AuthRequestID}, "csrf_token": {form.CSRF},
		"entity_number": {en}, "username": {staff.Username}, "password": {staff.Password}}
	req, _ := http.NewRequest(http.MethodPost, idp.issuer+"/login", strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantNoRedirect(t, "cross-site POST", victim.do(req), http.StatusForbidden)

	// None of that used the request up: the genuine submission still works.
	if cb := victim.followToRP(victim.submit(form, en, staff.Username, staff.Password)); cb.Get("code") == "" {
		t.Errorf("genuine submission after the refusals = %v", cb)
	}
}

// TestLoginThrottlePerAccount: after the allowed failures for one (entity,
// username), even the right password is refused for a while; others are not.
func TestLoginThrottlePerAccount(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_ACCOUNT": "3"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff, admin := idp.login("staff01"), idp.login("admin01")
	en := idp.demo.EntityNumber

	b := idp.browser()
	form := b.startLogin(r, newAuthParams(t)).form(t)
	for i := range 3 {
		p := b.submit(form, en, staff.Username, fmt.Sprintf("wrong-%d", i))
		if p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, p.StatusCode)
		}
	}
	// Right password, username in other case: still the same account, still throttled.
	p := b.submit(form, en, strings.ToUpper(staff.Username), staff.Password)
	wantNoRedirect(t, "right password after the limit", p, http.StatusTooManyRequests)
	wantRetryAfter(t, p)
	mustContain(t, p.errorMessage(), msgThrottled)

	// Another username of the same entity signs in.
	other := idp.browser()
	if cb := other.signIn(r, newAuthParams(t), admin.Username); cb.Get("code") == "" {
		t.Errorf("another username is throttled too: %v", cb)
	}
}

// TestLoginThrottlePerIP: failures across usernames from one address add
// up, and then nobody signs in from it.
func TestLoginThrottlePerIP(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_IP": "4"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	admin := idp.login("admin01")

	b := idp.browser()
	form := b.startLogin(r, newAuthParams(t)).form(t)
	for i := range 4 {
		if p := b.submit(form, idp.demo.EntityNumber, fmt.Sprintf("guess%02d", i), "whatever-1"); p.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, p.StatusCode)
		}
	}
	p := b.submit(form, idp.demo.EntityNumber, admin.Username, admin.Password)
	wantNoRedirect(t, "right password after the address's limit", p, http.StatusTooManyRequests)
	wantRetryAfter(t, p)
	mustContain(t, p.errorMessage(), msgThrottled)
}

func wantRetryAfter(t *testing.T, p page) {
	t.Helper()
	if s, err := strconv.Atoi(p.Header.Get("Retry-After")); err != nil || s <= 0 {
		t.Errorf("Retry-After = %q, want a positive number of seconds", p.Header.Get("Retry-After"))
	}
}

// TestConcurrentCodeRedemption: of 20 simultaneous redemptions of one code,
// exactly one passes the single-use gate; the other 19 are replays, refused
// with invalid_grant, and they revoke what the one got (RFC 6749 §4.1.2).
//
// Whether that one still gets a 200 depends on timing: if a replay's
// revocation lands before its tokens are stored, the store refuses them and it
// too gets invalid_grant (never a 500). So: at most one 200, and exactly one
// answer that is not the replays' "code already used".
func TestConcurrentCodeRedemption(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	code, p := idp.browser().code(r, "staff01")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {p.Verifier}, "redirect_uri": {web.RedirectURIs[0]}}

	const n = 20
	type result struct {
		status int
		body   map[string]any
		err    error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, b, err := rawTokenPost(r.oauth.Endpoint.TokenURL, web.ClientID, web.ClientSecret, form)
			results[i] = result{s, b, err}
		}()
	}
	close(start)
	wg.Wait()

	var winners []map[string]any
	refusals := map[string]int{} // error_description → count
	for i, res := range results {
		switch {
		case res.err != nil:
			t.Errorf("request %d: %v (status %d)", i, res.err, res.status)
		case res.status == http.StatusOK && res.body["access_token"] != nil:
			winners = append(winners, res.body)
		case res.status == http.StatusBadRequest && res.body["error"] == "invalid_grant":
			d, _ := res.body["error_description"].(string)
			refusals[d]++
		default:
			t.Errorf("request %d = %d %v, want 200 or 400 invalid_grant", i, res.status, res.body)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d token responses for one code redeemed %d times at once, want exactly 1 (refusals %v)", len(winners), n, refusals)
	}
	// What the one redemption got is revoked by the replays.
	for _, w := range winners {
		at, _ := w["access_token"].(string)
		if intro := r.introspect(t, at); intro["active"] != false {
			t.Errorf("the winner's access token survives the replays: %v", intro)
		}
		if rt, _ := w["refresh_token"].(string); rt != "" {
			status, body := r.refresh(t, rt)
			wantGrantError(t, "the winner's refresh token after the replays", status, body)
		}
	}
}

// ---- tokens ----

// TestUserinfoRefusesNonAccessTokens: an ID token or garbage as a bearer
// token at /userinfo is refused.
func TestUserinfoRefusesNonAccessTokens(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	tok, _ := idp.browser().tokens(r, "staff01")
	userinfo := r.discovery(t, "userinfo_endpoint")
	idToken, _ := tok.Extra("id_token").(string)

	for name, bearer := range map[string]string{
		"ID token":      idToken,
		"garbage":       "not-a-token",
		"refresh token": tok.RefreshToken,
	} {
		req, _ := http.NewRequest(http.MethodGet, userinfo, nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// RFC 6750 §3.1 asks for 401; the library answers 403 when the bearer
		// is a JWT of ours that is not an access token. Either is a refusal.
		if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			t.Errorf("userinfo with %s = %d %s, want a refusal (401/403)", name, resp.StatusCode, body)
		}
		if strings.Contains(string(body), idp.login("staff01").EUID) {
			t.Errorf("userinfo with %s leaks the subject: %s", name, body)
		}
	}
	// The access token itself works (the refusals are not a broken endpoint).
	if _, err := r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(tok)); err != nil {
		t.Errorf("userinfo with the access token: %v", err)
	}
}

// TestRefreshTokenOfAnotherClient: client B cannot redeem client A's refresh token.
func TestRefreshTokenOfAnotherClient(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	tok, _ := idp.browser().tokens(r, "staff01")
	other := idp.rp(idp.other, idp.other.RedirectURIs[0])

	status, body := other.refresh(t, tok.RefreshToken)
	wantGrantError(t, "other-web redeeming demo-web's refresh token", status, body)
	if _, ok := body["access_token"]; ok {
		t.Error("tokens issued to the wrong client")
	}
}

// TestIntrospectionByAnotherClient: a client that is not the token's
// audience learns only active:false.
func TestIntrospectionByAnotherClient(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	tok, _ := idp.browser().tokens(r, "staff01")
	other := idp.rp(idp.other, idp.other.RedirectURIs[0])

	intro := other.introspect(t, tok.AccessToken)
	if intro["active"] != false || intro["sub"] != nil || intro["client_id"] != nil {
		t.Errorf("introspection by other-web = %v, want only active:false", intro)
	}
	if intro := r.introspect(t, tok.AccessToken); intro["active"] != true {
		t.Errorf("introspection by the token's own client = %v", intro)
	}
}

// ---- sessions and requests ----

// TestLoginPageUnknownRequest: an expired or made-up authRequestID gives the
// "expired" page, never a 500.
func TestLoginPageUnknownRequest(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_AUTH_REQUEST_TTL": "2s"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()

	// A real request that expires while the form is open.
	form := b.startLogin(r, newAuthParams(t)).form(t)
	time.Sleep(2500 * time.Millisecond)

	for name, u := range map[string]string{
		"expired":  "?authRequestID=" + url.QueryEscape(form.AuthRequestID),
		"made-up":  "?authRequestID=AAAAAAAAAAAAAAAAAAAAAA",
		"missing":  "",
		"injected": "?authRequestID=" + url.QueryEscape("*\x00'\"<"),
	} {
		p := b.get(idp.issuer + "/login" + u)
		wantNoRedirect(t, name, p, http.StatusBadRequest)
		mustContain(t, p.errorMessage(), msgExpired)
	}
	// Submitting the form of the expired request.
	staff := idp.login("staff01")
	p := b.submit(form, idp.demo.EntityNumber, staff.Username, staff.Password)
	wantNoRedirect(t, "submit after expiry", p, http.StatusBadRequest)
	mustContain(t, p.errorMessage(), msgExpired)
}

// TestPromptNoneAfterLogout: once the RP has logged the user out, a silent
// authorization gets login_required.
func TestPromptNoneAfterLogout(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	tok, _ := b.tokens(r, "staff01")

	// Silent authorization works while the session lasts.
	p := newAuthParams(t)
	p.Extra = url.Values{"prompt": {"none"}}
	if cb := b.followToRP(b.get(r.authURL(p))); cb.Get("code") == "" {
		t.Fatalf("prompt=none with a session = %v", cb)
	}

	end := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {web.PostLogoutRedirectURIs[0]}}
	if loc := b.get(r.discovery(t, "end_session_endpoint") + "?" + end.Encode()).location(t); !strings.HasPrefix(loc, web.PostLogoutRedirectURIs[0]) {
		t.Fatalf("end_session redirect = %s", loc)
	}

	p = newAuthParams(t)
	p.Extra = url.Values{"prompt": {"none"}}
	cb := b.followToRP(b.get(r.authURL(p)))
	if cb.Get("error") != "login_required" || cb.Get("state") != p.State || cb.Get("code") != "" {
		t.Errorf("prompt=none after logout = %v, want login_required with state %s", cb, p.State)
	}
}
