package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ---- helpers ----

// machineClient registers a machine client of department dept with the
// operator's command, as the binary runs it, and returns it.
func machineClient(t *testing.T, idp *testIDP, dept string, scopes ...string) machineClientOutput {
	t.Helper()
	idp.runsCommands(t)
	args := []string{"client", "create", "--department", dept, "--kind", "machine", "--json"}
	for _, sc := range scopes {
		args = append(args, "--scope", sc)
	}
	out, err := captureStdout(t, func() error { return run(args) })
	var m machineClientOutput
	if err != nil || json.Unmarshal([]byte(out), &m) != nil || m.ClientID == "" {
		t.Fatalf("client create %v = %q, %v", args, out, err)
	}
	return m
}

// machineToken gets an access token for m by client_credentials.
func machineToken(t *testing.T, idp *testIDP, m machineClientOutput, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	status, _, tok := clientPost(t, idp.issuer+"/oauth/token", m.ClientID, m.ClientSecret, form)
	at, _ := tok["access_token"].(string)
	if status != http.StatusOK || at == "" {
		t.Fatalf("client_credentials for %s = %d %v", m.ClientID, status, tok)
	}
	return at
}

type apiAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// api calls the department API with token ("" sends none) and a body
// (a string is sent as is, anything else as JSON).
func (idp *testIDP) api(t *testing.T, token, method, path string, body any) apiAnswer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = strings.NewReader(string(j))
	}
	req, _ := http.NewRequest(method, idp.issuer+"/api/v1"+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := apiAnswer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

func (a apiAnswer) want(t *testing.T, what string, status int, errCode string) {
	t.Helper()
	if a.status != status || (errCode != "" && a.body["error"] != errCode) {
		t.Fatalf("%s = %d %s, want %d %s", what, a.status, a.raw, status, errCode)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q", what, a.header.Get("Cache-Control"))
	}
	if errCode != "" {
		if msg, _ := a.body["message"].(string); msg == "" {
			t.Errorf("%s: no message in %s", what, a.raw)
		}
	}
}

// jwtClaims reads the payload of a JWT (its signature is the library's business here).
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	if err != nil || json.Unmarshal(b, &c) != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return c
}

// ---- the tests ----

