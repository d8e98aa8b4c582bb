package main

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// Activation codes, the activation pages and the resend page, through HTTP
// as a browser uses them,
// with the outbox worker running as under `idp serve` and a recording
// sender in place of the SMS gateway.

// ---- helpers ----

// actIDP is a provider whose outbox worker runs, delivering to rec.
type actIDP struct {
	*testIDP
	rec *notify.Recorder
}

// startActivationIDP starts a node and its outbox worker with a recording
// sender on both channels (unless extraEnv configures real senders, which
// are then kept).
func startActivationIDP(t *testing.T, extraEnv map[string]string) *actIDP {
	t.Helper()
	return startActivationIDPWith(t, extraEnv, &notify.Recorder{})
}

// startActivationIDPWith is startActivationIDP with a recorder of the caller's.
func startActivationIDPWith(t *testing.T, extraEnv map[string]string, rec *notify.Recorder) *actIDP {
	t.Helper()
	idp := startIDP(t, extraEnv)
	if extraEnv["IDP_SMS_SENDER"] == "" {
		idp.app.outbox.SetSender(storage.ChannelSMS, rec)
	}
	if extraEnv["IDP_EMAIL_SENDER"] == "" {
		idp.app.outbox.SetSender(storage.ChannelEmail, rec)
	}
	idp.app.outbox.Poll = 50 * time.Millisecond
	idp.app.outbox.MinBackoff, idp.app.outbox.MaxBackoff = 20*time.Millisecond, 100*time.Millisecond
	// Registered after startIDP's cleanup, so it runs first: the worker
	// stops before the stores close.
	t.Cleanup(idp.app.startOutbox(context.Background()))
	return &actIDP{testIDP: idp, rec: rec}
}

// message waits for the n-th message (from 1) delivered to to.
func (w *actIDP) message(t *testing.T, to string, n int) notify.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	m, err := w.rec.Wait(ctx, n, func(m notify.Message) bool { return m.To == to })
	if err != nil {
		t.Fatalf("no message #%d to %s (got %d messages in all): %v", n, to, len(w.rec.Messages()), err)
	}
	return m
}

var codeInText = regexp.MustCompile(`[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}`)

// codeIn returns the activation code a message carries.
func codeIn(t *testing.T, m notify.Message) string {
	t.Helper()
	c := codeInText.FindString(m.Text)
	if c == "" {
		t.Fatalf("no activation code in %q", m.Text)
	}
	return c
}

// newEntity opens an entity with the same code `idp entity create` runs.
func (w *actIDP) newEntity(t *testing.T, spec entitySpec) entityCreated {
	t.Helper()
	if spec.Channel == "" {
		spec.Channel = storage.ChannelSMS
	}
	out, err := openEntity(context.Background(), operator(), w.app.activation, spec)
	if err != nil {
		t.Fatalf("open entity %s: %v", spec.Number, err)
	}
	return out
}

// standardEntity is entity 03-000101 with the entity account on
// +85366000101 and one admin (Portuguese speaker) on +85366000102.
func standardEntity(number string) entitySpec {
	return entitySpec{
		Number: number, NameZH: "新建有限公司", NamePT: "Nova, Limitada", Kind: "company",
		ApplicationNumber: "A2026-" + number[3:], AccountMobile: "+853661" + number[4:], AccountLanguage: "zh-Hant",
		Admins: []adminSpec{{
			NameZH: "何美美", NameForeign: "HO, Mei Mei", IDType: "macau_permanent_id", IDNumber: "5123456(7)",
			IDPlace: "澳門", BirthDate: "1988-08-08", Mobile: "+853662" + number[4:], Email: "ho@example.mo", Language: "pt",
		}},
	}
}

// activateStep1 fills step 1 of an activation page.
func (b *browser) activateStep1(kind storage.PrincipalKind, entity, fact, code string) page {
	b.t.Helper()
	path, field := "/activate/staff", "id_doc_number"
	if kind == storage.KindEntityAccount {
		path, field = "/activate/entity", "application_number"
	}
	form := b.get(b.idp.issuerPath() + path)
	if form.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s = %d: %.300s", path, form.StatusCode, form.Body)
	}
	return b.post(b.idp.issuerPath()+path, url.Values{
		"csrf_token": {submatch(csrfField, form.Body)}, "entity_number": {entity}, field: {fact}, "code": {code},
	})
}

