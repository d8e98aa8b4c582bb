package main

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// The desk's pages of entities over a whole node: every act of an
// entity's page for a counter officer, a supervisor, a disabled officer
// and a browser without a desk session, a POST without the session's CSRF
// token, the search's masking and the record's audited opening.

// deskText is the zh-Hant text of key as a page writes it (HTML-escaped).
func deskText(t *testing.T, key string) string {
	t.Helper()
	cat, err := templates.Catalogue("zh-Hant")
	if err != nil || cat[key] == "" {
		t.Fatalf("no text for %s: %v", key, err)
	}
	return html.EscapeString(cat[key])
}

// deskEntityWorld is the demo entity at the desk, with a staff login
// registered and not yet activated (for the activation code).
type deskEntityWorld struct {
	*deskWorld
	number string
	fresh  storage.StaffLogin
}

func startDeskEntities(t *testing.T) *deskEntityWorld {
	t.Helper()
	idp := startIDP(t, nil)
	w := &deskEntityWorld{deskWorld: idp.startDesk(t), number: idp.demo.EntityNumber}
	e := idp.demoEntity(t)
	boss, err := idp.app.pg.OfficerByLogin(context.Background(), demoOfficer)
	if err != nil {
		t.Fatal(err)
	}
	w.fresh = storage.StaffLogin{EntityID: e.ID, NameZH: "新同事", IDDocType: storage.IDMacauPermanent, IDDocNumber: "1000009(9)",
		IDDocIssuePlace: "澳門", BirthDate: time.Date(1991, 3, 4, 0, 0, 0, 0, time.UTC), Mobile: "+85366009900", Language: "zh-Hant"}
	if err := idp.app.pg.CreateStaffLogin(context.Background(), storage.OfficerActor(boss), &w.fresh); err != nil {
		t.Fatal(err)
	}
	return w
}

// entityAct is one form of the entity's page, as a browser sends it.
type deskEntityAct struct {
	path string
	form url.Values
}

// acts are every act of the entity's page, on the demo's logins.
func (w *deskEntityWorld) acts() []deskEntityAct {
	idp := w.idp
	return []deskEntityAct{
		{"code", url.Values{"euid": {w.fresh.EUID}, "channel": {"sms"}}},
		{"password-reset", url.Values{"euid": {idp.login("staff01").EUID}}},
		{"signout", url.Values{"euid": {idp.login("staff02").EUID}}},
		{"unlock", url.Values{"euid": {idp.login("staff01").EUID}}},
		{"grant-admin", url.Values{"euid": {idp.login("staff01").EUID}, "document": {"APP-2026/0042"}}},
		{"close", url.Values{"reason": {"dissolved"}}},
		{"reopen", url.Values{"reason": {"dissolution revoked"}}},
	}
}

