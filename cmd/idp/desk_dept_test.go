package main

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
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

// The desk's register (departments, e-services, clients) and audit trail,
// through HTTP as a browser uses them.

// deptRoute is one address of the register's pages: reading (a counter
// officer's too) or writing (a supervisor's), and a form that would change
// something if the role allowed it.
type deptRoute struct {
	method, path string
	write        bool
	form         url.Values
}

// deskDeptRoutes are every route of the register's pages, over the seeded
// world: department OTHER, e-service other with group inspector, opened to
// the demo entity, clients demo-web and other-web.
func deskDeptRoutes(eventID int64) []deptRoute {
	get := func(path string, write bool) deptRoute {
		return deptRoute{method: http.MethodGet, path: path, write: write}
	}
	post := func(path string, form url.Values) deptRoute {
		return deptRoute{method: http.MethodPost, path: path, write: true, form: form}
	}
	return []deptRoute{
		get("/departments", false), get("/departments/OTHER", false),
		get("/services", false), get("/services/other", false), get("/services/new", true),
		get("/clients", false), get("/clients/"+demoWebClient, false), get("/clients/new", true),
		get("/audit", false), get("/audit?action=client.", false), get("/audit/export", false),
		get("/audit/"+strconv.FormatInt(eventID, 10), false),
		post("/departments", url.Values{"code": {"MATRIX"}, "name_zh": {"矩陣局"}}),
		post("/departments/OTHER", url.Values{"name_zh": {"改名"}}),
		post("/services/new", url.Values{"code": {"matrix"}, "name_zh": {"矩陣"}, "department": {"OTHER"}, "level": {"none"}, "policy": {"assigned"}}),
		post("/services/other/settings", url.Values{"level": {"tool"}, "policy": {"assigned"}}),
		post("/services/other/groups", url.Values{"group_code": {"matrix"}, "name_zh": {"矩陣"}}),
		post("/services/other/groups/inspector", url.Values{"name_zh": {"改名"}}),
		post("/services/other/groups/inspector/remove", url.Values{}),
		post("/services/other/entities", url.Values{"entity_number": {"02-000021"}}),
		post("/services/other/entities/02-000021/close", url.Values{}),
		post("/clients/new", url.Values{"kind": {"machine"}, "department": {"OTHER"}, "scope": {"department.read"}}),
		post("/clients/other-web/rotate", url.Values{"grace_hours": {"24"}}),
		post("/clients/other-web/disable", url.Values{}),
		post("/clients/other-web/enable", url.Values{}),
	}
}

// token is the CSRF token of b's desk session (any page's forms carry it).
func (b *deskBrowser) token() string {
	b.t.Helper()
	tok := submatch(csrfField, b.get("/").Body)
	if tok == "" {
		b.t.Fatal("no CSRF token on the desk's home")
	}
	return tok
}

// send requests route as b, with the session's CSRF token when csrf.
func (b *deskBrowser) send(r deptRoute, csrf string) page {
	b.t.Helper()
	if r.method == http.MethodGet {
		return b.get(r.path)
	}
	form := url.Values{}
	for k, v := range r.form {
		form[k] = v
	}
	if csrf != "" {
		form.Set("csrf_token", csrf)
	}
	return b.post(r.path, form)
}

