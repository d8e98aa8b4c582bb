package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	idpop "github.com/entity-account/idp/op"
)

// registerWebClient registers a web client of the demo e-service with the
// operator's command and extra flags, and returns what it printed.
func registerWebClient(t *testing.T, idp *testIDP, path string, extra ...string) clientOutput {
	t.Helper()
	args := append([]string{"client", "create", "--service", "demo", "--redirect-uri", idp.rpURL + path, "--json"}, extra...)
	out, err := captureStdout(t, func() error { return run(args) })
	var c clientOutput
	if err != nil || json.Unmarshal([]byte(out), &c) != nil || c.ClientID == "" {
		t.Fatalf("client create %v = %q, %v", extra, out, err)
	}
	return c
}

// tokenCall posts form to endpoint; with basic set, as HTTP Basic
// (id, secret), else with nothing but the form (openid-client's
// client_secret_post puts client_id and client_secret there). It returns
// the status and the JSON answer.
func tokenCall(t *testing.T, endpoint string, form url.Values, basic *[2]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic != nil {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func codeForm(code string, p authParams, redirect string, more url.Values) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {p.Verifier}}
	for k, v := range more {
		f[k] = v
	}
	return f
}

// TestClientSecretMethodsOfLibraries: each common RP library's default works
// (x/oauth2 auto-detecting its auth style through a whole code flow;
// openid-client's client_secret_post at token, introspection and
// revocation), and a client held to one method is refused the other
// before its code is spent.
func TestClientSecretMethodsOfLibraries(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	web := idp.client(demoWebClient)

	// Go's x/oauth2 with AuthStyleAutoDetect, a whole code flow: the
	// default client takes its first try (the Basic header).
	auto := idp.rp(web, web.RedirectURIs[0])
	auto.oauth.Endpoint.AuthStyle = oauth2.AuthStyleAutoDetect
	tok, p := idp.browser().tokens(auto, "staff01")
	if claims := auto.idClaims(t, tok, p.Nonce); claims["sub"] != idp.login("staff01").EUID {
		t.Errorf("auto-detected style: ID token sub %v", claims["sub"])
	}
	refreshed, err := auto.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || refreshed.AccessToken == "" {
		t.Errorf("refresh with the auto-detected style: %v", err)
	}

	// A public (mobile) client through x/oauth2, naming itself in the
	// Basic header with an empty secret, or auto-detected: PKCE is its proof.
	mobile := idp.client(demoMobileClient)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleAutoDetect} {
		mr := idp.rp(mobile, "http://127.0.0.1:53111/callback")
		mr.oauth.Endpoint.AuthStyle = style
		if tok, _ := idp.browser().tokens(mr, "staff01"); tok.AccessToken == "" {
			t.Errorf("public client with auth style %d: no access token", style)
		}
	}

	// A client held to client_secret_post: x/oauth2's auto-detection tries
	// the header, is refused before the code is spent, and succeeds in the body.
	post := registerWebClient(t, idp, "/post/callback", "--token-auth", "post")
	if post.TokenAuth != "client_secret_post" || post.ClientSecret == "" {
		t.Fatalf("client create --token-auth post = %+v", post)
	}
	autoPost := idp.rp(post, post.RedirectURIs[0])
	autoPost.oauth.Endpoint.AuthStyle = oauth2.AuthStyleAutoDetect
	if tok, _ := idp.browser().tokens(autoPost, "staff01"); tok.AccessToken == "" {
		t.Error("post-held client via auto-detection: no access token")
	}
	// ... and the header alone is refused, naming the method.
	code, p := idp.browser().code(autoPost, "staff01")
	tokenURL := auto.oauth.Endpoint.TokenURL
	status, body := tokenCall(t, tokenURL, codeForm(code, p, post.RedirectURIs[0], nil), &[2]string{post.ClientID, post.ClientSecret})
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(body["error_description"].(string), "client_secret_post") {
		t.Errorf("post-held client with Basic = %d %v", status, body)
	}
	status, body = tokenCall(t, tokenURL, codeForm(code, p, post.RedirectURIs[0],
		url.Values{"client_id": {post.ClientID}, "client_secret": {post.ClientSecret}}), nil)
	if status != http.StatusOK || body["access_token"] == nil {
		t.Errorf("post-held client in the body after a refusal = %d %v (the refusal must not spend the code)", status, body)
	}

	// openid-client's default: client_id and client_secret in the body, no
	// Authorization header, at the token endpoint (the default client).
	code, p = idp.browser().code(auto, "staff01")
	status, body = tokenCall(t, tokenURL, codeForm(code, p, web.RedirectURIs[0],
		url.Values{"client_id": {web.ClientID}, "client_secret": {web.ClientSecret}}), nil)
	at, _ := body["access_token"].(string)
	if status != http.StatusOK || at == "" || body["id_token"] == nil {
		t.Fatalf("client_secret_post code exchange = %d %v", status, body)
	}
	inBody := url.Values{"client_id": {web.ClientID}, "client_secret": {web.ClientSecret}}
	introspect, revoke := auto.discovery(t, "introspection_endpoint"), auto.discovery(t, "revocation_endpoint")
	status, body = tokenCall(t, introspect, url.Values{"token": {at}, "client_id": inBody["client_id"], "client_secret": inBody["client_secret"]}, nil)
	if status != http.StatusOK || body["active"] != true {
		t.Errorf("client_secret_post introspection = %d %v", status, body)
	}
	status, _ = tokenCall(t, revoke, url.Values{"token": {at}, "client_id": inBody["client_id"], "client_secret": inBody["client_secret"]}, nil)
	if status != http.StatusOK {
		t.Errorf("client_secret_post revocation = %d", status)
	}
	if _, body = tokenCall(t, introspect, url.Values{"token": {at}}, &[2]string{web.ClientID, web.ClientSecret}); body["active"] != false {
		t.Errorf("introspection after a client_secret_post revocation = %v", body)
	}

	// A client held to client_secret_basic: the body is refused, the
	// header works, and the refusal spent nothing.
	basic := registerWebClient(t, idp, "/basic/callback", "--token-auth", "basic")
	basicRP := idp.rp(basic, basic.RedirectURIs[0])
	code, p = idp.browser().code(basicRP, "staff01")
	status, body = tokenCall(t, tokenURL, codeForm(code, p, basic.RedirectURIs[0],
		url.Values{"client_id": {basic.ClientID}, "client_secret": {basic.ClientSecret}}), nil)
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.Contains(body["error_description"].(string), "client_secret_basic") {
		t.Errorf("basic-held client in the body = %d %v", status, body)
	}
	// A confidential client naming itself only, and a wrong secret: refused too.
	if status, body = tokenCall(t, tokenURL, codeForm(code, p, basic.RedirectURIs[0], url.Values{"client_id": {basic.ClientID}}), nil); status != http.StatusUnauthorized {
		t.Errorf("confidential client without a secret = %d %v", status, body)
	}
	if status, _ = tokenCall(t, tokenURL, codeForm(code, p, basic.RedirectURIs[0], nil), &[2]string{basic.ClientID, "wrong"}); status != http.StatusUnauthorized {
		t.Errorf("wrong secret = %d", status)
	}
	if tok, err := basicRP.exchange(code, p.Verifier); err != nil || tok.AccessToken == "" {
		t.Errorf("basic-held client with Basic after the refusals: %v", err)
	}
	// Its introspection in the body is refused as well.
	if status, body = tokenCall(t, introspect, url.Values{"token": {"x"}, "client_id": {basic.ClientID}, "client_secret": {basic.ClientSecret}}, nil); status != http.StatusUnauthorized {
		t.Errorf("basic-held client's introspection in the body = %d %v", status, body)
	}
}

