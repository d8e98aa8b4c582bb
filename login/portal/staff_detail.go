package portal

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/manage"
	"github.com/entity-account/idp/storage"
)

// A staff login's page in the staff area (staff.go): its data, its
// activation state and the buttons that send it a new code.

// codeButton is one of 手機短訊 / 電子郵件: whether it can send, and why not.
type codeButton struct {
	Channel string
	Label   string
	Enabled bool
	Reason  string // why it is disabled; its id is Channel_reason
}

type staffPage struct {
	chrome
	CSRF        string
	EUID        string
	Rows        []profileRow
	Activated   bool
	Deleted     bool
	LastSent    string
	ActivatedAt string
	Buttons     []codeButton
	Notice      string // success, role=status
	Error       string // refusal, role=alert
	EditURL     string
	StatusURL   string
	CodeURL     string
	ResetURL    string // 重設密碼, for an activated login that is not deleted ("" otherwise)
	ListURL     string
	StatusLabel string
	// LockedUntil: too many failed sign-ins lock the login until then
	// (Macau time; "" when not locked); SignOutURL and UnlockURL are the
	// forms of 強制登出 and 解除鎖定 (staff_signout.go).
	LockedUntil           string
	SignOutURL, UnlockURL string
}

// staffNotices are the messages a login's page shows after a change that
// redirected to it (?done=…): only these keys, nothing taken from the address.
var staffNotices = map[string]string{
	"created-sms":   "staff_done_created_sms",
	"created-email": "staff_done_created_email",
	"sent-sms":      "staff_done_sent_sms",
	"sent-email":    "staff_done_sent_email",
	"edited":        "staff_done_edited",
	"signed-out":    "staff_done_signed_out",
	"unlocked":      "staff_done_unlocked",
	"deleted":       "staff_done_deleted",
	"restored":      "staff_done_restored",
	"reset-sms":     "staff_done_reset_sms",
	"reset-email":   "staff_done_reset_email",
}

// showStaff is a login's page (點選指定人員): its registration data, EUID,
// 啟動狀況, 最後發送啟動碼時間, 啟動工作人員登入號時間, and the buttons that
// send it a new activation code.
func (h *staffPages) showStaff(w http.ResponseWriter, r *http.Request) error {
	sr, d, err := h.staffOf(w, r, h.staffSignedIn)
	if sr == nil {
		return err
	}
	notice := sr.t[staffNotices[r.URL.Query().Get("done")]]
	h.renderStaff(w, r, sr, d, http.StatusOK, notice, "")
	return nil
}

func (h *staffPages) renderStaff(w http.ResponseWriter, r *http.Request, sr *staffRequest, d manage.StaffDetail, status int, notice, errMsg string) {
	t := sr.t
	ch := h.chrome(w, r, sr.pt, sr.lang, "staff")
	ch.Common = h.k.CommonAt(r, sr.lang, h.staffURL(d.EUID))
	p := staffPage{
		chrome: ch, CSRF: ch.LogoutCSRF, EUID: d.EUID,
		Rows:      h.staffRows(sr, d.StaffLogin),
		Activated: d.ActivatedAt != nil, Deleted: d.Status == storage.StatusDeleted,
		Notice: notice, Error: errMsg,
		EditURL: h.staffURL(d.EUID, "/edit"), StatusURL: h.staffURL(d.EUID, "/status"),
		CodeURL: h.staffURL(d.EUID, "/code"), ListURL: h.k.BasePath + staffPath,
		StatusLabel: t["staff_status_"+string(d.Status)],
		LockedUntil: h.lockedUntil(r, sr, d.Username),
		SignOutURL:  h.staffURL(d.EUID, "/signout"), UnlockURL: h.staffURL(d.EUID, "/unlock"),
	}
	if d.LastCodeSent != nil {
		p.LastSent = d.LastCodeSent.In(staffZone).Format("2006-01-02 15:04") + " (" + t["staff_channel_"+string(d.LastCodeChannel)] + ")"
	}
	if d.ActivatedAt != nil {
		p.ActivatedAt = d.ActivatedAt.In(staffZone).Format("2006-01-02 15:04")
	}
	if h.admin.Recovery != nil && storage.CanResetPassword(sr.actor, d.StaffLogin) {
		p.ResetURL = h.staffURL(d.EUID, "/reset-password")
	}
	for _, b := range []struct {
		ch      storage.Channel
		address string
	}{{storage.ChannelSMS, d.Mobile}, {storage.ChannelEmail, d.Email}} {
		btn := codeButton{Channel: string(b.ch), Label: t["staff_channel_"+string(b.ch)], Enabled: true}
		switch {
		case p.Deleted:
			btn.Enabled, btn.Reason = false, t["staff_code_off_deleted"]
		case p.Activated:
			btn.Enabled, btn.Reason = false, t["staff_code_off_activated"]
		case b.address == "":
			btn.Enabled, btn.Reason = false, t["staff_code_off_no_"+string(b.ch)]
		}
		p.Buttons = append(p.Buttons, btn)
	}
	h.render.staff(w, status, p)
}

