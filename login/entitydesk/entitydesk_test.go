package entitydesk_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/login/activation"
	"github.com/entity-account/idp/login/entitydesk"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/recovery"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	rstore "github.com/entity-account/idp/storage/redis"
	"github.com/entity-account/idp/storage/storagetest"
)

// The desk's use cases over real Postgres and Redis: who may do which act
// (the officer's role, a disabled officer, an actor who is no operator),
// what each writes to the audit trail under the officer's name, and the
// masking of what the searches and the entity's page show.

type world struct {
	pg         *postgres.Store
	rs         *rstore.Store
	svc        *entitydesk.Service
	supervisor storage.Officer
	counter    storage.Officer
	disabled   storage.Officer
	entity     storage.Entity
	other      storage.Entity // another entity, with a login of its own
	admin      storage.StaffLogin
	fresh      storage.StaffLogin // registered, not yet activated
	stranger   storage.StaffLogin // of the other entity
	newcomer   storage.StaffLogin // of the other entity, not yet activated
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	w := &world{pg: storagetest.NewPostgres(t), rs: storagetest.NewRedis(t)}
	sealer, err := notify.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	texts, err := notify.LoadTexts()
	if err != nil {
		t.Fatal(err)
	}
	notices := notify.Notices{Sealer: sealer, Texts: texts}
	admin := manage.New(w.pg, w.rs)
	admin.Notices = notices
	codes, err := activation.New(w.pg, activation.Config{Issuer: "https://idp.test", CodeKey: bytes.Repeat([]byte{1}, 32),
		Sealer: sealer, Texts: texts, CodeTTL: time.Hour, MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.NewHasher(password.Params{MemoryKiB: 8, Iterations: 1, Threads: 1}, 1, time.Second)
	resets, err := recovery.New(w.pg, w.rs, w.rs, hasher, recovery.Config{Issuer: "https://idp.test", CodeKey: bytes.Repeat([]byte{2}, 32),
		Notices: notices, CodeTTL: time.Hour, MaxAttempts: 5, CodePath: "/recover/code", SignInPath: "/account/login"})
	if err != nil {
		t.Fatal(err)
	}
	w.svc = entitydesk.New(w.pg, admin, codes, resets)

	w.supervisor = storage.Officer{Login: "boss", DisplayName: "主管", Role: storage.RoleSupervisor, Status: storage.OfficerActive}
	if err := w.pg.CreateOfficer(ctx, nil, &w.supervisor); err != nil {
		t.Fatal(err)
	}
	w.counter = storage.Officer{Login: "counter.a", DisplayName: "櫃檯", Role: storage.RoleCounter, Status: storage.OfficerActive}
	w.disabled = storage.Officer{Login: "gone", DisplayName: "離職", Role: storage.RoleSupervisor, Status: storage.OfficerActive}
	for _, o := range []*storage.Officer{&w.counter, &w.disabled} {
		if err := w.pg.CreateOfficer(ctx, &w.supervisor, o); err != nil {
			t.Fatal(err)
		}
	}
	if w.disabled, err = w.pg.DisableOfficer(ctx, w.supervisor, "gone"); err != nil {
		t.Fatal(err)
	}

	w.entity, w.admin, w.fresh = w.openEntity(t, "02-000021", "澳門測試有限公司", "Teste Macau, Limitada", "1234567(8)")
	w.other, w.stranger, w.newcomer = w.openEntity(t, "05-000777", "別的公司", "Outra, Limitada", "7654321(0)")
	return w
}

// openEntity opens an entity with an activated entity account, an
// activated admin (its document doc, username "admin") and a registered
// staff login not yet activated.
func (w *world) openEntity(t *testing.T, number, nameZH, namePT, doc string) (storage.Entity, storage.StaffLogin, storage.StaffLogin) {
	t.Helper()
	ctx := t.Context()
	op := storage.OfficerActor(w.supervisor)
	e := storage.Entity{Number: number, NameZH: nameZH, NamePT: namePT, Kind: "company"}
	acct := storage.EntityAccount{ApplicationNumber: "A-" + number, Mobile: "+85366000001", Language: "en"}
	if err := w.pg.CreateEntity(ctx, op, &e, &acct); err != nil {
		t.Fatal(err)
	}
	if err := w.pg.ActivateEntityAccount(ctx, storage.PublicActor(""), acct.ID, "owner", "hash"); err != nil {
		t.Fatal(err)
	}
	staff := func(nameForeign, doc string, activate bool) storage.StaffLogin {
		sl := storage.StaffLogin{EntityID: e.ID, NameZH: "陳大文", NameForeign: nameForeign, IDDocType: storage.IDMacauPermanent,
			IDDocNumber: doc, IDDocIssuePlace: "MO", BirthDate: time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC),
			Mobile: "+85366123456", Language: "en", Admin: activate}
		if err := w.pg.CreateStaffLogin(ctx, op, &sl); err != nil {
			t.Fatal(err)
		}
		if activate {
			if err := w.pg.ActivateStaffLogin(ctx, storage.PublicActor(""), sl.ID, "admin", "hash"); err != nil {
				t.Fatal(err)
			}
		}
		sl, err := w.pg.StaffLogin(ctx, sl.ID)
		if err != nil {
			t.Fatal(err)
		}
		return sl
	}
	return e, staff("Chan Tai Man", doc, true), staff("Wong Siu Ming", "P9"+doc[:7], false)
}

func (w *world) actor(o storage.Officer) storage.Actor {
	a := storage.OfficerActor(o)
	a.IP = "10.0.0.9"
	return a
}

func keyOf(err error) string {
	var e *storage.Error
	if errors.As(err, &e) {
		return e.Key
	}
	if err != nil {
		return "not a storage.Error: " + err.Error()
	}
	return ""
}

// auditRow is the newest audit event of action, or ok false.
type auditRow struct {
	actorID   string
	officerID *int64
	target    string
	details   map[string]any
}

func (w *world) lastAudit(t *testing.T, action string) (auditRow, bool) {
	t.Helper()
	var r auditRow
	err := w.pg.Pool().QueryRow(t.Context(), `SELECT actor_id, officer_id, target, details FROM audit_events
		WHERE action = $1 ORDER BY id DESC LIMIT 1`, action).Scan(&r.actorID, &r.officerID, &r.target, &r.details)
	return r, err == nil
}

func (w *world) auditCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := w.pg.Pool().QueryRow(t.Context(), `SELECT count(*) FROM audit_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// acts are every act of the entity's page, each as a function of the
// actor, with the act of the rule book it needs.
func (w *world) acts() []struct {
	name string
	act  storage.OperatorAct
	do   func(storage.Actor) error
} {
	ctx := context.Background()
	n := w.entity.Number
	return []struct {
		name string
		act  storage.OperatorAct
		do   func(storage.Actor) error
	}{
		{"search", storage.ActReadEntities, func(a storage.Actor) error { _, err := w.svc.Search(ctx, a, "02-0000"); return err }},
		{"page", storage.ActReadEntities, func(a storage.Actor) error { _, err := w.svc.Entity(ctx, a, n); return err }},
		{"record", storage.ActReadEntities, func(a storage.Actor) error { _, err := w.svc.StaffRecord(ctx, a, n, w.admin.EUID); return err }},
		{"code", storage.ActSendCode, func(a storage.Actor) error {
			return w.svc.SendCode(ctx, a, n, w.fresh.EUID, storage.ChannelSMS)
		}},
		{"reset", storage.ActResetPassword, func(a storage.Actor) error { _, err := w.svc.ResetPassword(ctx, a, n, w.admin.EUID); return err }},
		{"signout", storage.ActSignOutLogin, func(a storage.Actor) error { _, err := w.svc.SignOut(ctx, a, n, w.admin.EUID); return err }},
		{"grant", storage.ActGrantAdmin, func(a storage.Actor) error {
			_, err := w.svc.GrantAdmin(ctx, a, n, w.fresh.EUID, "APP-2026-001")
			return err
		}},
		{"close", storage.ActCloseEntity, func(a storage.Actor) error { _, err := w.svc.Close(ctx, a, n, "the entity was dissolved"); return err }},
		{"reopen", storage.ActCloseEntity, func(a storage.Actor) error { _, err := w.svc.Reopen(ctx, a, n, "dissolution revoked"); return err }},
	}
}

// TestDeskActsByRole: a counter officer may read, send codes, reset
// passwords and sign logins out, and is refused granting, closing and
// reopening with the supervisor's sentence, writing nothing; a disabled
// officer and an actor who is no operator are refused everything,
// writing nothing; a supervisor may do every act.
func TestDeskActsByRole(t *testing.T) {
	w := newWorld(t)
	refused := map[string]storage.Actor{
		"desk_err_officer_disabled": w.actor(w.disabled),
		// A staff login, an admin of the entity, is no officer.
		"desk_intake_error_forbidden": {Kind: storage.ActorStaff, ID: "CU000000100", Admin: true, Active: true, EntityID: w.entity.ID},
	}
	for want, a := range refused {
		before := w.auditCount(t)
		for _, c := range w.acts() {
			if err := c.do(a); keyOf(err) != want || storage.CodeOf(err) != storage.EForbidden {
				t.Errorf("%s by %s: %v, want %s", c.name, a.ID, err, want)
			}
		}
		if n := w.auditCount(t); n != before {
			t.Errorf("refused acts by %s wrote %d audit events", a.ID, n-before)
		}
	}
	for _, c := range w.acts() {
		before := w.auditCount(t)
		err := c.do(w.actor(w.counter))
		if storage.OfficerMay(w.counter, c.act) == nil {
			if err != nil {
				t.Errorf("counter %s: %v", c.name, err)
			}
			continue
		}
		if keyOf(err) != "desk_err_supervisor_only" {
			t.Errorf("counter %s: %v, want desk_err_supervisor_only", c.name, err)
		}
		if n := w.auditCount(t); n != before {
			t.Errorf("counter's refused %s wrote %d audit events", c.name, n-before)
		}
	}
	for _, c := range w.acts() {
		if err := c.do(w.actor(w.supervisor)); err != nil {
			t.Errorf("supervisor %s: %v", c.name, err)
		}
	}
}

// TestDeskCloseAndReopen: closing records the reason under the officer's
// name and stops every account of the entity signing in, its sessions
// ended; reopening records its reason and lets them sign in again; an
// open entity cannot be reopened nor a closed one closed; a missing
// reason is refused before anything is written.
func TestDeskCloseAndReopen(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	sup := w.actor(w.supervisor)
	canSignIn := func(username string) bool {
		p, err := w.pg.Principal(ctx, w.entity.Number, username)
		if err != nil {
			t.Fatal(err)
		}
		return p.CanSignIn()
	}
	if !canSignIn("admin") || !canSignIn("owner") {
		t.Fatal("the accounts of an open entity cannot sign in")
	}
	sess := storage.Session{Kind: storage.KindStaff, Authentication: storage.Authentication{Subject: w.admin.EUID, LoginID: w.admin.ID,
		EntityNumber: w.entity.Number, AuthTime: time.Now()}, ExpiresAt: time.Now().Add(time.Hour)}
	secret, err := w.rs.CreateSession(ctx, &sess, time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	before := w.auditCount(t)
	for _, reason := range []string{"", "   ", strings.Repeat("x", storage.MaxNoteLength+1), "bad\x00reason"} {
		if _, err := w.svc.Close(ctx, sup, w.entity.Number, reason); keyOf(err) != "desk_entities_err_reason" {
			t.Errorf("close for %q: %v", reason, err)
		}
	}
	if _, err := w.svc.Reopen(ctx, sup, w.entity.Number, "an open one"); keyOf(err) != "desk_entities_err_not_closed" {
		t.Errorf("reopen an open entity: %v", err)
	}
	if n := w.auditCount(t); n != before {
		t.Errorf("refusals wrote %d audit events", n-before)
	}

	if e, err := w.svc.Close(ctx, sup, "02000021", "  the entity was dissolved "); err != nil || e.Status != storage.EntityClosed {
		t.Fatalf("close: %+v %v", e, err)
	}
	r, ok := w.lastAudit(t, "entity.close")
	if !ok || r.actorID != "boss" || r.officerID == nil || *r.officerID != w.supervisor.ID || r.details["reason"] != "the entity was dissolved" {
		t.Errorf("entity.close audited as %+v", r)
	}
	if canSignIn("admin") || canSignIn("owner") {
		t.Error("an account of a closed entity can sign in")
	}
	if s, err := w.rs.Session(ctx, secret, 0); err == nil {
		t.Errorf("a session of a closed entity's login lives on: %+v", s)
	}
	if _, err := w.svc.Close(ctx, sup, w.entity.Number, "again"); keyOf(err) != "desk_entities_err_already_closed" {
		t.Errorf("close a closed entity: %v", err)
	}

	if e, err := w.svc.Reopen(ctx, sup, w.entity.Number, "dissolution revoked by the court"); err != nil || e.Status != storage.EntityActive {
		t.Fatalf("reopen: %+v %v", e, err)
	}
	r, ok = w.lastAudit(t, "entity.reopen")
	if !ok || r.actorID != "boss" || r.officerID == nil || *r.officerID != w.supervisor.ID ||
		r.details["reason"] != "dissolution revoked by the court" || r.target != w.entity.Number {
		t.Errorf("entity.reopen audited as %+v", r)
	}
	if !canSignIn("admin") || !canSignIn("owner") {
		t.Error("the accounts of a reopened entity cannot sign in")
	}
	if other, err := w.pg.Principal(ctx, w.other.Number, "admin"); err != nil || !other.CanSignIn() {
		t.Errorf("another entity's login: %+v %v", other, err)
	}
}

// TestDeskGrantAdminRecordsDocument: a grant needs the number of the
// document it rests on, which the audit event keeps with the officer; a
// grant to a login that is an admin already, or of another entity, is
// refused with the desk's sentences.
func TestDeskGrantAdminRecordsDocument(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	sup := w.actor(w.supervisor)
	if _, err := w.svc.GrantAdmin(ctx, sup, w.entity.Number, w.fresh.EUID, " "); keyOf(err) != "desk_entities_err_document" {
		t.Errorf("grant without a document: %v", err)
	}
	sl, err := w.svc.GrantAdmin(ctx, sup, w.entity.Number, w.fresh.EUID, "CONSENT-77/2026")
	if err != nil || !sl.Admin {
		t.Fatalf("grant: %+v %v", sl, err)
	}
	r, ok := w.lastAudit(t, "staff.admin_grant")
	if !ok || r.target != w.fresh.EUID || r.details["document"] != "CONSENT-77/2026" || r.officerID == nil || *r.officerID != w.supervisor.ID {
		t.Errorf("staff.admin_grant audited as %+v", r)
	}
	if _, err := w.svc.GrantAdmin(ctx, sup, w.entity.Number, w.fresh.EUID, "again"); keyOf(err) != "desk_entities_err_grant_conflict" {
		t.Errorf("grant to an admin: %v", err)
	}
	if _, err := w.svc.GrantAdmin(ctx, sup, w.entity.Number, w.stranger.EUID, "APP-1"); keyOf(err) != "desk_entities_err_staff_not_found" {
		t.Errorf("grant to another entity's login: %v", err)
	}
	if _, err := w.svc.GrantAdmin(ctx, sup, "09-999999", w.fresh.EUID, "APP-1"); keyOf(err) != "desk_entities_err_entity_not_found" {
		t.Errorf("grant in an unknown entity: %v", err)
	}
}

// TestDeskSearchMasksAndRecordOpenIsAudited: the search finds entities by
// number and name and staff logins by EUID, username, name and document
// number, shows document numbers and mobiles masked and writes nothing;
// opening a record shows the number whole and is audited with the
// officer; another entity's login is not found through this entity.
func TestDeskSearchMasksAndRecordOpenIsAudited(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	counter := w.actor(w.counter)
	before := w.auditCount(t)
	for _, c := range []struct {
		text     string
		entities []string
		staff    []string
	}{
		{"02-0000", []string{"02-000021"}, nil},
		{"0200", []string{"02-000021"}, nil},
		{"測試", []string{"02-000021"}, nil},
		{"outra", []string{"05-000777"}, nil},
		{strings.ToLower(w.admin.EUID), nil, []string{w.admin.EUID}},
		{"ADM", nil, []string{w.admin.EUID, w.stranger.EUID}},
		{"siu ming", nil, []string{w.fresh.EUID, w.newcomer.EUID}},
		{"1234567(8)", nil, []string{w.admin.EUID}},
		{"765432", nil, []string{w.stranger.EUID}},
		{"100%", nil, nil},
	} {
		r, err := w.svc.Search(ctx, counter, c.text)
		if err != nil {
			t.Errorf("search %q: %v", c.text, err)
			continue
		}
		var entities, staff []string
		for _, e := range r.Entities {
			entities = append(entities, e.Number)
		}
		for _, s := range r.Staff {
			staff = append(staff, s.EUID)
			if !strings.Contains(s.IDDocNumber, "*") || s.Mobile != "****3456" || s.Email != "" || s.PasswordHash != "" {
				t.Errorf("search %q shows %s unmasked: doc %q mobile %q", c.text, s.EUID, s.IDDocNumber, s.Mobile)
			}
		}
		if strings.Join(entities, ",") != strings.Join(c.entities, ",") || strings.Join(staff, ",") != strings.Join(c.staff, ",") {
			t.Errorf("search %q: entities %v staff %v, want %v %v", c.text, entities, staff, c.entities, c.staff)
		}
	}
	if _, err := w.svc.Search(ctx, counter, "x"); keyOf(err) != "desk_entities_err_search" {
		t.Errorf("a one-character search: %v", err)
	}
	if n := w.auditCount(t); n != before {
		t.Errorf("searches wrote %d audit events", n-before)
	}

	rec, err := w.svc.StaffRecord(ctx, counter, w.entity.Number, w.admin.EUID)
	if err != nil || rec.Staff.IDDocNumber != "1234567(8)" || rec.Staff.PasswordHash != "" || rec.Staff.Mobile != "+85366123456" {
		t.Fatalf("record: %+v %v", rec.Staff, err)
	}
	r, ok := w.lastAudit(t, entitydesk.ActionRecordOpen)
	if !ok || r.target != w.admin.EUID || r.actorID != w.counter.Login || r.officerID == nil || *r.officerID != w.counter.ID {
		t.Errorf("record open audited as %+v", r)
	}
	before = w.auditCount(t)
	if _, err := w.svc.StaffRecord(ctx, counter, w.entity.Number, w.stranger.EUID); keyOf(err) != "desk_entities_err_staff_not_found" {
		t.Errorf("another entity's record through this entity: %v", err)
	}
	if n := w.auditCount(t); n != before {
		t.Errorf("a record not found wrote %d audit events", n-before)
	}
}

// TestDeskEntityPage: the page shows the entity account and every staff
// login masked, with its tools, lockout and last sign-in, the e-services
// opened to the entity and its recent changes; unlocking lifts a lockout
// and is audited, a login not locked is refused.
func TestDeskEntityPage(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	counter := w.actor(w.counter)
	key := storage.SignInFailKey(w.entity.Number, "admin")
	for range 5 {
		if _, err := w.rs.Reserve(ctx, key, 5, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	p, err := w.svc.Entity(ctx, counter, w.entity.Number)
	if err != nil {
		t.Fatal(err)
	}
	if p.Account.Mobile != "****0001" || p.Account.PasswordHash != "" || p.Account.ApplicationNumber != "A-02-000021" {
		t.Errorf("entity account: %+v", p.Account)
	}
	if len(p.Staff) != 2 || p.Staff[0].EUID != w.admin.EUID || p.Staff[0].LockedUntil.IsZero() || !p.Staff[1].LockedUntil.IsZero() ||
		strings.Contains(p.Staff[0].IDDocNumber, "4567") || p.Staff[0].Mobile != "****3456" {
		t.Errorf("staff: %+v", p.Staff)
	}
	if len(p.Changes) == 0 || p.Changes[0].Action == "" {
		t.Errorf("changes: %+v", p.Changes)
	}
	if _, err := w.svc.Unlock(ctx, counter, w.entity.Number, w.admin.EUID); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if r, ok := w.lastAudit(t, "staff.unlock"); !ok || r.officerID == nil || *r.officerID != w.counter.ID {
		t.Errorf("staff.unlock audited as %+v", r)
	}
	if _, err := w.svc.Unlock(ctx, counter, w.entity.Number, w.admin.EUID); keyOf(err) != "lockout_error_not_locked" {
		t.Errorf("unlock a login not locked: %v", err)
	}
	if err := w.svc.SendCode(ctx, counter, w.entity.Number, "", storage.ChannelSMS); keyOf(err) != "desk_entities_err_no_code" {
		t.Errorf("a code to an activated entity account: %v", err)
	}
	if err := w.svc.SendCode(ctx, counter, w.entity.Number, w.fresh.EUID, "pigeon"); keyOf(err) != "desk_entities_err_channel" {
		t.Errorf("a code by pigeon: %v", err)
	}
	if ch, err := w.svc.ResetPassword(ctx, counter, w.entity.Number, ""); err != nil || ch != storage.ChannelSMS {
		t.Errorf("reset the entity account's password: %v %v", ch, err)
	}
}
