package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// loginForm is the hidden state of a rendered login page.
type loginForm struct{ authRequestID, csrf string }

var (
	csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)
	arField   = regexp.MustCompile(`name="authRequestID" value="([^"]*)"`)
)

const (
	scopeLogin  = "openid profile offline_access"
	scopeSSO    = "openid profile"
	maxRedirect = 6
)

// authorizeURL starts an authorization code request with PKCE S256.
func (t *target) authorizeURL(c clientInfo, scope string) (authorization, string) {
	a := authorization{client: c, state: randomString(12), verifier: randomString(32)}
	sum := sha256.Sum256([]byte(a.verifier))
	q := url.Values{
		"client_id": {c.ID}, "redirect_uri": {c.RedirectURI}, "response_type": {"code"}, "scope": {scope},
		"state": {a.state}, "nonce": {randomString(12)},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	return a, t.authorize + "?" + q.Encode()
}

// walk follows the provider's redirects from start. It stops at the login
// form (returned) or at the client's redirect URI (the code, returned).
func (t *target) walk(ctx context.Context, b *browser, a authorization, start string) (*loginForm, string, error) {
	next := start
	for range maxRedirect {
		r, err := b.get(ctx, next, nil)
		if err != nil {
			return nil, "", err
		}
		if r.status == http.StatusOK {
			return parseForm(r)
		}
		if next = r.location(); next == "" {
			return nil, "", statusFailure("GET "+r.url.Path, r)
		}
		if code, done, err := t.atClient(a, next); done {
			return nil, code, err
		}
	}
	return nil, "", protocolError("more than %d redirects", maxRedirect)
}

// atClient reports whether loc leaves the provider for the client's redirect
// URI and, if so, returns the code (or the OAuth error) it carries.
func (t *target) atClient(a authorization, loc string) (code string, done bool, err error) {
	if strings.HasPrefix(loc, t.origin+"/") {
		return "", false, nil
	}
	u, perr := url.Parse(loc)
	if perr != nil || !strings.HasPrefix(loc, a.client.RedirectURI) {
		return "", true, protocolError("redirect to an unexpected place: %.120s", loc)
	}
	q := u.Query()
	switch {
	case q.Get("error") != "":
		return "", true, &failure{kind: "oauth_" + q.Get("error"), detail: q.Get("error_description")}
	case q.Get("state") != a.state:
		return "", true, protocolError("state mismatch at the redirect URI")
	case q.Get("code") == "":
		return "", true, protocolError("no code at the redirect URI")
	}
	return q.Get("code"), true, nil
}

func parseForm(r *response) (*loginForm, string, error) {
	ar, cs := arField.FindSubmatch(r.body), csrfField.FindSubmatch(r.body)
	if ar == nil || cs == nil {
		return nil, "", protocolError("200 without the login form at %s", r.url.Path)
	}
	return &loginForm{authRequestID: string(ar[1]), csrf: string(cs[1])}, "", nil
}

// submit posts the three fields as a browser does from our page, and follows
// the redirects to the client. A refusal (429/503) is returned as is.
func (t *target) submit(ctx context.Context, b *browser, a authorization, f *loginForm, username string) (string, error) {
	r, err := t.postLogin(ctx, b, f, username)
	if err != nil {
		return "", err
	}
	loc := r.location()
	if loc == "" {
		return "", statusFailure("POST /login", r)
	}
	if code, done, err := t.atClient(a, loc); done {
		return code, err
	}
	form, code, err := t.walk(ctx, b, a, loc)
	if err == nil && form != nil {
		return "", protocolError("login form shown again after a successful sign-in")
	}
	return code, err
}

func (t *target) postLogin(ctx context.Context, b *browser, f *loginForm, username string) (*response, error) {
	return b.post(ctx, strings.TrimSuffix(t.issuer, "/")+"/login", url.Values{
		"authRequestID": {f.authRequestID}, "csrf_token": {f.csrf},
		"entity_number": {t.world.EntityNumber}, "username": {username}, "password": {t.world.Password},
	}, http.Header{"Origin": {t.origin}, "Sec-Fetch-Site": {"same-origin"}})
}

// exchange redeems a code at the token endpoint with the PKCE verifier.
func (t *target) exchange(ctx context.Context, b *browser, a authorization, code string) (tokens, error) {
	return t.tokenRequest(ctx, b, a.client, url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.client.RedirectURI},
		"code_verifier": {a.verifier},
	})
}

