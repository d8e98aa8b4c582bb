package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestClientCreateRefusesFragmentAndUserinfo: idp client create refuses a
// redirect or post-logout redirect URI with a fragment (even an empty one)
// or userinfo (RFC 6749 §3.1.2) before it touches the database, and keeps
// accepting a native app's loopback and reverse-DNS addresses.
func TestClientCreateRefusesFragmentAndUserinfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		uri    string
		public bool
		ok     bool
	}{
		{"http://127.0.0.1/callback", true, true},
		{"http://127.0.0.1:8080/callback", true, true},
		{"mo.gov.demo.app:/oauth2redirect", true, true},
		{"https://rp.gov.mo/cb", false, true},
		{"http://evil@127.0.0.1/callback", true, false},
		{"https://user:pw@rp.gov.mo/cb", false, false},
		{"https://rp.gov.mo/cb#", false, false},
		{"https://rp.gov.mo/cb#frag", false, false},
		{"http://127.0.0.1/callback#", true, false},
	} {
		if err := checkRedirectURI(tc.uri, tc.public); (err == nil) != tc.ok {
			t.Errorf("%s (public %v): err = %v, want ok %v", tc.uri, tc.public, err, tc.ok)
		}
	}
	// The command says why, before it opens the database.
	if err := clientCreate([]string{"--service", "demo", "--redirect-uri", "http://evil@127.0.0.1/cb", "--public"}); err == nil ||
		!strings.Contains(err.Error(), "userinfo") {
		t.Errorf("client create with userinfo in the redirect URI: %v", err)
	}
}

// TestAuthorizeRefusesRedirectURIWithFragmentOrUserinfo: /authorize never
// sends the browser to a redirect_uri with a fragment or userinfo, even one
// that the library's loopback match for native apps would take (it ignores
// host and port): the person sees our page. A native app's loopback
// redirect on a port chosen at run time (RFC 8252 §7.3) still works.
func TestAuthorizeRefusesRedirectURIWithFragmentOrUserinfo(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	mobile := idp.client(demoMobileClient)
	b := idp.browser()

	for _, tc := range []struct {
		c   clientOutput
		uri string
	}{
		{mobile, "http://evil@127.0.0.1:53111/callback"},
		{mobile, "http://evil:pw@127.0.0.1/callback"},
		{mobile, "http://127.0.0.1:53111/callback#x"},
		{mobile, "http://127.0.0.1/callback#"},
		{web, web.RedirectURIs[0] + "#"},
		{web, strings.Replace(web.RedirectURIs[0], "http://", "http://u@", 1)},
	} {
		r := idp.rp(tc.c, tc.uri)
		p := b.get(r.authorizeURL(authorizeQuery(r, nil)))
		wantNoRedirect(t, tc.uri, p, http.StatusBadRequest)
		if !strings.Contains(p.Body, "<html") || !strings.Contains(p.Body, "redirect_uri") {
			t.Errorf("%s: want our page naming redirect_uri: %.300s", tc.uri, p.Body)
		}
	}

	// Loopback on any port, by any loopback name, still leads to sign-in;
	// a whole sign-in on such a port gets its code.
	for _, uri := range []string{"http://127.0.0.1:53111/callback", "http://[::1]:40000/callback", "http://localhost:1234/callback"} {
		r := idp.rp(mobile, uri)
		if loc := b.get(r.authorizeURL(authorizeQuery(r, nil))).location(t); !strings.Contains(loc, "/login?") {
			t.Errorf("%s: redirected to %s, want the sign-in page", uri, loc)
		}
	}
	r := idp.rp(mobile, "http://127.0.0.1:49152/callback")
	p := newAuthParams(t)
	if cb := b.signIn(r, p, "staff01"); cb.Get("code") == "" {
		t.Fatalf("loopback sign-in: %v", cb)
	} else if _, err := r.exchange(cb.Get("code"), p.Verifier); err != nil {
		t.Fatalf("loopback exchange: %v", err)
	}

	// Nor does a logout send the browser to such an address.
	end := r.discovery(t, "end_session_endpoint")
	for _, uri := range []string{"http://evil@127.0.0.1:5/bye", "mo.gov.demo.app:/logout#x"} {
		q := url.Values{"client_id": {mobile.ClientID}, "post_logout_redirect_uri": {uri}}
		wantNoRedirect(t, "logout to "+uri, b.get(end+"?"+q.Encode()), http.StatusBadRequest)
	}
}

