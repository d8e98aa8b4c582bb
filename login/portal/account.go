package portal

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/credential"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/password"
	"github.com/entity-account/idp/login/signin"
)

// accountPages is the account's own area: 「個人資料」 (profile.go),
// 「變更密碼」 (password.go) and a staff login's 電子身份識別工具
// (tools*.go), each acting for the session's own account only.
type accountPages struct {
	*core
	signin    *signin.Handler // the old password guarded like a sign-in; the fresh session
	hasher    *password.Hasher
	passwords *credential.Passwords
}

// Mount registers the account's pages; the identity-tool pages only when on.
func (h *accountPages) Mount(r *mux.Router) {
	get, post := []string{http.MethodGet, http.MethodHead}, http.MethodPost
	r.Handle(profilePath, h.serve(h.showProfile)).Methods(get...)
	r.Handle(passwordPath, h.serve(h.showPassword)).Methods(get...)
	r.Handle(passwordPath, kit.SameOrigin(h.serve(h.submitPassword))).Methods(post)
	if h.tools == nil {
		return
	}
	r.Handle(toolsPath, h.serveTools(h.showTools)).Methods(get...)
	r.Handle(totpPath, h.serveTools(h.showTOTP)).Methods(get...)
	r.Handle(totpPath, kit.SameOrigin(h.serveTools(h.submitTOTP))).Methods(post)
	r.Handle(passkeysPath, h.serveTools(h.showPasskeys)).Methods(get...)
	r.Handle(passkeysPath, kit.SameOrigin(h.serveTools(h.submitPasskeys))).Methods(post)
}