// refresh redeems a refresh token; the answer carries its successor.
func (t *target) refresh(ctx context.Context, b *browser, c clientInfo, rt string) (tokens, error) {
	tok, err := t.tokenRequest(ctx, b, c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	if err == nil && (tok.RefreshToken == "" || tok.RefreshToken == rt) {
		return tok, protocolError("refresh grant did not rotate the refresh token")
	}
	return tok, err
}

func (t *target) tokenRequest(ctx context.Context, b *browser, c clientInfo, form url.Values) (tokens, error) {
	var tok tokens
	h := http.Header{}
	if c.Secret != "" {
		h.Set("Authorization", basicAuth(c.ID, c.Secret))
	} else {
		form.Set("client_id", c.ID)
	}
	r, err := b.post(ctx, t.token, form, h)
	if err != nil {
		return tok, err
	}
	if r.status != http.StatusOK {
		return tok, statusFailure("token", r)
	}
	if err := json.Unmarshal(r.body, &tok); err != nil {
		return tok, protocolError("token answer is not JSON: %v", err)
	}
	if tok.AccessToken == "" || strings.Count(tok.IDToken, ".") != 2 {
		return tok, protocolError("token answer lacks access_token or id_token")
	}
	return tok, nil
}

// clientCredentials runs the client_credentials grant as the machine
// client, with HTTP Basic: one opaque access token, no ID token.
func (t *target) clientCredentials(ctx context.Context, b *browser) error {
	c := t.world.Machine
	r, err := b.post(ctx, t.token, url.Values{"grant_type": {"client_credentials"}},
		http.Header{"Authorization": {basicAuth(c.ID, c.Secret)}})
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return statusFailure("token", r)
	}
	var tok tokens
	if err := json.Unmarshal(r.body, &tok); err != nil {
		return protocolError("token answer is not JSON: %v", err)
	}
	if tok.AccessToken == "" {
		return protocolError("client_credentials answer lacks access_token")
	}
	return nil
}

// callUserinfo asks for the claims of an access token.
func (t *target) callUserinfo(ctx context.Context, b *browser, accessToken string) error {
	r, err := b.get(ctx, t.userinfo, http.Header{"Authorization": {"Bearer " + accessToken}})
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return statusFailure("userinfo", r)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(r.body, &claims) != nil || claims.Sub == "" {
		return protocolError("userinfo answer has no sub")
	}
	return nil
}

// callIntrospect introspects an access token as the confidential client.
func (t *target) callIntrospect(ctx context.Context, b *browser, accessToken string) error {
	c := t.world.Confidential
	r, err := b.post(ctx, t.introspect, url.Values{"token": {accessToken}},
		http.Header{"Authorization": {basicAuth(c.ID, c.Secret)}})
	if err != nil {
		return err
	}
	if r.status != http.StatusOK {
		return statusFailure("introspect", r)
	}
	var ans struct {
		Active bool `json:"active"`
	}
	if json.Unmarshal(r.body, &ans) != nil || !ans.Active {
		return protocolError("introspection says the token is not active")
	}
	return nil
}

// signIn runs the browser journey up to the tokens: authorize, login page,
// POST the three fields, callback, code (in the browser b), then the token
// exchange as the app does it (api: no browser cookies).
func (t *target) signIn(ctx context.Context, b, api *browser, c clientInfo, scope, username string) (tokens, error) {
	a, start := t.authorizeURL(c, scope)
	form, code, err := t.walk(ctx, b, a, start)
	if err != nil {
		return tokens{}, err
	}
	if form != nil {
		if code, err = t.submit(ctx, b, a, form, username); err != nil {
			return tokens{}, err
		}
	}
	return t.exchange(ctx, api, a, code)
}

// ssoCode runs an authorization request that a live session must answer
// without the form, and returns the code.
func (t *target) ssoCode(ctx context.Context, b *browser, c clientInfo, scope string) (authorization, string, error) {
	a, start := t.authorizeURL(c, scope)
	form, code, err := t.walk(ctx, b, a, start)
	if err == nil && form != nil {
		err = protocolError("the session did not answer: login form shown")
	}
	return a, code, err
}

func basicAuth(id, secret string) string {
	raw := url.QueryEscape(id) + ":" + url.QueryEscape(secret) // RFC 6749 §2.3.1
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}
