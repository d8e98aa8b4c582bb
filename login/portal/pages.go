package portal

import (
	"net/http"

	"github.com/entity-account/idp/login/kit"
)

// The portal's pages, one method each, taking that page's own data type,
// so that a page cannot be drawn with another's data or under another's
// template name. A page that only ever shows fresh content is a 200 here;
// a form that may be shown again with a refusal takes the status, which
// then is the one the error writer chose for the refusal's code
// (kit.InForm) or the form's own answer.

// renderer draws the portal's pages (templates/pages/account_*.html).
type renderer struct{ k *kit.Kit }

// login draws account_login.html with status.
func (v renderer) login(w http.ResponseWriter, status int, p loginPage) {
	v.k.Render(w, status, "account_login.html", p)
}

// message draws account_message.html with status.
func (v renderer) message(w http.ResponseWriter, status int, p refusalPage) {
	v.k.Render(w, status, "account_message.html", p)
}

// profile draws account_profile.html.
func (v renderer) profile(w http.ResponseWriter, p profilePage) {
	v.k.Render(w, http.StatusOK, "account_profile.html", p)
}

// password draws account_password.html with status.
func (v renderer) password(w http.ResponseWriter, status int, p passwordPage) {
	v.k.Render(w, status, "account_password.html", p)
}

// devices draws account_devices.html.
func (v renderer) devices(w http.ResponseWriter, p devicesPage) {
	v.k.Render(w, http.StatusOK, "account_devices.html", p)
}

// tools draws account_tools.html.
func (v renderer) tools(w http.ResponseWriter, p toolsPage) {
	v.k.Render(w, http.StatusOK, "account_tools.html", p)
}

// totp draws account_tools_totp.html with status.
func (v renderer) totp(w http.ResponseWriter, status int, p totpPage) {
	v.k.Render(w, status, "account_tools_totp.html", p)
}

// passkeys draws account_tools_passkeys.html with status.
func (v renderer) passkeys(w http.ResponseWriter, status int, p passkeysPage) {
	v.k.Render(w, status, "account_tools_passkeys.html", p)
}

// history draws account_history.html (登入記錄).
func (v renderer) history(w http.ResponseWriter, p historyPage) {
	v.k.Render(w, http.StatusOK, "account_history.html", p)
}

// entities draws account_entities.html.
func (v renderer) entities(w http.ResponseWriter, p entitiesPage) {
	v.k.Render(w, http.StatusOK, "account_entities.html", p)
}

// entityInfo draws account_entity.html.
func (v renderer) entityInfo(w http.ResponseWriter, p entityInfoPage) {
	v.k.Render(w, http.StatusOK, "account_entity.html", p)
}

// admins draws account_admins.html with status.
func (v renderer) admins(w http.ResponseWriter, status int, p adminsPage) {
	v.k.Render(w, status, "account_admins.html", p)
}

// serviceAdmins draws account_service_admins.html with status.
func (v renderer) serviceAdmins(w http.ResponseWriter, status int, p serviceAdminsPage) {
	v.k.Render(w, status, "account_service_admins.html", p)
}

// services draws account_services.html.
func (v renderer) services(w http.ResponseWriter, p servicesPage) {
	v.k.Render(w, http.StatusOK, "account_services.html", p)
}

// service draws account_service.html.
func (v renderer) service(w http.ResponseWriter, p servicePage) {
	v.k.Render(w, http.StatusOK, "account_service.html", p)
}

// serviceGroup draws account_service_group.html.
func (v renderer) serviceGroup(w http.ResponseWriter, p groupPage) {
	v.k.Render(w, http.StatusOK, "account_service_group.html", p)
}

// serviceStaff draws account_service_staff.html with status.
func (v renderer) serviceStaff(w http.ResponseWriter, status int, p svcStaffPage) {
	v.k.Render(w, status, "account_service_staff.html", p)
}

// staffList draws account_staff_list.html.
func (v renderer) staffList(w http.ResponseWriter, p staffListPage) {
	v.k.Render(w, http.StatusOK, "account_staff_list.html", p)
}

// staff draws account_staff.html with status.
func (v renderer) staff(w http.ResponseWriter, status int, p staffPage) {
	v.k.Render(w, status, "account_staff.html", p)
}

// staffForm draws account_staff_form.html with status.
func (v renderer) staffForm(w http.ResponseWriter, status int, p staffFormPage) {
	v.k.Render(w, status, "account_staff_form.html", p)
}

// staffStatus draws account_staff_status.html with status.
func (v renderer) staffStatus(w http.ResponseWriter, status int, p staffStatusPage) {
	v.k.Render(w, status, "account_staff_status.html", p)
}

// changes draws account_changes.html.
func (v renderer) changes(w http.ResponseWriter, p changesPage) {
	v.k.Render(w, http.StatusOK, "account_changes.html", p)
}
