package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// dsatMachineClient registers department DSAT (once) and a machine client of
// it with the operator's commands.
func dsatMachineClient(t *testing.T) machineClientOutput {
	t.Helper()
	_, _ = captureStdout(t, func() error { return departmentCreate([]string{"--code", "DSAT", "--name-zh", "交通事務局"}) })
	out, err := captureStdout(t, func() error {
		return run([]string{"client", "create", "--department", "DSAT", "--kind", "machine", "--scope", "department.read", "--json"})
	})
	var m machineClientOutput
	if err != nil || json.Unmarshal([]byte(out), &m) != nil || m.ClientSecret == "" {
		t.Fatalf("client create --kind machine = %q, %v", out, err)
	}
	return m
}

// ccWorks reports whether the client gets a token by client_credentials
// with secret, in the Basic header (basic) or the form body.
func ccWorks(t *testing.T, tokenURL, id, secret string, basic bool) bool {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	var status int
	var body map[string]any
	if basic {
		status, body = tokenCall(t, tokenURL, form, &[2]string{id, secret})
	} else {
		form.Set("client_id", id)
		form.Set("client_secret", secret)
		status, body = tokenCall(t, tokenURL, form, nil)
	}
	if status != http.StatusOK && (status != http.StatusUnauthorized || body["error"] != "invalid_client") {
		t.Errorf("client_credentials: %d %v, want 200 or 401 invalid_client", status, body)
	}
	return status == http.StatusOK
}

// rotate runs idp client rotate-secret and returns what --json printed.
func rotate(t *testing.T, id string, extra ...string) rotatedOutput {
	t.Helper()
	out, err := captureStdout(t, func() error {
		return run(append([]string{"client", "rotate-secret", "--client", id, "--json"}, extra...))
	})
	var r rotatedOutput
	if err != nil || json.Unmarshal([]byte(out), &r) != nil || len(r.ClientSecret) < 40 {
		t.Fatalf("client rotate-secret %v = %q, %v", extra, out, err)
	}
	return r
}