// TestRequestObjectAndURIRefused: a request object (request) or a reference
// to one (request_uri) is refused with its own error (OpenID Connect Core
// §6), sent to the redirect_uri once it is validated, never ignored; an
// unregistered redirect_uri still gets our page. Discovery says neither is
// supported.
func TestRequestObjectAndURIRefused(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()

	for param, code := range map[string]string{
		"request_uri": "request_uri_not_supported",
		"request":     "request_not_supported",
	} {
		value := "urn:example:req"
		if param == "request" {
			value = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJkZW1vLXdlYiJ9."
		}
		p := b.get(r.authorizeURL(authorizeQuery(r, map[string]string{param: value})))
		wantRedirectError(t, param, p, r, code)
		if u, _ := url.Parse(p.Header.Get("Location")); u != nil && u.Query().Get("state") != "st" {
			t.Errorf("%s: state lost: %s", param, u)
		}
		p = b.get(r.authorizeURL(authorizeQuery(r, map[string]string{param: value, "redirect_uri": "https://evil.example/cb"})))
		wantNoRedirect(t, param+" with an unregistered redirect_uri", p, http.StatusBadRequest)
	}

	d := b.get("/.well-known/openid-configuration")
	var doc map[string]any
	if err := json.Unmarshal([]byte(d.Body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"request_parameter_supported", "request_uri_parameter_supported"} {
		// request_uri_parameter_supported defaults to true when absent.
		if v, ok := doc[k]; !ok || v != false {
			t.Errorf("discovery %s = %v (present %v), want false", k, v, ok)
		}
	}
}

// TestRepeatedParametersRefused: a parameter sent twice, in the query, the
// body, or one in each, is invalid_request (RFC 6749 §3.1, §3.2); the
// library would silently take one. At /authorize the error goes to the
// validated redirect_uri, but a repeated redirect_uri or client_id gets our
// page whichever copy is registered. At the token endpoint the code is not
// spent by the refused request.
func TestRepeatedParametersRefused(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()

	q := authorizeQuery(r, nil)
	q.Add("scope", "openid email")
	wantRedirectError(t, "scope twice in the query", b.get(r.authorizeURL(q)), r, "invalid_request")
	q = authorizeQuery(r, nil)
	q.Add("prompt", "login")
	q.Add("prompt", "login")
	wantRedirectError(t, "prompt twice", b.get(r.authorizeURL(q)), r, "invalid_request")

	// POST /authorize: the body and the query together.
	q = authorizeQuery(r, nil)
	req, _ := http.NewRequest(http.MethodPost, r.oauth.Endpoint.AuthURL+"?nonce=other", strings.NewReader(q.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantRedirectError(t, "nonce in the body and the query", b.do(req), r, "invalid_request")

	for _, order := range [][]string{{web.RedirectURIs[0], "https://evil.example/cb"}, {"https://evil.example/cb", web.RedirectURIs[0]}} {
		q = authorizeQuery(r, nil)
		q["redirect_uri"] = order
		wantNoRedirect(t, "redirect_uri twice "+strings.Join(order, ","), b.get(r.authorizeURL(q)), http.StatusBadRequest)
	}
	q = authorizeQuery(r, nil)
	q.Add("client_id", idp.other.ClientID)
	wantNoRedirect(t, "client_id twice", b.get(r.authorizeURL(q)), http.StatusBadRequest)

	// Token endpoint: a real code, sent twice, then the verifier in the
	// query and the body; refused, and still redeemable afterwards.
	p := newAuthParams(t)
	code := b.signIn(r, p, "staff01").Get("code")
	tokenURL := r.oauth.Endpoint.TokenURL
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code, code}, "redirect_uri": {web.RedirectURIs[0]}, "code_verifier": {p.Verifier}}
	wantOAuthError(t, "code twice", tokenURL, web, form, "invalid_request")
	form.Set("code", code)
	wantOAuthError(t, "verifier in the query and the body", tokenURL+"?code_verifier="+p.Verifier, web, form, "invalid_request")
	if _, err := r.exchange(code, p.Verifier); err != nil {
		t.Fatalf("the code was spent by a refused request: %v", err)
	}

	// Revocation and introspection.
	wantOAuthError(t, "revoke: token twice", r.discovery(t, "revocation_endpoint"), web, url.Values{"token": {"a", "b"}}, "invalid_request")
	wantOAuthError(t, "introspect: token twice", r.discovery(t, "introspection_endpoint"), web, url.Values{"token": {"a", "b"}}, "invalid_request")

	// end_session, a browser's request: our page.
	end := r.discovery(t, "end_session_endpoint")
	wantNoRedirect(t, "end_session: client_id twice", b.get(end+"?client_id="+web.ClientID+"&client_id="+web.ClientID), http.StatusBadRequest)
}

// wantOAuthError posts form with c's credentials (HTTP Basic) and asserts a
// 400 OAuth error of code.
func wantOAuthError(t *testing.T, what, endpoint string, c clientOutput, form url.Values, code string) {
	t.Helper()
	status, body, err := rawTokenPost(endpoint, c.ClientID, c.ClientSecret, form)
	if err != nil || status != http.StatusBadRequest || body["error"] != code {
		t.Errorf("%s: %d %v %v, want 400 %s", what, status, body, err, code)
	}
}

// TestUserinfoRefusesTokenInQuery: an access token in the URL's query is
// refused (RFC 6750 §2.3) with 400 invalid_request and a Bearer challenge
// (§3); the Authorization header (§2.1) and the form body (§2.2) still
// work, but not both at once (§2).
func TestUserinfoRefusesTokenInQuery(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	p := newAuthParams(t)
	tok, err := r.exchange(b.signIn(r, p, "staff01").Get("code"), p.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	userinfo := r.discovery(t, "userinfo_endpoint")
	call := func(method, target, body string, header bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if header {
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	token := url.Values{"access_token": {tok.AccessToken}}.Encode()
	if resp := call(http.MethodGet, userinfo, "", true); resp.StatusCode != http.StatusOK {
		t.Fatalf("header: %d", resp.StatusCode)
	}
	if resp := call(http.MethodPost, userinfo, token, false); resp.StatusCode != http.StatusOK {
		t.Fatalf("form body: %d", resp.StatusCode)
	}
	for what, resp := range map[string]*http.Response{
		"GET with the token in the query":  call(http.MethodGet, userinfo+"?"+token, "", false),
		"POST with the token in the query": call(http.MethodPost, userinfo+"?"+token, "x=1", false),
		"header and body":                  call(http.MethodPost, userinfo, token, true),
		"token twice in the body":          call(http.MethodPost, userinfo, token+"&"+token, false),
	} {
		challenge := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(challenge, "Bearer ") ||
			!strings.Contains(challenge, `error="invalid_request"`) {
			t.Errorf("%s: %d, WWW-Authenticate %q; want 400 and a Bearer invalid_request challenge", what, resp.StatusCode, challenge)
		}
	}
}

// TestProtocolMistakesLogAtInfo: the protocol mistakes refused above are a
// client's, logged at INFO or WARN, never at ERROR, which is kept for what an
// operator must act on. The library would log a missing redirect_uri and a
// callback without its id as server errors. (Not parallel: it captures the
// process's log.)
func TestProtocolMistakesLogAtInfo(t *testing.T) {
	logs := captureLogs(t)

	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	b := idp.browser()
	mistakes := map[string]func() page{
		"no redirect_uri": func() page {
			return b.get(r.authorizeURL(authorizeQuery(r, map[string]string{"redirect_uri": ""})))
		},
		"callback without id": func() page { return b.get(idp.issuerPath() + "/authorize/callback") },
		"redirect_uri with userinfo": func() page {
			return b.get(r.authorizeURL(authorizeQuery(r, map[string]string{"redirect_uri": "http://u@127.0.0.1:9/callback"})))
		},
		"request_uri": func() page {
			return b.get(r.authorizeURL(authorizeQuery(r, map[string]string{"request_uri": "urn:x"})))
		},
		"scope twice": func() page {
			q := authorizeQuery(r, nil)
			q.Add("scope", "openid")
			return b.get(r.authorizeURL(q))
		},
		"token in userinfo's query": func() page { return b.get(r.discovery(t, "userinfo_endpoint") + "?access_token=x") },
		"grant_type twice": func() page {
			req, _ := http.NewRequest(http.MethodPost, r.oauth.Endpoint.TokenURL+"?grant_type=refresh_token",
				strings.NewReader("grant_type=refresh_token&refresh_token=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(web.ClientID, web.ClientSecret)
			return b.do(req)
		},
	}
	for what, send := range mistakes {
		logs.mu.Lock()
		logs.buf.Reset()
		logs.mu.Unlock()
		p := send()
		if p.StatusCode >= 500 {
			t.Errorf("%s: status %d", what, p.StatusCode)
		}
		text := logs.String()
		if strings.Contains(text, "level=ERROR") {
			t.Errorf("%s: logged at ERROR:\n%s", what, text)
		}
		if !strings.Contains(text, "level=INFO") && !strings.Contains(text, "level=WARN") {
			t.Errorf("%s: not logged at all", what)
		}
	}
}
