package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	idpop "github.com/entity-account/idp/op"
)

// captureStdout runs fn and returns what it printed on stdout.
func captureStdout(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	ferr := fn()
	os.Stdout = saved
	w.Close()
	return string(<-done), ferr
}

// clientPost posts form to endpoint with HTTP Basic (id, secret) and
// returns the answer's status, headers and JSON.
func clientPost(t *testing.T, endpoint, id, secret string, form url.Values) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

// TestMachineClientCredentials: the operator registers a department and a
// machine client with the commands, as the binary runs them; the client
// gets an opaque token by client_credentials (Basic), introspection shows
// its scope and department, the department API's verifier accepts it, and
// revocation ends it at once. What must be refused is.
func TestMachineClientCredentials(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	ctx := t.Context()

	// ---- operator commands ----
	out, err := captureStdout(t, func() error {
		return run([]string{"department", "create", "--code", "DSAT", "--name-zh", "交通事務局", "--name-en", "Transport Bureau", "--json"})
	})
	var dept departmentOutput
	if err != nil || json.Unmarshal([]byte(out), &dept) != nil || dept.Code != "DSAT" || dept.ID == 0 || dept.NameEN != "Transport Bureau" {
		t.Fatalf("department create = %q, %v", out, err)
	}
	err = departmentCreate([]string{"--code", "DSAT", "--name-zh", "again"})
	if err == nil || !strings.Contains(err.Error(), "already exists") || strings.Contains(err.Error(), "SQLSTATE") {
		t.Errorf("department create of an existing code: %v", err)
	}
	if err := departmentCreate([]string{"--code", "no spaces", "--name-zh", "x"}); err == nil || !strings.Contains(err.Error(), "--code") {
		t.Errorf("department create with a bad code: %v", err)
	}
	for name, args := range map[string][]string{
		"unknown department": {"--department", "NOPE", "--kind", "machine"},
		"unknown scope":      {"--department", "DSAT", "--kind", "machine", "--scope", "openid"},
		"redirect URI":       {"--department", "DSAT", "--kind", "machine", "--redirect-uri", "https://x.example/cb"},
		"unknown kind":       {"--service", "demo", "--kind", "robot", "--redirect-uri", "https://x.example/cb"},
	} {
		if err := clientCreateCommand(args); err == nil || strings.Contains(err.Error(), "SQLSTATE") {
			t.Errorf("client create, %s: %v", name, err)
		}
	}
	out, err = captureStdout(t, func() error {
		return run([]string{"client", "create", "--department", "DSAT", "--kind", "machine",
			"--scope", "department.read", "--scope", "department.write", "--json"})
	})
	var m machineClientOutput
	if err != nil || json.Unmarshal([]byte(out), &m) != nil || m.ClientID == "" || len(m.ClientSecret) < 40 || m.Department != "DSAT" {
		t.Fatalf("client create --kind machine = %q, %v", out, err)
	}
	stored, err := idp.app.pg.Client(ctx, m.ClientID)
	if err != nil || strings.Contains(string(stored.SecretHash), m.ClientSecret) || len(stored.SecretHash) != 32 {
		t.Errorf("stored machine client = %+v, %v; want the secret's hash only", stored, err)
	}
	// The e-service clients are registered as before, --kind or not.
	out, err = captureStdout(t, func() error {
		return run([]string{"client", "create", "--service", "demo", "--kind", "native", "--redirect-uri", "http://127.0.0.1/cb", "--json"})
	})
	var native clientOutput
	if err != nil || json.Unmarshal([]byte(out), &native) != nil || !native.Public || native.ClientSecret != "" {
		t.Errorf("client create --kind native = %q, %v", out, err)
	}
	if _, err := captureStdout(t, func() error {
		return run([]string{"client", "create", "--service", "demo", "--redirect-uri", "https://demo.example/cb"})
	}); err != nil {
		t.Errorf("client create --service: %v", err)
	}

	// ---- the grant ----
	web := idp.rp(idp.other, idp.other.RedirectURIs[0])
	tokenURL := web.oauth.Endpoint.TokenURL
	introspectURL := web.discovery(t, "introspection_endpoint")
	revokeURL := web.discovery(t, "revocation_endpoint")
	cc := url.Values{"grant_type": {"client_credentials"}}

	status, _, tok := clientPost(t, tokenURL, m.ClientID, m.ClientSecret, cc)
	at, _ := tok["access_token"].(string)
	if status != http.StatusOK || at == "" || tok["token_type"] != "Bearer" || tok["scope"] != "department.read department.write" ||
		tok["refresh_token"] != nil || tok["id_token"] != nil {
		t.Fatalf("client_credentials = %d %v", status, tok)
	}
	if exp, _ := tok["expires_in"].(float64); exp < 590 || exp > 600 {
		t.Errorf("expires_in = %v, want IDP_ACCESS_TOKEN_TTL (10m)", tok["expires_in"])
	}
	status, _, narrow := clientPost(t, tokenURL, m.ClientID, m.ClientSecret,
		url.Values{"grant_type": {"client_credentials"}, "scope": {"department.read"}})
	if status != http.StatusOK || narrow["scope"] != "department.read" {
		t.Errorf("client_credentials with scope department.read = %d %v", status, narrow)
	}

	status, _, intro := clientPost(t, introspectURL, m.ClientID, m.ClientSecret, url.Values{"token": {at}})
	if status != http.StatusOK || intro["active"] != true || intro["client_id"] != m.ClientID ||
		intro["scope"] != "department.read department.write" || intro["department"] != "DSAT" || intro["sub"] != m.ClientID {
		t.Errorf("introspection = %d %v", status, intro)
	}
	st := idp.app.provider.Storage().(*idpop.Storage)
	access, err := st.MachineToken(ctx, at)
	if err != nil || access.Department != "DSAT" || !access.HasScope("department.write") {
		t.Errorf("MachineToken = %+v, %v", access, err)
	}
	// Userinfo has no user to describe.
	req, _ := http.NewRequest(http.MethodGet, web.provider.UserInfoEndpoint(), nil)
	req.Header.Set("Authorization", "Bearer "+at)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode == http.StatusOK {
		t.Errorf("userinfo with a machine token: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}

	// Revocation ends it at once: introspection and the verifier.
	if status, _, _ := clientPost(t, revokeURL, m.ClientID, m.ClientSecret, url.Values{"token": {at}}); status != http.StatusOK {
		t.Fatalf("revocation = %d", status)
	}
	if _, _, intro := clientPost(t, introspectURL, m.ClientID, m.ClientSecret, url.Values{"token": {at}}); intro["active"] != false {
		t.Errorf("introspection after revocation = %v", intro)
	}
	if _, err := st.MachineToken(ctx, at); !errors.Is(err, idpop.ErrInvalidToken) {
		t.Errorf("MachineToken after revocation: %v, want ErrInvalidToken", err)
	}

	// ---- refusals ----
	status, _, body := clientPost(t, tokenURL, m.ClientID, m.ClientSecret,
		url.Values{"grant_type": {"client_credentials"}, "scope": {"department.read openid"}})
	if status != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Errorf("unregistered scope = %d %v, want 400 invalid_scope", status, body)
	}
	status, hdr, body := clientPost(t, tokenURL, m.ClientID, "wrong-secret", cc)
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("wrong secret = %d %v %q, want 401 invalid_client with WWW-Authenticate", status, body, hdr.Get("WWW-Authenticate"))
	}
	status, _, body = clientPost(t, tokenURL, idp.other.ClientID, idp.other.ClientSecret, cc)
	if status != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Errorf("web client's client_credentials = %d %v, want 400 unauthorized_client", status, body)
	}
	status, _, body = clientPost(t, tokenURL, m.ClientID, m.ClientSecret,
		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"anything"}})
	if status != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Errorf("machine client's refresh grant = %d %v, want 400 unauthorized_client", status, body)
	}
	// The code grant: the machine client cannot start one at /authorize,
	// and a code (another client's) does not serve it at the token endpoint.
	b := idp.browser()
	p := b.get(web.authorizeURL(url.Values{"client_id": {m.ClientID}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"https://dsat.example/cb"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}))
	wantNoRedirect(t, "authorize as a machine client", p, http.StatusBadRequest)
	code, params := idp.browser().code(web, "staff01")
	status, _, body = clientPost(t, tokenURL, m.ClientID, m.ClientSecret, url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {idp.other.RedirectURIs[0]}, "code_verifier": {params.Verifier}})
	if status == http.StatusOK || body["access_token"] != nil {
		t.Errorf("machine client redeeming a code = %d %v", status, body)
	}

	// An ordinary user's access token is not a machine token.
	userTok, _ := idp.browser().tokens(web, "staff01")
	if _, err := st.MachineToken(ctx, userTok.AccessToken); !errors.Is(err, idpop.ErrNotMachineToken) {
		t.Errorf("MachineToken of a user's token: %v, want ErrNotMachineToken", err)
	}
}
