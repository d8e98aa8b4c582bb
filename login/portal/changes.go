package portal

import (
	"github.com/gorilla/mux"

	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// changePages is 最近變更.
type changePages struct{ *core }

// Mount registers 最近變更.
func (h *changePages) Mount(r *mux.Router) {
	r.Handle(changesPath, h.serveAdmin(h.showChanges)).Methods(http.MethodGet, http.MethodHead)
}

// 最近變更: the audit trail of the signed-in admin's entity, newest first,
// changesPerPage a page, through manage.EntityAudit (admins only). Each
// event is a line: when (Macau time), who, what (a sentence of the
// catalogue, changes_action_<action>; an action without one is shown by its
// code), and which login.
//
// Paging walks back by the id of the oldest event shown (?before=); the
// pages walked are carried in ?back= (the before of each newer page,
// oldest last), so 較新 can return without the store having to read
// upwards. A page reached without its trail links to the newest.

const (
	changesPerPage = 50
	maxBackTrail   = 200 // pages remembered for 較新; deeper, 較新 leads to the newest
)

// macau is the time zone of the pages' times: Asia/Macau, UTC+8 all year
// (no daylight saving since 1979), fixed when the system has no tzdata.
var macau = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Macau"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*60*60)
}()

type changeRow struct {
	When, Who, What, Login string
}

type changesPage struct {
	chrome
	Rows               []changeRow
	OlderURL, NewerURL string
	First              bool // the newest page
}

func (h *changePages) showChanges(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	q := r.URL.Query()
	before, err := cursor(q.Get("before"))
	if err != nil {
		return err
	}
	var back []int64
	if s := q.Get("back"); s != "" {
		for _, part := range strings.Split(s, ".") {
			c, err := cursor(part)
			if err != nil {
				return err
			}
			back = append(back, c)
		}
		if len(back) > maxBackTrail {
			back = back[len(back)-maxBackTrail:]
		}
	}
	a := h.actor(r, pt)
	if !navRule("changes")(a, pt.Principal.EntityID) {
		return refused()
	}
	events, labels, err := h.admin.Manage.EntityChanges(r.Context(), a, pt.Principal.EntityID, before, changesPerPage+1)
	if err != nil {
		return asRefusal(err)
	}
	v, err := h.entityStaff(r, pt, "changes") // names for who and which login
	if err != nil {
		return err
	}
	lang := h.language(r, pt.Principal)
	ch := h.chrome(w, r, pt, lang, "changes")
	page := changesPage{chrome: ch, First: before == 0}
	older := len(events) > changesPerPage
	if older {
		events = events[:changesPerPage]
	}
	names := changeNames(v, labels, lang)
	for _, e := range events {
		page.Rows = append(page.Rows, changeRow{
			When:  e.At.In(macau).Format("2006-01-02 15:04:05"),
			Who:   who(ch.T, e, names),
			What:  what(ch.T, e, names),
			Login: names.target(ch.T, e),
		})
	}
	link := func(before int64, back []int64) string {
		v := url.Values{}
		if before != 0 {
			v.Set("before", strconv.FormatInt(before, 10))
		}
		if len(back) > 0 {
			s := make([]string, len(back))
			for i, b := range back {
				s[i] = strconv.FormatInt(b, 10)
			}
			v.Set("back", strings.Join(s, "."))
		}
		u := url.URL{Path: h.k.BasePath + changesPath, RawQuery: v.Encode()}
		return u.String()
	}
	if older {
		page.OlderURL = link(events[len(events)-1].ID, append(append([]int64(nil), back...), before))
	}
	if before != 0 {
		if n := len(back); n > 0 {
			page.NewerURL = link(back[n-1], back[:n-1])
		} else {
			page.NewerURL = link(0, nil)
		}
	}
	h.render.changes(w, page)
	return nil
}

// cursor reads a page cursor: an event id, "" or 0 for the newest.
func cursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, kit.Fail(storage.EInvalid, "changes_bad_cursor").WithLink(changesPath, "nav_changes")
	}
	return n, nil
}

// names are the entity's accounts by the ids the audit trail names them
// by, and the names of the e-services, groups and departments it records
// by code or id, in the page's language.
type names struct {
	staff         map[string]storage.StaffLogin // by EUID
	entityAccount storage.EntityAccount
	labels        storage.AuditNames
	lang          string
}

