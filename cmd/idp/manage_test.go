package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// Entity administration through its use cases (login/manage), on real
// stores: what a deletion, a removal of rights or a closure ends, and that
// nobody does more than the rule book allows.

// actorOf is the actor of a seeded login as read now.
func (idp *testIDP) actorOf(t *testing.T, l seededLogin) storage.Actor {
	t.Helper()
	p, err := idp.app.pg.PrincipalBySubject(context.Background(), l.EUID)
	if err != nil {
		t.Fatal(err)
	}
	return storage.ActorOf(p, "192.0.2.50")
}

// signedInTwice signs l in at the e-service of r (its tokens) and, in
// another browser, at the portal: what an end of the login must end.
func (idp *testIDP) signedInTwice(r *rp, l seededLogin) (*oauth2.Token, *browser) {
	idp.t.Helper()
	tok, _ := idp.browser().tokens(r, l.Username)
	portal := idp.browser()
	portal.accountSignedIn(idp.demo.EntityNumber, l.Username, l.Password)
	return tok, portal
}

func (idp *testIDP) demoEntity(t *testing.T) storage.Entity {
	t.Helper()
	e, err := idp.app.pg.EntityByNumber(context.Background(), demoEntityNumber)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDeleteStaffEndsEverything: an admin deletes a staff login; at once it
// cannot sign in, its refresh token is dead, its access token inactive (no
// wait for the claims cache), its portal session gone; a second deletion is
// a conflict; restoring brings none of that back.
func TestDeleteStaffEndsEverything(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	staff, admin := idp.login("staff01"), idp.login("admin01")
	tok, portal := idp.signedInTwice(r, staff)
	if intro := r.introspect(t, tok.AccessToken); intro["active"] != true {
		t.Fatalf("before: introspection %v", intro)
	}

	ctx, e := context.Background(), idp.demoEntity(t)
	sl, err := idp.app.manage.DeleteStaff(ctx, idp.actorOf(t, admin), e.ID, staff.EUID)
	if err != nil || sl.Status != storage.StatusDeleted {
		t.Fatalf("DeleteStaff = %+v, %v", sl, err)
	}
	if intro := r.introspect(t, tok.AccessToken); intro["active"] != false {
		t.Errorf("access token after deletion: %v, want inactive at once", intro)
	}
	status, out := r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "refresh after deletion", status, out)
	portal.wantSignedOut("portal after deletion")
	b := idp.browser()
	p := b.submit(b.startLogin(r, newAuthParams(t)).form(t), idp.demo.EntityNumber, staff.Username, staff.Password)
	wantNoRedirect(t, "sign-in after deletion", p, http.StatusUnauthorized)

	_, err = idp.app.manage.DeleteStaff(ctx, idp.actorOf(t, admin), e.ID, staff.EUID)
	if storage.CodeOf(err) != storage.EConflict {
		t.Errorf("second deletion: %v, want a conflict", err)
	}
	if _, err := idp.app.manage.RestoreStaff(ctx, idp.actorOf(t, admin), e.ID, staff.EUID); err != nil {
		t.Fatalf("restore: %v", err)
	}
	status, out = r.refresh(t, tok.RefreshToken)
	wantGrantError(t, "the old refresh token after restore", status, out)
	if cb := idp.browser().signIn(r, newAuthParams(t), staff.Username); cb.Get("code") == "" {
		t.Errorf("sign-in after restore: %v", cb)
	}
}

