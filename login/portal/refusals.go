package portal

import (
	"errors"
	"net/http"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// The portal's refusals (403, 404, and the other answers to a request the
// portal will not do) are drawn inside the portal's own page for a
// signed-in account: its navigation stays, so that a person who followed a
// stale link or lost a right finds the way on, and each offers a way back
// (the page's own link, else 個人資料). Without a session the kit's plain
// message page answers, as for the sign-in.

// refusalPage is account_message.html: a refusal inside the portal's chrome.
type refusalPage struct {
	chrome
	Heading, Message, LinkURL, LinkText string
}

// framed is look with the portal's frame around its refusals; a refusal
// that names no way on leads to back (a path under the issuer, and the
// catalogue key of its text), by default 個人資料.
func (h *core) framed(look kit.ErrorPages, back ...string) kit.ErrorPages {
	backPath, backText := profilePath, "account_back"
	if len(back) == 2 {
		backPath, backText = back[0], back[1]
	}
	look.Frame = func(w http.ResponseWriter, r *http.Request, ref kit.Refused) bool {
		if ref.Link == "" {
			ref.Link, ref.LinkText = backPath, backText
		}
		return h.frame(w, r, ref)
	}
	return look
}

// frame draws ref inside the portal for the signed-in account, with the
// navigation its rights give it now; it declines (false) without one.
func (h *core) frame(w http.ResponseWriter, r *http.Request, ref kit.Refused) bool {
	pt, err := h.k.SignedIn(r)
	if err != nil || pt == nil {
		return false
	}
	ch := h.chrome(w, r, pt, h.language(r, pt.Principal), "")
	link, text := ref.Link, ref.LinkText
	h.render.message(w, ref.Status, refusalPage{chrome: ch,
		Heading: ch.T[ref.Heading], Message: ch.T[ref.Message], LinkURL: h.k.BasePath + link, LinkText: ch.T[text]})
	return true
}

// refused is the answer to an account the rule book does not let open a
// page (403), whatever the use case's own words.
func refused() error {
	return kit.Fail(storage.EForbidden, "nav_forbidden").WithHeading("nav_forbidden_heading").WithLink(profilePath, "account_back")
}

// notFound is the answer for an address of the portal that names nothing
// the account's entity has (404).
func notFound() error {
	return kit.Fail(storage.ENotFound, "nav_not_found").WithHeading("nav_not_found_heading").WithLink(profilePath, "account_back")
}

// inOwnWords gives a refusal or a not-found that brings no message of its
// own the portal's; other errors pass.
func inOwnWords(err error) error {
	var own *storage.Error
	if err == nil || errors.As(err, &own) && own.Key != "" {
		return err
	}
	switch storage.CodeOf(err) {
	case storage.EForbidden:
		return refused()
	case storage.ENotFound:
		return notFound()
	}
	return err
}

// showNotFound answers an address under /account that no page has.
func (h *core) showNotFound(http.ResponseWriter, *http.Request) error { return notFound() }