// TestDepartmentAPI: the DEMO department's machine client lists its
// e-services, defines, renames and removes a group (a login in it holds it
// no more on its next refresh), opens and closes its e-service to an entity
// (closing takes the entity's logins off it), lists who is assigned, and
// reads its changes; everything it changed is audited with it as actor.
// Another department's e-service is not found; the token, scope and body
// rules hold.
func TestDepartmentAPI(t *testing.T) {
	idp := startIDP(t, map[string]string{"IDP_CLAIMS_CACHE_TTL": "0"})
	ctx := context.Background()
	m := machineClient(t, idp, "DEMO", "department.read", "department.write")
	at := machineToken(t, idp, m, "")
	en := idp.demo.EntityNumber
	entity, err := idp.app.pg.EntityByNumber(ctx, en)
	if err != nil {
		t.Fatal(err)
	}
	admin, staff01, staff02 := idp.login("admin01"), idp.login("staff01"), idp.login("staff02")

	// The department's e-services: demo, not other (department OTHER).
	list := idp.api(t, at, http.MethodGet, "/services", nil)
	list.want(t, "GET /services", http.StatusOK, "")
	if !strings.Contains(list.raw, `"code":"demo"`) || !strings.Contains(list.raw, `"access_policy":"assigned"`) ||
		!strings.Contains(list.raw, `{"code":"admin","names":{"zh":"管理員","pt":"Administrador","en":""}}`) ||
		strings.Contains(list.raw, `"other"`) {
		t.Errorf("GET /services = %s", list.raw)
	}

	// A group: created, renamed.
	g := idp.api(t, at, http.MethodPost, "/services/demo/groups", map[string]string{"code": "auditor", "name_zh": "稽核員", "name_en": "Auditor"})
	g.want(t, "create group", http.StatusCreated, "")
	if g.body["code"] != "auditor" || !strings.HasSuffix(g.header.Get("Location"), "/api/v1/services/demo/groups/auditor") {
		t.Errorf("create group = %s, Location %q", g.raw, g.header.Get("Location"))
	}
	idp.api(t, at, http.MethodPost, "/services/demo/groups", map[string]string{"code": "auditor", "name_zh": "again"}).
		want(t, "create a taken group", http.StatusConflict, "conflict")
	rn := idp.api(t, at, http.MethodPatch, "/services/demo/groups/auditor", map[string]string{"name_pt": "Auditor PT"})
	rn.want(t, "rename group", http.StatusOK, "")
	if names, _ := rn.body["names"].(map[string]any); names["zh"] != "稽核員" || names["pt"] != "Auditor PT" || names["en"] != "Auditor" {
		t.Errorf("renamed group = %s", rn.raw)
	}
	idp.api(t, at, http.MethodPatch, "/services/demo/groups/nope", map[string]string{"name_pt": "x"}).
		want(t, "rename an unknown group", http.StatusNotFound, "not_found")

	// staff02 (assigned to demo, no group) is put in it by its entity's admin.
	if _, err := idp.app.manage.AssignService(ctx, idp.actorOf(t, admin), entity.ID, staff02.EUID, "demo", "auditor"); err != nil {
		t.Fatal(err)
	}
	r := idp.rp(idp.client(demoWebClient), idp.rpURL+"/callback")
	tok, _ := idp.browser().tokens(r, staff02.Username)
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	if groups := jwtClaims(t, tok.Extra("id_token").(string))["service_groups"]; !equalStrings(groups, []string{"auditor"}) {
		t.Fatalf("staff02's ID token service_groups = %v, want [auditor]", groups)
	}
	as := idp.api(t, at, http.MethodGet, "/services/demo/entities/"+en+"/assignments", nil)
	as.want(t, "assignments", http.StatusOK, "")
	for _, want := range []string{`{"euid":"` + admin.EUID + `","groups":["admin"]}`, `{"euid":"` + staff01.EUID + `","groups":["operator"]}`,
		`{"euid":"` + staff02.EUID + `","groups":["auditor"]}`} {
		if !strings.Contains(as.raw, want) {
			t.Errorf("assignments %s lack %s", as.raw, want)
		}
	}
	for _, leak := range []string{"staff02", "黃美玲", "username", "mobile", "@"} {
		if strings.Contains(as.raw, leak) {
			t.Errorf("assignments leak %q: %s", leak, as.raw)
		}
	}

	// The group removed: its memberships go, and staff02's next refreshed ID token says [].
	idp.api(t, at, http.MethodDelete, "/services/demo/groups/auditor", nil).want(t, "delete group", http.StatusNoContent, "")
	if n := idp.groupMembers(t, staff02.EUID, "demo"); n != 0 {
		t.Errorf("staff02 still in %d groups of demo", n)
	}
	status, refreshed := r.refresh(t, tok.RefreshToken)
	idt, _ := refreshed["id_token"].(string)
	if status != http.StatusOK || idt == "" {
		t.Fatalf("refresh after the group's removal = %d %v", status, refreshed)
	}
	if groups := jwtClaims(t, idt)["service_groups"]; !equalStrings(groups, []string{}) {
		t.Errorf("refreshed ID token service_groups = %v, want []", groups)
	}
	rt := refreshed["refresh_token"].(string)

	// Close demo to the entity: every assignment and membership goes; the
	// logins' refresh no longer answers (an e-service of assigned logins only).
	cl := idp.api(t, at, http.MethodDelete, "/services/demo/entities/"+en, nil)
	cl.want(t, "close", http.StatusOK, "")
	if cl.body["changed"] != true {
		t.Errorf("close = %s", cl.raw)
	}
	var left int
	if err := idp.app.pg.Pool().QueryRow(ctx, `
		SELECT (SELECT count(*) FROM service_assignments sa JOIN services sv ON sv.id = sa.service_id WHERE sv.code = 'demo')
		     + (SELECT count(*) FROM group_members gm JOIN service_groups g ON g.id = gm.group_id JOIN services sv ON sv.id = g.service_id WHERE sv.code = 'demo')`,
	).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d assignments and memberships left in demo after closing, %v", left, err)
	}
	if n := idp.groupMembers(t, staff01.EUID, "other"); n != 1 {
		t.Errorf("staff01's group in e-service other: %d, want 1 (untouched)", n)
	}
	if status, body := r.refresh(t, rt); status == http.StatusOK {
		t.Errorf("refresh after closing = %d %v, want refused", status, body)
	}
	idp.api(t, at, http.MethodGet, "/services/demo/entities/"+en+"/assignments", nil).
		want(t, "assignments of a closed entity", http.StatusNotFound, "not_found")
	idp.api(t, at, http.MethodDelete, "/services/demo/entities/"+en, nil).want(t, "close again", http.StatusOK, "")

	// Open it again: nothing comes back by itself; assigned again, staff02 has [].
	idp.api(t, at, http.MethodPut, "/services/demo/entities/"+en, nil).want(t, "open", http.StatusCreated, "")
	idp.api(t, at, http.MethodPut, "/services/demo/entities/"+en, nil).want(t, "open again", http.StatusOK, "")
	if as := idp.api(t, at, http.MethodGet, "/services/demo/entities/"+en+"/assignments", nil); as.raw != `{"assignments":[]}`+"\n" {
		t.Errorf("assignments after reopening = %s", as.raw)
	}
	if _, err := idp.app.manage.AssignService(ctx, idp.actorOf(t, admin), entity.ID, staff02.EUID, "demo", ""); err != nil {
		t.Fatal(err)
	}
	if groups, _ := idp.freshGroups(t, r, staff02.Username); !equalStrings(groups, []string{}) {
		t.Errorf("staff02's ID token after reopening = %v, want []", groups)
	}
	idp.api(t, at, http.MethodPut, "/services/demo/entities/99-999999", nil).want(t, "open to an unknown entity", http.StatusNotFound, "not_found")
	idp.api(t, at, http.MethodPut, "/services/demo/entities/nope", nil).want(t, "open to a bad number", http.StatusBadRequest, "invalid_request")

	// Another department's e-service, or an unknown one: not found, the same way.
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "/services/other/groups"}, {http.MethodPost, "/services/nope/groups"},
		{http.MethodDelete, "/services/other/groups/inspector"}, {http.MethodPut, "/services/other/entities/" + en},
		{http.MethodDelete, "/services/other/entities/" + en}, {http.MethodGet, "/services/other/entities/" + en + "/assignments"},
	} {
		var body any
		if c.method == http.MethodPost {
			body = map[string]string{"code": "x", "name_zh": "x"}
		}
		a := idp.api(t, at, c.method, c.path, body)
		a.want(t, c.method+" "+c.path, http.StatusNotFound, "not_found")
		if strings.Contains(a.raw, "OTHER") || strings.Contains(a.raw, "department") {
			t.Errorf("%s %s reveals: %s", c.method, c.path, a.raw)
		}
	}
	if n := idp.groupMembers(t, staff01.EUID, "other"); n != 1 {
		t.Errorf("staff01's group in other after the refusals: %d", n)
	}

	// Bodies.
	idp.api(t, at, http.MethodPost, "/services/demo/groups", `{"code":`).want(t, "bad JSON", http.StatusBadRequest, "invalid_request")
	a := idp.api(t, at, http.MethodPost, "/services/demo/groups", map[string]string{"code": "ok", "name_zh": ""})
	a.want(t, "empty name_zh", http.StatusBadRequest, "invalid_request")
	if a.body["field"] != "name_zh" {
		t.Errorf("empty name_zh: field %v", a.body["field"])
	}
	if a := idp.api(t, at, http.MethodPost, "/services/demo/groups", map[string]string{"code": "Bad Code", "name_zh": "x"}); a.status != http.StatusBadRequest || a.body["field"] != "code" {
		t.Errorf("bad code = %d %s", a.status, a.raw)
	}
	if a := idp.api(t, at, http.MethodPost, "/services/demo/groups", map[string]any{"code": "ok", "name_zh": "x", "colour": "red"}); a.status != http.StatusBadRequest || a.body["field"] != "colour" {
		t.Errorf("unknown field = %d %s", a.status, a.raw)
	}
	if a := idp.api(t, at, http.MethodPost, "/services/demo/groups", map[string]any{"code": 7, "name_zh": "x"}); a.status != http.StatusBadRequest || a.body["field"] != "code" {
		t.Errorf("a number for code = %d %s", a.status, a.raw)
	}
	big := `{"code":"big","name_zh":"` + strings.Repeat("x", 70<<10) + `"}`
	idp.api(t, at, http.MethodPost, "/services/demo/groups", big).want(t, "oversized body", http.StatusRequestEntityTooLarge, "request_too_large")
	req, _ := http.NewRequest(http.MethodPost, idp.issuer+"/api/v1/services/demo/groups", strings.NewReader("code=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+at)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form body: %v %v", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	idp.api(t, at, http.MethodGet, "/changes?limit=abc", nil).want(t, "bad limit", http.StatusBadRequest, "invalid_request")
	idp.api(t, at, http.MethodGet, "/nothing", nil).want(t, "unknown path", http.StatusNotFound, "not_found")

	// Tokens and scopes.
	ro := machineClient(t, idp, "DEMO", "department.read")
	rot := machineToken(t, idp, ro, "")
	idp.api(t, rot, http.MethodGet, "/services", nil).want(t, "read with a read token", http.StatusOK, "")
	a = idp.api(t, rot, http.MethodPost, "/services/demo/groups", map[string]string{"code": "ro", "name_zh": "x"})
	a.want(t, "write with a read-only token", http.StatusForbidden, "insufficient_scope")
	if h := a.header.Get("WWW-Authenticate"); h != `Bearer error="insufficient_scope", scope="department.write"` {
		t.Errorf("insufficient scope WWW-Authenticate = %q", h)
	}
	narrow := machineToken(t, idp, m, "department.read")
	idp.api(t, narrow, http.MethodDelete, "/services/demo/entities/"+en, nil).want(t, "close with a read token", http.StatusForbidden, "insufficient_scope")
	a = idp.api(t, "", http.MethodGet, "/services", nil)
	a.want(t, "no token", http.StatusUnauthorized, "invalid_token")
	if h := a.header.Get("WWW-Authenticate"); h != "Bearer" {
		t.Errorf("no token: WWW-Authenticate %q, want Bearer", h)
	}
	for name, tk := range map[string]string{"garbage": "not-a-token", "user's access token": tok.AccessToken} {
		a := idp.api(t, tk, http.MethodGet, "/services", nil)
		a.want(t, name, http.StatusUnauthorized, "invalid_token")
		if h := a.header.Get("WWW-Authenticate"); h != `Bearer error="invalid_token"` {
			t.Errorf("%s: WWW-Authenticate %q", name, h)
		}
	}
	if status, _, _ := clientPost(t, r.discovery(t, "revocation_endpoint"), ro.ClientID, ro.ClientSecret, url.Values{"token": {rot}}); status != http.StatusOK {
		t.Fatalf("revocation = %d", status)
	}
	a = idp.api(t, rot, http.MethodGet, "/services", nil)
	a.want(t, "revoked token", http.StatusUnauthorized, "invalid_token")
	if h := a.header.Get("WWW-Authenticate"); h != `Bearer error="invalid_token"` {
		t.Errorf("revoked: WWW-Authenticate %q", h)
	}
	web := idp.client(demoWebClient)
	if status, _, body := clientPost(t, idp.issuer+"/oauth/token", web.ClientID, web.ClientSecret,
		url.Values{"grant_type": {"client_credentials"}}); status != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Errorf("web client's client_credentials = %d %v, want unauthorized_client", status, body)
	}

	// The changes: every change of the API, with the client as actor.
	ch := idp.api(t, at, http.MethodGet, "/changes?limit=200", nil)
	ch.want(t, "changes", http.StatusOK, "")
	var changes struct {
		Changes []struct {
			Actor  struct{ Kind, ID string }
			Action string
			Target string
			At     time.Time
		}
	}
	if err := json.Unmarshal([]byte(ch.raw), &changes); err != nil {
		t.Fatal(err)
	}
	byDept := map[string]int{}
	seen := map[string]bool{}
	for _, c := range changes.Changes {
		if c.Actor.Kind == "department" {
			if c.Actor.ID != m.ClientID {
				t.Errorf("change by %s", c.Actor.ID)
			}
			byDept[c.Action]++
		}
		seen[c.Action] = true
		if c.At.IsZero() || c.Target == "" {
			t.Errorf("change %+v", c)
		}
	}
	want := map[string]int{"group.create": 1, "group.rename": 1, "group.delete": 1, "service.unenroll": 1, "service.enroll": 1}
	for action, n := range want {
		if byDept[action] != n {
			t.Errorf("%d %s changes by the department, want %d (%v)", byDept[action], action, n, byDept)
		}
	}
	if !seen["group.add_member"] || !seen["service.assign"] {
		t.Errorf("the entity's changes to demo are missing from the department's changes: %v", seen)
	}
	var audited int
	if err := idp.app.pg.Pool().QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE actor_kind = 'department' AND actor_id = $1`, m.ClientID).Scan(&audited); err != nil || audited != 5 {
		t.Errorf("%d audit events by the department's client, want 5 (%v)", audited, err)
	}
	if page := idp.api(t, at, http.MethodGet, "/changes?limit=2", nil); !strings.Contains(page.raw, `"next_before"`) {
		t.Errorf("a full page has no next_before: %s", page.raw)
	}

	// The OpenAPI document is served.
	doc, err := http.Get(idp.issuer + "/api/v1/openapi.json")
	if err != nil || doc.StatusCode != http.StatusOK {
		t.Fatalf("openapi.json: %v %v", doc, err)
	}
	doc.Body.Close()
}

// TestDepartmentAPIExpiredToken: a machine token past its lifetime is 401 invalid_token.
func TestDepartmentAPIExpiredToken(t *testing.T) {
	const ttl = 3 * time.Second
	idp := startIDP(t, map[string]string{"IDP_ACCESS_TOKEN_TTL": ttl.String()})
	m := machineClient(t, idp, "DEMO", "department.read")
	issued := time.Now()
	at := machineToken(t, idp, m, "")
	fresh := idp.api(t, at, http.MethodGet, "/services", nil)
	// On a machine loaded by other tests the first call may come late: it
	// must succeed whenever it came well within the token's life.
	if time.Since(issued) < ttl-time.Second {
		fresh.want(t, "fresh token", http.StatusOK, "")
	}
	time.Sleep(time.Until(issued.Add(ttl + 100*time.Millisecond)))
	a := idp.api(t, at, http.MethodGet, "/services", nil)
	a.want(t, "expired token", http.StatusUnauthorized, "invalid_token")
	if h := a.header.Get("WWW-Authenticate"); h != `Bearer error="invalid_token"` {
		t.Errorf("expired: WWW-Authenticate %q", h)
	}
}