// TestManageRefusals: the use cases refuse whoever the rule book refuses,
// hide other entities' logins, and write nothing when they refuse.
func TestManageRefusals(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	ctx, e := context.Background(), idp.demoEntity(t)
	staff, admin := idp.login("staff01"), idp.login("admin01")
	m := idp.app.manage
	other := storage.Entity{Number: "02-000999", NameZH: "別家公司", Kind: "company"}
	if err := idp.app.pg.CreateEntity(ctx, operator(), &other, &storage.EntityAccount{ApplicationNumber: "A-999", Language: "pt"}); err != nil {
		t.Fatal(err)
	}
	stranger := storage.StaffLogin{EntityID: other.ID, NameZH: "外人", IDDocType: "passport", IDDocNumber: "P999", BirthDate: e.CreatedAt}
	if err := idp.app.pg.CreateStaffLogin(ctx, operator(), &stranger); err != nil {
		t.Fatal(err)
	}

	for name, try := range map[string]func() error{
		"plain staff deletes": func() error {
			_, err := m.DeleteStaff(ctx, idp.actorOf(t, staff), e.ID, admin.EUID)
			return err
		},
		"admin deletes in another entity": func() error {
			_, err := m.DeleteStaff(ctx, idp.actorOf(t, admin), other.ID, stranger.EUID)
			return err
		},
		"admin grants admin rights": func() error {
			_, err := m.GrantAdmin(ctx, idp.actorOf(t, admin), e.ID, staff.EUID)
			return err
		},
		"admin closes the entity": func() error {
			_, err := m.CloseEntity(ctx, idp.actorOf(t, admin), e.Number)
			return err
		},
		"plain staff removes admin rights": func() error {
			_, err := m.RemoveAdmin(ctx, idp.actorOf(t, staff), e.ID, admin.EUID)
			return err
		},
	} {
		if err := try(); storage.CodeOf(err) != storage.EForbidden {
			t.Errorf("%s: %v, want forbidden", name, err)
		}
	}
	// Another entity's EUID forged into the admin's own entity: not found, untouched.
	if _, err := m.DeleteStaff(ctx, idp.actorOf(t, admin), e.ID, stranger.EUID); storage.CodeOf(err) != storage.ENotFound {
		t.Errorf("deleting another entity's login: %v, want not found", err)
	}
	if sl, _ := idp.app.pg.StaffLoginByEUID(ctx, stranger.EUID); sl.Status != storage.StatusActive {
		t.Error("another entity's login was deleted")
	}
	if _, _, _, err := m.EntityStaff(ctx, idp.actorOf(t, admin), other.Number); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("admin lists another entity's staff: %v, want forbidden", err)
	}
}

// TestAdminRightsRemovedAndGranted: the entity account removes an admin's
// rights, which hold from the next action; only the operator gives them back.
func TestAdminRightsRemovedAndGranted(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	ctx, e := context.Background(), idp.demoEntity(t)
	admin, staff := idp.login("admin01"), idp.login("staff01")
	acct, err := idp.app.pg.EntityAccount(ctx, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := idp.app.pg.PrincipalBySubject(ctx, acct.Subject)
	if err != nil {
		t.Fatal(err)
	}
	owner := storage.ActorOf(p, "192.0.2.51")
	// admin01 is the entity's only admin: the removal is confirmed.
	if err := idp.app.manage.RemoveAdmins(ctx, owner, e.ID, []string{admin.EUID}, true, func(_ string, _ storage.StaffLogin, err error) error {
		return err
	}); err != nil {
		t.Fatalf("entity account removes admin rights: %v", err)
	}
	// The former admin, read again, may no longer manage staff.
	if _, err := idp.app.manage.DeleteStaff(ctx, idp.actorOf(t, admin), e.ID, staff.EUID); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("former admin deletes: %v, want forbidden", err)
	}
	if _, err := idp.app.manage.GrantAdmin(ctx, owner, e.ID, admin.EUID); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("entity account grants: %v, want forbidden", err)
	}
	if _, err := idp.app.manage.GrantAdmin(ctx, operator(), e.ID, admin.EUID); err != nil {
		t.Fatalf("operator grants: %v", err)
	}
	if !idp.actorOf(t, admin).Admin {
		t.Error("admin rights not back after the operator's grant")
	}
}

