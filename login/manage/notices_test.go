package manage_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/login/notify"
	"github.com/entity-account/idp/login/tools"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/storage/postgres"
	"github.com/entity-account/idp/storage/storagetest"
)

// Every change to a staff login tells its holder through the outbox, in
// the holder's language, in the transaction of the change; a change of
// admin rights tells the entity account too. A refused change tells
// nobody. These tests drive the use cases over real Postgres and Redis and
// open the sealed notices as the outbox worker does.

// noticeWorld is an entity with its entity account (an English speaker,
// told by SMS) and staff logins registered as each test needs.
type noticeWorld struct {
	pg      *postgres.Store
	svc     *manage.Service
	sealer  *notify.Sealer
	entity  storage.Entity
	account storage.EntityAccount
	woken   atomic.Int32
	lastID  int64 // the newest outbox row seen
}

const accountMobile = "+85366000001"

func newNoticeWorld(t *testing.T) *noticeWorld {
	t.Helper()
	pg, rs := storagetest.NewPostgres(t), storagetest.NewRedis(t)
	sealer, err := notify.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	texts, err := notify.LoadTexts()
	if err != nil {
		t.Fatal(err)
	}
	w := &noticeWorld{pg: pg, sealer: sealer}
	w.svc = manage.New(pg, rs)
	w.svc.Notices = notify.Notices{Sealer: sealer, Texts: texts, Wake: func() { w.woken.Add(1) }}
	w.entity = storage.Entity{Number: "04-000123", NameZH: "通知有限公司", NamePT: "Avisos, Limitada", Kind: "company"}
	w.account = storage.EntityAccount{ApplicationNumber: "A-04-000123", Mobile: accountMobile, Language: "en"}
	if err := pg.CreateEntity(t.Context(), storage.OperatorActor("safp-op"), &w.entity, &w.account); err != nil {
		t.Fatal(err)
	}
	return w
}

// staff registers and activates staff login username (an admin when
// admin), told at mobile, else at email, in lang.
func (w *noticeWorld) staff(t *testing.T, username, doc, mobile, email, lang string, admin bool) storage.StaffLogin {
	t.Helper()
	sl := storage.StaffLogin{EntityID: w.entity.ID, NameZH: "陳大文", NameForeign: "Chan", IDDocType: storage.IDMacauPermanent,
		IDDocNumber: doc, IDDocIssuePlace: "MO", BirthDate: time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC),
		Mobile: mobile, Email: email, Language: lang, Admin: admin}
	if err := w.pg.CreateStaffLogin(t.Context(), storage.OperatorActor("safp-op"), &sl); err != nil {
		t.Fatal(err)
	}
	if err := w.pg.ActivateStaffLogin(t.Context(), storage.Actor{Kind: storage.ActorStaff, ID: sl.EUID}, sl.ID, username, "hash"); err != nil {
		t.Fatal(err)
	}
	sl, err := w.pg.StaffLogin(t.Context(), sl.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sl
}

// actor is sl acting, as the portal reads it.
func actorOf(sl storage.StaffLogin) storage.Actor {
	return storage.Actor{Kind: storage.ActorStaff, ID: sl.EUID, EntityID: sl.EntityID, Admin: sl.Admin,
		ServiceAdmin: sl.ServiceAdmin, Active: true, IP: "192.0.2.7"}
}

// told is one notice written, opened.
type told struct {
	storage.OutboxMessage
	notify.Content
}