// staffRows lays a login's registration out in the page's language.
func (h *staffPages) staffRows(sr *staffRequest, sl storage.StaffLogin) []profileRow {
	t := sr.t
	row := func(id, key, value string) profileRow {
		if value == "" {
			value = "—"
		}
		return profileRow{ID: id, Label: t[key], Value: value}
	}
	birth := ""
	if !sl.BirthDate.IsZero() {
		birth = sl.BirthDate.Format("2006-01-02")
	}
	return []profileRow{
		row("sl_username", "username", sl.Username),
		row("sl_euid", "account_euid", sl.EUID),
		row("sl_name_zh", "account_name_zh", sl.NameZH),
		row("sl_name_foreign", "account_name_foreign", sl.NameForeign),
		row("sl_id_doc_type", "account_id_doc_type", labelOf(t, "staff_doc_", sl.IDDocType)),
		row("sl_id_doc_number", "account_id_doc_number", sl.IDDocNumber),
		row("sl_id_doc_issue_place", "account_id_doc_issue_place", sl.IDDocIssuePlace),
		row("sl_birth_date", "account_birth_date", birth),
		row("sl_mobile", "account_mobile", sl.Mobile),
		row("sl_email", "account_email", sl.Email),
		row("sl_language", "account_language", labelOf(t, "staff_lang_", sl.Language)),
	}
}

// sendCode is 手機短訊 / 電子郵件 on a login's page: a new activation code to
// its registered mobile or e-mail. A refusal (the limit, nowhere to send)
// shows the page again with the reason.
func (h *staffPages) sendCode(w http.ResponseWriter, r *http.Request) error {
	sr, err := h.staffPost(w, r)
	if sr == nil {
		return err
	}
	ctx, entityID, euid := r.Context(), sr.pt.Principal.EntityID, mux.Vars(r)["euid"]
	ch := storage.Channel(r.PostForm.Get("channel"))
	if ch != storage.ChannelSMS && ch != storage.ChannelEmail {
		return kit.Fail(storage.EInvalid, "staff_error_channel")
	}
	err = h.admin.Manage.SendCode(ctx, sr.actor, h.admin.Activation, entityID, euid, ch)
	if storage.CodeOf(err) == storage.EConflict { // the login's state refuses: say so on its page
		d, derr := h.admin.Manage.StaffDetail(ctx, sr.actor, entityID, euid, h.k.Now())
		if derr != nil {
			return derr
		}
		return kit.InForm(err, func(status int, key string) { h.renderStaff(w, r, sr, d, status, "", sr.t[key]) })
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.staffURL(euid, "?done=sent-"+string(ch)), http.StatusSeeOther)
	return nil
}