// auditOf is the actions on target in the audit trail, each with the
// login of the officer it names ("-" for none), in order.
func (idp *testIDP) auditOf(t *testing.T, target, prefix string) []string {
	t.Helper()
	rows, err := idp.app.pg.Pool().Query(context.Background(), `
		SELECT e.action || ' ' || coalesce(o.login, '-')
		FROM audit_events e LEFT JOIN officers o ON o.id = e.officer_id
		WHERE e.target = $1 AND e.action LIKE $2 ORDER BY e.id`, target, prefix+"%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	return got
}

// TestClientSecretRotation: after a rotation the new secret works and the
// old one too, in the Basic header and the body, at the token and
// introspection endpoints, until the grace ends, and not after; a grace of
// 0 ends the old one at once; a client without a secret has none to
// rotate; a counter officer may not rotate; the audit names the officer.
func TestClientSecretRotation(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	m := dsatMachineClient(t)
	web := idp.rp(idp.other, idp.other.RedirectURIs[0])
	tokenURL := web.oauth.Endpoint.TokenURL
	// The node caches the client now: the rotation must reach its cache.
	if !ccWorks(t, tokenURL, m.ClientID, m.ClientSecret, true) {
		t.Fatal("the registered secret does not work")
	}

	first := rotate(t, m.ClientID, "--grace", "4s")
	until, err := time.Parse(time.RFC3339, first.PreviousSecretUntil)
	if err != nil || time.Until(until) > 4*time.Second || time.Until(until) < 2*time.Second {
		t.Errorf("previous secret valid until %q, %v; want in about 4s", first.PreviousSecretUntil, err)
	}
	var shown clientView
	out, err := captureStdout(t, func() error { return clientShow([]string{m.ClientID, "--json"}, os.Stdout) })
	if err != nil || json.Unmarshal([]byte(out), &shown) != nil || shown.PreviousSecretUntil == "" || shown.Disabled {
		t.Errorf("client show during the grace = %q, %v", out, err)
	}
	for _, basic := range []bool{true, false} {
		if !ccWorks(t, tokenURL, m.ClientID, first.ClientSecret, basic) {
			t.Errorf("the new secret (basic %v) does not work", basic)
		}
		if !ccWorks(t, tokenURL, m.ClientID, m.ClientSecret, basic) {
			t.Errorf("the old secret (basic %v) does not work during the grace", basic)
		}
	}
	// Introspection authenticates the client with the old secret too.
	_, _, tok := clientPost(t, tokenURL, m.ClientID, first.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	at, _ := tok["access_token"].(string)
	status, _, in := clientPost(t, web.discovery(t, "introspection_endpoint"), m.ClientID, m.ClientSecret, url.Values{"token": {at}})
	if status != http.StatusOK || in["active"] != true {
		t.Errorf("introspection with the old secret during the grace: %d %v", status, in)
	}

	time.Sleep(time.Until(until) + 100*time.Millisecond)
	for _, basic := range []bool{true, false} {
		if ccWorks(t, tokenURL, m.ClientID, m.ClientSecret, basic) {
			t.Errorf("the old secret (basic %v) still works after the grace", basic)
		}
		if !ccWorks(t, tokenURL, m.ClientID, first.ClientSecret, basic) {
			t.Errorf("the new secret (basic %v) does not work after the grace", basic)
		}
	}

	// A grace of 0: the secret before stops at once, on this node too.
	second := rotate(t, m.ClientID, "--grace", "0")
	if ccWorks(t, tokenURL, m.ClientID, first.ClientSecret, true) {
		t.Error("grace 0: the old secret still works")
	}
	if !ccWorks(t, tokenURL, m.ClientID, second.ClientSecret, false) {
		t.Error("grace 0: the new secret does not work")
	}

	// Refusals, each writing nothing.
	idp.refused(t, "rotating a public client", "public client", func() error {
		return run([]string{"client", "rotate-secret", "--client", demoMobileClient})
	})
	idp.refused(t, "an unknown client", "there is no client", func() error {
		return run([]string{"client", "rotate-secret", "--client", "nobody"})
	})
	idp.refused(t, "a grace over 30 days", "grace", func() error {
		return run([]string{"client", "rotate-secret", "--client", m.ClientID, "--grace", "721h"})
	})
	if _, err := captureStdout(t, func() error {
		return officerCreate([]string{"--name", "chan.tm", "--display-name", "陳大文", "--role", "counter"})
	}); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"client", "rotate-secret"}, {"client", "disable"}, {"client", "enable"}} {
		idp.refused(t, "a counter officer: "+strings.Join(cmd, " "), "supervisor", func() error {
			return run(append(cmd, "--officer", "chan.tm", "--client", m.ClientID))
		})
	}
	if !ccWorks(t, tokenURL, m.ClientID, second.ClientSecret, true) {
		t.Error("a refused rotation changed the secret")
	}
	if got := idp.auditOf(t, m.ClientID, "client.rotate"); strings.Join(got, ",") !=
		"client.rotate_secret "+demoOfficer+",client.rotate_secret "+demoOfficer {
		t.Errorf("audit = %v", got)
	}
}

