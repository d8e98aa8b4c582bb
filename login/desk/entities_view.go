package desk

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/entity-account/idp/login/entitydesk"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// What the pages of entities show: the use cases' results as the
// templates read them, every time in Macau time, every word from the
// catalogue.

// deskTime is t as the desk shows it, in Macau time; "" for nil.
func deskTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.In(kit.Macau).Format("2006-01-02 15:04")
}

// searchPage is desk_entities.html.
type searchPage struct {
	Chrome
	Query                       string
	Searched                    bool
	Error                       string
	Entities                    []entityRow
	Staff                       []staffMatchRow
	EntitiesCapped, StaffCapped bool
}

type entityRow struct {
	Number, NameZH, NamePT, Status, URL string
	Closed                              bool
}

type staffMatchRow struct {
	EUID, Username, Name, Doc, EntityNumber, EntityName, Status, URL string
	Deleted                                                          bool
}

func (p *searchPage) fill(res entitydesk.Results, t map[string]string) {
	for _, e := range res.Entities {
		p.Entities = append(p.Entities, entityRow{Number: e.Number, NameZH: e.NameZH, NamePT: e.NamePT,
			Status: t["desk_entities_status_"+e.Status], Closed: e.Status == storage.EntityClosed, URL: entityURL(e.Number)})
	}
	for _, m := range res.Staff {
		p.Staff = append(p.Staff, staffMatchRow{EUID: m.EUID, Username: m.Username, Name: personName(m.StaffLogin),
			Doc: m.IDDocNumber, EntityNumber: m.EntityNumber, EntityName: orOther(m.EntityNameZH, m.EntityNamePT),
			Status: t["staff_status_"+string(m.Status)], Deleted: m.Status == storage.StatusDeleted,
			URL: entityURL(m.EntityNumber) + "#staff_" + m.EUID})
	}
	p.EntitiesCapped, p.StaffCapped = res.EntitiesCapped, res.StaffCapped
}

// personName is a staff login's Chinese and foreign names, as one.
func personName(sl storage.StaffLogin) string { return joinNames(sl.NameZH, sl.NameForeign) }

// joinNames is a person's Chinese and foreign names as the desk shows them.
func joinNames(zh, foreign string) string { return strings.TrimSpace(zh + " " + foreign) }

