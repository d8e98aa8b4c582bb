package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/storage"
)

// recorded is one stored sign-in attempt, as the tests compare them.
type recorded struct {
	Subject, Username, Outcome, Method, Client string
}

// signInEvents stores what the sign-ins queued (no writer runs in tests)
// and returns the events of the demo entity, oldest first.
func (idp *testIDP) signInEvents(t *testing.T) []recorded {
	t.Helper()
	ctx := context.Background()
	idp.app.history.Flush(ctx)
	rows, err := idp.app.pg.Pool().Query(ctx, `
		SELECT ev.subject, ev.username, ev.outcome, ev.method, ev.client_id FROM signin_events ev
		JOIN entities e ON e.id = ev.entity_id WHERE e.number = $1 ORDER BY ev.id`, demoEntityNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []recorded
	for rows.Next() {
		var r recorded
		if err := rows.Scan(&r.Subject, &r.Username, &r.Outcome, &r.Method, &r.Client); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// wantEvents checks that the attempts since the previous check are want,
// each once, and returns how many there are in all now.
func wantEvents(t *testing.T, idp *testIDP, seen int, what string, want ...recorded) int {
	t.Helper()
	all := idp.signInEvents(t)
	got := all[min(seen, len(all)):]
	if !slices.Equal(got, want) {
		t.Errorf("%s: recorded\n%+v\nwant\n%+v", what, got, want)
	}
	return len(all)
}

// TestSignInHistoryOutcomes drives real sign-ins and checks each records
// its outcome exactly once: the right password, a wrong one, an unknown
// username, a lockout, a refusal of the e-service's access policy, the
// entity account at an e-service, the second step asked, failed and
// passed, the minimum level without a tool, the portal's sign-in, and a
// passkey that is no passkey, then locked.
func TestSignInHistoryOutcomes(t *testing.T) {
	idp := startIDP(t, map[string]string{"ISSUER_HOST": "localhost", "IDP_LOGIN_FAILURES_PER_ACCOUNT": "2", "IDP_LOGIN_FAILURES_PER_IP": "50"})
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	other := idp.rp(idp.other, idp.other.RedirectURIs[0])
	number := idp.demo.EntityNumber
	admin, staff01, staff02 := idp.login("admin01"), idp.login("staff01"), idp.login("staff02")
	rec := func(l seededLogin, outcome storage.SignInOutcome, method storage.SignInMethod, client string) recorded {
		return recorded{l.EUID, l.Username, string(outcome), string(method), client}
	}
	seen := 0

	if cb := idp.browser().signIn(r, newAuthParams(t), "staff01"); cb.Get("code") == "" {
		t.Fatalf("sign-in: %v", cb)
	}
	seen = wantEvents(t, idp, seen, "right password", rec(staff01, storage.SignInSucceeded, storage.MethodPassword, web.ClientID))

	b := idp.browser()
	if p := b.submit(b.startLogin(r, newAuthParams(t)).form(t), number, "STAFF01", "wrong password"); p.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", p.StatusCode)
	}
	seen = wantEvents(t, idp, seen, "wrong password", rec(staff01, storage.SignInWrongCredentials, storage.MethodPassword, web.ClientID))

	b.submit(b.startLogin(r, newAuthParams(t)).form(t), number, "Nobody99", "whatever")
	seen = wantEvents(t, idp, seen, "unknown username",
		recorded{"", "nobody99", string(storage.SignInWrongCredentials), string(storage.MethodPassword), web.ClientID})

	// staff02 is not assigned to the e-service "other", which from now on
	// admits only the logins assigned to it.
	if _, err := idp.app.pg.Pool().Exec(t.Context(), `UPDATE services SET access_policy = 'assigned' WHERE code = 'other'`); err != nil {
		t.Fatal(err)
	}
	b = idp.browser()
	b.submit(b.startLogin(other, newAuthParams(t)).form(t), number, staff02.Username, staff02.Password)
	seen = wantEvents(t, idp, seen, "access policy", rec(staff02, storage.SignInRefusedByService, storage.MethodPassword, idp.other.ClientID))

	b = idp.browser()
	b.submit(b.startLogin(r, newAuthParams(t)).form(t), number, idp.demo.EntityAccount["username"], idp.demo.EntityAccount["password"])
	ea, err := idp.app.pg.Principal(t.Context(), number, idp.demo.EntityAccount["username"])
	if err != nil {
		t.Fatal(err)
	}
	seen = wantEvents(t, idp, seen, "entity account at an e-service",
		recorded{ea.Subject, ea.Username, string(storage.SignInRefusedByService), string(storage.MethodPassword), web.ClientID})

	// Two failures fill staff02's counter (2): the third is refused unchecked.
	for range 2 {
		b.submit(b.startLogin(r, newAuthParams(t)).form(t), number, staff02.Username, "wrong")
	}
	if p := b.submit(b.startLogin(r, newAuthParams(t)).form(t), number, staff02.Username, staff02.Password); p.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("locked: %d", p.StatusCode)
	}
	seen = wantEvents(t, idp, seen, "lockout",
		rec(staff02, storage.SignInWrongCredentials, storage.MethodPassword, web.ClientID),
		rec(staff02, storage.SignInWrongCredentials, storage.MethodPassword, web.ClientID),
		rec(staff02, storage.SignInLocked, storage.MethodPassword, web.ClientID))

	secret := idp.enrolTOTP(t, admin)
	b = idp.browser()
	p := withExtra(newAuthParams(t), "acr_values", acrTool)
	v := b.secondStep(b.submit(b.startLogin(r, p).form(t), number, admin.Username, admin.Password))
	bad := b.verifyCode(v, wrongCode(t, secret, time.Now()))
	if cb := b.followToRP(b.verifyCode(bad, totpCode(t, secret, time.Now()))); cb.Get("code") == "" {
		t.Fatalf("second step: %v", cb)
	}
	seen = wantEvents(t, idp, seen, "second step",
		rec(admin, storage.SignInStepRequired, storage.MethodPassword, web.ClientID),
		rec(admin, storage.SignInStepFailed, storage.MethodCode, web.ClientID),
		rec(admin, storage.SignInStepPassed, storage.MethodCode, web.ClientID))

	// staff01 holds no tool: the level asked cannot be reached.
	b = idp.browser()
	next := b.submit(b.startLogin(r, withExtra(newAuthParams(t), "acr_values", acrTool)).form(t), number, staff01.Username, staff01.Password)
	if nt := b.get(next.location(t)); nt.StatusCode != http.StatusForbidden {
		t.Fatalf("no tool: %d", nt.StatusCode)
	}
	seen = wantEvents(t, idp, seen, "minimum level without a tool",
		rec(staff01, storage.SignInStepRequired, storage.MethodPassword, web.ClientID),
		rec(staff01, storage.SignInRefusedByService, storage.MethodPassword, web.ClientID))

	idp.browser().accountSignedIn(number, staff01.Username, staff01.Password)
	seen = wantEvents(t, idp, seen, "portal", rec(staff01, storage.SignInSucceeded, storage.MethodPassword, ""))

	b = idp.browser()
	portal := b.get("/account/login")
	form := url.Values{"csrf_token": {submatch(csrfField, portal.Body)}, "state": {portal.fieldValue("state")}, "credential": {`{"id":"x","type":"public-key"}`}}
	if p := b.post("/account/login/passkey", form); p.StatusCode != http.StatusUnauthorized {
		t.Fatalf("not a passkey: %d", p.StatusCode)
	}
	// A passkey attempt names no account: it is nobody's in the entity, so
	// it is looked for among all the entity-less attempts.
	idp.app.history.Flush(t.Context())
	var passkeyFailed int
	if err := idp.app.pg.Pool().QueryRow(t.Context(), `SELECT count(*) FROM signin_events WHERE outcome = 'passkey_failed' AND method = 'passkey' AND entity_id IS NULL AND client_id = ''`).Scan(&passkeyFailed); err != nil || passkeyFailed != 1 {
		t.Errorf("passkey failures recorded: %d, %v", passkeyFailed, err)
	}
	wantEvents(t, idp, seen, "nothing more for the entity")
}

// TestSignInHistoryPages: a login sees its own history; an admin sees its
// entity's, filtered, and another entity's login in the filter finds
// nothing; plain staff see only themselves whatever they ask; the CSV
// export escapes formula injection, and is the admins' only.
func TestSignInHistoryPages(t *testing.T) {
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	number := idp.demo.EntityNumber
	admin, staff01 := idp.login("admin01"), idp.login("staff01")

	idp.browser().signIn(r, newAuthParams(t), "staff01")
	b := idp.browser()
	b.submit(b.startLogin(r, newAuthParams(t)).form(t), number, "=HYPERLINK(1)", "x") // a formula for a username
	b.submit(b.startLogin(r, newAuthParams(t)).form(t), number, admin.Username, "wrong")

	// Another entity, with a login that signed in.
	ctx := t.Context()
	otherEntity := storage.Entity{Number: "02-777777", NameZH: "別的公司", Kind: "company"}
	if err := idp.app.pg.CreateEntity(ctx, operator(), &otherEntity, &storage.EntityAccount{ApplicationNumber: "APP-777"}); err != nil {
		t.Fatal(err)
	}
	stranger := storage.StaffLogin{EntityID: otherEntity.ID, NameZH: "外人", IDDocType: "macau_permanent_id", IDDocNumber: "7654321(0)",
		BirthDate: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), Mobile: "+85366000000"}
	if err := idp.app.pg.CreateStaffLogin(ctx, operator(), &stranger); err != nil {
		t.Fatal(err)
	}
	ev := storage.NewSignInEvent(time.Now(), otherEntity.Number, "stranger", storage.SignInSucceeded, storage.MethodPassword, "192.0.2.9", "x", "")
	ev.Subject, ev.EntityID = stranger.EUID, otherEntity.ID
	if err := idp.app.pg.RecordSignIns(ctx, []storage.SignInEvent{ev}); err != nil {
		t.Fatal(err)
	}

	staff := idp.browser()
	staff.accountSignedIn(number, staff01.Username, staff01.Password)
	idp.app.history.Flush(ctx)
	own := staff.accountPage("/account/history?login=" + admin.EUID)
	if !strings.Contains(own.Body, staff01.EUID) || strings.Contains(own.Body, admin.EUID) || strings.Contains(own.Body, `name="login"`) {
		t.Errorf("plain staff's history shows others or the filter: %.2000s", own.Body)
	}
	if p := staff.get("/account/history.csv"); p.StatusCode != http.StatusForbidden || strings.Contains(p.Body, staff01.EUID) {
		t.Errorf("plain staff's export: %d", p.StatusCode)
	}

	// The entity account: its own sign-ins only, no filter, no export.
	acct := idp.entityAccountBrowser()
	idp.app.history.Flush(ctx)
	mine := acct.accountPage("/account/history")
	ea, err := idp.app.pg.Principal(ctx, number, idp.demo.EntityAccount["username"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mine.Body, ea.Subject) || strings.Contains(mine.Body, staff01.EUID) || strings.Contains(mine.Body, `name="login"`) {
		t.Errorf("the entity account's history: %.2000s", mine.Body)
	}
	if p := acct.get("/account/history.csv"); p.StatusCode != http.StatusForbidden {
		t.Errorf("the entity account's export: %d", p.StatusCode)
	}

	adm := idp.browser()
	adm.accountSignedIn(number, admin.Username, admin.Password)
	idp.app.history.Flush(ctx)
	all := adm.accountPage("/account/history")
	for _, want := range []string{staff01.EUID, admin.EUID, "=hyperlink(1)", `name="login"`, "history.csv"} {
		if !strings.Contains(strings.ToLower(all.Body), strings.ToLower(want)) {
			t.Errorf("admin's history lacks %q", want)
		}
	}
	if strings.Contains(all.Body, stranger.EUID) {
		t.Error("admin's history shows another entity's login")
	}
	if p := adm.accountPage("/account/history?login=" + stranger.EUID); strings.Contains(p.Body, stranger.EUID+" (") || strings.Contains(p.Body, "192.0.2.9") {
		t.Errorf("another entity's login in the filter finds its events: %.1500s", p.Body)
	}
	failures := adm.accountPage("/account/history?outcome=bad_credentials&login=" + admin.EUID)
	if !strings.Contains(failures.Body, admin.EUID) || strings.Contains(failures.Body, staff01.EUID) {
		t.Errorf("filter by login and outcome: %.1500s", failures.Body)
	}
	for _, q := range []string{"login=nobody", "outcome=maybe", "from=2026-13-01", "from=2024-01-01&to=2026-01-01", "after=x_1"} {
		if p := adm.get("/account/history?" + q); p.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", q, p.StatusCode)
		}
	}

	csv := adm.get("/account/history.csv")
	if csv.StatusCode != http.StatusOK || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", csv.StatusCode, csv.Header.Get("Content-Type"))
	}
	if !strings.Contains(csv.Body, "'=hyperlink(1)") || strings.Contains(csv.Body, ",=hyperlink") || strings.Contains(csv.Body, stranger.EUID) {
		t.Errorf("export not escaped or not the entity's only:\n%s", csv.Body)
	}
	if strange := adm.get("/account/history.csv?login=" + stranger.EUID); strings.Count(strings.TrimSpace(strange.Body), "\n") != 0 {
		t.Errorf("export of another entity's login: %s", strange.Body)
	}

	// The operator's command, across entities.
	idp.runsCommands(t)
	var out bytes.Buffer
	if err := historyCommand([]string{"--entity", otherEntity.Number, "--csv"}, &out); err != nil || !strings.Contains(out.String(), stranger.EUID) {
		t.Errorf("idp history --csv: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := historyCommand([]string{"--entity", number, "--euid", staff01.EUID}, &out); err != nil ||
		!strings.Contains(out.String(), staff01.EUID) || strings.Contains(out.String(), admin.EUID) {
		t.Errorf("idp history --euid: %v\n%s", err, out.String())
	}
}

// TestStaffListLastSignIn: 最後登入時間 shows after a sign-in, and the
// filter of logins not used for 30 days leaves it out and keeps the
// others.
func TestStaffListLastSignIn(t *testing.T) {
	idp := startIDP(t, nil)
	number := idp.demo.EntityNumber
	admin, staff02 := idp.login("admin01"), idp.login("staff02")
	b := idp.browser()
	b.accountSignedIn(number, admin.Username, admin.Password)
	idp.app.history.Flush(t.Context())
	list := b.accountPage("/account/staff")
	row := submatch(regexpRow(admin.EUID), list.Body)
	today := time.Now().In(staffZoneForTests).Format("2006-01-02")
	if !strings.Contains(row, today) {
		t.Errorf("最後登入時間 of %s not shown: %s", admin.EUID, row)
	}
	if never := submatch(regexpRow(staff02.EUID), list.Body); !strings.Contains(never, catalogue(t, "staff_never_signed_in")) {
		t.Errorf("a login never signed in: %s", never)
	}
	unused := b.accountPage("/account/staff?unused=30")
	if strings.Contains(unused.Body, `id="row_`+admin.EUID+`"`) || !strings.Contains(unused.Body, `id="row_`+staff02.EUID+`"`) {
		t.Errorf("unused 30 days: %.3000s", unused.Body)
	}
}

// regexpRow finds the staff list's row of euid (its cells).
func regexpRow(euid string) *regexp.Regexp {
	return regexp.MustCompile(`(?s)<tr id="row_` + regexp.QuoteMeta(euid) + `">(.*?)</tr>`)
}

// staffZoneForTests is the staff pages' time zone (UTC+8).
var staffZoneForTests = time.FixedZone("UTC+8", 8*3600)
