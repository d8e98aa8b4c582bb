package main

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/storage"
)

// The desk's intake (/intake): an officer opens an entity from the
// application handed in at the counter, through the use case of `idp
// entity create`.

// intakeValues is a complete application of entity number with one admin
// (mobiles and ID number derived from the number).
func intakeValues(number string) url.Values {
	tail := number[4:] // five digits
	return url.Values{
		"admins":        {"1"},
		"entity_number": {number}, "entity_name_zh": {"櫃台有限公司"}, "entity_name_pt": {"Balcão, Limitada"},
		"entity_kind": {"company"}, "application_number": {"A2026-" + number[3:]},
		"account_mobile": {"661" + tail}, "account_email": {""}, "account_language": {"zh-Hant"}, "channel": {"sms"},
		"admin1_name_zh": {"梁小明"}, "admin1_name_foreign": {"LEONG, Sio Meng"}, "admin1_id_doc_type": {"macau_permanent_id"},
		"admin1_id_doc_number": {"5" + number[3:] + "(3)"}, "admin1_id_doc_issue_place": {"澳門"},
		"admin1_birth_date": {"1985-03-04"}, "admin1_mobile": {"662" + tail}, "admin1_email": {""}, "admin1_language": {"zh-Hant"},
	}
}

// withAdmin adds admin n (from 1) to v, derived from the entity number.
func withAdmin(v url.Values, n int, idDoc, mobile string) url.Values {
	p := "admin" + string(rune('0'+n)) + "_"
	v.Set(p+"name_zh", "第"+string(rune('0'+n))+"位")
	v.Set(p+"name_foreign", "")
	v.Set(p+"id_doc_type", "macau_permanent_id")
	v.Set(p+"id_doc_number", idDoc)
	v.Set(p+"id_doc_issue_place", "")
	v.Set(p+"birth_date", "1979-11-30")
	v.Set(p+"mobile", mobile)
	v.Set(p+"email", "")
	v.Set(p+"language", "pt")
	v.Set("admins", string(rune('0'+n)))
	return v
}