// activateStep2 chooses username and password on the step-2 page step1.
func (b *browser) activateStep2(step1 page, username, pw, again string) page {
	b.t.Helper()
	if step1.StatusCode != http.StatusOK || step1.fieldValue("ticket") == "" {
		b.t.Fatalf("want the step-2 form, got %d: %.600s", step1.StatusCode, step1.Body)
	}
	return b.post(b.idp.issuerPath()+"/activate/complete", url.Values{
		"csrf_token": {submatch(csrfField, step1.Body)}, "ticket": {step1.fieldValue("ticket")},
		"username": {username}, "password": {pw}, "password2": {again},
	})
}

// activate runs both steps and expects success.
func (b *browser) activate(kind storage.PrincipalKind, entity, fact, code, username, pw string) page {
	b.t.Helper()
	done := b.activateStep2(b.activateStep1(kind, entity, fact, code), username, pw, pw)
	if done.StatusCode != http.StatusOK || !strings.Contains(done.Body, catalogueText(b.t, "activate_done_heading")) {
		b.t.Fatalf("activation of %s %s: %d %.600s", kind, username, done.StatusCode, done.Body)
	}
	return done
}

// catalogueText is a zh-Hant message as a page shows it (HTML-escaped).
func catalogueText(t *testing.T, key string) string {
	t.Helper()
	m, err := templates.Catalogue("zh-Hant")
	if err != nil || m[key] == "" {
		t.Fatalf("catalogue has no %s (%v)", key, err)
	}
	return html.EscapeString(m[key])
}

// wantActError checks a refused step: status and the message of key.
func wantActError(t *testing.T, what string, p page, status int, key string) {
	t.Helper()
	if p.StatusCode != status {
		t.Errorf("%s: status %d, want %d: %.400s", what, p.StatusCode, status, p.Body)
	}
	if !strings.Contains(p.Body, catalogueText(t, key)) {
		t.Errorf("%s: page lacks %s (%q); error shown: %q", what, key, catalogueText(t, key), p.errorMessage())
	}
}

// code returns an account's newest activation code row.
func (w *actIDP) code(t *testing.T, ref storage.AccountRef) storage.ActivationCode {
	t.Helper()
	codes, err := w.app.pg.ActivationCodes(context.Background(), ref, 1)
	if err != nil || len(codes) == 0 {
		t.Fatalf("activation codes of %v: %v %v", ref, codes, err)
	}
	return codes[0]
}

func (w *actIDP) entityAccountRef(t *testing.T, number string) storage.AccountRef {
	t.Helper()
	e, err := w.app.pg.EntityByNumber(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.app.pg.EntityAccount(context.Background(), e.ID)
	if err != nil {
		t.Fatal(err)
	}
	return storage.AccountRef{Kind: storage.KindEntityAccount, ID: a.ID}
}

func (w *actIDP) staffRef(t *testing.T, euid string) storage.AccountRef {
	t.Helper()
	sl, err := w.app.pg.StaffLoginByEUID(context.Background(), euid)
	if err != nil {
		t.Fatal(err)
	}
	return storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID}
}

// addStaff registers an ordinary staff login (as an admin would) and sends it a code.
func (w *actIDP) addStaff(t *testing.T, entityNumber, docNo, mobile string) storage.StaffLogin {
	t.Helper()
	ctx := context.Background()
	e, err := w.app.pg.EntityByNumber(ctx, entityNumber)
	if err != nil {
		t.Fatal(err)
	}
	sl := storage.StaffLogin{EntityID: e.ID, NameZH: "員工", NameForeign: "STAFF", IDDocType: "passport", IDDocNumber: docNo,
		BirthDate: time.Date(1990, 2, 3, 0, 0, 0, 0, time.UTC), Mobile: mobile, Language: "en"}
	if err := w.app.pg.CreateStaffLogin(ctx, operator(), &sl); err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.activation.Issue(ctx, operatorActor(), storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID}, storage.ChannelSMS, "admin"); err != nil {
		t.Fatal(err)
	}
	return sl
}