// auditCount is how many audit events there are.
func (w *deskWorld) auditCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := w.idp.app.pg.Pool().QueryRow(context.Background(), `SELECT count(*) FROM audit_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDeskDeptRoleMatrix: on every route of the register and the audit
// trail, a counter officer reads and is refused every write (403, nothing
// written); a supervisor may open every page, but a form without the
// session's CSRF token (or a forged one) is refused and writes nothing; a
// disabled officer opens nothing and its session ends; without a session
// the browser goes to the sign-in.
func TestDeskDeptRoleMatrix(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	var eventID int64
	if err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT max(id) FROM audit_events`).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	routes := deskDeptRoutes(eventID)
	counter := w.signedIn(t, w.officer(t, "chan.tm", storage.RoleCounter))
	boss := w.signedIn(t, w.officer(t, "lei.sv", storage.RoleSupervisor))
	anon := w.browser(t)
	counterCSRF, bossCSRF := counter.token(), boss.token()
	before := w.auditCount(t)
	for _, r := range routes {
		name := r.method + " " + r.path
		p := counter.send(r, counterCSRF)
		switch {
		case !r.write && p.StatusCode != http.StatusOK:
			t.Errorf("counter %s: %d, want 200", name, p.StatusCode)
		case r.write && p.StatusCode != http.StatusForbidden:
			t.Errorf("counter %s: %d, want 403", name, p.StatusCode)
		case r.write && !strings.Contains(p.Body, `action="/signout"`):
			t.Errorf("counter %s: the refusal is not inside the desk", name)
		}
		if p := anon.send(r, ""); p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/signin") {
			t.Errorf("no session %s: %d %q, want the sign-in", name, p.StatusCode, p.Header.Get("Location"))
		}
		if r.method == http.MethodGet {
			if p := boss.send(r, ""); p.StatusCode != http.StatusOK {
				t.Errorf("supervisor %s: %d", name, p.StatusCode)
			}
			continue
		}
		if p := boss.send(r, ""); p.StatusCode != http.StatusForbidden {
			t.Errorf("supervisor %s without a CSRF token: %d, want 403", name, p.StatusCode)
		}
		if p := boss.send(r, counterCSRF); p.StatusCode != http.StatusForbidden {
			t.Errorf("supervisor %s with another session's CSRF token: %d, want 403", name, p.StatusCode)
		}
	}
	if after := w.auditCount(t); after != before {
		t.Errorf("refused requests wrote %d audit events", after-before)
	}
	// The supervisor's forms with the token do write (one, as a check of
	// the matrix's forms; the others are the next tests').
	if p := boss.send(routes[12], bossCSRF); p.StatusCode != http.StatusSeeOther {
		t.Errorf("supervisor registers a department: %d %.300s", p.StatusCode, p.Body)
	}

	// A disabled officer opens nothing, and its session ends.
	disabled := w.officer(t, "ho.dis", storage.RoleSupervisor)
	b := w.signedIn(t, disabled)
	supervisor, _ := idp.app.pg.OfficerByLogin(context.Background(), demoOfficer)
	if _, err := officers.New(idp.app.pg).Disable(context.Background(), supervisor, disabled.Login); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/clients"); p.StatusCode != http.StatusForbidden {
		t.Errorf("a disabled officer's /clients: %d", p.StatusCode)
	}
	if p := b.get("/audit"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled officer's session did not end: %d", p.StatusCode)
	}

	// The navigation: the counter sees the register and the audit trail, to read.
	home := counter.get("/").Body
	for _, path := range []string{"/departments", "/services", "/clients", "/audit"} {
		if !strings.Contains(home, `href="`+path+`"`) {
			t.Errorf("the counter's navigation has no %s", path)
		}
	}
	if p := counter.get("/services"); strings.Contains(p.Body, `href="/services/new"`) {
		t.Error("the counter is offered the e-service registration")
	}
}

// deskPost posts form with the session's token and wants status.
func (b *deskBrowser) want(status int, path string, form url.Values, csrf string) page {
	b.t.Helper()
	form.Set("csrf_token", csrf)
	p := b.post(path, form)
	if p.StatusCode != status {
		b.t.Errorf("POST %s %v: %d, want %d; %.600s", path, form, p.StatusCode, status, p.Body)
	}
	return p
}

// deskDepartmentForms registers department DSAT at the desk as b and
// renames it, after refusals on the forms.
func deskDepartmentForms(t *testing.T, idp *testIDP, b *deskBrowser, csrf string) {
	t.Helper()
	ctx, pg := context.Background(), idp.app.pg
	p := b.want(http.StatusBadRequest, "/departments", url.Values{"code": {"bad code!"}, "name_zh": {"交通事務局"}}, csrf)
	if !strings.Contains(p.Body, "代碼不符合格式") || !strings.Contains(p.Body, `value="bad code!"`) ||
		!strings.Contains(p.Body, `value="交通事務局"`) || !strings.Contains(p.Body, `aria-invalid="true"`) ||
		!strings.Contains(p.Body, `href="/departments?lang=pt"`) {
		t.Errorf("a bad code: the form again with its sentence and values? %.2000s", p.Body)
	}
	p = b.want(http.StatusSeeOther, "/departments", url.Values{"code": {"DSAT"}, "name_zh": {"交通事務局"}}, csrf)
	if loc := p.Header.Get("Location"); loc != "/departments/DSAT?done=department_created" {
		t.Errorf("after registering: %q", loc)
	}
	p = b.want(http.StatusConflict, "/departments", url.Values{"code": {"DSAT"}, "name_zh": {"另一個"}}, csrf)
	if !strings.Contains(p.Body, "此代碼或編號已被使用") || !strings.Contains(p.Body, `value="另一個"`) {
		t.Errorf("a taken code: %.1500s", p.Body)
	}
	b.want(http.StatusBadRequest, "/departments/DSAT", url.Values{"name_zh": {""}, "name_pt": {"DSAT"}}, csrf)
	b.want(http.StatusSeeOther, "/departments/DSAT", url.Values{"name_zh": {"交通事務局"}, "name_pt": {"DSAT"}, "name_en": {"Transport Bureau"}}, csrf)
	if d, err := pg.DepartmentByCode(ctx, "DSAT"); err != nil || d.NamePT != "DSAT" || d.NameEN != "Transport Bureau" {
		t.Errorf("renamed department = %+v, %v", d, err)
	}
	if p := b.get("/departments/DSAT?done=department_renamed"); !strings.Contains(p.Body, "Transport Bureau") || !strings.Contains(p.Body, "名稱已更改") {
		t.Errorf("the department's page: %.1500s", p.Body)
	}
	if p := b.get("/departments/NOPE"); p.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown department: %d", p.StatusCode)
	}
}