func (w *deskWorld) entityExists(t *testing.T, number string) bool {
	t.Helper()
	_, err := w.idp.app.pg.EntityByNumber(context.Background(), number)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// fieldError is the error a rendered form shows under field ("" for none).
func (p page) fieldError(field string) string {
	return html.UnescapeString(submatch(regexp.MustCompile(`<p id="`+regexp.QuoteMeta(field)+`_error" class="field-error">([^<]*)</p>`), p.Body))
}

// TestDeskIntakeAdmission: counter officers and supervisors open the
// intake and open entities there; without a desk session the browser goes
// to the sign-in; a staff login's portal session opens nothing; a POST
// without the session's CSRF token, or from another origin, is refused; a
// disabled officer is refused, even with a token it was given before.
func TestDeskIntakeAdmission(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	for i, role := range []storage.OfficerRole{storage.RoleCounter, storage.RoleSupervisor} {
		o := w.officer(t, "intake."+string(role), role)
		b := w.signedIn(t, o)
		form := b.get("/intake")
		if form.StatusCode != http.StatusOK || !strings.Contains(form.Body, `action="/intake"`) || !strings.Contains(form.Body, `href="/intake" aria-current="page"`) {
			t.Fatalf("%s: the intake: %d %.300s", role, form.StatusCode, form.Body)
		}
		if home := b.get("/"); !strings.Contains(home.Body, `href="/intake"`) {
			t.Errorf("%s: the home page does not lead to the intake", role)
		}
		number := "04-00010" + string(rune('1'+i))
		if p := b.submit("/intake", "/intake", intakeValues(number)); p.StatusCode != http.StatusOK || !w.entityExists(t, number) {
			t.Fatalf("%s: open %s: %d %.500s", role, number, p.StatusCode, p.Body)
		}
	}

	anon := w.browser(t)
	if p := anon.get("/intake"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/signin?next=%2Fintake" {
		t.Errorf("the intake without a session: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	if p := anon.post("/intake", intakeValues("04-000201")); p.StatusCode != http.StatusSeeOther || w.entityExists(t, "04-000201") {
		t.Errorf("a POST without a session: %d", p.StatusCode)
	}
	// A staff login's portal session, its cookies carried to the desk's host.
	staff := idp.browser()
	acct := idp.demo.EntityAccount
	staff.accountSignedIn(idp.demo.EntityNumber, acct["username"], acct["password"])
	portal := w.browser(t)
	u, _ := url.Parse(w.srv.URL)
	for _, ck := range staff.c.Jar.Cookies(mustParse(t, idp.issuer)) {
		portal.c.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	if p := portal.get("/intake"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("a staff login's portal session opened the intake: %d", p.StatusCode)
	}

	counter := w.officer(t, "intake.csrf", storage.RoleCounter)
	b := w.signedIn(t, counter)
	b.get("/intake") // the CSRF cookie
	if p := b.post("/intake", intakeValues("04-000202")); p.StatusCode != http.StatusForbidden {
		t.Errorf("a POST without the CSRF token: %d", p.StatusCode)
	}
	forged := intakeValues("04-000202")
	forged.Set("csrf_token", "forged")
	if p := b.post("/intake", forged); p.StatusCode != http.StatusForbidden {
		t.Errorf("a POST with a forged token: %d", p.StatusCode)
	}
	cross := intakeValues("04-000202")
	cross.Set("csrf_token", submatch(csrfField, b.get("/intake").Body))
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/intake", strings.NewReader(cross.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://elsewhere.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.do(req); p.StatusCode != http.StatusForbidden {
		t.Errorf("a POST from another site: %d", p.StatusCode)
	}
	if w.entityExists(t, "04-000202") {
		t.Error("a refused POST opened the entity")
	}

	// A disabled officer: its form's token no longer opens anything.
	token := submatch(csrfField, b.get("/intake").Body)
	boss, _ := idp.app.pg.OfficerByLogin(context.Background(), demoOfficer)
	if _, err := officers.New(idp.app.pg).Disable(context.Background(), boss, counter.Login); err != nil {
		t.Fatal(err)
	}
	late := intakeValues("04-000203")
	late.Set("csrf_token", token)
	if p := b.post("/intake", late); p.StatusCode != http.StatusForbidden || w.entityExists(t, "04-000203") {
		t.Errorf("a disabled officer's POST: %d", p.StatusCode)
	}
	if p := b.get("/intake"); p.StatusCode == http.StatusOK {
		t.Errorf("a disabled officer's intake: %d", p.StatusCode)
	}
}

// TestDeskIntakeOpens: "add another admin" brings the form back with one
// more blank admin, what was typed kept (no script: a button of the form);
// the application opens the entity, its entity account and both admins;
// the answer names them (EUIDs) and says the codes were sent, never
// showing one; each holder's code arrives; the audit trail names the
// officer and its desk session.
func TestDeskIntakeOpens(t *testing.T) {
	t.Parallel()
	a := startActivationIDP(t, nil)
	w := a.startDesk(t)
	counter := w.officer(t, "intake.opens", storage.RoleCounter)
	b := w.signedIn(t, counter)
	const number = "04-000301"
	v := intakeValues(number)
	v.Set("add_admin", "1")
	more := b.submit("/intake", "/intake", v)
	if more.StatusCode != http.StatusOK || more.fieldValue("admins") != "2" || !strings.Contains(more.Body, `id="admin2_name_zh"`) {
		t.Fatalf("add another admin: %d admins=%q %.400s", more.StatusCode, more.fieldValue("admins"), more.Body)
	}
	if more.fieldValue("admin1_id_doc_number") != v.Get("admin1_id_doc_number") || more.fieldValue("entity_number") != number ||
		more.fieldValue("admin2_name_zh") != "" || !regexp.MustCompile(`id="admin2_name_zh"[^>]* autofocus`).MatchString(more.Body) {
		t.Errorf("add another admin: the values are not kept, or the new admin is not blank and focused")
	}
	if w.entityExists(t, number) {
		t.Fatal("adding an admin opened the entity")
	}

	v.Del("add_admin")
	withAdmin(v, 2, "7654321(0)", "+853 6630 0301")
	v.Set("csrf_token", submatch(csrfField, more.Body))
	done := b.post("/intake", v)
	if done.StatusCode != http.StatusOK || !strings.Contains(done.Body, catalogueText(t, "desk_intake_done_title")) {
		t.Fatalf("open %s: %d %.800s", number, done.StatusCode, done.Body)
	}
	ctx := context.Background()
	e, _ := a.app.pg.EntityByNumber(ctx, number)
	acct, err := a.app.pg.EntityAccount(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, done.Body, acct.Subject)
	mustContain(t, done.Body, `href="/entities/`+number+`"`)
	mustContain(t, done.Body, catalogueText(t, "desk_intake_done_sent_sms"))
	for _, doc := range []string{"5000301(3)", "7654321(0)"} {
		as, err := a.app.pg.StaffActivatees(ctx, number, storage.NormalizeIDDocNumber(doc))
		if err != nil || len(as) != 1 || !as[0].Admin {
			t.Fatalf("admin %s: %+v %v", doc, as, err)
		}
		sl, _ := a.app.pg.StaffLogin(ctx, as[0].Account.ID)
		mustContain(t, done.Body, sl.EUID)
	}
	// Every holder's code arrives; none is on the page.
	for _, to := range []string{"+85366100301", "+85366200301", "+85366300301"} {
		if code := codeIn(t, a.message(t, to, 1)); strings.Contains(done.Body, code) || strings.Contains(done.Body, strings.ReplaceAll(code, "-", "")) {
			t.Errorf("the answer shows the activation code sent to %s", to)
		}
	}

	events, err := a.app.pg.SearchAuditEvents(ctx, storage.AuditQuery{Action: "entity.create", Target: number, Limit: 5,
		From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)})
	if err != nil || len(events) != 1 {
		t.Fatalf("audit of the opening: %+v %v", events, err)
	}
	if ev := events[0]; ev.ActorKind != string(storage.ActorOperator) || ev.ActorID != counter.Login || ev.Details["desk_session"] == nil || ev.IP == "" {
		t.Errorf("the opening's audit event: %+v", ev)
	}
	if id := officerOfEvent(t, a.testIDP, "entity.create", number); id != counter.ID {
		t.Errorf("the opening's audit event names officer %d, want %d", id, counter.ID)
	}
}

// officerOfEvent is the officer the audit event of action on target names.
func officerOfEvent(t *testing.T, idp *testIDP, action, target string) int64 {
	t.Helper()
	var id *int64
	err := idp.app.pg.Pool().QueryRow(context.Background(),
		`SELECT officer_id FROM audit_events WHERE action = $1 AND target = $2 ORDER BY id DESC LIMIT 1`, action, target).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	if id == nil {
		return 0
	}
	return *id
}

// TestDeskIntakeRefusals: what the use case refuses comes back on the
// form, each sentence next to its field, every value kept and nothing
// opened: an entity number in use, wrong fields (the entity account's and
// an admin's), the same person twice; a blank extra admin is no admin; the
// form offers no more than ten admins.
func TestDeskIntakeRefusals(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	b := w.signedIn(t, w.officer(t, "intake.refusals", storage.RoleCounter))

	dup := intakeValues(idp.demo.EntityNumber)
	p := b.submit("/intake", "/intake", dup)
	if p.StatusCode != http.StatusConflict || p.fieldError("entity_number") != html.UnescapeString(catalogueText(t, "desk_intake_error_number_taken")) {
		t.Fatalf("an entity number in use: %d %q %.600s", p.StatusCode, p.fieldError("entity_number"), p.Body)
	}
	for _, f := range []string{"entity_number", "entity_name_zh", "application_number", "admin1_id_doc_number", "admin1_birth_date"} {
		if got := html.UnescapeString(p.fieldValue(f)); got != dup.Get(f) {
			t.Errorf("an entity number in use: %s kept as %q, want %q", f, got, dup.Get(f))
		}
	}
	if !regexp.MustCompile(`id="entity_number"[^>]* autofocus[^>]* aria-invalid="true" aria-describedby="entity_number_help entity_number_error"`).MatchString(p.Body) {
		t.Errorf("the number in use is not focused and described by its error")
	}

	const number = "04-000401"
	bad := intakeValues(number)
	bad.Set("account_mobile", "")
	bad.Set("admin1_mobile", "12345")
	bad.Set("admin1_birth_date", "1990-02-30")
	p = b.submit("/intake", "/intake", bad)
	if p.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong fields: %d %.600s", p.StatusCode, p.Body)
	}
	for field, key := range map[string]string{"account_mobile": "desk_intake_error_account_mobile",
		"admin1_mobile": "reg_error_mobile", "admin1_birth_date": "reg_error_birth_date_nonexistent"} {
		if got := p.fieldError(field); got != html.UnescapeString(catalogueText(t, key)) {
			t.Errorf("wrong field %s: error %q", field, got)
		}
	}
	if p.fieldError("entity_number") != "" || p.fieldValue("admin1_mobile") != "12345" || p.fieldValue("admin1_birth_date") != "1990-02-30" ||
		html.UnescapeString(p.fieldValue("entity_name_zh")) != bad.Get("entity_name_zh") {
		t.Errorf("wrong fields: the values are not kept as typed")
	}
	mustContain(t, p.Body, `role="alert"`)

	twice := withAdmin(intakeValues(number), 2, "5000401(3)", "66500401")
	p = b.submit("/intake", "/intake", twice)
	if p.StatusCode != http.StatusBadRequest || p.fieldError("admin2_id_doc_number") != html.UnescapeString(catalogueText(t, "desk_intake_error_admin_twice")) {
		t.Errorf("the same person twice: %d %q", p.StatusCode, p.fieldError("admin2_id_doc_number"))
	}
	if w.entityExists(t, number) {
		t.Fatal("a refused application opened the entity")
	}

	// A blank third admin (after a wrong second) is left out: its errors
	// land on the second, and once right, two admins open.
	three := withAdmin(intakeValues(number), 2, "1234567(8)", "abc")
	three.Set("admins", "3")
	p = b.submit("/intake", "/intake", three)
	if p.fieldError("admin2_mobile") == "" || p.fieldError("admin3_name_zh") != "" || p.fieldValue("admins") != "3" {
		t.Errorf("a blank extra admin: errors %q / %q, admins %q", p.fieldError("admin2_mobile"), p.fieldError("admin3_name_zh"), p.fieldValue("admins"))
	}
	three.Set("admin2_mobile", "66500402")
	if p = b.submit("/intake", "/intake", three); p.StatusCode != http.StatusOK || strings.Count(p.Body, `class="euid"`) != 2 {
		t.Errorf("with a blank extra admin: %d, %d admins opened", p.StatusCode, strings.Count(p.Body, `class="euid"`))
	}

	// Ten admins at most: the form offers no eleventh.
	ten := intakeValues("04-000402")
	ten.Set("admins", "10")
	ten.Set("add_admin", "1")
	p = b.submit("/intake", "/intake", ten)
	if p.fieldValue("admins") != "10" || strings.Contains(p.Body, `name="add_admin"`) || strings.Contains(p.Body, `id="admin11_name_zh"`) {
		t.Errorf("an eleventh admin: admins %q", p.fieldValue("admins"))
	}
}

