package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
)

// The officers' part of the guide (role "officer" of guide.json): the
// operator's desk, served for the guide's provider on a listener of its
// own (startDesk), driven in the same Chromium at a desktop's width. In
// each language a new supervisor activates its desk account and signs in,
// opens an entity, finds it, acts on the demo entity's logins, approves
// staff02's 安全驗證碼 with the typed code (a camera cannot be
// photographed) and resets its tools for the next language, registers a
// department, an e-service and a client, reads the audit trail and manages
// officers. Its data differ per language (codes, numbers) but not from
// run to run, but for the random secrets the hash leaves out (shotHashJS).

// deskScenario is the desk's story in one language.
type deskScenario struct {
	*guideScenario
	d      *deskWorld
	login  string // the supervisor who activates and acts
	number string // the entity it opens
	dept   string // the department, e-service and client it registers
	svc    string
}

func newDeskScenario(s *guideScenario, d *deskWorld) *deskScenario {
	suffix := strings.ToLower(s.lang[:2])
	return &deskScenario{guideScenario: s, d: d, login: "leong.sf" + suffix, number: fmt.Sprintf("05-00090%d", s.i+1),
		dept: "DSI-" + strings.ToUpper(suffix), svc: "licences-" + suffix}
}

// deskOpen opens a page of the desk in the scenario's language.
func (s *deskScenario) deskOpen(path string) {
	s.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	s.c.open(s.d.srv.URL + path + sep + "lang=" + url.QueryEscape(s.lang))
}

// pressIn clicks the first button matched by css and waits for the page
// it loads (a page with many buttons of one label: press would take the
// first of all).
func (s *deskScenario) pressIn(css string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.c.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
	if err != nil || resp.Status >= 400 {
		status := int64(0)
		if resp != nil {
			status = resp.Status
		}
		s.t.Fatalf("press %s: %d %v\n%s", css, status, err, s.c.where())
	}
}

// officerDesk is the desk's story: every shot of the officer role.
func (s *deskScenario) officerDesk() {
	s.activate()
	s.intake()
	s.entityActs()
	s.approve()
	s.register()
	s.auditAndOfficers()
}

// activate: a supervisor created for the guide activates its desk account
// with the code sent to its mobile, enrols its 安全驗證碼, signs out and
// signs in again.
func (s *deskScenario) activate() {
	t, c, g, T := s.t, s.c, s.g, s.T
	ctx := context.Background()
	boss, err := s.w.app.pg.OfficerByLogin(ctx, demoOfficer)
	if err != nil {
		t.Fatal(err)
	}
	mobile := fmt.Sprintf("6631090%d", s.i+1)
	svc, err := newOfficers(s.w.app.cfg, s.w.app.pg, nil, nil, s.w.app.outbox.Wake) // as the desk creates one: its code sent now
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Create(ctx, &boss, storage.Officer{Login: s.login, DisplayName: "梁小芳 LEONG, Sio Fong",
		Role: storage.RoleSupervisor, Mobile: mobile}); err != nil {
		t.Fatal(err)
	}
	code := officerCodeRE.FindString(s.w.message(t, "+853"+mobile, 1).Text)
	const password = "Camellias of the Guia Hill"
	c.clearCookies()
	// The desk's answers to forms in the scenario's language, as a
	// language link would have set it.
	c.do("the desk's language", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "idp_lang", Value: s.lang, URL: s.d.srv.URL + "/"})
		return err
	}))
	s.deskOpen("/activate")
	c.fill("login", s.login)
	c.fill("code", code)
	c.fill("password", password)
	c.fill("confirm", password)
	g.shot("desk-activate", "")
	c.press(T["desk_auth_next"])
	secret := strings.ReplaceAll(c.text("#totp_secret"), " ", "")
	c.fill("code", deskTOTP(t, secret, time.Now()))
	g.shot("desk-activate-totp", "")
	c.press(T["desk_auth_totp_confirm"])
	g.shot("desk-home", "")
	c.press(T["desk_sign_out"])
	c.fill("login", s.login)
	c.fill("password", password)
	g.shot("desk-signin", "")
	c.press(T["desk_auth_next"])
	c.fill("code", deskTOTP(t, secret, time.Now().Add(30*time.Second))) // the enrolment spent this step's code
	g.shot("desk-signin-code", "")
	c.press(T["desk_auth_signin_submit"])
	if got := c.text("h1"); got != T["desk_home_title"] {
		t.Fatalf("the desk's sign-in: heading %q\n%s", got, c.where())
	}
}