// TestBackchannelStaffDeletedAndEntityClosed: deleting a staff login and
// closing its entity are session ends like any other: each e-service that
// got tokens in the session is told.
func TestBackchannelStaffDeletedAndEntityClosed(t *testing.T) {
	t.Parallel()
	t.Run("staff deleted", func(t *testing.T) {
		t.Parallel()
		s := startBackchannelSession(t, "bc-staff-deleted", "staff02")
		e := s.idp.demoEntity(t)
		if _, err := s.idp.app.manage.DeleteStaff(context.Background(), s.idp.actorOf(t, s.idp.login("admin01")), e.ID, s.euid); err != nil {
			t.Fatal(err)
		}
		s.wantToldOnce(t, 1)
	})
	t.Run("entity closed", func(t *testing.T) {
		t.Parallel()
		s := startBackchannelSession(t, "bc-entity-closed", "staff02")
		if _, err := s.idp.app.manage.CloseEntity(context.Background(), operator(), demoEntityNumber); err != nil {
			t.Fatal(err)
		}
		s.wantToldOnce(t, 1)
		status, out := s.rp.refresh(t, s.tok.RefreshToken)
		wantGrantError(t, "refresh after the entity closed", status, out)
		admin := s.idp.login("admin01")
		b := s.idp.browser()
		p := b.submit(b.startLogin(s.rp, newAuthParams(t)).form(t), s.idp.demo.EntityNumber, admin.Username, admin.Password)
		wantNoRedirect(t, "sign-in to a closed entity", p, http.StatusUnauthorized)
	})
}

// TestOperatorEntityCommands runs the operator's commands as the binary
// does (configuration from the environment): show, then close.
func TestOperatorEntityCommands(t *testing.T) {
	idp := startIDP(t, nil)
	idp.runsCommands(t)

	// Opening an entity whose number exists says so, not the driver's error.
	err := entityCreate([]string{"--number", demoEntityNumber, "--name-zh", "重複", "--application-number", "A-DUP",
		"--account-mobile", "66000001", "--admin-name-zh", "甲", "--admin-id-number", "1234567(8)",
		"--admin-birth-date", "1980-01-01", "--admin-mobile", "66000002"})
	if err == nil || !strings.Contains(err.Error(), "already exists") || strings.Contains(err.Error(), "SQLSTATE") {
		t.Errorf("entity create of an existing number: %v", err)
	}

	var out bytes.Buffer
	if err := entityShow([]string{"--entity", "02000021", "--json"}, &out); err != nil {
		t.Fatal(err)
	}
	var shown struct {
		EntityNumber string     `json:"entity_number"`
		Staff        []staffRow `json:"staff"`
	}
	if err := json.Unmarshal(out.Bytes(), &shown); err != nil || shown.EntityNumber != demoEntityNumber || len(shown.Staff) < 3 {
		t.Fatalf("entity show: %v %s", err, out.String())
	}
	admins := 0
	for _, s := range shown.Staff {
		if s.Admin {
			admins++
		}
	}
	if admins == 0 {
		t.Errorf("entity show lists no admin: %s", out.String())
	}
	if err := entityShow([]string{"--entity", "09-999999"}, &out); err == nil || err.Error() != "entity show: Entity 09-999999 was not found." {
		t.Errorf("unknown entity: %v", err)
	}
	// staff create: every wrong field named by its flag; then a good one.
	err = staffCreate([]string{"--entity", demoEntityNumber, "--id-number", "12", "--birth-date", "2030-01-01", "--mobile", "1234"})
	for _, want := range []string{"--name-zh:", "--id-number:", "--birth-date:", "--mobile:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("staff create with bad fields: %v, want %s", err, want)
		}
	}
	if err := staffCreate([]string{"--entity", demoEntityNumber, "--name-zh", "命令行", "--id-number", "1357913(5)",
		"--birth-date", "1990-02-03", "--mobile", "+853 6600 0999", "--json"}); err != nil {
		t.Fatalf("staff create: %v", err)
	}
	if err := staffCreate([]string{"--entity", demoEntityNumber, "--name-zh", "命令行", "--id-number", "13579135",
		"--birth-date", "1990-02-03", "--mobile", "66000999"}); err == nil || !strings.Contains(err.Error(), "already has a staff login") {
		t.Errorf("the same person again: %v", err)
	}
	if err := entityClose([]string{"--entity", demoEntityNumber, "--reason", "merged into 02-000022"}); err != nil {
		t.Fatal(err)
	}
	var reason string
	if err := idp.app.pg.Pool().QueryRow(context.Background(), `SELECT details->>'reason' FROM audit_events
		WHERE action = 'entity.close' ORDER BY id DESC LIMIT 1`).Scan(&reason); err != nil || reason != "merged into 02-000022" {
		t.Errorf("entity close audited the reason %q: %v", reason, err)
	}
	if err := entityClose([]string{"--entity", demoEntityNumber}); err == nil || err.Error() != "entity close: Entity 02-000021 is already closed." {
		t.Errorf("closing twice: %v", err)
	}
	wantEntityReopen(t, idp)
}