// TestDeskIntakeAuditsAsCommand: the desk and `idp entity create` open an
// entity through one use case: the same audit events (actions, actor, the
// officer), the desk's naming its desk session besides.
func TestDeskIntakeAuditsAsCommand(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)
	w := idp.startDesk(t)
	counter := w.officer(t, "intake.audit", storage.RoleCounter)
	t.Setenv("IDP_OFFICER", counter.Login)

	const atDesk, byCommand = "04-000501", "04-000502"
	if p := w.signedIn(t, counter).submit("/intake", "/intake", intakeValues(atDesk)); p.StatusCode != http.StatusOK {
		t.Fatalf("open at the desk: %d %.400s", p.StatusCode, p.Body)
	}
	v := intakeValues(byCommand)
	err := entityCreate([]string{"--number", byCommand, "--name-zh", v.Get("entity_name_zh"), "--name-pt", v.Get("entity_name_pt"),
		"--application-number", v.Get("application_number"), "--account-mobile", v.Get("account_mobile"),
		"--admin-name-zh", v.Get("admin1_name_zh"), "--admin-name-foreign", v.Get("admin1_name_foreign"),
		"--admin-id-number", v.Get("admin1_id_doc_number"), "--admin-id-place", v.Get("admin1_id_doc_issue_place"),
		"--admin-birth-date", v.Get("admin1_birth_date"), "--admin-mobile", v.Get("admin1_mobile")})
	if err != nil {
		t.Fatal(err)
	}
	desk, command := auditOfEntity(t, idp, atDesk), auditOfEntity(t, idp, byCommand)
	if len(desk) == 0 || len(desk) != len(command) {
		t.Fatalf("audit events: desk %v, command %v", desk, command)
	}
	for i := range desk {
		d, c := desk[i], command[i]
		if d.action != c.action || d.actorKind != c.actorKind || d.actorID != counter.Login || c.actorID != counter.Login ||
			d.officer != counter.ID || c.officer != counter.ID {
			t.Errorf("event %d: desk %+v, command %+v", i, d, c)
		}
		if !d.deskSession || c.deskSession {
			t.Errorf("event %d %s: desk session named: desk %v, command %v", i, d.action, d.deskSession, c.deskSession)
		}
	}

	// The command refuses what the desk refuses, by its flag.
	err = entityCreate([]string{"--number", byCommand, "--name-zh", "重複", "--application-number", "A-DUP",
		"--account-mobile", "66000001", "--admin-name-zh", "甲", "--admin-id-number", "1234567(8)",
		"--admin-birth-date", "1980-01-01", "--admin-mobile", "12"})
	if err == nil || !strings.Contains(err.Error(), "admin 1: A Macau mobile") {
		t.Errorf("entity create with a wrong admin mobile: %v", err)
	}
}

type auditRow struct {
	action, actorKind, actorID string
	officer                    int64
	deskSession                bool
}

// auditOfEntity is the audit trail of the entity number, oldest first.
func auditOfEntity(t *testing.T, idp *testIDP, number string) []auditRow {
	t.Helper()
	rows, err := idp.app.pg.Pool().Query(context.Background(), `SELECT a.action, a.actor_kind, a.actor_id, coalesce(a.officer_id, 0),
		a.details ? 'desk_session' FROM audit_events a JOIN entities e ON e.id = a.entity_id WHERE e.number = $1 ORDER BY a.id`, number)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.action, &r.actorKind, &r.actorID, &r.officer, &r.deskSession); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}
