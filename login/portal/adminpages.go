package portal

import (
	"errors"
	"net/http"
	"strings"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// What the administration pages of nav.go share (實體資訊, 移除工作人員登入號的管理員的權限,
// 服務管理員列表, 最近變更): their error look, the refusal, and the entity
// of the signed-in account with its staff.

// adminLook is how the administration pages' error pages look.
var adminLook = kit.ErrorPages{
	Heading: "account_error_heading", InvalidHeading: "account_error_heading", Invalid: "nav_error_invalid", Failed: "error_internal",
}

// serveAdmin adapts an administration page, its failures answered with
// adminLook inside the portal (refusals.go).
func (h *core) serveAdmin(p kit.Page) http.Handler {
	return h.k.Serve(h.framed(adminLook), func(w http.ResponseWriter, r *http.Request) error { return inOwnWords(p(w, r)) })
}

// asRefusal turns a use case's refusal into the page's; other errors pass.
func asRefusal(err error) error {
	if storage.CodeOf(err) == storage.EForbidden {
		return refused()
	}
	return err
}

// entityStaff is the signed-in account's own entity (from the session,
// never from the request), its entity account and every staff login, for
// an account that the rule of page (nav.go) lets open it, as the use case
// decides; otherwise the refusal.
func (h *core) entityStaff(r *http.Request, pt *kit.Signed, page string) (entityView, error) {
	e, acct, staff, err := h.admin.Manage.EntityStaffFor(r.Context(), h.actor(r, pt), pt.Principal.EntityNumber, navRule(page))
	if err != nil {
		return entityView{}, asRefusal(err)
	}
	if e.ID != pt.Principal.EntityID {
		return entityView{}, errors.New("administration: the entity read is not the session's")
	}
	return entityView{Entity: e, Account: acct, Staff: staff}, nil
}

// entityView is an entity with its entity account and staff logins.
type entityView struct {
	Entity  storage.Entity
	Account storage.EntityAccount
	Staff   []storage.StaffLogin
}

// byEUID returns the entity's staff login of euid.
func (v entityView) byEUID(euid string) (storage.StaffLogin, bool) {
	for _, sl := range v.Staff {
		if sl.EUID == euid {
			return sl, true
		}
	}
	return storage.StaffLogin{}, false
}

// staffLabel names a staff login as the two-list pages do:
// "testuser01 (CU000000108 測試員工 19-01)"; before activation, when it has
// no username yet, its EUID comes first.
func staffLabel(sl storage.StaffLogin) string {
	name := sl.NameZH
	if name == "" {
		name = sl.NameForeign
	}
	first := sl.Username
	if first == "" {
		first = sl.EUID
	}
	return strings.TrimSpace(first + " (" + strings.TrimSpace(sl.EUID+" "+name) + ")")
}

// chosenEUIDs are the distinct values of a form's checkbox field, at most
// max of them (a form shows no more), each cut to a printable length.
func chosenEUIDs(form []string, max int) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range form {
		v = kit.Printable(strings.TrimSpace(v))
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
		if len(out) == max {
			break
		}
	}
	return out
}

// csrfOK reports whether the POSTed form carries this session's token.
func (h *core) csrfOK(r *http.Request, pt *kit.Signed) bool {
	return h.k.CSRFValid(r, sessionBinding(pt.Session.SessionID), r.PostForm.Get("csrf_token"))
}

// csrfRefused is the answer to a form without this session's token: nothing
// is done, and the page is offered again.
func csrfRefused(path string, navKey string) error {
	return kit.Fail(storage.EForbidden, "account_error_csrf").WithLink(path, navKey)
}

// each applies do to every chosen login as the signed-in account (the
// two-list pages of rights.go and services_staff.go), and
// reports each result in the page language: success's key, conflict's key,
// not found, refused. A failure of ours (a store down) stops and is
// returned as err. firstErr is set when nothing succeeded: the answer then
// takes the failure's status (404 for logins of another entity).
func (h *core) each(r *http.Request, pt *kit.Signed, v entityView, chosen []string, t map[string]string,
	do func(a storage.Actor, euid string) (okKey string, err error), conflictKey string,
) (results rightsResults, firstErr error, err error) {
	a := h.actor(r, pt)
	succeeded := false
	for _, euid := range chosen {
		label := euid
		if sl, ok := v.byEUID(euid); ok {
			label = staffLabel(sl)
		}
		okKey, err := do(a, euid)
		key := okKey
		switch code := storage.CodeOf(err); code {
		case "":
			succeeded = true
		case storage.ENotFound:
			key = "nav_result_not_found"
		case storage.EConflict:
			key = conflictKey
		case storage.EForbidden:
			key = "nav_result_forbidden"
		default:
			return results, nil, err
		}
		if err != nil && firstErr == nil {
			firstErr = kit.Fail(storage.CodeOf(err), key)
		}
		results = append(results, rightsResult{OK: err == nil, Message: strings.ReplaceAll(t[key], "{login}", label)})
	}
	if succeeded {
		firstErr = nil
	}
	return results, firstErr, nil
}