func countAuditAction(t *testing.T, w *actIDP, action, target string) int {
	t.Helper()
	var n int
	err := w.app.pg.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE action = $1 AND target = $2`, action, target).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const (
	ownerPassword = "harbour lanterns at dusk"
	adminPassword = "Taipa ferry 7 mornings"
)

// ---- the journey ----

// TestActivationJourney is the onboarding of an entity from nothing to a
// signed-in admin: the operator opens the entity (the code of `idp entity
// create`), the worker delivers the SMS, the entity account and then the
// admin staff login activate on their pages, and the admin signs in to an
// e-service with the three fields.
func TestActivationJourney(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	ctx := context.Background()
	const number = "03-000101"
	spec := standardEntity(number)
	created := w.newEntity(t, spec)
	if len(created.Admins) != 1 || !strings.HasPrefix(created.Admins[0].EUID, "CU") || !strings.HasPrefix(created.EntityAccount.Subject, "EA") {
		t.Fatalf("entity create = %+v", created)
	}
	adminEUID := created.Admins[0].EUID

	// The entity account's SMS (zh-Hant): code, entity number, activation URL.
	sms := w.message(t, spec.AccountMobile, 1)
	for _, want := range []string{"實體使用者帳戶啟動碼", number, w.issuer + "/activate/entity"} {
		mustContain(t, sms.Text, want)
	}
	ownerCode := codeIn(t, sms)
	// The admin's SMS, in the admin's language (pt), with the staff page.
	adminSMS := w.message(t, spec.Admins[0].Mobile, 1)
	for _, want := range []string{"Código de activação", number, w.issuer + "/activate/staff"} {
		mustContain(t, adminSMS.Text, want)
	}
	adminCode := codeIn(t, adminSMS)
	if adminCode == ownerCode {
		t.Fatal("two accounts got the same code")
	}
	// Delivery is recorded: the code's sent time (最後發送啟動碼時間) and channel.
	ownerRef := w.entityAccountRef(t, number)
	if c := w.code(t, ownerRef); c.SentAt == nil || c.Channel != storage.ChannelSMS {
		t.Errorf("entity account code after delivery: sent %v channel %s", c.SentAt, c.Channel)
	}

	b := w.browser()
	// An admin staff login cannot be activated before its entity account: a clear message, and no try is spent.
	p := b.activateStep1(storage.KindStaff, number, spec.Admins[0].IDNumber, adminCode)
	wantActError(t, "admin before the entity account", p, http.StatusConflict, "activate_error_entity_first")
	if c := w.code(t, w.staffRef(t, adminEUID)); c.Attempts != 0 || c.UsedAt != nil {
		t.Errorf("admin code after the early try: %+v", c)
	}

	// The entity account activates: application number + code + entity number,
	// then username and password (the page explains the username rule).
	step1 := b.activateStep1(storage.KindEntityAccount, number, spec.ApplicationNumber, ownerCode)
	mustContain(t, step1.Body, catalogueText(t, "activate_username_rule"))
	done := b.activateStep2(step1, "owner.hk", ownerPassword, ownerPassword)
	if done.StatusCode != http.StatusOK {
		t.Fatalf("entity account activation: %d %.500s", done.StatusCode, done.Body)
	}
	mustContain(t, done.Body, "owner.hk")

	// The admin activates, typing the code in lower case and the ID number without brackets.
	done = b.activate(storage.KindStaff, number, "51234567", strings.ToLower(adminCode), "boss", adminPassword)
	mustContain(t, done.Body, adminEUID) // the EUID is shown

	// Audit: codes issued, both activations, each in its own event.
	for _, ev := range []struct{ action, target string }{
		{"activation_code.issue", created.EntityAccount.Subject}, {"activation_code.issue", adminEUID},
		{"entity_account.activate", created.EntityAccount.Subject}, {"staff.activate", adminEUID},
	} {
		if n := countAuditAction(t, w, ev.action, ev.target); n != 1 {
			t.Errorf("audit %s %s: %d events, want 1", ev.action, ev.target, n)
		}
	}

	// The admin signs in with the three fields at a department's e-service
	// once it is opened to the entity and the admin assigned to it.
	pg := w.app.pg
	sv, err := pg.ServiceByCode(ctx, demoService)
	if err != nil {
		t.Fatal(err)
	}
	e, err := pg.EntityByNumber(ctx, number)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.EnrollEntity(ctx, operator(), sv.ID, e.ID); err != nil {
		t.Fatal(err)
	}
	if err := assignToService(ctx, pg, w.staffRef(t, adminEUID).ID, sv.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	web := w.client(demoWebClient)
	r := w.rp(web, web.RedirectURIs[0])
	params := newAuthParams(t)
	login := b.startLogin(r, params)
	cb := b.followToRP(b.submit(login.form(t), number, "boss", adminPassword))
	tok, err := r.exchange(cb.Get("code"), params.Verifier)
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	claims := r.idClaims(t, tok, params.Nonce)
	if claims["sub"] != adminEUID || claims["entity_number"] != number || claims["preferred_username"] != "boss" ||
		!equalStrings(claims["service_groups"], []string{"admin"}) {
		t.Errorf("ID token of the new admin: %v", claims)
	}
}

// ---- refusals ----

// TestActivationRefusals: wrong, malformed, expired, used, replaced codes,
// too many tries, wrong ID document number, and the rules of step 2. Each
// is refused with its own message; a refusal in step 2 costs no try.
func TestActivationRefusals(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	ctx := context.Background()
	const number = "03-000201"
	spec := standardEntity(number)
	created := w.newEntity(t, spec)
	ownerCode := codeIn(t, w.message(t, spec.AccountMobile, 1))
	b := w.browser()
	b.activate(storage.KindEntityAccount, number, spec.ApplicationNumber, ownerCode, "owner", ownerPassword)
	adminEUID := created.Admins[0].EUID
	adminRef := w.staffRef(t, adminEUID)
	adminCode := codeIn(t, w.message(t, spec.Admins[0].Mobile, 1))
	doc := spec.Admins[0].IDNumber

	t.Run("used code", func(t *testing.T) {
		p := b.activateStep1(storage.KindEntityAccount, number, spec.ApplicationNumber, ownerCode)
		wantActError(t, "used code", p, http.StatusConflict, "activate_error_used")
	})

	t.Run("wrong ID document number", func(t *testing.T) {
		p := b.activateStep1(storage.KindStaff, number, "9999999(9)", adminCode)
		wantActError(t, "wrong ID number", p, http.StatusUnauthorized, "activate_error_mismatch")
		if p.fieldValue("id_doc_number") != "9999999(9)" || p.fieldValue("entity_number") != number {
			t.Error("the fields are not kept")
		}
		if c := w.code(t, adminRef); c.Attempts != 0 {
			t.Errorf("facts of no account counted a try: %d", c.Attempts)
		}
	})

	t.Run("malformed code", func(t *testing.T) {
		p := b.activateStep1(storage.KindStaff, number, doc, "ABC-01")
		wantActError(t, "malformed", p, http.StatusBadRequest, "activate_error_code_format")
	})

	t.Run("wrong code counts a try", func(t *testing.T) {
		p := b.activateStep1(storage.KindStaff, number, doc, "ZZZZZ-ZZZZZ")
		wantActError(t, "wrong code", p, http.StatusUnauthorized, "activate_error_mismatch")
		if c := w.code(t, adminRef); c.Attempts != 1 || !c.Live(time.Now()) {
			t.Errorf("after one wrong code: %+v", c)
		}
	})

	t.Run("step 2 refusals keep the code and the username", func(t *testing.T) {
		step1 := b.activateStep1(storage.KindStaff, number, doc, adminCode)
		for _, c := range []struct {
			name, username, pw, again string
			status                    int
			key                       string
		}{
			{"bad username", "-x", adminPassword, adminPassword, http.StatusBadRequest, "activate_error_username_rule"},
			{"passwords differ", "boss", adminPassword, adminPassword + "!", http.StatusBadRequest, "activate_error_password_mismatch"},
			{"short password", "boss", "short", "short", http.StatusBadRequest, "pw_too_short"},
			{"password has the username", "boss", "boss-of-the-harbour", "boss-of-the-harbour", http.StatusBadRequest, "pw_contains_identity"},
			{"username of the entity account", "OWNER", adminPassword, adminPassword, http.StatusConflict, "activate_error_username_taken"},
		} {
			p := b.activateStep2(step1, c.username, c.pw, c.again)
			wantActError(t, c.name, p, c.status, c.key)
			if p.fieldValue("username") != c.username || p.fieldValue("ticket") != step1.fieldValue("ticket") {
				t.Errorf("%s: form not kept", c.name)
			}
			if strings.Contains(p.Body, c.pw) {
				t.Errorf("%s: the password is echoed", c.name)
			}
		}
		if c := w.code(t, adminRef); c.Attempts != 1 || c.UsedAt != nil {
			t.Errorf("step-2 refusals changed the code: %+v", c)
		}
	})

	t.Run("too many tries void the code, even typed right", func(t *testing.T) {
		for i := 0; i < 4; i++ { // one try was spent above
			b.activateStep1(storage.KindStaff, number, doc, "ZZZZZ-ZZZZ"+string("23456789"[i]))
		}
		c := w.code(t, adminRef)
		if c.VoidedAt == nil || c.VoidReason != storage.VoidAttempts || c.Attempts != 5 {
			t.Fatalf("after 5 wrong tries: %+v", c)
		}
		p := b.activateStep1(storage.KindStaff, number, doc, adminCode)
		wantActError(t, "right code after the limit", p, http.StatusGone, "activate_error_locked")
		if countAuditAction(t, w, "activation_code.void", adminEUID) != 1 {
			t.Error("no audit event for the voided code")
		}
	})

	// A new code (the operator's `idp code resend`) voids the old one.
	ref, err := resendTarget(ctx, w.app.pg, number, adminEUID)
	if err != nil || ref != adminRef {
		t.Fatalf("resendTarget = %v, %v", ref, err)
	}
	if _, err := w.app.activation.Issue(ctx, operatorActor(), ref, storage.ChannelSMS, "operator"); err != nil {
		t.Fatal(err)
	}
	second := codeIn(t, w.message(t, spec.Admins[0].Mobile, 2))
	third := ""
	t.Run("a new code voids the old one", func(t *testing.T) {
		if _, err := w.app.activation.Issue(ctx, operatorActor(), ref, storage.ChannelSMS, "operator"); err != nil {
			t.Fatal(err)
		}
		third = codeIn(t, w.message(t, spec.Admins[0].Mobile, 3))
		p := b.activateStep1(storage.KindStaff, number, doc, second)
		wantActError(t, "replaced code", p, http.StatusGone, "activate_error_replaced")
	})

	t.Run("expired code", func(t *testing.T) {
		if _, err := w.app.pg.Pool().Exec(ctx, `UPDATE activation_codes SET expires_at = created_at + interval '1 ms' WHERE id = $1`,
			w.code(t, adminRef).ID); err != nil {
			t.Fatal(err)
		}
		p := b.activateStep1(storage.KindStaff, number, doc, third)
		wantActError(t, "expired code", p, http.StatusGone, "activate_error_expired")
	})

	// A fresh code activates; the username is unique in the entity, free in another.
	if _, err := w.app.activation.Issue(ctx, operatorActor(), ref, storage.ChannelSMS, "operator"); err != nil {
		t.Fatal(err)
	}
	fresh := codeIn(t, w.message(t, spec.Admins[0].Mobile, 4))
	step1 := b.activateStep1(storage.KindStaff, number, doc, fresh)
	other := w.browser()
	step1b := other.activateStep1(storage.KindStaff, number, doc, fresh) // the same code, in a second browser
	if done := b.activateStep2(step1, "boss", adminPassword, adminPassword); done.StatusCode != http.StatusOK {
		t.Fatalf("activation: %d %.400s", done.StatusCode, done.Body)
	}

	t.Run("activation twice", func(t *testing.T) {
		p := other.activateStep2(step1b, "boss2", adminPassword, adminPassword)
		wantActError(t, "second ticket of a used code", p, http.StatusConflict, "activate_error_already")
		p = b.activateStep2(step1, "boss3", adminPassword, adminPassword) // the spent ticket
		wantActError(t, "spent ticket", p, http.StatusBadRequest, "activate_error_ticket")
		p = b.activateStep1(storage.KindStaff, number, doc, fresh)
		wantActError(t, "used code", p, http.StatusConflict, "activate_error_used")
		err := w.app.pg.ActivateStaffLogin(ctx, operator(), adminRef.ID, "boss4", "hash")
		if !errors.Is(err, storage.ErrConflict) {
			t.Errorf("ActivateStaffLogin of an activated login: %v, want ErrConflict", err)
		}
		sl, _ := w.app.pg.StaffLoginByEUID(ctx, adminEUID)
		if sl.Username != "boss" {
			t.Errorf("username = %q after the refused activations", sl.Username)
		}
	})

	t.Run("usernames cannot change", func(t *testing.T) {
		for _, q := range []string{
			`UPDATE staff_logins SET username = 'renamed' WHERE id = $1`,
			`UPDATE entity_accounts SET username = 'renamed' WHERE id = $1`,
		} {
			id := adminRef.ID
			if strings.Contains(q, "entity_accounts") {
				id = w.entityAccountRef(t, number).ID
			}
			if _, err := w.app.pg.Pool().Exec(ctx, q, id); err == nil {
				t.Errorf("the database accepted %s", q)
			}
		}
	})

	t.Run("username taken in the entity, free in another", func(t *testing.T) {
		sl := w.addStaff(t, number, "P1234567", "+85366000299")
		code := codeIn(t, w.message(t, "+85366000299", 1))
		step1 := b.activateStep1(storage.KindStaff, number, "p1234567", code)
		wantActError(t, "taken (case-insensitively)", b.activateStep2(step1, "Boss", "seven quiet harbours", "seven quiet harbours"),
			http.StatusConflict, "activate_error_username_taken")
		b.activateStep2(step1, "clerk", "seven quiet harbours", "seven quiet harbours")
		if got, _ := w.app.pg.StaffLogin(ctx, sl.ID); got.Username != "clerk" {
			t.Errorf("username = %q", got.Username)
		}

		spec2 := standardEntity("03-000202")
		spec2.AccountMobile, spec2.Admins[0].Mobile = "+85366000203", "+85366000204"
		w.newEntity(t, spec2)
		c2 := codeIn(t, w.message(t, "+85366000203", 1))
		b.activate(storage.KindEntityAccount, spec2.Number, spec2.ApplicationNumber, c2, "owner", ownerPassword)
		a2 := codeIn(t, w.message(t, "+85366000204", 1))
		b.activate(storage.KindStaff, spec2.Number, spec2.Admins[0].IDNumber, a2, "boss", adminPassword)
	})
}

// TestActivationThrottle: failed step-1 attempts are counted per IP and
// refused with 429 past the limit.
func TestActivationThrottle(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, map[string]string{"IDP_LOGIN_FAILURES_PER_IP": "3"})
	b := w.browser()
	for i := 0; i < 3; i++ {
		p := b.activateStep1(storage.KindEntityAccount, "09-999999", "NOPE", "ZZZZZ-ZZZZZ")
		wantActError(t, "unknown entity", p, http.StatusUnauthorized, "activate_error_mismatch")
	}
	p := b.activateStep1(storage.KindEntityAccount, "09-999999", "NOPE", "ZZZZZ-ZZZZZ")
	if p.StatusCode != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Fatalf("4th failure = %d (Retry-After %q)", p.StatusCode, p.Header.Get("Retry-After"))
	}
}