func changeNames(v entityView, labels storage.AuditNames, lang string) names {
	n := names{staff: map[string]storage.StaffLogin{}, entityAccount: v.Account, labels: labels, lang: lang}
	for _, sl := range v.Staff {
		n.staff[sl.EUID] = sl
	}
	return n
}

// service names the e-service of code as people know it; one that no
// longer exists by its code.
func (n names) service(code string) string {
	if sv, ok := n.labels.Services[code]; ok {
		if name := sv.In(n.lang); name != "" {
			return name
		}
	}
	return code
}

// group names the group of code of the e-service serviceCode; one that no
// longer exists by its code.
func (n names) group(serviceCode, code string) string {
	if g, ok := n.labels.Groups[serviceCode][code]; ok {
		if name := g.In(n.lang); name != "" {
			return name
		}
	}
	return code
}

// department names the department whose machine client is clientID; an
// unknown one (its client removed) by the client's id.
func (n names) department(clientID string) string {
	if d, ok := n.labels.Departments[clientID]; ok {
		if name := d.In(n.lang); name != "" {
			return name
		}
	}
	return clientID
}

// account names one of the entity's accounts: a staff login by its
// username (its EUID before activation), the entity account by its username
// and kind; anything else by its id.
func (n names) account(t map[string]string, id string) (string, bool) {
	if sl, ok := n.staff[id]; ok {
		if sl.Username != "" {
			return sl.Username, true
		}
		return sl.EUID, true
	}
	if id != "" && id == n.entityAccount.Subject {
		if n.entityAccount.Username != "" {
			return n.entityAccount.Username + " (" + t["account_type_entity_account"] + ")", true
		}
		return t["account_type_entity_account"], true
	}
	return id, false
}

// target is which login an event concerns: a staff login's EUID (with its
// username) or the entity account; "—" when the event is about something
// else its sentence names (an entity, an e-service), and the target as
// recorded for an action without a sentence.
func (n names) target(t map[string]string, e storage.AuditEvent) string {
	if sl, ok := n.staff[e.Target]; ok {
		if sl.Username != "" {
			return sl.EUID + " (" + sl.Username + ")"
		}
		return sl.EUID
	}
	if name, ok := n.account(t, e.Target); ok {
		return name
	}
	if e.Target == "" || t[actionKey(e.Action)] != "" {
		return "—"
	}
	return e.Target
}

// who is the actor of e: one of the entity's accounts, 行政公職局 for the
// operator, 公眾 for the public (an activation code's holder), the system,
// or a department.
func who(t map[string]string, e storage.AuditEvent, n names) string {
	switch storage.ActorKind(e.ActorKind) {
	case storage.ActorOperator:
		return t["changes_actor_operator"]
	case storage.ActorPublic:
		return t["changes_actor_public"]
	case storage.ActorSystem:
		return t["changes_actor_system"]
	case storage.ActorDepartment:
		return t["changes_actor_department"] + " " + n.department(e.ActorID)
	}
	name, _ := n.account(t, e.ActorID)
	if name == "" {
		return "—"
	}
	return name
}

// actionKey is the catalogue key of an action's sentence.
func actionKey(action string) string { return "changes_action_" + strings.ReplaceAll(action, ".", "_") }

// what is the sentence of e's action, with its details (e-service and
// group by their names, channel) filled in; an action the catalogue has no
// sentence for is shown by its code.
func what(t map[string]string, e storage.AuditEvent, n names) string {
	s := t[actionKey(e.Action)]
	if s == "" {
		return e.Action
	}
	detail := func(k string) string {
		if v, ok := e.Details[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		if k == "service" && (e.Action == "service.enroll" || e.Action == "service.unenroll") {
			return e.Target // the e-service opened to the entity, or closed
		}
		return "—"
	}
	service := detail("service")
	channel := detail("channel")
	if c := t["changes_channel_"+channel]; c != "" {
		channel = c
	}
	return strings.NewReplacer("{service}", n.service(service), "{group}", n.group(service, detail("group")), "{channel}", channel).Replace(s)
}
