package portal

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
)

// A fresh sign-in for a change of identity tools: whoever holds a session
// left open must not be able to add a tool of their own to someone else's
// login, or remove the person's. A POST that enrols or removes a tool is
// taken only when the password was typed in the session within
// Tools.Reauth (storage.PasswordTypedWithin); otherwise the page asks for
// the password again, in place of its forms. A session opened with a
// passkey alone never had the password typed, so it asks too: one tool
// does not vouch for adding or removing others (a found or shared device
// would otherwise enrol its own and remove the holder's), and the password
// with the session's passkey makes the change rest on two factors.
// The password is checked under the sign-in's counters (a wrong one counts
// as a failed sign-in, as the old password of 變更密碼 does); a right one is
// recorded in the session, whose auth_time moves to now (so do the
// auth_time claims of tokens issued under it from then on), and the browser
// goes back to the page it was on.

// errReauthNeeded refuses a change of identity tools while the session's
// password is not fresh (403): nothing is done, and the page asks for it.
var errReauthNeeded = kit.Fail(storage.EForbidden, "tools_reauth_needed")

// reauthForm is the password re-entry form of a page.
type reauthForm struct {
	Username string // for password managers
	Error    string // the refusal of the password typed, tied to its field
}

// reauthenticate checks the password of a re-entry form posted to the page
// at path. When it is right it records it in the session and sends the
// browser back to path (303), and returns nil; a session that ended
// meanwhile goes to the portal's sign-in. Otherwise it returns the
// refusal to show with the form (a code and a message key, for the one
// error writer), or a failure.
func (h *accountPages) reauthenticate(w http.ResponseWriter, r *http.Request, tr *toolRequest, path string) error {
	ctx := r.Context()
	p := tr.pt.Principal
	pw := r.PostForm.Get("password")
	if pw == "" {
		return kit.Fail(storage.EInvalid, "tools_reauth_missing")
	}
	att, wait, err := h.signin.ReserveAttempt(ctx, r, p.EntityNumber, p.Username)
	if err != nil {
		return err
	}
	if att == nil {
		return kit.FailWait(storage.ETooMany, "error_throttled", wait)
	}
	right, _, err := h.hasher.Verify(ctx, p.PasswordHash, pw)
	if errors.Is(err, password.ErrBusy) {
		att.GiveBack(ctx)
		return kit.FailBusy()
	}
	if err != nil {
		att.GiveBack(ctx)
		return err
	}
	if !right {
		slog.InfoContext(ctx, "identity tools: wrong password re-entered", "subject", p.Subject, "ip", h.k.ClientIP(r))
		return kit.Fail(storage.EUnauthenticated, "tools_reauth_wrong")
	}
	att.Succeeded(ctx)
	c, err := r.Cookie(idpop.SessionCookie)
	if err != nil {
		return errors.New("identity tools: the signed-in request has no session cookie")
	}
	now := h.k.Now().UTC().Truncate(time.Second)
	sess, err := h.k.State.ProveInSession(ctx, c.Value, func(s *storage.Session) { s.AuthTime, s.PasswordAt = now, now })
	if errors.Is(err, storage.ErrNotFound) {
		// Ended meanwhile (signed out elsewhere, a password change).
		http.Redirect(w, r, h.k.BasePath+LoginPath, http.StatusSeeOther)
		return nil
	}
	if err != nil {
		return err
	}
	if sess.SessionID != tr.pt.Session.SessionID {
		return errors.New("identity tools: the session proven is not the request's")
	}
	slog.InfoContext(ctx, "identity tools: password proven again", "subject", p.Subject, "sid", sess.SessionID, "ip", h.k.ClientIP(r))
	http.Redirect(w, r, h.k.BasePath+path+"?done=reauth", http.StatusSeeOther)
	return nil
}