// ---- private_key_jwt ----

// assertionKey signs client assertions as a department's library would
// (go-jose): one key with its kid and algorithm.
type assertionKey struct {
	alg jose.SignatureAlgorithm
	kid string
	key any // private key (or an HMAC secret, for the refusal of HS256)
}

func (k assertionKey) public() jose.JSONWebKey {
	var pub any
	switch priv := k.key.(type) {
	case *rsa.PrivateKey:
		pub = &priv.PublicKey
	case *ecdsa.PrivateKey:
		pub = &priv.PublicKey
	}
	return jose.JSONWebKey{Key: pub, KeyID: k.kid, Use: "sig"}
}

func (k assertionKey) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if k.kid != "" {
		opts = opts.WithHeader("kid", k.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertionClaims are RFC 7523 claims for client id at audience aud,
// expiring in exp.
func assertionClaims(t *testing.T, id, aud string, exp time.Duration) map[string]any {
	now := time.Now()
	return map[string]any{"iss": id, "sub": id, "aud": aud, "iat": now.Unix(), "exp": now.Add(exp).Unix(), "jti": randHex(t, 12)}
}

func withAssertion(form url.Values, assertion string) url.Values {
	out := url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	for k, v := range form {
		out[k] = v
	}
	return out
}

func writeJWKS(t *testing.T, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	f := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestPrivateKeyJWT: a web client registered with an inline JWKS signs in
// through the code flow with an RS256 assertion (aud the token endpoint,
// then the issuer at the refresh), and a machine client whose keys live at
// an https jwks_uri gets, introspects and revokes a token with ES256
// assertions. Every assertion the rules refuse is refused before the code
// is spent: wrong aud, exp too far or past, a replayed or missing jti, a
// key not in the client's set, alg none and HS256, iss unlike sub; a
// private_key_jwt client cannot use a secret, a secret client cannot use
// an assertion; a jwks_uri that is http, too large or too slow does not
// authenticate anyone.
func TestPrivateKeyJWT(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)

	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer := assertionKey{alg: jose.RS256, kid: "rsa-1", key: rsaKey}
	ecSigner := assertionKey{alg: jose.ES256, kid: "ec-1", key: ecKey}

	// The department's key server: its set (counting the fetches; a key is
	// added later, a rotation), one too large, one too slow. The slow one
	// answers its key set, a good one, the moment the IdP gives up (its
	// request cancelled): an answer racing the fetch's timeout, which Go's
	// HTTP client may still hand over, must be refused like no answer.
	rotated, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rotatedSigner := assertionKey{alg: jose.ES256, kid: "ec-2", key: rotated}
	ecSet, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{ecSigner.public()}})
	var fetches atomic.Int32
	var serveRotated atomic.Bool
	keys := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/jwks":
			fetches.Add(1)
			if serveRotated.Load() {
				b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{ecSigner.public(), rotatedSigner.public()}})
				_, _ = w.Write(b)
				return
			}
			_, _ = w.Write(ecSet)
		case "/big":
			_, _ = w.Write([]byte(`{"keys":[],"padding":"` + strings.Repeat("x", 100<<10) + `"}`))
		case "/slow":
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
			_, _ = w.Write(ecSet)
		}
	}))
	t.Cleanup(keys.Close)
	const retry = 300 * time.Millisecond
	idp.app.st.SetClientKeyFetch(idpop.ClientKeyFetch{Client: keys.Client(), Timeout: 500 * time.Millisecond, Retry: retry})

	// ---- registration ----
	jwksFile := writeJWKS(t, signer.public())
	pk := registerWebClient(t, idp, "/pk/callback", "--token-auth", "private_key_jwt", "--jwks", jwksFile)
	if pk.ClientSecret != "" || pk.TokenAuth != "private_key_jwt" {
		t.Fatalf("private_key_jwt client = %+v, want no secret", pk)
	}
	machine := func(uri string) machineClientOutput {
		out, err := captureStdout(t, func() error {
			return run([]string{"client", "create", "--department", "DEMO", "--kind", "machine", "--token-auth", "private_key_jwt",
				"--jwks-uri", keys.URL + uri, "--json"})
		})
		var m machineClientOutput
		if err != nil || json.Unmarshal([]byte(out), &m) != nil || m.ClientSecret != "" || m.TokenAuth != "private_key_jwt" {
			t.Fatalf("machine client with --jwks-uri %s = %q, %v", uri, out, err)
		}
		return m
	}
	m, big, slow := machine("/jwks"), machine("/big"), machine("/slow")
	for name, args := range map[string][]string{
		"http jwks_uri":       {"--token-auth", "private_key_jwt", "--jwks-uri", "http://keys.example/jwks"},
		"no keys":             {"--token-auth", "private_key_jwt"},
		"both sources":        {"--token-auth", "private_key_jwt", "--jwks", jwksFile, "--jwks-uri", keys.URL + "/jwks"},
		"keys without method": {"--jwks", jwksFile},
		"a private key":       {"--token-auth", "private_key_jwt", "--jwks", writeJWKS(t, jose.JSONWebKey{Key: rsaKey, KeyID: "p"})},
		"a weak key": {"--token-auth", "private_key_jwt", "--jwks", writeJWKS(t, jose.JSONWebKey{Key: func() *rsa.PublicKey {
			k, _ := rsa.GenerateKey(rand.Reader, 1024)
			return &k.PublicKey
		}()})},
		"unknown method": {"--token-auth", "tls_client_auth"},
		"public":         {"--public", "--token-auth", "post"},
	} {
		err := clientCreateCommand(append([]string{"--service", "demo", "--redirect-uri", idp.rpURL + "/x/callback"}, args...))
		if err == nil || strings.Contains(err.Error(), "SQLSTATE") {
			t.Errorf("client create, %s: %v", name, err)
		}
	}

	// ---- the code flow ----
	r := idp.rp(pk, pk.RedirectURIs[0])
	tokenURL := r.oauth.Endpoint.TokenURL
	introspect, revoke := r.discovery(t, "introspection_endpoint"), r.discovery(t, "revocation_endpoint")
	code, p := idp.browser().code(r, "staff01")
	form := codeForm(code, p, pk.RedirectURIs[0], nil)
	refused := func(what string, f url.Values, basic *[2]string) {
		t.Helper()
		status, body := tokenCall(t, tokenURL, f, basic)
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s = %d %v, want 401 invalid_client", what, status, body)
		}
	}
	claims := func(mod func(map[string]any)) map[string]any {
		c := assertionClaims(t, pk.ClientID, tokenURL, time.Minute)
		if mod != nil {
			mod(c)
		}
		return c
	}
	hs256 := assertionKey{alg: jose.HS256, kid: "rsa-1", key: []byte(strings.Repeat("k", 32))}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	payload, _ := json.Marshal(claims(nil))
	unsigned := header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	for what, assertion := range map[string]string{
		"wrong aud":          signer.sign(t, claims(func(c map[string]any) { c["aud"] = "https://other.example/token" })),
		"exp too far":        signer.sign(t, claims(func(c map[string]any) { c["exp"] = time.Now().Add(10 * time.Minute).Unix() })),
		"expired":            signer.sign(t, claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })),
		"no jti":             signer.sign(t, claims(func(c map[string]any) { delete(c, "jti") })),
		"iss unlike sub":     signer.sign(t, claims(func(c map[string]any) { c["sub"] = "someone-else" })),
		"key not in JWKS":    assertionKey{alg: jose.RS256, kid: "rsa-1", key: otherRSA}.sign(t, claims(nil)),
		"unknown kid":        assertionKey{alg: jose.RS256, kid: "rsa-9", key: otherRSA}.sign(t, claims(nil)),
		"alg none":           unsigned,
		"alg HS256":          hs256.sign(t, claims(nil)),
		"kid of another key": assertionKey{alg: jose.ES256, kid: "rsa-1", key: ecKey}.sign(t, claims(nil)),
	} {
		refused(what, withAssertion(form, assertion), nil)
	}
	// A private_key_jwt client has no secret: Basic with an empty one, or the body.
	refused("private_key_jwt client with Basic", form, &[2]string{pk.ClientID, ""})
	withSecret := codeForm(code, p, pk.RedirectURIs[0], url.Values{"client_id": {pk.ClientID}, "client_secret": {"anything"}})
	refused("private_key_jwt client with a body secret", withSecret, nil)
	// A client with a secret cannot use an assertion.
	web := idp.client(demoWebClient)
	refused("secret client with an assertion", withAssertion(form, signer.sign(t, assertionClaims(t, web.ClientID, tokenURL, time.Minute))), nil)

	// The code survived every refusal: aud = the token endpoint.
	status, body := tokenCall(t, tokenURL, withAssertion(form, signer.sign(t, claims(nil))), nil)
	rt, _ := body["refresh_token"].(string)
	if status != http.StatusOK || body["id_token"] == nil || rt == "" {
		t.Fatalf("code exchange with private_key_jwt = %d %v", status, body)
	}
	// The refresh, with aud = the issuer; then the same assertion again.
	again := signer.sign(t, assertionClaims(t, pk.ClientID, idp.issuer, 2*time.Minute))
	status, body = tokenCall(t, tokenURL, withAssertion(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, again), nil)
	if status != http.StatusOK || body["access_token"] == nil {
		t.Fatalf("refresh with private_key_jwt (aud issuer) = %d %v", status, body)
	}
	rt, _ = body["refresh_token"].(string)
	refused("replayed jti", withAssertion(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, again), nil)

	// ---- the machine client: jwks_uri, client_credentials, introspection, revocation ----
	cc := url.Values{"grant_type": {"client_credentials"}}
	status, body = tokenCall(t, tokenURL, withAssertion(cc, ecSigner.sign(t, assertionClaims(t, m.ClientID, tokenURL, time.Minute))), nil)
	at, _ := body["access_token"].(string)
	if status != http.StatusOK || at == "" || body["scope"] != "department.read" {
		t.Fatalf("client_credentials with private_key_jwt = %d %v", status, body)
	}
	status, body = tokenCall(t, introspect, withAssertion(url.Values{"token": {at}}, ecSigner.sign(t, assertionClaims(t, m.ClientID, idp.issuer, time.Minute))), nil)
	if status != http.StatusOK || body["active"] != true || body["department"] != "DEMO" {
		t.Errorf("introspection with private_key_jwt = %d %v", status, body)
	}
	status, _ = tokenCall(t, revoke, withAssertion(url.Values{"token": {at}}, ecSigner.sign(t, assertionClaims(t, m.ClientID, idp.issuer, time.Minute))), nil)
	if status != http.StatusOK {
		t.Errorf("revocation with private_key_jwt = %d", status)
	}
	if _, err := idp.app.st.MachineToken(context.Background(), at); err == nil {
		t.Error("machine token alive after revocation with private_key_jwt")
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("the jwks_uri was fetched %d times for three assertions, want 1 (cached)", n)
	}
	// One assertion sent ten times at once: exactly one token.
	same := withAssertion(cc, ecSigner.sign(t, assertionClaims(t, m.ClientID, tokenURL, time.Minute)))
	var wg sync.WaitGroup
	var granted atomic.Int32
	for range 10 {
		wg.Go(func() {
			if status, _ := tokenCall(t, tokenURL, same, nil); status == http.StatusOK {
				granted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := granted.Load(); n != 1 {
		t.Errorf("one assertion sent 10 times at once got %d tokens, want 1", n)
	}
	// A key published after the last fetch (a rotation): its kid, unknown
	// to the cached set, has the set fetched again (at most once per Retry).
	serveRotated.Store(true)
	byRotated := func() int {
		status, _ := tokenCall(t, tokenURL, withAssertion(cc, rotatedSigner.sign(t, assertionClaims(t, m.ClientID, tokenURL, time.Minute))), nil)
		return status
	}
	time.Sleep(2 * retry)
	if status := byRotated(); status != http.StatusOK {
		t.Errorf("assertion by a newly published key = %d, want 200 after a fetch", status)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("fetches after the rotation = %d, want 2", n)
	}
	// The keys at a jwks_uri that is too large or too slow authenticate nobody.
	refusedCC := func(what string, id string) {
		t.Helper()
		start := time.Now()
		status, body := tokenCall(t, tokenURL, withAssertion(cc, ecSigner.sign(t, assertionClaims(t, id, tokenURL, time.Minute))), nil)
		if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("%s = %d %v, want 401 invalid_client", what, status, body)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s took %v: the fetch's timeout did not hold", what, d)
		}
	}
	refusedCC("jwks_uri too large", big.ClientID)
	refusedCC("jwks_uri too slow", slow.ClientID)
	// A jwks_uri that is not https is never fetched, even if stored.
	if _, err := idp.app.pg.Pool().Exec(context.Background(), `UPDATE clients SET jwks_uri = 'http://127.0.0.1:9/jwks' WHERE id = $1`, m.ClientID); err == nil {
		t.Error("the database took an http jwks_uri")
	}

	// Discovery names the methods and algorithms.
	var d map[string]any
	if err := r.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	for _, ep := range []string{"token", "introspection", "revocation"} {
		methods, _ := json.Marshal(d[ep+"_endpoint_auth_methods_supported"])
		algs, _ := json.Marshal(d[ep+"_endpoint_auth_signing_alg_values_supported"])
		for _, want := range []string{"client_secret_basic", "client_secret_post", "private_key_jwt"} {
			if !strings.Contains(string(methods), want) {
				t.Errorf("%s_endpoint_auth_methods_supported = %s, lacks %s", ep, methods, want)
			}
		}
		if string(algs) != `["RS256","ES256","PS256"]` {
			t.Errorf("%s_endpoint_auth_signing_alg_values_supported = %s", ep, algs)
		}
	}
}

// TestClientAndDepartmentCommands: service create refuses an unknown
// department in a sentence naming the command that registers it (and
// creates nothing); department list, client list and client show tell the
// operator what is registered, never a secret.
func TestClientAndDepartmentCommands(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	var out strings.Builder

	err := serviceCreate([]string{"--code", "roads", "--name-zh", "道路", "--department", "DSAT"})
	if err == nil || !strings.Contains(err.Error(), "idp department create --code DSAT") {
		t.Errorf("service create with an unknown department: %v", err)
	}
	if _, err := idp.app.pg.DepartmentByCode(context.Background(), "DSAT"); err == nil {
		t.Error("service create registered the unknown department")
	}
	if _, err := idp.app.pg.ServiceByCode(context.Background(), "roads"); err == nil {
		t.Error("service create registered the e-service of an unknown department")
	}
	// Registered first, the department takes the e-service; its code is no longer taken.
	if err := departmentCreate([]string{"--code", "DSAT", "--name-zh", "交通事務局", "--name-pt", "DSAT-pt"}); err != nil {
		t.Fatalf("department create after the refusal: %v", err)
	}
	if _, err := captureStdout(t, func() error {
		return serviceCreate([]string{"--code", "roads", "--name-zh", "道路", "--department", "DSAT"})
	}); err != nil {
		t.Errorf("service create of a registered department: %v", err)
	}

	if err := departmentList([]string{"--json"}, &out); err != nil {
		t.Fatal(err)
	}
	var depts []departmentOutput
	if err := json.Unmarshal([]byte(out.String()), &depts); err != nil {
		t.Fatalf("department list --json = %q: %v", out.String(), err)
	}
	var codes []string
	for _, d := range depts {
		codes = append(codes, d.Code)
	}
	if strings.Join(codes, ",") != "DEMO,DSAT,OTHER" {
		t.Errorf("department list = %v", codes)
	}
	out.Reset()
	if err := departmentList(nil, &out); err != nil || !strings.Contains(out.String(), "交通事務局 / DSAT-pt") {
		t.Errorf("department list = %q, %v", out.String(), err)
	}

	web := idp.client(demoWebClient)
	post := registerWebClient(t, idp, "/post/callback", "--token-auth", "post")
	out.Reset()
	if err := clientList([]string{"--json"}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), web.ClientSecret) || strings.Contains(out.String(), post.ClientSecret) {
		t.Error("client list shows a secret")
	}
	var list []clientView
	if err := json.Unmarshal([]byte(out.String()), &list); err != nil {
		t.Fatal(err)
	}
	methods := map[string]string{}
	for _, c := range list {
		methods[c.ClientID] = c.TokenAuth
	}
	if methods[demoWebClient] != "client_secret_basic or client_secret_post" || methods[demoMobileClient] != "none" ||
		methods[post.ClientID] != "client_secret_post" || methods["other-web"] == "" {
		t.Errorf("client list methods = %v", methods)
	}
	out.Reset()
	if err := clientList(nil, &out); err != nil || !strings.Contains(out.String(), "e-service demo") {
		t.Errorf("client list = %q, %v", out.String(), err)
	}

	out.Reset()
	if err := clientShow([]string{demoWebClient, "--json"}, &out); err != nil {
		t.Fatal(err)
	}
	var shown clientView
	if err := json.Unmarshal([]byte(out.String()), &shown); err != nil || strings.Contains(out.String(), web.ClientSecret) {
		t.Fatalf("client show --json = %q, %v", out.String(), err)
	}
	if shown.Service != "demo" || shown.Kind != "web" || !slices.Equal(shown.RedirectURIs, web.RedirectURIs) ||
		!slices.Equal(shown.GrantTypes, []string{"authorization_code", "refresh_token"}) || shown.TokenAuth == "" {
		t.Errorf("client show = %+v", shown)
	}
	out.Reset()
	if err := clientShow([]string{post.ClientID}, &out); err != nil || !strings.Contains(out.String(), "auth method:  client_secret_post") ||
		!strings.Contains(out.String(), post.RedirectURIs[0]) || strings.Contains(out.String(), post.ClientSecret) {
		t.Errorf("client show %s = %q, %v", post.ClientID, out.String(), err)
	}
	if err := clientShow([]string{"no-such-client"}, &out); err == nil || !strings.Contains(err.Error(), "no client no-such-client") {
		t.Errorf("client show of an unknown client: %v", err)
	}
	if err := clientShow(nil, &out); err == nil {
		t.Error("client show without an id: no error")
	}
}
