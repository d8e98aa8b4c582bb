package kit

import (
	"errors"
	"net/http"

	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
)

// SessionCookie is the SSO session cookie; maxAge < 0 deletes it.
func (k *Kit) SessionCookie(secret string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: idpop.SessionCookie, Value: secret, Path: k.CookiePath(),
		MaxAge: maxAge, HttpOnly: true, Secure: k.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
}

// Signed is the browser's live session and the account it is for.
type Signed struct {
	Session   *storage.Session
	Principal storage.Principal
	// Access is the account's access to the e-service asked about
	// (SignedInAt), read together with Principal; nil when not asked.
	// Whether it admits the login is not decided here: the sign-in asks
	// the rule book (storage.ServiceUseRefusal).
	Access *storage.ServiceAccess
}

// SignedIn returns the browser's live SSO session and its account, or nil
// when there is none or the account may no longer sign in (deleted, entity
// closed): a session may outlive a deletion. Sessions from an e-service
// sign-in count: a staff login signed in there is signed in at the portal.
// An error means a store could not say.
func (k *Kit) SignedIn(r *http.Request) (*Signed, error) { return k.SignedInAt(r, 0) }

// SignedInAt is SignedIn that also reads, in the same round trip as the
// account, a staff login's access to the e-service serviceID (0: none).
func (k *Kit) SignedInAt(r *http.Request, serviceID int64) (*Signed, error) {
	ctx := r.Context()
	c, err := r.Cookie(idpop.SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, err := k.State.Session(ctx, c.Value, k.SessionIdle)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p storage.Principal
	var access *storage.ServiceAccess
	if serviceID != 0 && sess.Kind == storage.KindStaff {
		var a storage.ServiceAccess
		p, a, err = k.Dir.PrincipalInService(ctx, sess.Subject, sess.LoginID, serviceID)
		access = &a
	} else {
		p, err = k.Dir.PrincipalBySubject(ctx, sess.Subject)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !p.CanSignIn() || p.Kind != sess.Kind || p.ID != sess.LoginID {
		return nil, nil
	}
	return &Signed{Session: sess, Principal: p, Access: access}, nil
}
