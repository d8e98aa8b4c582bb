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
//	admins:              實體列表, 工作人員登入號列表, 移除工作人員登入號的管理員的權限,
//	                     服務列表, 服務管理員列表, 最近變更
//	the entity account:  實體列表, 移除工作人員登入號的管理員的權限
//	service admins:      實體列表, 服務列表
//	staff:               none
//
// 實體資訊 is no link of its own: it is reached, as people are taught, by
// 實體列表 and the entity's name there, and it lists the pages above again.

// Paths of the administration pages of this file's author (the staff
// pages register their own).
const (
	entitiesPath      = "/account/entities"
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
// catalogue key and the rule that opens it to an actor of an entity; off
// the navigation when hidden.
type navPage struct {
	name, path, key string
	may             func(a storage.Actor, entityID int64) bool
	hidden          bool
}

// navPages are the administration pages, in the order staff use them.
var navPages = []navPage{
	{name: "entities", path: entitiesPath, key: "nav_entities", may: storage.CanViewEntity},
	{name: "entity", path: entityInfoPath, key: "nav_entity_info", may: storage.CanViewEntity, hidden: true},
	{name: "staff", path: "/account/staff", key: "nav_staff", may: storage.CanManageStaff},
	{name: "admins", path: adminsPath, key: "nav_admins", may: storage.CanRemoveAdmin},
	{name: "services", path: servicesPath, key: "nav_services", may: storage.CanAssignServices}, // services.go
	{name: "service_admins", path: serviceAdminsPath, key: "nav_service_admins", may: storage.CanDesignateServiceAdmin},
	{name: "changes", path: changesPath, key: "nav_changes", may: storage.CanViewAudit},
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
func (h *core) navLinks(r *http.Request, pt *kit.Signed, t map[string]string, current string) []navLink {
	if h.admin == nil {
		return nil
	}
	a, entityID := h.actor(r, pt), pt.Principal.EntityID
	var links []navLink
	for _, p := range navPages {
		if !p.hidden && p.may(a, entityID) {
			links = append(links, navLink{Path: p.path, Label: t[p.key], Current: p.name == current})
		}
	}
	return links
}
