package portal

import (
	"net/http"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// 關聯狀態: an admin sets a login's association with the
// entity to 已刪除 (it cannot sign in anywhere any more, its sessions and
// tokens end, its open activation code is void) or back to 生效中. Deleting
// is confirmed in the same form.

type staffStatusPage struct {
	chrome
	CSRF     string
	Action   string
	BackURL  string
	EUID     string
	Entity   string // 實體: number and name
	User     string // 用戶: username, or the EUID before activation
	Options  []formOption
	Deleted  bool   // the login is deleted now
	Error    string // role=alert
	Confirm  string // the confirmation's error, next to it
	Checked  bool   // the confirmation as submitted
	StatusEr string // the choice's error, next to it
}

func (h *staffPages) renderStaffStatus(w http.ResponseWriter, r *http.Request, sr *staffRequest, d manage.StaffDetail, status int, chosen string, p staffStatusPage) {
	t := sr.t
	ch := h.chrome(w, r, sr.pt, sr.lang, "staff")
	p.chrome, p.CSRF = ch, ch.LogoutCSRF
	p.Action, p.BackURL, p.EUID = h.staffURL(d.EUID, "/status"), h.staffURL(d.EUID), d.EUID
	pr := sr.pt.Principal
	p.Entity = pr.EntityNumber + " " + storage.Names{ZH: pr.EntityNameZH, PT: pr.EntityNamePT}.In(sr.lang)
	p.User = d.Username
	if p.User == "" {
		p.User = d.EUID
	}
	p.Deleted = d.Status == storage.StatusDeleted
	if chosen == "" {
		chosen = string(d.Status)
	}
	p.Options = options(t, "staff_status_", []string{string(storage.StatusActive), string(storage.StatusDeleted)}, chosen)
	h.render.staffStatus(w, status, p)
}

// showStaffStatus is the 關聯狀態 form of a login.
func (h *staffPages) showStaffStatus(w http.ResponseWriter, r *http.Request) error {
	sr, d, err := h.staffOf(w, r, h.staffSignedIn)
	if sr == nil {
		return err
	}
	h.renderStaffStatus(w, r, sr, d, http.StatusOK, "", staffStatusPage{})
	return nil
}

// setStaffStatus is 更新: 已刪除 (confirmed) deletes the login, 生效中
// restores it.
func (h *staffPages) setStaffStatus(w http.ResponseWriter, r *http.Request) error {
	sr, d, err := h.staffOf(w, r, h.staffPost)
	if sr == nil {
		return err
	}
	ctx, entityID := r.Context(), sr.pt.Principal.EntityID
	chosen, confirmed := r.PostForm.Get("status"), r.PostForm.Get("confirm") == "yes"
	again := func(key string, p staffStatusPage) func(int, string) {
		return func(status int, _ string) {
			p.Error, p.Checked = sr.t[key], confirmed
			h.renderStaffStatus(w, r, sr, d, status, chosen, p)
		}
	}
	var done string
	switch storage.AssociationStatus(chosen) {
	case storage.StatusDeleted:
		if !confirmed {
			return kit.InForm(kit.Fail(storage.EInvalid, "staff_error_confirm"),
				again("staff_error_fields", staffStatusPage{Confirm: sr.t["staff_error_confirm"]}))
		}
		_, err = h.admin.Manage.DeleteStaff(ctx, sr.actor, entityID, d.EUID)
		done = "deleted"
	case storage.StatusActive:
		_, err = h.admin.Manage.RestoreStaff(ctx, sr.actor, entityID, d.EUID)
		done = "restored"
	default:
		return kit.InForm(kit.Fail(storage.EInvalid, "staff_error_status"),
			again("staff_error_fields", staffStatusPage{StatusEr: sr.t["staff_error_status"]}))
	}
	if storage.CodeOf(err) == storage.EConflict { // already as chosen
		return kit.InForm(kit.Fail(storage.EConflict, "staff_error_status_same"), again("staff_error_status_same", staffStatusPage{}))
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.staffURL(d.EUID, "?done="+done), http.StatusSeeOther)
	return nil
}