// TestDeskDeptRegister: a supervisor registers a department and renames it,
// registers an e-service and changes its level and policy, adds, renames
// and removes a group, opens it to an entity and closes it again; each
// refusal is a sentence on its form, the values kept; the audit trail
// names the officer.
func TestDeskDeptRegister(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	ctx, pg := context.Background(), idp.app.pg
	b := w.signedIn(t, w.officer(t, "lei.sv", storage.RoleSupervisor))
	csrf := b.token()

	deskDepartmentForms(t, idp, b, csrf)

	p := b.want(http.StatusNotFound, "/services/new", url.Values{"code": {"traffic"}, "name_zh": {"交通"}, "department": {"NOPE"},
		"level": {"tool"}, "policy": {"enrolled"}}, csrf)
	if !strings.Contains(p.Body, "沒有此部門") || !strings.Contains(p.Body, `value="traffic"`) {
		t.Errorf("an e-service of no department: %.1500s", p.Body)
	}
	b.want(http.StatusSeeOther, "/services/new", url.Values{"code": {"traffic"}, "name_zh": {"交通"}, "name_en": {"Traffic"},
		"department": {"DSAT"}, "level": {"tool"}, "policy": {"enrolled"}}, csrf)
	if sv, err := pg.ServiceByCode(ctx, "traffic"); err != nil || sv.MinLevel != storage.LevelTool || sv.AccessPolicy != storage.PolicyEnrolled {
		t.Errorf("registered e-service = %+v, %v", sv, err)
	}
	b.want(http.StatusSeeOther, "/services/traffic/settings", url.Values{"level": {"password"}, "policy": {"assigned"}}, csrf)
	if sv, _ := pg.ServiceByCode(ctx, "traffic"); sv.MinLevel != storage.LevelPassword || sv.AccessPolicy != storage.PolicyAssigned {
		t.Errorf("settings = %+v", sv)
	}
	b.want(http.StatusBadRequest, "/services/traffic/settings", url.Values{"level": {"gold"}, "policy": {"assigned"}}, csrf)

	p = b.want(http.StatusBadRequest, "/services/traffic/groups", url.Values{"group_code": {"Bad!"}, "name_zh": {"職員"}}, csrf)
	if !strings.Contains(p.Body, "群組代碼須為") || !strings.Contains(p.Body, `value="Bad!"`) {
		t.Errorf("a bad group code: %.1500s", p.Body)
	}
	b.want(http.StatusSeeOther, "/services/traffic/groups", url.Values{"group_code": {"clerk"}, "name_zh": {"職員"}}, csrf)
	b.want(http.StatusConflict, "/services/traffic/groups", url.Values{"group_code": {"clerk"}, "name_zh": {"職員"}}, csrf)
	b.want(http.StatusSeeOther, "/services/traffic/groups/clerk", url.Values{"name_zh": {"文員"}, "name_pt": {"Escriturário"}}, csrf)
	if g, err := pg.ServiceGroup(ctx, mustService(t, idp, "traffic").ID, "clerk"); err != nil || g.NameZH != "文員" || g.NamePT != "Escriturário" {
		t.Errorf("renamed group = %+v, %v", g, err)
	}
	p = b.want(http.StatusNotFound, "/services/traffic/entities", url.Values{"entity_number": {"99-999999"}}, csrf)
	if !strings.Contains(p.Body, "請輸入已登記實體的編號") || !strings.Contains(p.Body, `value="99-999999"`) {
		t.Errorf("an unknown entity: %.1500s", p.Body)
	}
	b.want(http.StatusSeeOther, "/services/traffic/entities", url.Values{"entity_number": {demoEntityNumber}}, csrf)
	if p := b.get("/services/traffic"); !strings.Contains(p.Body, demoEntityNumber) || !strings.Contains(p.Body, "文員") {
		t.Errorf("the e-service's page: %.3000s", p.Body)
	}
	b.want(http.StatusSeeOther, "/services/traffic/entities/"+demoEntityNumber+"/close", url.Values{}, csrf)
	if list, err := pg.ServiceEntities(ctx, mustService(t, idp, "traffic").ID); err != nil || len(list) != 0 {
		t.Errorf("entities after closing = %v, %v", list, err)
	}
	b.want(http.StatusSeeOther, "/services/traffic/groups/clerk/remove", url.Values{}, csrf)
	b.want(http.StatusNotFound, "/services/traffic/groups/clerk/remove", url.Values{}, csrf)

	// The department's own trail (its API's GET /changes) holds what was
	// done for it: its registration and names, its e-service's changes.
	dsat, _ := pg.DepartmentByCode(ctx, "DSAT")
	changes, err := pg.DepartmentChanges(ctx, dsat.ID, 0, 200)
	seen := map[string]bool{}
	for _, e := range changes {
		seen[e.Action] = true
	}
	for _, a := range []string{"department.create", "department.rename", "service.create", "service.access_policy", "group.rename"} {
		if err != nil || !seen[a] {
			t.Errorf("the department's changes lack %s (%v): %v", a, err, seen)
		}
	}
	for target, want := range map[string]string{
		"DSAT":          "department.create lei.sv,department.rename lei.sv",
		"traffic":       "service.create lei.sv,service.min_level lei.sv,service.access_policy lei.sv,service.enroll lei.sv,service.unenroll lei.sv",
		"traffic/clerk": "group.create lei.sv,group.rename lei.sv,group.delete lei.sv",
	} {
		if got := strings.Join(idp.auditOf(t, target, ""), ","); got != want {
			t.Errorf("audit of %s = %s, want %s", target, got, want)
		}
	}
}

