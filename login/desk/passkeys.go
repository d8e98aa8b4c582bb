package desk

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/storage"
)

// 通行密鑰 at the desk (/me/passkeys): the officer's own passkeys, a second
// factor beside its 安全驗證碼. Adding or removing one asks for the password
// again first (its proof lives in a cookie of this page, bound to the desk
// session, for officers.ReauthLife). The add form follows
// static/passkey.js's contract (see login/portal/tools_passkeys.go).
// Only when the desk has an origin (IDP_DESK_ORIGIN) with a host name.

const (
	passkeysPath = "/me/passkeys"
	// reauthCookie carries the proof of the password typed again.
	reauthCookie = "idp_desk_reauth"
)

type passkeyPages struct{ *core }

// Mount registers the officer's passkey page. The sign-in's passkey step
// posts to the code's address (its ticket's cookie is sent there only):
// authPages.postCode hands it to signInPasskey.
func (h *passkeyPages) Mount(r *mux.Router) {
	r.Handle(passkeysPath, h.page(storage.ActUseDesk, h.show)).Methods(http.MethodGet)
	r.Handle(passkeysPath, h.page(storage.ActUseDesk, h.submit)).Methods(http.MethodPost)
}

type passkeyRow struct {
	ID               int64
	Name             string
	Added, LastUsed  string
	Synced, Platform bool
}

// passkeysPage is desk_passkeys.html.
type passkeysPage struct {
	Chrome
	Rows []passkeyRow
	Max  int
	// Fresh: the password was typed again; the page offers its changes.
	Fresh bool
	// The add form: the options for the browser (JSON) and their state.
	AddForm         bool
	Options, State  string
	Name, NameError string
	PasswordError   string
	Done, Error     string
}

func (h *passkeyPages) proof(r *http.Request) string { return cookieValue(r, reauthCookie) }

// render shows the page as the officer's passkeys stand, changed by edit;
// with the add form it starts a new enrolment.
func (h *passkeyPages) render(w http.ResponseWriter, r *http.Request, d *Desk, status int, edit func(*passkeysPage)) error {
	ctx := r.Context()
	list, err := h.Officers.Passkeys(ctx, d.Officer)
	if err != nil {
		return err
	}
	p := passkeysPage{Chrome: d.Chrome("passkeys"), Max: storage.MaxOfficerPasskeys,
		Fresh: h.Officers.Fresh(ctx, d.Officer, d.Session.ID, h.proof(r))}
	for _, k := range list {
		last := "—"
		if k.LastUsedAt != nil {
			last = macauTime(k.LastUsedAt)
		}
		p.Rows = append(p.Rows, passkeyRow{ID: k.ID, Name: k.Name, Added: macauTime(&k.CreatedAt), LastUsed: last,
			Synced: k.BackupState, Platform: k.Attachment == "platform"})
	}
	p.AddForm = p.Fresh && len(list) < storage.MaxOfficerPasskeys
	if edit != nil {
		edit(&p)
	}
	if p.AddForm {
		options, state, err := h.Officers.BeginAddPasskey(ctx, d.Officer, d.Session.ID, h.proof(r))
		if err != nil {
			return err
		}
		p.Options, p.State = string(options), state
		kit.AllowOwnScripts(w)
	}
	h.k.Render(w, status, "desk_passkeys.html", p)
	return nil
}

func (h *passkeyPages) enabled() error {
	if !h.Officers.PasskeysEnabled() {
		return kit.Fail(storage.ENotFound, "desk_passkeys_unavailable")
	}
	return nil
}

func (h *passkeyPages) show(w http.ResponseWriter, r *http.Request, d *Desk) error {
	if err := h.enabled(); err != nil {
		return err
	}
	done := r.URL.Query().Get("done")
	return h.render(w, r, d, http.StatusOK, func(p *passkeysPage) {
		switch done {
		case "added", "removed", "reauth":
			p.Done = d.T()["desk_passkeys_done_"+done]
		}
	})
}

// again shows the page with the message of err where set puts it.
func (h *passkeyPages) again(w http.ResponseWriter, r *http.Request, d *Desk, err error, set func(p *passkeysPage, msg string)) error {
	return kit.InForm(err, func(status int, key string) {
		if rerr := h.render(w, r, d, status, func(p *passkeysPage) { set(p, kit.Say(d.T(), key, err)) }); rerr != nil {
			h.k.Error(w, r, h.look(), rerr)
		}
	})
}