// since returns the notices written since the last call, oldest first,
// opened with the outbox sealer.
func (w *noticeWorld) since(t *testing.T) []told {
	t.Helper()
	ctx := t.Context()
	rows, err := w.pg.Pool().Query(ctx, `SELECT id FROM outbox WHERE id > $1 ORDER BY id`, w.lastID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []told
	for _, id := range ids {
		m, err := w.pg.OutboxMessage(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		c, err := w.sealer.Open(m)
		if err != nil {
			t.Fatalf("notice %d does not open with the outbox sealer: %v", id, err)
		}
		out = append(out, told{m, c})
		w.lastID = id
	}
	return out
}

// want is a notice expected: to whom, in which language, by which
// channel, with which words, naming which login.
type want struct {
	to       string
	ch       storage.Channel
	lang     string
	words    string
	username string
}

var codeOrLink = regexp.MustCompile(`(?i)https?:|://|/account|/activate|[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}`)

// expect runs change and checks that it wrote exactly the notices wants
// (the holder's first), each recorded in the newest audit event of the
// login, action, and that the outbox worker was woken.
func (w *noticeWorld) expect(t *testing.T, action string, target storage.StaffLogin, change func() error, wants ...want) {
	t.Helper()
	woken := w.woken.Load()
	if err := change(); err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	got := w.since(t)
	if len(got) != len(wants) {
		t.Fatalf("%s wrote %d notices, want %d: %+v", action, len(got), len(wants), got)
	}
	for i, wt := range wants {
		m := got[i]
		if m.Recipient != wt.to || m.Channel != wt.ch || m.Language != wt.lang {
			t.Errorf("%s: notice %d to %s %s in %s, want %s %s in %s", action, i, m.Channel, m.Recipient, m.Language, wt.ch, wt.to, wt.lang)
		}
		if !strings.Contains(m.Text, wt.words) || !strings.Contains(m.Text, w.entity.Number) || !strings.Contains(m.Text, wt.username) {
			t.Errorf("%s: notice %d says %q; want %q, the entity number and %s", action, i, m.Text, wt.words, wt.username)
		}
		if codeOrLink.MatchString(m.Text) {
			t.Errorf("%s: notice %d carries a code or a link: %q", action, i, m.Text)
		}
		if m.CodeID != nil {
			t.Errorf("%s: notice %d is tied to an activation code", action, i)
		}
	}
	if len(wants) > 0 && w.woken.Load() == woken {
		t.Errorf("%s: the outbox worker was not woken", action)
	}
	ev := w.lastEvent(t, target)
	if ev.Action != action {
		t.Fatalf("newest event of %s is %s, want %s", target.EUID, ev.Action, action)
	}
	for i, key := range []string{"notice", "account_notice"} {
		var rec struct {
			OutboxID int64  `json:"outbox_id"`
			Channel  string `json:"channel"`
		}
		raw, _ := json.Marshal(ev.Details[key])
		_ = json.Unmarshal(raw, &rec)
		switch {
		case i < len(wants) && (rec.OutboxID != got[i].ID || rec.Channel != string(got[i].Channel)):
			t.Errorf("%s: the audit event records %s %s, want outbox id %d", action, key, raw, got[i].ID)
		case i >= len(wants) && ev.Details[key] != nil:
			t.Errorf("%s: the audit event records %s %s, but nobody was told", action, key, raw)
		}
	}
}

// refused runs a change that must fail and checks that it told nobody.
func (w *noticeWorld) refused(t *testing.T, what string, code storage.ErrorCode, change func() error) {
	t.Helper()
	if err := change(); storage.CodeOf(err) != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
	if got := w.since(t); len(got) != 0 {
		t.Errorf("%s (refused) wrote notices: %+v", what, got)
	}
}

// lastEvent is the newest audit event of the entity about sl.
func (w *noticeWorld) lastEvent(t *testing.T, sl storage.StaffLogin) storage.AuditEvent {
	t.Helper()
	events, err := w.pg.EntityAuditEvents(t.Context(), w.entity.ID, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Target == sl.EUID {
			return ev
		}
	}
	t.Fatalf("no audit event of %s", sl.EUID)
	return storage.AuditEvent{}
}

// TestStatusChangesAreTold: an admin deletes a staff login (told in
// Portuguese by SMS, though it can no longer sign in) and restores it
// (told again); repeating either is a conflict and tells nobody. A login
// that registered neither mobile nor e-mail is deleted all the same, and
// nobody is told. Without notices configured, a deletion is refused
// whole: no change goes untold.
func TestStatusChangesAreTold(t *testing.T) {
	t.Parallel()
	w := newNoticeWorld(t)
	ctx := t.Context()
	admin := w.staff(t, "admin01", "1234567(1)", "+85366100001", "", "zh-Hant", true)
	clerk := w.staff(t, "clerk01", "1234567(2)", "+85366100002", "clerk@example.mo", "pt", false)
	silent := w.staff(t, "silent01", "1234567(3)", "", "", "en", false)
	w.since(t)
	by := actorOf(admin)

	w.expect(t, "staff.delete", clerk, func() error {
		_, err := w.svc.DeleteStaff(ctx, by, w.entity.ID, clerk.EUID)
		return err
	}, want{"+85366100002", storage.ChannelSMS, "pt", "foi eliminado", "clerk01"})
	w.refused(t, "delete again", storage.EConflict, func() error {
		_, err := w.svc.DeleteStaff(ctx, by, w.entity.ID, clerk.EUID)
		return err
	})
	w.expect(t, "staff.restore", clerk, func() error {
		_, err := w.svc.RestoreStaff(ctx, by, w.entity.ID, clerk.EUID)
		return err
	}, want{"+85366100002", storage.ChannelSMS, "pt", "foi reposto", "clerk01"})
	w.refused(t, "restore an active login", storage.EConflict, func() error {
		_, err := w.svc.RestoreStaff(ctx, by, w.entity.ID, clerk.EUID)
		return err
	})
	w.refused(t, "a plain staff login deletes", storage.EForbidden, func() error {
		_, err := w.svc.DeleteStaff(ctx, actorOf(silent), w.entity.ID, clerk.EUID)
		return err
	})

	w.expect(t, "staff.delete", silent, func() error {
		_, err := w.svc.DeleteStaff(ctx, by, w.entity.ID, silent.EUID)
		return err
	})

	untold := manage.New(w.pg, nil)
	if _, err := untold.RestoreStaff(ctx, by, w.entity.ID, silent.EUID); err == nil {
		t.Fatal("a restoration without notices was accepted")
	}
	if sl, _ := w.pg.StaffLogin(ctx, silent.ID); sl.Status != storage.StatusDeleted {
		t.Errorf("a restoration refused for want of notices wrote: %s", sl.Status)
	}
	if got := w.since(t); len(got) != 0 {
		t.Errorf("a refused restoration wrote notices: %+v", got)
	}
}

// TestAdminRightsChangesAreTold: an admin removes another admin's rights:
// the former admin is told (by e-mail: it registered no mobile) and so is
// the entity account, at its mobile, in its language. The operator grants
// them back: both told again. Granting by an admin, granting to an admin,
// removing from a login without rights, and removing the last admin's
// rights unconfirmed are refused and tell nobody.
func TestAdminRightsChangesAreTold(t *testing.T) {
	t.Parallel()
	w := newNoticeWorld(t)
	ctx := t.Context()
	admin := w.staff(t, "admin01", "1234567(1)", "+85366100001", "", "zh-Hant", true)
	other := w.staff(t, "admin02", "1234567(2)", "", "admin02@example.mo", "pt", true)
	w.since(t)
	by := actorOf(admin)
	op := storage.OperatorActor("safp-op")

	w.expect(t, "staff.admin_remove", other, func() error {
		_, err := w.svc.RemoveAdmin(ctx, by, w.entity.ID, other.EUID)
		return err
	},
		want{"admin02@example.mo", storage.ChannelEmail, "pt", "direitos de administrador foram removidos", "admin02"},
		want{accountMobile, storage.ChannelSMS, "en", "Entity user account of entity", "admin02"})
	w.refused(t, "remove again", storage.EConflict, func() error {
		_, err := w.svc.RemoveAdmin(ctx, by, w.entity.ID, other.EUID)
		return err
	})
	w.refused(t, "the last admin's rights unconfirmed", storage.EConflict, func() error {
		_, err := w.svc.RemoveAdmin(ctx, by, w.entity.ID, admin.EUID)
		return err
	})
	w.refused(t, "an admin grants", storage.EForbidden, func() error {
		_, err := w.svc.GrantAdmin(ctx, by, w.entity.ID, other.EUID)
		return err
	})

	w.expect(t, "staff.admin_grant", other, func() error {
		_, err := w.svc.GrantAdmin(ctx, op, w.entity.ID, other.EUID)
		return err
	},
		want{"admin02@example.mo", storage.ChannelEmail, "pt", "atribuíram-lhe os direitos de administrador", "admin02"},
		want{accountMobile, storage.ChannelSMS, "en", "SAFP granted administrator rights to staff login", "admin02"})
	w.refused(t, "grant to an admin", storage.EConflict, func() error {
		_, err := w.svc.GrantAdmin(ctx, op, w.entity.ID, other.EUID)
		return err
	})

	// The e-mail has the notices' subject.
	if err := w.pg.Pool().QueryRow(ctx, `SELECT max(id) - 2 FROM outbox`).Scan(&w.lastID); err != nil {
		t.Fatal(err)
	}
	if m := w.since(t)[0]; m.Subject != "O seu acesso da entidade "+w.entity.Number {
		t.Errorf("the e-mail's subject: %q", m.Subject)
	}
}

// TestServiceAdminChangesAreTold: an admin designates a staff login as
// service admin and stops it being one: each told to the holder alone
// (the entity account is not told); a repeat tells nobody.
func TestServiceAdminChangesAreTold(t *testing.T) {
	t.Parallel()
	w := newNoticeWorld(t)
	ctx := t.Context()
	admin := w.staff(t, "admin01", "1234567(1)", "+85366100001", "", "zh-Hant", true)
	clerk := w.staff(t, "clerk01", "1234567(2)", "+85366100002", "", "zh-Hant", false)
	w.since(t)
	by := actorOf(admin)

	w.expect(t, "staff.service_admin_grant", clerk, func() error {
		_, err := w.svc.SetServiceAdmin(ctx, by, w.entity.ID, clerk.EUID, true)
		return err
	}, want{"+85366100002", storage.ChannelSMS, "zh-Hant", "被指定為「服務管理員」", "clerk01"})
	w.refused(t, "designate again", storage.EConflict, func() error {
		_, err := w.svc.SetServiceAdmin(ctx, by, w.entity.ID, clerk.EUID, true)
		return err
	})
	w.expect(t, "staff.service_admin_remove", clerk, func() error {
		_, err := w.svc.SetServiceAdmin(ctx, by, w.entity.ID, clerk.EUID, false)
		return err
	}, want{"+85366100002", storage.ChannelSMS, "zh-Hant", "被移除「服務管理員」", "clerk01"})
}

// TestDocumentChangesAreToldOnce: the operator changes a login's document
// and mobile and language in one edit: the holder is told once, at the
// mobile and in the language it had, recorded in staff.update. An admin's
// change of the document voids the tools: told once too (the notice of
// the voided tools, recorded in tool.void), never twice. An edit that
// keeps the document tells nobody.
func TestDocumentChangesAreToldOnce(t *testing.T) {
	t.Parallel()
	w := newNoticeWorld(t)
	ctx := t.Context()
	admin := w.staff(t, "admin01", "1234567(1)", "+85366100001", "", "zh-Hant", true)
	clerk := w.staff(t, "clerk01", "1234567(2)", "+85366100002", "", "pt", false)
	toolsSvc, err := tools.New(w.pg, storagetest.NewRedis(t), bytes.Repeat([]byte{9}, 32), w.svc.Notices)
	if err != nil {
		t.Fatal(err)
	}
	w.svc.Tools = toolsSvc
	w.since(t)
	op := storage.OperatorActor("safp-op")
	form := func(sl storage.StaffLogin, doc, mobile, lang string) storage.StaffRegistration {
		return storage.StaffRegistration{NameZH: sl.NameZH, NameForeign: sl.NameForeign, IDDocType: sl.IDDocType,
			IDDocNumber: doc, IDDocIssuePlace: sl.IDDocIssuePlace, BirthDate: sl.BirthDate.Format(time.DateOnly),
			Mobile: mobile, Email: sl.Email, Language: lang}
	}

	w.expect(t, "staff.update", clerk, func() error {
		_, err := w.svc.EditStaff(ctx, op, w.entity.ID, clerk.EUID, form(clerk, "7654321(0)", "66200002", "en"), time.Now())
		return err
	}, want{"+85366100002", storage.ChannelSMS, "pt", "documento de identificação registado foi alterado", "clerk01"})

	w.expect(t, "staff.update", clerk, func() error {
		_, err := w.svc.EditStaff(ctx, op, w.entity.ID, clerk.EUID, form(clerk, "7654321(0)", "66200003", "en"), time.Now())
		return err
	})

	if _, err := w.svc.EditStaff(ctx, actorOf(admin), w.entity.ID, clerk.EUID, form(clerk, "5555555(5)", "66200003", "en"), time.Now()); err != nil {
		t.Fatal(err)
	}
	got := w.since(t)
	if len(got) != 1 || got[0].Recipient != "+85366200003" || got[0].Language != "en" || !strings.Contains(got[0].Text, "identity tools were therefore removed") {
		t.Fatalf("an admin's document change told %+v, want the one notice of the voided tools", got)
	}
	if ev := w.lastEvent(t, clerk); ev.Action != "staff.update" || ev.Details["notice"] != nil {
		t.Errorf("staff.update of an admin's document change records a notice of its own: %+v", ev.Details)
	}
	events, err := w.pg.EntityAuditEvents(ctx, w.entity.ID, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if void := events[1]; void.Action != "tool.void" || void.Details["notice"].(map[string]any)["outbox_id"] != float64(got[0].ID) {
		t.Errorf("the voided tools' event: %s %+v, want the notice %d", void.Action, void.Details, got[0].ID)
	}

	w.refused(t, "a document another login holds", storage.EConflict, func() error {
		_, err := w.svc.EditStaff(ctx, op, w.entity.ID, clerk.EUID, form(clerk, "1234567(1)", "66200003", "en"), time.Now())
		return err
	})
}