var (
	shownClientID = regexp.MustCompile(`<code id="client_id">([^<]*)</code>`)
	shownSecret   = regexp.MustCompile(`<code id="client_secret">([^<]*)</code>`)
)

// shownSecretPage checks a page that shows a secret once: 200, kept by no
// cache; it returns the client id and the secret.
func shownSecretPage(t *testing.T, what string, p page) (string, string) {
	t.Helper()
	id, secret := submatch(shownClientID, p.Body), submatch(shownSecret, p.Body)
	if p.StatusCode != http.StatusOK || id == "" || len(secret) < 40 {
		t.Fatalf("%s: %d, id %q, secret %q; %.1500s", what, p.StatusCode, id, secret, p.Body)
	}
	if cc := p.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
	}
	return id, secret
}

// TestDeskDeptClients: a machine client registered at the desk gets its
// secret once (no-store), and it works at the token endpoint; its page
// never shows it again. A rotation with a short grace: the new secret works,
// the old one too until the grace ends, and not after. A mobile app is
// refused a secret's method, its form kept; a web client's secret is
// stored as its hash. Disabling the demo web client at the desk ends its
// access and refresh tokens at once; enabling it again is audited too.
func TestDeskDeptClients(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	ctx := context.Background()
	b := w.signedIn(t, w.officer(t, "lei.sv", storage.RoleSupervisor))
	csrf := b.token()
	tokenURL := idp.rp(idp.other, idp.other.RedirectURIs[0]).oauth.Endpoint.TokenURL

	p := b.want(http.StatusOK, "/clients/new", url.Values{"kind": {"machine"}, "department": {"OTHER"}, "scope": {"department.read"}}, csrf)
	id, secret := shownSecretPage(t, "a machine client's registration", p)
	if !ccWorks(t, tokenURL, id, secret, true) {
		t.Fatal("the secret shown at the desk does not work at the token endpoint")
	}
	if p := b.get("/clients/" + id); p.StatusCode != http.StatusOK || strings.Contains(p.Body, secret) || !strings.Contains(p.Body, "department.read") {
		t.Errorf("the client's page: %d, shows the secret: %v", p.StatusCode, strings.Contains(p.Body, secret))
	}
	if p := b.get("/clients"); !strings.Contains(p.Body, id) || strings.Contains(p.Body, secret) {
		t.Error("the list: the client missing, or its secret shown")
	}

	// A rotation with a grace of about 10 s (to the second: 9 to 10 s).
	p = b.want(http.StatusOK, "/clients/"+id+"/rotate", url.Values{"grace_hours": {"0.003"}}, csrf)
	_, rotated := shownSecretPage(t, "a rotation", p)
	start := time.Now()
	if rotated == secret || !ccWorks(t, tokenURL, id, rotated, false) || !ccWorks(t, tokenURL, id, secret, true) {
		t.Error("during the grace: the new secret and the old one should both work")
	}
	if p := b.get("/clients/" + id); strings.Contains(p.Body, rotated) {
		t.Error("the client's page shows the new secret")
	}
	time.Sleep(time.Until(start.Add(10800*time.Millisecond)) + 500*time.Millisecond)
	if ccWorks(t, tokenURL, id, secret, true) || !ccWorks(t, tokenURL, id, rotated, true) {
		t.Error("after the grace: the old secret should fail and the new one work")
	}
	p = b.want(http.StatusBadRequest, "/clients/"+id+"/rotate", url.Values{"grace_hours": {"a day"}}, csrf)
	if !strings.Contains(p.Body, "0 至 720") || !strings.Contains(p.Body, `value="a day"`) {
		t.Errorf("a bad grace: %.1500s", p.Body)
	}

	deskServiceClients(t, idp, b, csrf)
	deskDisableWebClient(t, idp, b, csrf)
	other, _ := idp.app.pg.DepartmentByCode(ctx, "OTHER")
	changes, err := idp.app.pg.DepartmentChanges(ctx, other.ID, 0, 200)
	rotations := 0
	for _, e := range changes {
		if e.Action == "client.rotate_secret" && e.Target == id {
			rotations++
		}
	}
	if err != nil || rotations != 1 {
		t.Errorf("department OTHER's changes hold %d rotations of its machine client (%v)", rotations, err)
	}
	b.want(http.StatusNotFound, "/clients/nobody/disable", url.Values{}, csrf)
	if got := strings.Join(idp.auditOf(t, demoWebClient, "client.disable"), ",") + ";" + strings.Join(idp.auditOf(t, id, "client."), ","); got !=
		"client.disable lei.sv;client.create lei.sv,client.rotate_secret lei.sv" {
		t.Errorf("audit = %s", got)
	}
}