// submit takes the page's forms: the password again, 新增, 移除.
func (h *passkeyPages) submit(w http.ResponseWriter, r *http.Request, d *Desk) error {
	if err := h.enabled(); err != nil {
		return err
	}
	ctx := r.Context()
	done := ""
	switch r.PostFormValue("step") {
	case "reauth":
		proof, err := h.Officers.ConfirmPassword(ctx, d.Officer, d.Session.ID, r.PostFormValue("password"), h.meta(r))
		if err != nil {
			return h.again(w, r, d, err, func(p *passkeysPage, msg string) { p.PasswordError = msg })
		}
		http.SetCookie(w, &http.Cookie{Name: reauthCookie, Value: proof, Path: passkeysPath, HttpOnly: true, Secure: h.k.SecureCookies,
			SameSite: http.SameSiteStrictMode, MaxAge: int(officers.ReauthLife / time.Second)})
		done = "reauth"
	case "add":
		name := strings.TrimSpace(r.PostFormValue("name"))
		credential := r.PostFormValue("credential")
		var err error
		if credential == "" {
			err = kit.Fail(storage.EInvalid, "desk_passkeys_err_no_credential")
		} else {
			_, err = h.Officers.Via(d.Actor).FinishAddPasskey(ctx, d.Officer, d.Session.ID, h.proof(r), r.PostFormValue("state"), name, []byte(credential))
		}
		if err != nil {
			return h.again(w, r, d, err, func(p *passkeysPage, msg string) {
				p.Name = name
				if e, ok := err.(*storage.Error); ok && e.Field == "name" {
					p.NameError = msg
				} else {
					p.Error = msg
				}
			})
		}
		done = "added"
	case "remove":
		id, err := strconv.ParseInt(r.PostFormValue("passkey"), 10, 64)
		if err != nil || id <= 0 {
			err = kit.Fail(storage.ENotFound, "desk_passkeys_err_not_found")
		} else {
			err = h.Officers.Via(d.Actor).RemovePasskey(ctx, d.Officer, d.Session.ID, h.proof(r), id)
		}
		if err != nil {
			return h.again(w, r, d, err, func(p *passkeysPage, msg string) { p.Error = msg })
		}
		done = "removed"
	default:
		return kit.Fail(storage.EInvalid, "desk_error_form_expired")
	}
	http.Redirect(w, r, passkeysPath+"?done="+done, http.StatusSeeOther)
	return nil
}

// ---- the sign-in's passkey step ----

// offerPasskey puts the passkey form on the code's page when the ticket's
// officer holds passkeys (a stale ticket is answered by the code's form).
func (c *core) offerPasskey(w http.ResponseWriter, r *http.Request, p *authPage) {
	ticket := cookieValue(r, stepCookie)
	if ticket == "" {
		return
	}
	options, state, ok, err := c.Officers.SignInPasskeyOptions(r.Context(), ticket)
	if err != nil || !ok {
		return
	}
	p.Passkey, p.PasskeyOptions, p.PasskeyState = true, string(options), state
	kit.AllowOwnScripts(w)
}

// signInPasskey is the code's page posted with a passkey (method
// "passkey"): the desk session opens with the factor "passkey".
func (h *authPages) signInPasskey(w http.ResponseWriter, r *http.Request) error {
	p := h.authPage(w, r, signInCodePath, "code")
	p.Next = localNext(r.PostFormValue("next"))
	o, err := h.Officers.SignInPasskey(r.Context(), cookieValue(r, stepCookie), r.PostFormValue("state"),
		[]byte(r.PostFormValue("credential")), h.meta(r))
	if err != nil {
		if errKey(err) == "desk_auth_err_stale" {
			h.clearStepCookie(w, stepCookie, signInCodePath)
			p.Step = "password"
		} else {
			h.offerPasskey(w, r, &p)
		}
		return h.inForm(w, err, "desk_signin.html", p)
	}
	h.clearStepCookie(w, stepCookie, signInCodePath)
	return h.signIn(w, r, o, "passkey", p.Next)
}
