package portal

import (
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// 強制登出 and 解除鎖定 on a login's page (staff_detail.go), and the
// lockout it shows: the use cases (manage.ForceSignOut, LiftLockout) ask
// the rule book and find the login in the account's own entity only, so
// another entity's EUID is not found and nothing is done.

// entityOf is the signed-in account's entity, as its session's account
// was read for this request.
func entityOf(sr *staffRequest) storage.Entity {
	return storage.Entity{ID: sr.pt.Principal.EntityID, Number: sr.pt.Principal.EntityNumber}
}

// lockedUntil is until when failed sign-ins lock the login of username,
// in Macau time, "" when they do not. A store that cannot say leaves the
// line blank rather than the page unshown.
func (h *staffPages) lockedUntil(r *http.Request, sr *staffRequest, username string) string {
	until, err := h.admin.Manage.Lockouts(r.Context(), sr.actor, entityOf(sr), []string{username})
	if err != nil {
		slog.WarnContext(r.Context(), "read a staff login's lockout", "err", err)
		return ""
	}
	if until[0].IsZero() {
		return ""
	}
	return kit.Until(until[0], h.k.Now())
}

// markLockouts marks the list's rows (out, made from rows) with their
// lockouts, read for the whole page at once.
func (h *staffPages) markLockouts(r *http.Request, sr *staffRequest, rows []storage.StaffListRow, out []staffListRow) error {
	usernames := make([]string, len(rows))
	for i, row := range rows {
		usernames[i] = row.Username
	}
	until, err := h.admin.Manage.Lockouts(r.Context(), sr.actor, entityOf(sr), usernames)
	if err != nil {
		return err
	}
	now := h.k.Now()
	for i, u := range until {
		if !u.IsZero() {
			out[i].LockedUntil = kit.Until(u, now)
		}
	}
	return nil
}

// forceSignOut is 強制登出: every session and token of the login ends.
func (h *staffPages) forceSignOut(w http.ResponseWriter, r *http.Request) error {
	sr, err := h.staffPost(w, r)
	if sr == nil {
		return err
	}
	euid := mux.Vars(r)["euid"]
	if _, err := h.admin.Manage.ForceSignOut(r.Context(), sr.actor, sr.pt.Principal.EntityID, euid); err != nil {
		return err
	}
	http.Redirect(w, r, h.staffURL(euid, "?done=signed-out"), http.StatusSeeOther)
	return nil
}

// liftLockout is 解除鎖定; a login no lockout holds (any more) shows its
// page again with the reason.
func (h *staffPages) liftLockout(w http.ResponseWriter, r *http.Request) error {
	sr, err := h.staffPost(w, r)
	if sr == nil {
		return err
	}
	ctx, euid := r.Context(), mux.Vars(r)["euid"]
	_, err = h.admin.Manage.LiftLockout(ctx, sr.actor, entityOf(sr), euid)
	if storage.CodeOf(err) == storage.EConflict {
		d, derr := h.admin.Manage.StaffDetail(ctx, sr.actor, sr.pt.Principal.EntityID, euid, h.k.Now())
		if derr != nil {
			return derr
		}
		return kit.InForm(err, func(status int, key string) { h.renderStaff(w, r, sr, d, status, "", sr.t[key]) })
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, h.staffURL(euid, "?done=unlocked"), http.StatusSeeOther)
	return nil
}
