package portal

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/storage"
)

// resetPassword is 「重設密碼」 on a login's page: a reset code goes to the
// login's registered mobile (else e-mail) through the use case
// (recovery.Service.ResetStaff, which asks storage.CanResetPassword); the
// admin never sees, types or chooses a password. A login of another
// entity is not found and nothing is written; a refusal of the login's
// state shows its page again with the reason.
func (h *staffPages) resetPassword(w http.ResponseWriter, r *http.Request) error {
	sr, err := h.staffPost(w, r)
	if sr == nil {
		return err
	}
	if h.admin.Recovery == nil {
		return &storage.Error{Code: storage.ENotFound, Message: "password reset is not enabled"}
	}
	ctx, entityID, euid := r.Context(), sr.pt.Principal.EntityID, mux.Vars(r)["euid"]
	sent, err := h.admin.Recovery.ResetStaff(ctx, sr.actor, entityID, euid)
	if storage.CodeOf(err) == storage.EConflict {
		d, derr := h.admin.Manage.StaffDetail(ctx, sr.actor, entityID, euid, h.k.Now())
		if derr != nil {
			return derr
		}
		var refusal *storage.Error
		key := "reset_error_not_active"
		if errors.As(err, &refusal) && refusal.Key != "" {
			key = refusal.Key
		}
		h.renderStaff(w, r, sr, d, http.StatusConflict, "", sr.t[key])
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.staffURL(euid, "?done=reset-"+string(sent.Channel)), http.StatusSeeOther)
	return nil
}