// TestClientDisable: a disabled client is refused at /authorize (the
// unknown client's page) and the token endpoint (invalid_client: its code
// exchange, its client_credentials), and its tokens stop at once on the
// node that cached it: userinfo and introspection refuse its access
// tokens, the department API its machine token, its refresh token gets
// invalid_grant. Enabled again, it gets new tokens, and its old ones stay
// ended. Both changes are audited with the officer, and the lists show it.
func TestClientDisable(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	tokenURL := r.oauth.Endpoint.TokenURL
	tok, _ := idp.browser().tokens(r, "staff01")
	code, p := idp.browser().code(r, "staff01")
	if status, _ := r.userinfoGroups(t, tok.AccessToken); status != http.StatusOK {
		t.Fatalf("userinfo before: %d", status)
	}
	// A public client's refresh token, refreshed without a secret.
	mobile := idp.client(demoMobileClient)
	mr := idp.rp(mobile, "http://127.0.0.1:53111/callback")
	mtok, _ := idp.browser().tokens(mr, "staff01")
	m := dsatMachineClient(t)
	_, _, mt := clientPost(t, tokenURL, m.ClientID, m.ClientSecret, url.Values{"grant_type": {"client_credentials"}})
	machineToken, _ := mt["access_token"].(string)
	if _, err := idp.app.st.MachineToken(context.Background(), machineToken); err != nil {
		t.Fatalf("machine token before: %v", err)
	}
	// Only the token's audience may introspect it: the web client itself.
	if in := r.introspect(t, tok.AccessToken); in["active"] != true {
		t.Fatalf("introspection before: %v", in)
	}

	for _, id := range []string{web.ClientID, mobile.ClientID, m.ClientID} {
		if _, err := captureStdout(t, func() error { return run([]string{"client", "disable", "--client", id}) }); err != nil {
			t.Fatalf("client disable %s: %v", id, err)
		}
	}

	if status, _ := r.userinfoGroups(t, tok.AccessToken); status == http.StatusOK {
		t.Error("userinfo honours a disabled client's access token")
	}
	if status, body := r.postForm(t, r.discovery(t, "introspection_endpoint"), url.Values{"token": {tok.AccessToken}}, true); status == http.StatusOK && body["active"] == true {
		t.Errorf("introspection of a disabled client's token: %v", body)
	}
	if _, err := idp.app.st.MachineToken(context.Background(), machineToken); err == nil {
		t.Error("the department API honours a disabled machine client's token")
	}
	// The token endpoint knows no disabled client: its refresh is refused
	// as an unknown client's, public or confidential.
	status, body := mr.postForm(t, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {mtok.RefreshToken}}, false)
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("refresh by a disabled public client: %d %v, want invalid_client", status, body)
	}
	if status, body := r.refresh(t, tok.RefreshToken); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("refresh by a disabled confidential client: %d %v, want invalid_client", status, body)
	}
	status, body = tokenCall(t, tokenURL, codeForm(code, p, web.RedirectURIs[0], nil), &[2]string{web.ClientID, web.ClientSecret})
	if status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("code exchange by a disabled client: %d %v", status, body)
	}
	if ccWorks(t, tokenURL, m.ClientID, m.ClientSecret, true) {
		t.Error("client_credentials by a disabled client")
	}
	page := idp.browser().get(r.authURL(newAuthParams(t)))
	wantNoRedirect(t, "/authorize of a disabled client", page, http.StatusBadRequest)

	var list strings.Builder
	if err := clientList(nil, &list); err != nil || !strings.Contains(list.String(), "DISABLED") {
		t.Errorf("client list = %q, %v", list.String(), err)
	}
	list.Reset()
	if err := clientShow([]string{web.ClientID}, &list); err != nil || !strings.Contains(list.String(), "disabled") {
		t.Errorf("client show = %q, %v", list.String(), err)
	}

	if _, err := captureStdout(t, func() error { return run([]string{"client", "enable", "--client", web.ClientID}) }); err != nil {
		t.Fatal(err)
	}
	if _, err := captureStdout(t, func() error { return clientEnable([]string{"--client", m.ClientID}) }); err != nil {
		t.Fatal(err)
	}
	// Tokens issued in the second of the disabling end with it: the new
	// ones come from the next second.
	if c, err := idp.app.pg.ClientForOperator(context.Background(), web.ClientID); err != nil || c.TokensValidAfter.IsZero() {
		t.Fatalf("client after disable and enable = %+v, %v", c, err)
	} else {
		time.Sleep(time.Until(c.TokensValidAfter))
	}
	fresh, _ := idp.browser().tokens(r, "staff01")
	if status, _ := r.userinfoGroups(t, fresh.AccessToken); status != http.StatusOK {
		t.Errorf("userinfo with a new token after enabling: %d", status)
	}
	if status, _ := r.refresh(t, fresh.RefreshToken); status != http.StatusOK {
		t.Errorf("refresh of a new token after enabling: %d", status)
	}
	if status, _ := r.userinfoGroups(t, tok.AccessToken); status == http.StatusOK {
		t.Error("enabling brought the old access token back")
	}
	if status, body := r.refresh(t, tok.RefreshToken); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("refresh of the old token after enabling: %d %v, want invalid_grant", status, body)
	}
	if !ccWorks(t, tokenURL, m.ClientID, m.ClientSecret, false) {
		t.Error("client_credentials after enabling")
	}
	if got := idp.auditOf(t, web.ClientID, "client.%able"); strings.Join(got, ",") !=
		"client.disable "+demoOfficer+",client.enable "+demoOfficer {
		t.Errorf("audit = %v", got)
	}
}