// lock makes staff01 locked after too many failed sign-ins.
func (w *deskEntityWorld) lock(t *testing.T) {
	t.Helper()
	key := storage.SignInFailKey(w.number, "staff01")
	for range w.idp.app.cfg.LoginFailuresPerAccount {
		if _, err := w.idp.app.redis.Reserve(context.Background(), key, w.idp.app.cfg.LoginFailuresPerAccount, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeskEntityActs: without a desk session every act sends the browser
// to the sign-in and does nothing; a form without the session's CSRF token
// is refused; a counter officer sends codes, resets passwords, signs
// logins out and unlocks them, and is refused granting, closing and
// reopening, with the sentence inside the desk; a supervisor does every
// act, each audited under its name, and a closed entity reopened lets its
// accounts sign in again; a disabled officer is refused.
func TestDeskEntityActs(t *testing.T) {
	t.Parallel()
	w := startDeskEntities(t)
	w.actsWithoutSession(t)
	sup := w.signedIn(t, w.officer(t, "lam.sup", storage.RoleSupervisor))
	w.actsWithoutToken(t, sup)
	w.actsByCounter(t, w.signedIn(t, w.officer(t, "chan.tm", storage.RoleCounter)))
	w.actsBySupervisor(t, sup)
	w.actsByDisabledOfficer(t)
}

func (w *deskEntityWorld) page() string { return entitiesPath(w.number) }

// closed reports whether the demo entity is closed.
func (w *deskEntityWorld) closed(t *testing.T) bool {
	t.Helper()
	e, err := w.idp.app.pg.EntityByNumber(context.Background(), w.number)
	if err != nil {
		t.Fatal(err)
	}
	return e.Status == storage.EntityClosed
}

func (w *deskEntityWorld) actsWithoutSession(t *testing.T) {
	anon := w.browser(t)
	if p := anon.get(w.page()); p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/signin") {
		t.Errorf("the entity's page without a session: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	before := w.idp.auditCount(t)
	for _, a := range w.acts() {
		a.form.Set("csrf_token", "whatever")
		if p := anon.post(w.page()+"/"+a.path, a.form); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/signin" {
			t.Errorf("%s without a session: %d %q", a.path, p.StatusCode, p.Header.Get("Location"))
		}
	}
	if n := w.idp.auditCount(t); n != before {
		t.Errorf("acts without a session wrote %d audit events", n-before)
	}
}

// actsWithoutToken: every act without the session's CSRF token, or with a
// forged one, is refused and writes nothing.
func (w *deskEntityWorld) actsWithoutToken(t *testing.T, sup *deskBrowser) {
	w.lock(t)
	before := w.idp.auditCount(t)
	for _, token := range []string{"", "forged"} {
		for _, a := range w.acts() {
			if token != "" {
				a.form.Set("csrf_token", token)
			}
			if p := sup.post(w.page()+"/"+a.path, a.form); p.StatusCode != http.StatusForbidden {
				t.Errorf("%s with the CSRF token %q: %d", a.path, token, p.StatusCode)
			}
		}
	}
	if n := w.idp.auditCount(t); n != before || w.closed(t) {
		t.Errorf("acts without the CSRF token wrote %d audit events; closed %v", n-before, w.closed(t))
	}
}

func (w *deskEntityWorld) actsByCounter(t *testing.T, counter *deskBrowser) {
	page := w.page()
	shown := counter.get(page)
	if shown.StatusCode != http.StatusOK || strings.Contains(shown.Body, "/grant-admin") || strings.Contains(shown.Body, "/close") ||
		!strings.Contains(shown.Body, "/password-reset") {
		t.Errorf("a counter officer's entity page: %d; shows a supervisor's forms or lacks its own", shown.StatusCode)
	}
	w.lock(t)
	for _, a := range w.acts() {
		before := w.idp.auditCount(t)
		p := counter.submit(page, page+"/"+a.path, a.form)
		switch a.path {
		case "grant-admin", "close", "reopen":
			if p.StatusCode != http.StatusForbidden || !strings.Contains(p.Body, deskText(t, "desk_err_supervisor_only")) ||
				!strings.Contains(p.Body, `action="/signout"`) {
				t.Errorf("counter %s: %d %.300s", a.path, p.StatusCode, p.Body)
			}
			if n := w.idp.auditCount(t); n != before {
				t.Errorf("counter's refused %s wrote %d audit events", a.path, n-before)
			}
		default:
			w.wantDone(t, counter, a.path, p)
		}
	}
	// staff01 is no longer locked: unlocking again is refused on the page.
	p := counter.submit(page, page+"/unlock", url.Values{"euid": {w.idp.login("staff01").EUID}})
	if p.StatusCode != http.StatusConflict || !strings.Contains(p.Body, deskText(t, "lockout_error_not_locked")) || !strings.Contains(p.Body, "<h1>") {
		t.Errorf("unlock a login not locked: %d %.300s", p.StatusCode, p.Body)
	}
}

// wantDone: the act went back to the entity's page, which says it was done.
func (w *deskEntityWorld) wantDone(t *testing.T, b *deskBrowser, act string, p page) {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != w.page()+"?done="+act {
		t.Errorf("%s: %d %q %.300s", act, p.StatusCode, p.Header.Get("Location"), p.Body)
		return
	}
	if done := b.get(p.Header.Get("Location")); !strings.Contains(done.Body, deskText(t, "desk_entities_done_"+act)) {
		t.Errorf("%s: the page does not say it was done", act)
	}
}

func (w *deskEntityWorld) actsBySupervisor(t *testing.T, sup *deskBrowser) {
	idp, page, ctx := w.idp, w.page(), context.Background()
	for _, a := range w.acts() {
		if a.path == "unlock" {
			w.lock(t)
		}
		w.wantDone(t, sup, a.path, sup.submit(page, page+"/"+a.path, a.form))
		if a.path == "close" {
			if p := idp.browser().accountSignIn(w.number, "admin01", idp.login("admin01").Password); p.StatusCode == http.StatusSeeOther &&
				p.location(t) == idp.issuer+"/account" {
				t.Error("admin01 signed in to a closed entity")
			}
		}
	}
	if w.closed(t) {
		t.Fatal("the entity is closed after its reopening")
	}
	idp.browser().accountSignedIn(w.number, "admin01", idp.login("admin01").Password)
	var actor, doc, reason string
	var officer *int64
	if err := idp.app.pg.Pool().QueryRow(ctx, `SELECT actor_id, officer_id, details->>'document' FROM audit_events
		WHERE action = 'staff.admin_grant' ORDER BY id DESC LIMIT 1`).Scan(&actor, &officer, &doc); err != nil ||
		actor != "lam.sup" || officer == nil || doc != "APP-2026/0042" {
		t.Errorf("the grant audited as %q %v %q: %v", actor, officer, doc, err)
	}
	if err := idp.app.pg.Pool().QueryRow(ctx, `SELECT actor_id, details->>'reason' FROM audit_events
		WHERE action = 'entity.reopen' ORDER BY id DESC LIMIT 1`).Scan(&actor, &reason); err != nil || actor != "lam.sup" || reason != "dissolution revoked" {
		t.Errorf("the reopening audited as %q %q: %v", actor, reason, err)
	}
	// Refused by the use case: a reason is required, said on the page.
	p := sup.submit(page, page+"/close", url.Values{"reason": {"  "}})
	if p.StatusCode != http.StatusBadRequest || !strings.Contains(p.Body, deskText(t, "desk_entities_err_reason")) || w.closed(t) {
		t.Errorf("close without a reason: %d %.300s", p.StatusCode, p.Body)
	}
	if p := sup.submit(page, entitiesPath("09-999999")+"/close", url.Values{"reason": {"x"}}); p.StatusCode != http.StatusNotFound {
		t.Errorf("close an unknown entity: %d", p.StatusCode)
	}
}

// actsByDisabledOfficer: each act in a session of its own (a refused
// request ends the session), opened while the officer was active.
func (w *deskEntityWorld) actsByDisabledOfficer(t *testing.T) {
	idp, page, ctx := w.idp, w.page(), context.Background()
	gone := w.officer(t, "gone.sup", storage.RoleSupervisor)
	acts := w.acts()
	browsers, tokens := make([]*deskBrowser, len(acts)), make([]string, len(acts))
	for i := range acts {
		browsers[i] = w.signedIn(t, gone)
		tokens[i] = submatch(csrfField, browsers[i].get(page).Body)
	}
	boss, _ := idp.app.pg.OfficerByLogin(ctx, demoOfficer)
	if _, err := idp.app.pg.DisableOfficer(ctx, boss, gone.Login); err != nil {
		t.Fatal(err)
	}
	w.lock(t)
	before := idp.auditCount(t)
	for i, a := range acts {
		a.form.Set("csrf_token", tokens[i])
		if p := browsers[i].post(page+"/"+a.path, a.form); p.StatusCode != http.StatusForbidden {
			t.Errorf("a disabled officer's %s: %d", a.path, p.StatusCode)
		}
	}
	if n := idp.auditCount(t); n != before || w.closed(t) {
		t.Errorf("a disabled officer's acts wrote %d audit events; closed %v", n-before, w.closed(t))
	}
}

// TestDeskEntitySearchAndRecord: the search shows document numbers masked
// and writes nothing; a staff login's record is opened by a form only,
// shows the number whole and is audited under the officer's name.
func TestDeskEntitySearchAndRecord(t *testing.T) {
	t.Parallel()
	w := startDeskEntities(t)
	idp := w.idp
	counter := w.signedIn(t, w.officer(t, "chan.tm", storage.RoleCounter))
	before := idp.auditCount(t)
	for _, q := range []string{"1000001", "admin0", "陳大文", idp.login("admin01").EUID} {
		p := counter.get("/entities?q=" + url.QueryEscape(q))
		if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, idp.login("admin01").EUID) ||
			strings.Contains(p.Body, "1000001(1)") || !strings.Contains(p.Body, "100****(1)") {
			t.Errorf("search %q: %d, masked %v: %.600s", q, p.StatusCode, strings.Contains(p.Body, "100****(1)"), p.Body)
		}
	}
	if p := counter.get("/entities?q=" + url.QueryEscape(w.number[:5])); !strings.Contains(p.Body, entitiesPath(w.number)) {
		t.Errorf("search by the entity number's beginning: %.600s", p.Body)
	}
	if p := counter.get("/entities?q=x"); p.StatusCode != http.StatusBadRequest || !strings.Contains(p.Body, deskText(t, "desk_entities_err_search")) {
		t.Errorf("a one-character search: %d", p.StatusCode)
	}
	page := entitiesPath(w.number)
	if p := counter.get(page); p.StatusCode != http.StatusOK || strings.Contains(p.Body, "1000001(1)") {
		t.Errorf("the entity's page: %d, shows a number whole", p.StatusCode)
	}
	if n := idp.auditCount(t); n != before {
		t.Errorf("searches and the page wrote %d audit events", n-before)
	}
	record := page + "/staff/" + idp.login("admin01").EUID + "/record"
	if p := counter.get(record); p.StatusCode == http.StatusOK || strings.Contains(p.Body, "1000001(1)") {
		t.Errorf("the record by a link: %d", p.StatusCode)
	}
	if p := counter.post(record, url.Values{}); p.StatusCode != http.StatusForbidden {
		t.Errorf("the record without the CSRF token: %d", p.StatusCode)
	}
	if n := idp.auditCount(t); n != before {
		t.Errorf("refused openings wrote %d audit events", n-before)
	}
	p := counter.submit(page, record, nil)
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "1000001(1)") {
		t.Fatalf("the record: %d %.400s", p.StatusCode, p.Body)
	}
	var actor, target string
	var officer *int64
	if err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT actor_id, officer_id, target FROM audit_events
		WHERE action = 'staff.record_open' ORDER BY id DESC LIMIT 1`).Scan(&actor, &officer, &target); err != nil ||
		actor != "chan.tm" || officer == nil || target != idp.login("admin01").EUID {
		t.Errorf("the opening audited as %q %v %q: %v", actor, officer, target, err)
	}
	// Another entity's login is not found through this entity.
	if p := counter.submit(page, entitiesPath("09-999999")+"/staff/"+idp.login("admin01").EUID+"/record", nil); p.StatusCode != http.StatusNotFound {
		t.Errorf("a record through an unknown entity: %d", p.StatusCode)
	}
}

func entitiesPath(number string) string { return "/entities/" + number }

// TestDeskCloseTellsEServices: closing an entity at the desk ends its
// logins' sessions as the command does, each e-service told by a logout
// token, and so does signing a login out everywhere.
func TestDeskCloseTellsEServices(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		act  string
		form func(euid string) url.Values
	}{
		{"close", func(string) url.Values { return url.Values{"reason": {"dissolved"}} }},
		{"signout", func(euid string) url.Values { return url.Values{"euid": {euid}} }},
	} {
		t.Run(c.act, func(t *testing.T) {
			t.Parallel()
			s := startBackchannelSession(t, "bc-desk-"+c.act, "staff02")
			w := s.idp.startDesk(t)
			sup := w.signedIn(t, w.officer(t, "lam.sup", storage.RoleSupervisor))
			page := entitiesPath(s.idp.demo.EntityNumber)
			if p := sup.submit(page, page+"/"+c.act, c.form(s.euid)); p.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d %.300s", c.act, p.StatusCode, p.Body)
			}
			s.wantToldOnce(t, 1)
		})
	}
}
