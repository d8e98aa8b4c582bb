package kit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
)

// csrf protects the login form with a double-submit token bound to the
// browser and to the auth request: a random cookie, and in the form an HMAC
// of (cookie, auth request id) under a server key. A page on another site can
// neither read the cookie nor compute the token.
type csrf struct {
	key        []byte
	cookieName string
	path       string
	secure     bool
}

// token returns the form token for this browser and request, setting the
// browser cookie if it has none.
func (c *csrf) token(w http.ResponseWriter, r *http.Request, authRequestID string) string {
	secret := ""
	if ck, err := r.Cookie(c.cookieName); err == nil && len(ck.Value) >= 32 {
		secret = ck.Value
	} else {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		secret = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: c.cookieName, Value: secret, Path: c.path,
			HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	}
	return c.mac(secret, authRequestID)
}

// valid reports whether the form's token matches this browser's cookie.
func (c *csrf) valid(r *http.Request, authRequestID, formToken string) bool {
	ck, err := r.Cookie(c.cookieName)
	if err != nil || ck.Value == "" || formToken == "" {
		return false
	}
	return hmac.Equal([]byte(formToken), []byte(c.mac(ck.Value, authRequestID)))
}

func (c *csrf) mac(secret, authRequestID string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(secret))
	m.Write([]byte{0})
	m.Write([]byte(authRequestID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CSRFToken is the form token of binding (what the form is for: an auth
// request, a session, a page) for this browser; it sets the browser's CSRF
// cookie if there is none.
func (k *Kit) CSRFToken(w http.ResponseWriter, r *http.Request, binding string) string {
	return k.csrf.token(w, r, binding)
}

// CSRFValid reports whether a submitted form token is this browser's for binding.
func (k *Kit) CSRFValid(r *http.Request, binding, formToken string) bool {
	return k.csrf.valid(r, binding, formToken)
}
