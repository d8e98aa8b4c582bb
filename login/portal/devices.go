package portal

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/devices"
	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// 已登入的裝置: the signed-in account's live browser sessions (when each
// started and was last seen, from which address, with which browser and
// system, the e-services it signed in to, the level reached), each but the
// one in use with 登出此裝置, and 登出所有其他裝置. Every account has it,
// for its own sessions only: the use case (login/devices) lists and ends
// the sessions of the session's own account, so a sid of anyone else's is
// not found and nothing ends.

const devicesPath = "/account/devices"

// devicePages is the area of 已登入的裝置.
type devicePages struct {
	*core
	devices *devices.Service
}

// Mount registers the page and its form.
func (h *devicePages) Mount(r *mux.Router) {
	r.Handle(devicesPath, h.serve(h.showDevices)).Methods(http.MethodGet, http.MethodHead)
	r.Handle(devicesPath, kit.SameOrigin(h.serve(h.endDevices))).Methods(http.MethodPost)
}

type devicesPage struct {
	chrome
	CSRF   string
	Rows   []deviceRow
	Others bool   // a session other than this one is live
	Notice string // role=status
}

type deviceRow struct {
	SID, Device, Address string
	Started, LastSeen    string
	Services             string // their names, or "—"
	Level                string
	Current              bool
}

// deviceNotices are what the page says after its form redirected to it
// (?done=…): only these keys, nothing taken from the address.
var deviceNotices = map[string]string{"ended": "devices_done_ended", "others": "devices_done_others"}

func (h *devicePages) showDevices(w http.ResponseWriter, r *http.Request) error {
	h.k.RememberLanguage(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	list, err := h.devices.List(r.Context(), h.actor(r, pt), pt.Session.SessionID)
	if err != nil {
		return inOwnWords(err)
	}
	lang := h.language(r, pt.Principal)
	ch := h.chrome(w, r, pt, lang, "devices")
	p := devicesPage{chrome: ch, CSRF: ch.LogoutCSRF, Notice: ch.T[deviceNotices[r.URL.Query().Get("done")]]}
	for _, d := range list {
		p.Rows = append(p.Rows, deviceRowOf(ch.T, lang, d))
		p.Others = p.Others || !d.Current
	}
	h.render.devices(w, p)
	return nil
}

// deviceRowOf lays a session out in the page's language.
func deviceRowOf(t map[string]string, lang string, d devices.Device) deviceRow {
	row := deviceRow{SID: d.SessionID, Current: d.Current, Address: d.Device.IP,
		Started: d.CreatedAt.In(kit.Macau).Format("2006-01-02 15:04"), LastSeen: d.LastSeenAt.In(kit.Macau).Format("2006-01-02 15:04")}
	browser, system := d.Device.Browser, d.Device.System
	switch {
	case browser != "" && system != "":
		row.Device = strings.NewReplacer("{browser}", browser, "{system}", system).Replace(t["devices_browser_on"])
	case browser != "" || system != "":
		row.Device = browser + system
	default:
		row.Device = t["devices_unknown"]
	}
	if row.Address == "" {
		row.Address = "—"
	}
	names := make([]string, 0, len(d.Services))
	for _, n := range d.Services {
		names = append(names, n.In(lang))
	}
	row.Services = strings.Join(names, t["devices_separator"])
	if row.Services == "" {
		row.Services = "—"
	}
	row.Level = t["devices_level_password"]
	if level, _ := storage.LevelOfACR(d.ACR); level >= storage.LevelTool {
		row.Level = t["devices_level_tool"]
	}
	return row
}

// endDevices is the page's form: 登出此裝置 (end=<sid>) ends one session,
// 登出所有其他裝置 (others=1) every one but this. Ending this browser's
// own session signs it out: it goes to the sign-in.
func (h *devicePages) endDevices(w http.ResponseWriter, r *http.Request) error {
	formErr := kit.ParseForm(w, r)
	pt, err := h.require(w, r)
	if pt == nil {
		return err
	}
	if formErr != nil || !h.k.CSRFValid(r, sessionBinding(pt.Session.SessionID), r.PostForm.Get("csrf_token")) {
		return kit.Fail(storage.EForbidden, "account_error_csrf")
	}
	ctx, actor, current := r.Context(), h.actor(r, pt), pt.Session.SessionID
	if r.PostForm.Get("others") != "" {
		if _, err := h.devices.EndOthers(ctx, actor, current); err != nil {
			return err
		}
		http.Redirect(w, r, h.k.BasePath+devicesPath+"?done=others", http.StatusSeeOther)
		return nil
	}
	sid := r.PostForm.Get("end")
	if err := h.devices.End(ctx, actor, sid); err != nil {
		return err
	}
	if sid == current {
		http.SetCookie(w, h.k.SessionCookie("", -1))
		http.Redirect(w, r, h.k.BasePath+LoginPath, http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, h.k.BasePath+devicesPath+"?done=ended", http.StatusSeeOther)
	return nil
}