// wantEntityReopen: idp entity reopen needs a reason; then the demo
// entity's accounts may sign in again; an open entity is not reopened.
func wantEntityReopen(t *testing.T, idp *testIDP) {
	t.Helper()
	if err := entityReopen([]string{"--entity", demoEntityNumber}); err == nil || !strings.Contains(err.Error(), "--reason is required") {
		t.Errorf("reopen without a reason: %v", err)
	}
	if _, err := captureStdout(t, func() error {
		return entityReopen([]string{"--entity", "02000021", "--reason", "closed in error"})
	}); err != nil {
		t.Fatalf("entity reopen: %v", err)
	}
	if p, err := idp.app.pg.Principal(context.Background(), demoEntityNumber, idp.login("admin01").Username); err != nil || !p.CanSignIn() {
		t.Errorf("admin01 after the reopening: %+v %v", p, err)
	}
	if err := entityReopen([]string{"--entity", demoEntityNumber, "--reason", "again"}); err == nil || err.Error() != "entity reopen: Entity 02-000021 is not closed." {
		t.Errorf("reopening an open entity: %v", err)
	}
}

// TestCreateStaff: an admin registers a staff login, which gets its code at
// its registered mobile, activates and signs in; the same person twice is a
// conflict; admin staff logins are the operator's to create.
func TestCreateStaff(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	const number = "03-000341"
	spec := standardEntity(number)
	w.newEntity(t, spec)
	adminCode := codeIn(t, w.message(t, spec.Admins[0].Mobile, 1))
	ownerCode := codeIn(t, w.message(t, spec.AccountMobile, 1))
	b := w.browser()
	b.activate(storage.KindEntityAccount, number, spec.ApplicationNumber, ownerCode, "owner341", "Owner-pass-341")
	b.activate(storage.KindStaff, number, spec.Admins[0].IDNumber, adminCode, "boss341", "Boss-pass-3410")
	ctx := context.Background()
	p, err := w.app.pg.Principal(ctx, number, "boss341")
	if err != nil {
		t.Fatal(err)
	}
	admin := storage.ActorOf(p, "192.0.2.60")
	form := storage.StaffRegistration{NameZH: "林小美", IDDocType: storage.IDMacauPermanent, IDDocNumber: "7654321(0)",
		BirthDate: "1995-05-05", Mobile: "6677 0341", Language: "en"}

	sl, err := w.app.manage.CreateStaff(ctx, admin, w.app.activation, manage.NewStaff{EntityNumber: number, Form: form, Channel: storage.ChannelSMS}, time.Now())
	if err != nil || sl.EUID == "" || sl.Mobile != "+85366770341" || sl.IDDocNumber != "7654321(0)" || sl.Admin {
		t.Fatalf("CreateStaff = %+v, %v", sl, err)
	}
	code := codeIn(t, w.message(t, "+85366770341", 1))
	w.browser().activate(storage.KindStaff, number, "76543210", code, "lam341", "Lam-pass-03410")
	if got, err := w.app.pg.Principal(ctx, number, "lam341"); err != nil || got.Subject != sl.EUID || !got.CanSignIn() {
		t.Errorf("the new login after activation: %+v, %v", got, err)
	}

	form.IDDocNumber = "7654321 (0)" // the same person, typed otherwise
	_, err = w.app.manage.CreateStaff(ctx, admin, w.app.activation, manage.NewStaff{EntityNumber: number, Form: form, Channel: storage.ChannelSMS}, time.Now())
	var de *storage.Error
	if !errors.As(err, &de) || de.Code != storage.EConflict || !strings.Contains(de.Message, sl.EUID) {
		t.Errorf("the same person twice: %v, want a conflict naming %s", err, sl.EUID)
	}
	form.IDDocNumber = "1111111(1)"
	_, err = w.app.manage.CreateStaff(ctx, admin, w.app.activation, manage.NewStaff{EntityNumber: number, Form: form, Admin: true, Channel: storage.ChannelSMS}, time.Now())
	if storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("an admin creates an admin: %v, want forbidden", err)
	}
	created, err := w.app.manage.CreateStaff(ctx, operator(), w.app.activation, manage.NewStaff{EntityNumber: number, Form: form, Admin: true, Channel: storage.ChannelSMS}, time.Now())
	if err != nil || !created.Admin {
		t.Errorf("the operator creates an admin: %+v, %v", created, err)
	}
	bad := storage.StaffRegistration{IDDocType: storage.IDMacauPermanent, IDDocNumber: "12", BirthDate: "2030-01-01", Mobile: "12345678", Language: "xx"}
	_, err = w.app.manage.CreateStaff(ctx, admin, w.app.activation, manage.NewStaff{EntityNumber: number, Form: bad, Channel: storage.ChannelSMS}, time.Now())
	if n := len(storage.FieldErrors(err)); n != 5 {
		t.Errorf("a bad form: %d field errors (%v), want 5", n, err)
	}
	// Another entity's admin cannot create here.
	stranger := admin
	stranger.EntityID = -1
	if _, err := w.app.manage.CreateStaff(ctx, stranger, w.app.activation, manage.NewStaff{EntityNumber: number, Form: form, Channel: storage.ChannelSMS}, time.Now()); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("another entity's admin: %v, want forbidden", err)
	}
}