// lastEvents are the newest n audit events with action and target, each
// as its actor, action, target and officer.
func (idp *testIDP) lastEvents(t *testing.T, action, target string, n int) []string {
	t.Helper()
	rows, err := idp.app.pg.Pool().Query(context.Background(), `
		SELECT e.actor_kind || ' ' || e.actor_id || ' ' || e.action || ' ' || e.target || ' ' || coalesce(o.login, '-')
		FROM audit_events e LEFT JOIN officers o ON o.id = e.officer_id
		WHERE e.action = $1 AND e.target = $2 ORDER BY e.id DESC LIMIT $3`, action, target, n)
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

// deskServiceClients registers an e-service's clients at the desk as b: a
// mobile app is refused a secret's method (its form kept) and has no
// secret to rotate; a web client's bad addresses and keys are refused, and
// its secret, shown once, is stored as its hash.
func deskServiceClients(t *testing.T, idp *testIDP, b *deskBrowser, csrf string) {
	t.Helper()
	ctx := context.Background()
	mobile := url.Values{"kind": {"mobile"}, "service": {"other"}, "redirect_uris": {"mo.gov.other:/cb\n"}, "auth": {"client_secret_basic"}}
	p := b.want(http.StatusBadRequest, "/clients/new", mobile, csrf)
	if !strings.Contains(p.Body, "流動應用程式沒有密鑰") || !strings.Contains(p.Body, "mo.gov.other:/cb") {
		t.Errorf("a mobile app with a secret's method: %.1500s", p.Body)
	}
	mobile.Set("auth", "")
	p = b.want(http.StatusSeeOther, "/clients/new", mobile, csrf)
	mobileID := strings.TrimSuffix(strings.TrimPrefix(p.Header.Get("Location"), "/clients/"), "?done=client_created")
	if c, err := idp.app.pg.ClientForOperator(ctx, mobileID); err != nil || !c.Public || len(c.SecretHash) != 0 {
		t.Errorf("the mobile app = %+v, %v", c, err)
	}
	p = b.want(http.StatusBadRequest, "/clients/"+mobileID+"/rotate", url.Values{"grace_hours": {"24"}}, csrf)
	if !strings.Contains(p.Body, "沒有可更換的密鑰") {
		t.Errorf("rotating a mobile app: %.1000s", p.Body)
	}
	b.want(http.StatusBadRequest, "/clients/new", url.Values{"kind": {"web"}, "service": {"other"},
		"redirect_uris": {"https://rp.example/cb#frag"}}, csrf)
	b.want(http.StatusBadRequest, "/clients/new", url.Values{"kind": {"web"}, "service": {"other"},
		"redirect_uris": {"https://rp.example/cb"}, "auth": {"private_key_jwt"}, "jwks_uri": {"http://rp.example/jwks"}}, csrf)
	p = b.want(http.StatusOK, "/clients/new", url.Values{"kind": {"web"}, "service": {"other"}, "client_id": {"other-desk-web"},
		"redirect_uris": {"https://rp.example/cb"}, "post_logout_uris": {"https://rp.example/bye"},
		"backchannel_uri": {"https://rp.example/bc"}, "auth": {"client_secret_post"}}, csrf)
	webID, webSecret := shownSecretPage(t, "a web client's registration", p)
	c, err := idp.app.pg.ClientForOperator(ctx, webID)
	sum := sha256.Sum256([]byte(webSecret))
	if err != nil || webID != "other-desk-web" || string(c.SecretHash) != string(sum[:]) || c.TokenAuth != storage.TokenAuthPost ||
		c.BackchannelLogoutURI != "https://rp.example/bc" || len(c.PostLogoutRedirectURIs) != 1 {
		t.Errorf("the web client = %+v, %v", c, err)
	}
}

// deskDisableWebClient disables the demo web client at the desk as b: its
// access and refresh tokens end at once; enabled again, they stay ended.
func deskDisableWebClient(t *testing.T, idp *testIDP, b *deskBrowser, csrf string) {
	t.Helper()
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	tok, _ := idp.browser().tokens(r, "staff01")
	if status, _ := r.userinfoGroups(t, tok.AccessToken); status != http.StatusOK {
		t.Fatalf("userinfo before: %d", status)
	}
	b.want(http.StatusSeeOther, "/clients/"+demoWebClient+"/disable", url.Values{}, csrf)
	if status, _ := r.userinfoGroups(t, tok.AccessToken); status == http.StatusOK {
		t.Error("userinfo honours the disabled client's access token")
	}
	if status, body := r.refresh(t, tok.RefreshToken); status != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("refresh by the disabled client: %d %v", status, body)
	}
	if p := b.get("/clients/" + demoWebClient); !strings.Contains(p.Body, `action="/clients/`+demoWebClient+`/enable"`) {
		t.Error("the disabled client's page offers no enabling")
	}
	b.want(http.StatusSeeOther, "/clients/"+demoWebClient+"/enable", url.Values{}, csrf)
	if status, _ := r.userinfoGroups(t, tok.AccessToken); status == http.StatusOK {
		t.Error("enabled again, the client's old access token works again")
	}
}