// intake opens an entity with one admin, finds it and opens the admin's
// record.
func (s *deskScenario) intake() {
	c, g, T := s.c, s.g, s.T
	v := intakeValues(s.number)
	v.Set("entity_name_zh", "澳門燈籠工藝協會")
	v.Set("entity_name_pt", "Associação de Artesanato de Lanternas de Macau")
	v.Set("application_number", fmt.Sprintf("A2026-00090%d", s.i+1))
	v.Set("account_mobile", fmt.Sprintf("6632090%d", s.i+1))
	v.Set("admin1_name_zh", "何嘉欣")
	v.Set("admin1_name_foreign", "HO, Ka Yan")
	v.Set("admin1_id_doc_number", fmt.Sprintf("515151%d(1)", s.i))
	v.Set("admin1_mobile", fmt.Sprintf("6633090%d", s.i+1))
	s.deskOpen("/intake")
	for _, f := range []string{"entity_number", "entity_name_zh", "entity_name_pt", "application_number", "account_mobile",
		"admin1_name_zh", "admin1_name_foreign", "admin1_id_doc_number", "admin1_id_doc_issue_place", "admin1_birth_date", "admin1_mobile"} {
		c.fill(f, v.Get(f))
	}
	g.shot("desk-intake", "")
	c.press(T["desk_intake_submit"])
	g.shot("desk-intake-done", "")
	s.deskOpen("/entities?q=" + url.QueryEscape("5151"))
	g.shot("desk-search", "")
	s.deskOpen(entitiesPath(s.number))
	eval[chromedp.Void](s.c, `document.querySelector("details.acts").open = true`)
	s.pressIn(`details.acts form[action$="/record"] button`)
	g.shot("desk-record", "")
}

// entityActs: the demo entity's page; staff01, locked out, unlocked;
// the grant form of staff02; the new entity closed.
func (s *deskScenario) entityActs() {
	c, g, T, w := s.c, s.g, s.T, s.w
	staff01, staff02 := w.login("staff01"), w.login("staff02")
	w.browser().lockOut(w.demo.EntityNumber, staff01.Username, 5)
	s.deskOpen(entitiesPath(w.demo.EntityNumber))
	g.shot("desk-entity", "")
	eval[chromedp.Void](c, `document.getElementById("acts_`+staff01.EUID+`").open = true`)
	g.shot("desk-entity-acts", "#acts_"+staff01.EUID)
	s.pressIn(`#acts_` + staff01.EUID + ` form[action$="/unlock"] button`)
	g.shot("desk-entity-unlocked", "")
	eval[chromedp.Void](c, `document.getElementById("acts_`+staff02.EUID+`").open = true`)
	c.fill("document_"+staff02.EUID, "A2026-000021")
	g.shot("desk-entity-grant", "#acts_"+staff02.EUID)
	s.deskOpen(entitiesPath(s.number))
	c.fill("reason", "Dissolved, by its letter of 1 December")
	g.shot("desk-entity-close", "#reason")
	c.press(T["desk_entities_page_close"])
	g.shot("desk-entity-closed", "")
}