func orOther(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// mayActs are the acts of an entity's page the officer's role allows: a
// form the officer may not send is not shown (the rule book refuses it
// anyway).
type mayActs struct{ Grant, Close, Code, Reset, SignOut, Unlock bool }

func mayOf(o storage.Officer) mayActs {
	may := func(a storage.OperatorAct) bool { return officerMay(o, a) }
	return mayActs{Grant: may(storage.ActGrantAdmin), Close: may(storage.ActCloseEntity), Code: may(storage.ActSendCode),
		Reset: may(storage.ActResetPassword), SignOut: may(storage.ActSignOutLogin), Unlock: may(storage.ActUnlockLogin)}
}

// entityPage is desk_entity.html.
type entityPage struct {
	Chrome
	Number, NameZH, NamePT, Kind, Status, Created string
	Closed                                        bool
	URL                                           string // the entity's page, under which its forms post
	Account                                       accountView
	AccountForm                                   actForm
	Staff                                         []staffRow
	Services                                      []serviceRow
	Changes                                       []changeRow
	May                                           mayActs
	Done, Error                                   string
}

type accountView struct {
	Subject, Username, ApplicationNumber, Mobile, Activated string
	IsActivated                                             bool
}

type staffRow struct {
	EUID, Username, Name, Doc, Mobile, Status, Tools, LastSignIn, LockedUntil string
	Active, Activated, Admin, ServiceAdmin, CodeOutstanding                   bool
	RecordURL                                                                 string
	Form                                                                      actForm
}

// actForm is what a form of the entity's page for one account needs: the
// entity's page, the session's CSRF token, the catalogue and the EUID of
// the staff login ("": the entity account).
type actForm struct {
	URL, CSRF, EUID string
	T               map[string]string
}

type serviceRow struct {
	Code, Name string
	Assigned   int
	Groups     []string
}

type changeRow struct{ When, Who, What, Login string }

func newEntityPage(c Chrome, pg entitydesk.Page, o storage.Officer, t map[string]string) entityPage {
	e := pg.Entity
	base := entityURL(e.Number)
	p := entityPage{Chrome: c, Number: e.Number, NameZH: e.NameZH, NamePT: e.NamePT, Kind: orOther(t["account_kind_"+e.Kind], e.Kind),
		Status: t["desk_entities_status_"+e.Status], Closed: e.Status == storage.EntityClosed, Created: deskTime(&e.CreatedAt),
		URL: base, May: mayOf(o)}
	p.AccountForm = actForm{URL: base, CSRF: c.CSRF, T: t}
	a := pg.Account
	p.Account = accountView{Subject: a.Subject, Username: a.Username, ApplicationNumber: a.ApplicationNumber, Mobile: a.Mobile,
		Activated: deskTime(a.ActivatedAt), IsActivated: a.ActivatedAt != nil}
	staff := map[string]storage.StaffLogin{}
	for _, r := range pg.Staff {
		staff[r.EUID] = r.StaffLogin
		p.Staff = append(p.Staff, staffRow{EUID: r.EUID, Username: r.Username, Name: personName(r.StaffLogin), Doc: r.IDDocNumber,
			Mobile: r.Mobile, Status: t["staff_status_"+string(r.Status)], Tools: toolsWords(r, t), LastSignIn: deskTime(r.LastSignInAt),
			LockedUntil: deskTime(&r.LockedUntil), Active: r.Status == storage.StatusActive, Activated: r.ActivatedAt != nil,
			Admin: r.Admin, ServiceAdmin: r.ServiceAdmin, CodeOutstanding: r.CodeOutstanding,
			RecordURL: base + "/staff/" + url.PathEscape(r.EUID) + "/record", Form: actForm{URL: base, CSRF: c.CSRF, EUID: r.EUID, T: t}})
	}
	lang := c.Lang
	for _, sv := range pg.Services {
		row := serviceRow{Code: sv.Code, Name: sv.Names().In(lang), Assigned: len(sv.Assigned)}
		for _, g := range sv.Groups {
			row.Groups = append(row.Groups, g.Names().In(lang))
		}
		p.Services = append(p.Services, row)
	}
	for _, ev := range pg.Changes {
		p.Changes = append(p.Changes, changeRow{When: deskTime(&ev.At), Who: changeWho(ev, a, staff, t),
			What: changeWhat(ev, pg.Names, lang, t), Login: changeLogin(ev, a, staff)})
	}
	return p
}

// toolsWords says a login's identity tools: how many may be used, and
// how many wait for the approval in person.
func toolsWords(r storage.DeskStaffRow, t map[string]string) string {
	switch {
	case r.ActiveTools == 0 && r.PendingTools == 0:
		return t["desk_entities_tools_none"]
	case r.PendingTools == 0:
		return fmt.Sprintf(t["desk_entities_tools_active"], r.ActiveTools)
	}
	return fmt.Sprintf(t["desk_entities_tools_pending"], r.ActiveTools, r.PendingTools)
}

// changeWho is who did a change: an officer by its login name, an account
// of the entity by its username (or EUID), anyone else by its kind.
func changeWho(ev storage.AuditEvent, a storage.EntityAccount, staff map[string]storage.StaffLogin, t map[string]string) string {
	switch storage.ActorKind(ev.ActorKind) {
	case storage.ActorOperator:
		return t["changes_actor_operator"] + " (" + ev.ActorID + ")"
	case storage.ActorPublic:
		return t["changes_actor_public"]
	case storage.ActorSystem:
		return t["changes_actor_system"]
	case storage.ActorDepartment:
		return t["changes_actor_department"] + " " + ev.ActorID
	}
	if who := changeLogin(storage.AuditEvent{Target: ev.ActorID}, a, staff); who != "" {
		return who
	}
	return ev.ActorID
}

// changeLogin is the login a change concerns, "" for none of the entity's.
func changeLogin(ev storage.AuditEvent, a storage.EntityAccount, staff map[string]storage.StaffLogin) string {
	if sl, ok := staff[ev.Target]; ok {
		if sl.Username != "" {
			return sl.EUID + " (" + sl.Username + ")"
		}
		return sl.EUID
	}
	if ev.Target != "" && ev.Target == a.Subject {
		return a.Subject
	}
	return ""
}

// changeWhat is the sentence of a change (the portal's sentences, the
// e-service and group by their names), with the officer's reason or
// document when it recorded one; an action without a sentence by its code.
func changeWhat(ev storage.AuditEvent, names storage.AuditNames, lang string, t map[string]string) string {
	s := t["changes_action_"+strings.ReplaceAll(ev.Action, ".", "_")]
	if s == "" {
		s = ev.Action
	}
	detail := func(k string) string {
		if v, ok := ev.Details[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	service, group, channel := detail("service"), detail("group"), detail("channel")
	if service == "" && (ev.Action == "service.enroll" || ev.Action == "service.unenroll") {
		service = ev.Target
	}
	if n, ok := names.Services[service]; ok && n.In(lang) != "" {
		service = n.In(lang)
	}
	if g, ok := names.Groups[detail("service")][group]; ok && g.In(lang) != "" {
		group = g.In(lang)
	}
	if c := t["changes_channel_"+channel]; c != "" {
		channel = c
	}
	s = strings.NewReplacer("{service}", service, "{group}", group, "{channel}", channel).Replace(s)
	if why := detail("reason"); why != "" {
		s += " — " + t["desk_entities_reason"] + ": " + why
	}
	if doc := detail("document"); doc != "" {
		s += " — " + t["desk_entities_document"] + ": " + doc
	}
	return s
}

// recordPage is desk_entities_page_record.html: a staff login's registration
// whole.
type recordPage struct {
	Chrome
	EntityNumber, EntityName, EntityURL                               string
	EUID, Username, NameZH, NameForeign, DocType, DocNumber, DocPlace string
	BirthDate, Mobile, Email, Language, Status, Activated, Created    string
	Admin, ServiceAdmin                                               bool
}

func newRecordPage(c Chrome, rec entitydesk.Record, t map[string]string) recordPage {
	sl := rec.Staff
	birth := ""
	if !sl.BirthDate.IsZero() {
		birth = sl.BirthDate.Format("2006-01-02")
	}
	docType := t["staff_doc_"+sl.IDDocType]
	if docType == "" {
		docType = sl.IDDocType
	}
	return recordPage{Chrome: c, EntityNumber: rec.Entity.Number, EntityName: orOther(rec.Entity.NameZH, rec.Entity.NamePT),
		EntityURL: entityURL(rec.Entity.Number) + "#staff_" + sl.EUID,
		EUID:      sl.EUID, Username: sl.Username, NameZH: sl.NameZH, NameForeign: sl.NameForeign, DocType: docType,
		DocNumber: sl.IDDocNumber, DocPlace: sl.IDDocIssuePlace, BirthDate: birth, Mobile: sl.Mobile, Email: sl.Email,
		Language: sl.Language, Status: t["staff_status_"+string(sl.Status)], Activated: deskTime(sl.ActivatedAt),
		Created: deskTime(&sl.CreatedAt), Admin: sl.Admin, ServiceAdmin: sl.ServiceAdmin}
}