// TestDeskDeptSameAuditAsCLI: the desk and the idp command leave the same
// audit event (actor, action, target, officer) for the same act, done by
// the same officer: renaming a department, setting an e-service's access
// policy, disabling and enabling a client, rotating its secret, adding and
// removing a group.
func TestDeskDeptSameAuditAsCLI(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	w := idp.startDesk(t)
	boss, err := idp.app.pg.OfficerByLogin(context.Background(), demoOfficer)
	if err != nil {
		t.Fatal(err)
	}
	b := w.signedIn(t, boss)
	csrf := b.token()
	acts := []struct {
		action, target string
		cli            []string
		path           string
		form           url.Values
		status         int
	}{
		{"department.rename", "OTHER", []string{"department", "rename", "--code", "OTHER", "--name-pt", "Outro"},
			"/departments/OTHER", url.Values{"name_zh": {"其他部門"}, "name_pt": {"Outro serviço"}}, http.StatusSeeOther},
		{"service.access_policy", "other", []string{"service", "policy", "--service", "other", "--policy", "assigned"},
			"/services/other/settings", url.Values{"level": {"none"}, "policy": {"enrolled"}}, http.StatusSeeOther},
		{"client.disable", "other-web", []string{"client", "disable", "--client", "other-web"},
			"/clients/other-web/disable", url.Values{}, http.StatusSeeOther},
		{"client.enable", "other-web", []string{"client", "enable", "--client", "other-web"},
			"/clients/other-web/enable", url.Values{}, http.StatusSeeOther},
		{"client.rotate_secret", "other-web", []string{"client", "rotate-secret", "--client", "other-web"},
			"/clients/other-web/rotate", url.Values{"grace_hours": {"24"}}, http.StatusOK},
		{"group.create", "other/clerk", []string{"service", "group", "add", "--service", "other", "--code", "clerk", "--name-zh", "文員"},
			"/services/other/groups", url.Values{"group_code": {"clerk"}, "name_zh": {"文員"}}, http.StatusSeeOther},
		{"group.delete", "other/clerk", []string{"service", "group", "remove", "--service", "other", "--code", "clerk"},
			"/services/other/groups/clerk/remove", url.Values{}, http.StatusSeeOther},
	}
	// Every act by the command first, then every act at the desk: each
	// one changes something again (a disabled client is disabled once).
	for _, a := range acts {
		if _, err := captureStdout(t, func() error { return run(a.cli) }); err != nil {
			t.Fatalf("idp %s: %v", strings.Join(a.cli, " "), err)
		}
	}
	for _, a := range acts {
		b.want(a.status, a.path, a.form, csrf)
	}
	for _, a := range acts {
		got := idp.lastEvents(t, a.action, a.target, 2)
		want := "operator " + demoOfficer + " " + a.action + " " + a.target + " " + demoOfficer
		if len(got) != 2 || got[0] != want || got[1] != want {
			t.Errorf("%s %s: events %q, want twice %q", a.action, a.target, got, want)
		}
	}
	// The commands' refusals write nothing.
	idp.refused(t, "renaming an unknown department", "there is no department NOPE", func() error {
		return run([]string{"department", "rename", "--code", "NOPE", "--name-zh", "無"})
	})
	idp.refused(t, "an unknown access policy", "access policy", func() error {
		return run([]string{"service", "policy", "--service", "other", "--policy", "everyone"})
	})
	w.officer(t, "chan.tm", storage.RoleCounter)
	for _, cmd := range [][]string{{"department", "rename", "--code", "OTHER", "--name-en", "Other"}, {"service", "policy", "--service", "other", "--policy", "assigned"}} {
		idp.refused(t, "a counter officer: "+strings.Join(cmd[:2], " "), "supervisor", func() error {
			return run(append(cmd, "--officer", "chan.tm"))
		})
	}
	// The desk's events name its session beside the officer; the command's do not.
	var deskSession, cliSession *string
	if err := idp.app.pg.Pool().QueryRow(context.Background(), `
		SELECT (SELECT details->>'desk_session' FROM audit_events WHERE action = 'client.disable' AND target = 'other-web' ORDER BY id DESC LIMIT 1),
			(SELECT details->>'desk_session' FROM audit_events WHERE action = 'client.disable' AND target = 'other-web' ORDER BY id LIMIT 1)`).
		Scan(&deskSession, &cliSession); err != nil || deskSession == nil || cliSession != nil {
		t.Errorf("desk session in the details: desk %v, command %v (%v)", deskSession, cliSession, err)
	}
}

