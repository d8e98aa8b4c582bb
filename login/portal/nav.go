package portal

import (
	"net/http"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/storage"
)

// The portal's navigation by role. Everyone signed in has 個人資料 and
// 變更密碼, and a staff login 電子身份識別工具 (tools.go); the administration pages are listed only to an account the
// rule book lets open them, asked with the account's rights as read for
// this request (h.actor), so a login whose admin rights were removed loses
// the links on its next request:
//
//	admins:              實體資訊, 工作人員登入號列表, 移除管理員的權限, 服務列表, 服務管理員列表, 最近變更
//	the entity account:  移除管理員的權限
//	service admins:      服務列表
//	staff:               none

// Paths of the administration pages of this file's author (the staff
// pages register their own).
const (
	entityInfoPath    = "/account/entity"
	adminsPath        = "/account/admins"
	serviceAdminsPath = "/account/service-admins"
	changesPath       = "/account/changes"
)

// navLink is one administration page in the navigation.
type navLink struct {
	Path    string // under the issuer
	Label   string
	Current bool
}

// navPage is one administration page: its name (chrome.Current), path,
// catalogue key and the rule that opens it to an actor of an entity.
type navPage struct {
	name, path, key string
	may             func(a storage.Actor, entityID int64) bool
}

// navPages are the administration pages, in the order staff use them.
var navPages = []navPage{
	{"entity", entityInfoPath, "nav_entity_info", storage.CanManageStaff},
	{"staff", "/account/staff", "nav_staff", storage.CanManageStaff},
	{"admins", adminsPath, "nav_admins", storage.CanRemoveAdmin},
	{"services", servicesPath, "nav_services", storage.CanAssignServices}, // services.go
	{"service_admins", serviceAdminsPath, "nav_service_admins", storage.CanDesignateServiceAdmin},
	{"changes", changesPath, "nav_changes", storage.CanViewAudit},
}

// navPageOf is the administration page named name.
func navPageOf(name string) navPage {
	for _, p := range navPages {
		if p.name == name {
			return p
		}
	}
	return navPage{name: name, may: func(storage.Actor, int64) bool { return false }}
}

// navRule is the rule of the administration page named name.
func navRule(name string) func(storage.Actor, int64) bool { return navPageOf(name).may }

// navLinks are the administration pages pt's account may open now.
func (h *Handler) navLinks(r *http.Request, pt *kit.Signed, t map[string]string, current string) []navLink {
	if h.admin == nil {
		return nil
	}
	a, entityID := h.actor(r, pt), pt.Principal.EntityID
	var links []navLink
	for _, p := range navPages {
		if p.may(a, entityID) {
			links = append(links, navLink{Path: p.path, Label: t[p.key], Current: p.name == current})
		}
	}
	return links
}