// approve: staff02 begins its 安全驗證碼 and shows the approval code; the
// officer types it, checks the document and approves; then resets
// staff02's tools, as for a lost phone (so the next language begins
// again).
func (s *deskScenario) approve() {
	t, c, g, T, w := s.t, s.c, s.g, s.T, s.w
	person, sl, secret := pendingPerson(t, w.testIDP, "staff02")
	typed := submatch(approvalCodeShown, showApprovalQR(t, person, secret).Body)
	s.deskOpen("/approve")
	c.fill("token", typed)
	g.shot("desk-approve", "#token_heading")
	c.press(T["desk_qr_lookup"])
	c.fill("document_number", sl.IDDocNumber)
	g.shot("desk-approve-confirm", "")
	c.press(T["desk_qr_approve"])
	g.shot("desk-approve-done", "")
	s.deskOpen("/approve")
	c.fill("tools_entity", w.demo.EntityNumber)
	c.fill("tools_euid", sl.EUID)
	g.shot("desk-approve-tools", "#tools_heading")
	s.pressIn("#tools_reset")
	g.shot("desk-approve-tools-done", "")
}

// register: a department, an e-service with a group, opened to the new
// entity, and a web client, its secret, disabled.
func (s *deskScenario) register() {
	c, g, T := s.c, s.g, s.T
	s.deskOpen("/departments")
	c.fill("code", s.dept)
	c.fill("name_zh", "文化局")
	c.fill("name_pt", "Instituto Cultural")
	c.fill("name_en", "Cultural Affairs Bureau")
	g.shot("desk-departments", "#register_heading")
	c.press(T["desk_dept_department_register_submit"])
	s.deskOpen("/services/new")
	c.choose("department", s.dept)
	c.fill("code", s.svc)
	c.fill("name_zh", "燈飾活動准照")
	c.fill("name_pt", "Licenças de eventos de iluminação")
	c.fill("name_en", "Lantern event licences")
	c.tick(`input[name="level"][value="tool"]`)
	c.tick(`input[name="policy"][value="assigned"]`)
	g.shot("desk-service-new", "")
	c.press(T["desk_dept_service_register_submit"])
	g.shot("desk-service", "")
	c.fill("group_code", "reviewer")
	c.fill("group_name_zh", "審批")
	c.fill("group_name_pt", "Apreciação")
	c.fill("group_name_en", "Review")
	c.press(T["desk_dept_group_add_submit"])
	g.shot("desk-service-groups", "#groups_heading")
	c.fill("entity_number", s.w.demo.EntityNumber)
	c.press(T["desk_dept_entity_open_submit"])
	g.shot("desk-service-entities", "#entities_heading")

	s.deskOpen("/clients/new?service=" + url.QueryEscape(s.svc))
	c.tick(`input[name="kind"][value="web"]`)
	c.choose("service", s.svc)
	c.fill("client_id", s.svc+"-web")
	c.fill("redirect_uris", "https://licences.example.gov.mo/callback")
	g.shot("desk-client-new", "")
	c.press(T["desk_dept_client_register_submit"])
	g.shot("desk-client-secret", "")
	s.deskOpen("/clients/" + s.svc + "-web")
	g.shot("desk-client", "")
	c.press(T["desk_dept_disable_submit"])
	g.shot("desk-client-disabled", "")
}

// auditAndOfficers: the audit trail of the supervisor's acts and one of
// them; the officers, one to create, the confirmation of a disable; the
// supervisor's own sign-ins.
func (s *deskScenario) auditAndOfficers() {
	c, g, T := s.c, s.g, s.T
	s.deskOpen("/audit?action=client.&actor=" + url.QueryEscape(s.login))
	g.shot("desk-audit", "")
	s.pressIn(`main table a[href^="/audit/"]`)
	g.shot("desk-audit-event", "")
	s.deskOpen("/officers")
	c.fill("new_login", "ip.km"+strings.ToLower(s.lang[:2]))
	c.fill("display_name", "葉嘉敏 IP, Ka Man")
	c.choose("role", string(storage.RoleCounter))
	c.fill("mobile", fmt.Sprintf("6634090%d", s.i+1))
	c.press(T["desk_auth_create_submit"])
	g.shot("desk-officers", "")
	s.deskOpen("/officers/ip.km" + strings.ToLower(s.lang[:2]) + "/disable")
	g.shot("desk-officer-confirm", "")
	s.deskOpen("/me/history")
	g.shot("desk-history", "")
}