// TestDeskDeptAudit: the audit search finds by action prefix and actor,
// newest first, 50 a page with the way to the older ones; one event opens
// with its details readable; the export is a CSV attachment whose formula
// cells are escaped; a bad date or an unknown entity is refused on the
// form, the values kept.
func TestDeskDeptAudit(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	ctx := context.Background()
	b := w.signedIn(t, w.officer(t, "chan.tm", storage.RoleCounter))
	if _, err := idp.app.pg.Pool().Exec(ctx, `INSERT INTO audit_events (at, actor_kind, actor_id, entity_id, action, target, ip, details)
		VALUES (now(), 'staff', '@SUM(A1)', (SELECT id FROM entities WHERE number = $1), 'test.formula', '=HYPERLINK("http://x")', '', '{"note": "=1+1", "html": "<b>"}')`,
		demoEntityNumber); err != nil {
		t.Fatal(err)
	}
	if _, err := idp.app.pg.Pool().Exec(ctx, `INSERT INTO audit_events (at, actor_kind, actor_id, action, target, ip, details)
		SELECT now() - make_interval(secs => n), 'operator', 'page.tester', 'test.page', 'p' || n, '', '{}' FROM generate_series(1, 60) n`); err != nil {
		t.Fatal(err)
	}

	p := b.get("/audit?action=test.&entity=" + url.QueryEscape("02000021"))
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "test.formula") || strings.Contains(p.Body, "test.page") {
		t.Fatalf("search by entity and prefix: %d %.2000s", p.StatusCode, p.Body)
	}
	eventURL := submatch(regexp.MustCompile(`href="(/audit/[0-9]+)"`), p.Body)
	ev := b.get(eventURL)
	if ev.StatusCode != http.StatusOK || !strings.Contains(ev.Body, `&#34;note&#34;: &#34;=1&#43;1&#34;`) || !strings.Contains(ev.Body, "&lt;b&gt;") {
		t.Errorf("one event %s: %d %.3000s", eventURL, ev.StatusCode, ev.Body)
	}
	if p := b.get("/audit/999999999"); p.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown event: %d", p.StatusCode)
	}

	p = b.get("/audit?actor=PAGE.TESTER")
	if n := strings.Count(p.Body, "test.page"); n != 50 {
		t.Errorf("first page: %d events, want 50", n)
	}
	older := submatch(regexp.MustCompile(`href="([^"]*)" rel="next"`), p.Body)
	if older == "" || !strings.Contains(p.Body, ">p1<") || strings.Contains(p.Body, ">p60<") {
		t.Fatalf("first page: newest first, with a next page? %q", older)
	}
	p = b.get(strings.ReplaceAll(older, "&amp;", "&"))
	if n := strings.Count(p.Body, "test.page"); n != 10 || !strings.Contains(p.Body, ">p60<") || strings.Contains(p.Body, `rel="next"`) {
		t.Errorf("second page: %d events %.300s", n, p.Body)
	}

	csvPage := b.get("/audit/export?action=test.formula")
	if csvPage.StatusCode != http.StatusOK || !strings.HasPrefix(csvPage.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(csvPage.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("export: %d %q %q", csvPage.StatusCode, csvPage.Header.Get("Content-Type"), csvPage.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(strings.NewReader(csvPage.Body)).ReadAll()
	if err != nil || len(rows) != 2 || strings.Join(rows[0], ",") != "time,actor_kind,actor_id,entity_number,action,target,ip,details" {
		t.Fatalf("export rows: %v %q", err, rows)
	}
	if f := rows[1]; f[2] != "'@SUM(A1)" || f[3] != demoEntityNumber || f[5] != `'=HYPERLINK("http://x")` || !strings.HasSuffix(f[0], "+08:00") {
		t.Errorf("the formula event's row: %q", f)
	}
	if all := b.get("/audit/export?actor=page.tester"); strings.Count(all.Body, "test.page") != 60 {
		t.Errorf("the export holds every page: %d", strings.Count(all.Body, "test.page"))
	}

	p = b.get("/audit?from=2026-13-01&target=keep-me")
	if p.StatusCode != http.StatusBadRequest || !strings.Contains(p.Body, "YYYY-MM-DD") || !strings.Contains(p.Body, `value="keep-me"`) {
		t.Errorf("a bad date: %d %.1500s", p.StatusCode, p.Body)
	}
	if p := b.get("/audit?from=2024-01-01&to=2026-01-01"); p.StatusCode != http.StatusBadRequest {
		t.Errorf("over 366 days: %d", p.StatusCode)
	}
	p = b.get("/audit?entity=99-999999")
	if p.StatusCode != http.StatusNotFound || !strings.Contains(p.Body, "請輸入已登記實體的編號") || !strings.Contains(p.Body, `value="99-999999"`) {
		t.Errorf("an unknown entity: %d %.1500s", p.StatusCode, p.Body)
	}
	if p := b.get("/audit/export?from=nonsense"); p.StatusCode != http.StatusBadRequest || p.Header.Get("Content-Disposition") != "" {
		t.Errorf("an export with a bad date: %d %q", p.StatusCode, p.Header.Get("Content-Disposition"))
	}
}