// TestEditSendDesignateAudit: the rest of the staff page's actions, each
// through its use case on real stores.
func TestEditSendDesignateAudit(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	ctx := context.Background()
	e := w.demoEntity(t)
	admin := w.actorOf(t, w.login("admin01"))
	staff := w.actorOf(t, w.login("staff01"))
	form := storage.StaffRegistration{NameZH: "黃新", IDDocType: storage.IDMacauPermanent, IDDocNumber: "2468024(6)",
		BirthDate: "1992-02-02", Mobile: "66110001", Email: "wong@example.mo", Language: "zh-Hant"}
	sl, err := w.app.manage.CreateStaff(ctx, admin, w.app.activation, manage.NewStaff{EntityNumber: e.Number, Form: form, Channel: storage.ChannelSMS}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	first := codeIn(t, w.message(t, "+85366110001", 1))
	ref := storage.AccountRef{Kind: storage.KindStaff, ID: sl.ID}

	// A new name keeps the code; a new mobile voids it.
	form.NameForeign = "WONG, San"
	if _, err := w.app.manage.EditStaff(ctx, admin, e.ID, sl.EUID, form, time.Now()); err != nil {
		t.Fatal(err)
	}
	if c := w.code(t, ref); c.VoidedAt != nil {
		t.Error("editing a name voided the code")
	}
	form.Mobile = "+853 6611 0002"
	edited, err := w.app.manage.EditStaff(ctx, admin, e.ID, sl.EUID, form, time.Now())
	if err != nil || edited.Mobile != "+85366110002" || edited.NameForeign != "WONG, San" || edited.EUID != sl.EUID {
		t.Fatalf("edit = %+v, %v", edited, err)
	}
	if c := w.code(t, ref); c.VoidedAt == nil || c.VoidReason != storage.VoidContactChanged {
		t.Errorf("after the mobile changed the code is %+v", c)
	}
	p := w.browser().activateStep1(storage.KindStaff, e.Number, form.IDDocNumber, first)
	wantActError(t, "the code sent to the old mobile", p, http.StatusGone, "activate_error_replaced")
	if _, err := w.app.manage.EditStaff(ctx, staff, e.ID, sl.EUID, form, time.Now()); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("plain staff edits: %v", err)
	}
	form.IDDocNumber = "1000001(1)" // staff01's document, seeded by idp demo
	if owner, _ := w.app.pg.StaffLoginByEUID(ctx, w.login("staff01").EUID); owner.IDDocNumber != "" {
		form.IDDocNumber = owner.IDDocNumber
		if _, err := w.app.manage.EditStaff(ctx, admin, e.ID, sl.EUID, form, time.Now()); storage.CodeOf(err) != storage.EConflict {
			t.Errorf("editing to another login's document: %v, want a conflict", err)
		}
	}

	// Codes from the portal go to the registered (new) mobile, a few per login.
	for i := range w.app.manage.CodesPerLogin {
		if err := w.app.manage.SendCode(ctx, admin, w.app.activation, e.ID, sl.EUID, storage.ChannelSMS); err != nil {
			t.Fatalf("send %d: %v", i+1, err)
		}
	}
	// A newer code cancels an older one's message not yet delivered: the
	// new mobile gets at least one, never the old one.
	w.message(t, "+85366110002", 1)
	err = w.app.manage.SendCode(ctx, admin, w.app.activation, e.ID, sl.EUID, storage.ChannelSMS)
	var de *storage.Error
	if !errors.As(err, &de) || de.Key != "staff_error_code_limit" {
		t.Errorf("one code too many: %v", err)
	}
	if err := w.app.manage.SendCode(ctx, operator(), w.app.activation, e.ID, sl.EUID, storage.ChannelEmail); err != nil {
		t.Errorf("the operator is not limited: %v", err)
	}

	// Service admins: designated by an admin, not by the entity account or plain staff.
	if _, err := w.app.manage.SetServiceAdmin(ctx, staff, e.ID, w.login("staff02").EUID, true); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("plain staff designates: %v", err)
	}
	if _, err := w.app.manage.SetServiceAdmin(ctx, admin, e.ID, w.login("staff02").EUID, true); err != nil {
		t.Fatal(err)
	}
	if a := w.actorOf(t, w.login("staff02")); !a.ServiceAdmin || !storage.CanAssignServices(a, e.ID) || storage.CanManageStaff(a, e.ID) {
		t.Errorf("a service admin's rights: %+v", a)
	}

	// Recent changes: the admin sees them, newest first; plain staff may not.
	events, err := w.app.manage.EntityAudit(ctx, admin, e.ID, 0, 100)
	if err != nil || len(events) < 5 || events[0].Action != "staff.service_admin_grant" || events[0].ID < events[len(events)-1].ID {
		t.Fatalf("audit: %d events, first %+v, %v", len(events), events[0], err)
	}
	older, _ := w.app.manage.EntityAudit(ctx, admin, e.ID, events[1].ID, 1)
	if len(older) != 1 || older[0].ID >= events[1].ID {
		t.Errorf("paging: %+v", older)
	}
	if _, err := w.app.manage.EntityAudit(ctx, staff, e.ID, 0, 10); storage.CodeOf(err) != storage.EForbidden {
		t.Errorf("plain staff reads the audit: %v", err)
	}
}