// ---- resend ----

// resend posts the resend form with the given fields (and whatever extra
// fields a forger adds).
func (b *browser) resend(fields url.Values) page {
	b.t.Helper()
	form := b.get(b.idp.issuerPath() + "/activate/resend?kind=" + fields.Get("kind"))
	if form.StatusCode != http.StatusOK {
		b.t.Fatalf("GET resend = %d", form.StatusCode)
	}
	fields.Set("csrf_token", submatch(csrfField, form.Body))
	return b.post(b.idp.issuerPath()+"/activate/resend", fields)
}

// TestResendActivationCode: the code goes to the registered mobile
// whatever number the request carries; matched or not, the answer is the
// same; requests are rate limited.
func TestResendActivationCode(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, map[string]string{"IDP_RESEND_LIMIT": "2"})
	const number = "03-000301"
	spec := standardEntity(number)
	created := w.newEntity(t, spec)
	admin := spec.Admins[0]
	first := codeIn(t, w.message(t, admin.Mobile, 1))
	w.message(t, spec.AccountMobile, 1)
	b := w.browser()

	const forged = "+85369999999"
	matched := b.resend(url.Values{
		"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {admin.IDNumber}, "birth_date": {admin.BirthDate},
		// Fields the form does not have: never used.
		"mobile": {forged}, "to": {forged}, "phone_number": {forged},
	})
	if matched.StatusCode != http.StatusOK {
		t.Fatalf("resend = %d %.400s", matched.StatusCode, matched.Body)
	}
	mustContain(t, matched.Body, catalogueText(t, "resend_done"))
	second := w.message(t, admin.Mobile, 2)
	if codeIn(t, second) == first {
		t.Error("the resent code is the old one")
	}
	for _, m := range w.rec.Messages() {
		if m.To == forged || strings.Contains(m.Text, forged) {
			t.Fatalf("a message went to the typed number: %+v", m)
		}
	}
	// The old code no longer works.
	p := b.activateStep1(storage.KindStaff, number, admin.IDNumber, first)
	wantActError(t, "old code after resend", p, http.StatusGone, "activate_error_replaced")
	if countAuditAction(t, w, "activation_code.issue", created.Admins[0].EUID) != 2 {
		t.Error("the resend has no audit event")
	}

	// Wrong birth date, unknown entity, an activated account: the same answer, no message.
	before := len(w.rec.Messages())
	for name, f := range map[string]url.Values{
		"wrong birth date": {"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {admin.IDNumber}, "birth_date": {"1988-08-09"}},
		"unknown entity":   {"kind": {"staff"}, "entity_number": {"09-000000"}, "id_doc_number": {admin.IDNumber}, "birth_date": {admin.BirthDate}},
	} {
		p := w.browser().resend(f)
		if p.StatusCode != matched.StatusCode || p.Body != matched.Body {
			t.Errorf("%s: answer differs from a match: %d %.300s", name, p.StatusCode, p.Body)
		}
	}
	// The entity account by its application number (typed loosely); a wrong
	// application number gets the same answer.
	owner := w.browser().resend(url.Values{"kind": {"entity_account"}, "entity_number": {number}, "application_number": {strings.ToLower(spec.ApplicationNumber)}})
	w.message(t, spec.AccountMobile, 2)
	if p := w.browser().resend(url.Values{"kind": {"entity_account"}, "entity_number": {number}, "application_number": {"A-WRONG"}}); p.StatusCode != owner.StatusCode || p.Body != owner.Body {
		t.Errorf("wrong application number: answer differs from a match: %d %.300s", p.StatusCode, p.Body)
	}
	time.Sleep(300 * time.Millisecond) // let the worker deliver anything wrongly issued
	if got := len(w.rec.Messages()); got != before+1 {
		t.Errorf("%d messages after the non-matching requests and one entity account resend, want %d", got, before+1)
	}

	// Rate limit per (entity, facts): the third request within the window is refused.
	f := url.Values{"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {admin.IDNumber}, "birth_date": {admin.BirthDate}}
	w.browser().resend(f)
	p = w.browser().resend(f)
	if p.StatusCode != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Errorf("third resend = %d, want 429 with Retry-After", p.StatusCode)
	}
	// Missing fields keep the form.
	p = b.resend(url.Values{"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {admin.IDNumber}})
	wantActError(t, "missing birth date", p, http.StatusBadRequest, "resend_error_missing")
	if p.fieldValue("id_doc_number") != admin.IDNumber {
		t.Error("the fields are not kept")
	}
	// A day the calendar lacks is refused for not existing, not for its form.
	p = b.resend(url.Values{"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {admin.IDNumber}, "birth_date": {"1990/2/30"}})
	wantActError(t, "30 February", p, http.StatusBadRequest, "reg_error_birth_date_nonexistent")
	p = b.resend(url.Values{"kind": {"staff"}, "entity_number": {number}, "id_doc_number": {admin.IDNumber}, "birth_date": {"30 Feb"}})
	wantActError(t, "no date", p, http.StatusBadRequest, "resend_error_birth_date")
}

// ---- delivery ----

// TestOutboxGatewayDownThenUp: while the SMS gateway fails, the message
// waits and is retried; once the gateway answers, it is delivered exactly
// once, and every attempt carried the same idempotency key, the configured
// auth header and the configured body.
func TestOutboxGatewayDownThenUp(t *testing.T) {
	t.Parallel()
	gw := newSMSGateway(t, 3) // the first three attempts get 503
	w := startActivationIDP(t, map[string]string{
		"IDP_SMS_SENDER":        "http",
		"IDP_SMS_URL":           gw.srv.URL + "/send",
		"IDP_SMS_AUTH_HEADER":   "Authorization: Bearer gw-secret",
		"IDP_SMS_BODY_TEMPLATE": `{"msisdn":"{{.To}}","message":"{{.Text}}","ref":"{{.ID}}"}`,
	})
	spec := standardEntity("03-000401")
	spec.Admins = spec.Admins[:1]
	w.newEntity(t, spec)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ownerRef := w.entityAccountRef(t, spec.Number)
	for w.code(t, ownerRef).SentAt == nil {
		select {
		case <-ctx.Done():
			t.Fatalf("not delivered; gateway saw %d requests", len(gw.requests()))
		case <-time.After(20 * time.Millisecond):
		}
	}
	time.Sleep(300 * time.Millisecond) // several more worker rounds: nothing more may be sent
	var ok []smsRequest
	keys := map[string]int{}
	for _, r := range gw.requests() {
		if r.Auth != "Bearer gw-secret" || r.ContentType != "application/json" {
			t.Errorf("request headers: auth %q, content type %q", r.Auth, r.ContentType)
		}
		keys[r.Body["msisdn"]+" "+r.Key]++
		if r.Status == http.StatusOK {
			ok = append(ok, r)
		}
	}
	owner := 0
	for _, r := range ok {
		if r.Body["msisdn"] == spec.AccountMobile {
			owner++
			if r.Key == "" || r.Body["ref"] != r.Key || !strings.Contains(r.Body["message"], spec.Number) {
				t.Errorf("delivered request: key %q, body %v", r.Key, r.Body)
			}
		}
	}
	if owner != 1 {
		t.Errorf("the entity account's SMS was accepted %d times, want exactly 1 (requests: %+v)", owner, gw.requests())
	}
	if len(keys) != 2 {
		t.Errorf("idempotency keys per recipient: %v, want one key each for the two messages", keys)
	}
	msgs, err := w.app.pg.OutboxForCode(ctx, w.code(t, ownerRef).ID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox of the code: %v %v", msgs, err)
	}
	if m := msgs[0]; m.DeliveredAt == nil || m.Body != nil || m.Attempts < 2 {
		t.Errorf("outbox row after delivery: delivered %v, body %d bytes, attempts %d", m.DeliveredAt, len(m.Body), m.Attempts)
	}
}

// TestActivationCodeAtRest: the database holds neither the code nor the
// message in clear: only a keyed hash and a sealed body (cleared once sent).
func TestActivationCodeAtRest(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	w := startActivationIDPWith(t, nil, &notify.Recorder{Fail: func(notify.Message) error {
		select {
		case <-gate:
			return nil
		default:
			return errors.New("gateway not yet")
		}
	}})
	spec := standardEntity("03-000501")
	w.newEntity(t, spec)
	ref := w.entityAccountRef(t, spec.Number)
	// Before delivery: read every column of both tables as text.
	var dump string
	err := w.app.pg.Pool().QueryRow(context.Background(), `
		SELECT coalesce(string_agg(t::text, ' '), '') FROM (
			SELECT encode(code_hash, 'escape') || channel AS t FROM activation_codes
			UNION ALL SELECT encode(body_sealed, 'escape') || recipient FROM outbox) x`).Scan(&dump)
	if err != nil {
		t.Fatal(err)
	}
	close(gate)
	code := codeIn(t, w.message(t, spec.AccountMobile, 1))
	for _, form := range []string{code, strings.ReplaceAll(code, "-", ""), spec.Number} {
		if strings.Contains(dump, form) {
			t.Errorf("the database holds %q in clear", form)
		}
	}
	if c := w.code(t, ref); len(c.Hash) != 32 {
		t.Errorf("code hash of %d bytes", len(c.Hash))
	}
}

// TestCodeByEmail: the operator sends a code to the registered e-mail.
func TestCodeByEmail(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	spec := standardEntity("03-000601")
	spec.AccountEmail = "owner@example.mo"
	spec.Channel = storage.ChannelEmail
	w.newEntity(t, spec)
	m := w.message(t, "owner@example.mo", 1)
	if m.Channel != storage.ChannelEmail || !strings.Contains(m.Subject, spec.Number) || !strings.Contains(m.Text, w.issuer+"/activate/entity") {
		t.Errorf("e-mail = %+v", m)
	}
	pt := w.message(t, spec.Admins[0].Email, 1)
	mustContain(t, pt.Subject, "Código de activação")

	// Without a registered address for the channel, nothing is created.
	bad := standardEntity("03-000602")
	bad.Channel = storage.ChannelEmail
	if _, err := openEntity(context.Background(), operator(), w.app.activation, bad); err == nil {
		t.Fatal("entity without an e-mail for the e-mail channel accepted")
	}
	if _, err := w.app.pg.EntityByNumber(context.Background(), bad.Number); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("refused entity exists: %v", err)
	}
}

// smsRequest is one request an smsGateway received, and its answer.
type smsRequest struct {
	Auth, ContentType, Key string
	Body                   map[string]string
	Status                 int
}

// smsGateway is an HTTP SMS gateway that answers 503 to its first failures
// requests and 200 afterwards.
type smsGateway struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []smsRequest
}

func newSMSGateway(t *testing.T, failures int) *smsGateway {
	t.Helper()
	gw := &smsGateway{}
	gw.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("gateway: body is not the JSON of the template: %v", err)
		}
		gw.mu.Lock()
		defer gw.mu.Unlock()
		status := http.StatusOK
		if len(gw.got) < failures {
			status = http.StatusServiceUnavailable
		}
		gw.got = append(gw.got, smsRequest{Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"),
			Key: r.Header.Get("Idempotency-Key"), Body: body, Status: status})
		w.WriteHeader(status)
	}))
	t.Cleanup(gw.srv.Close)
	return gw
}

func (gw *smsGateway) requests() []smsRequest {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	return append([]smsRequest(nil), gw.got...)
}
