package desk

import "github.com/entity-account/idp/storage"

// navLink is one entry of the desk's navigation.
type navLink struct {
	Path, Label string
	Current     bool
}

// navEntry is a page the navigation may link to, shown to an officer whom
// the rule book admits to its act.
type navEntry struct {
	key, path, label string
	act              storage.OperatorAct
}

// navEntries are the desk's pages in the navigation, in order. Each area
// adds its entry here.
var navEntries = []navEntry{
	{"home", homePath, "desk_nav_home", storage.ActUseDesk},
	{"intake", intakePath, "desk_intake_nav", storage.ActOpenEntity},
	{"entities", entitiesPath, "desk_nav_entities", storage.ActReadEntities},
	{"approve", approvePath, "desk_qr_nav", storage.ActApproveTools},
	{"departments", departmentsPath, "desk_dept_nav_departments", storage.ActReadOperations},
	{"services", servicesPath, "desk_dept_nav_services", storage.ActReadOperations},
	{"clients", clientsPath, "desk_dept_nav_clients", storage.ActReadOperations},
	{"audit", auditPath, "desk_dept_nav_audit", storage.ActReadAudit},
	// Last, the officers and the officer's own: its sign-ins and passkeys.
	{"officers", officersPath, "desk_auth_nav_officers", storage.ActReadOperations},
	{"history", historyPath, "desk_auth_nav_history", storage.ActUseDesk},
	{"passkeys", passkeysPath, "desk_passkeys_nav", storage.ActUseDesk},
}

// navLinks are the entries o may open, labelled in t; current carries
// aria-current.
func navLinks(o storage.Officer, current string, t map[string]string) []navLink {
	var links []navLink
	for _, e := range navEntries {
		if !officerMay(o, e.act) {
			continue
		}
		links = append(links, navLink{Path: e.path, Label: t[e.label], Current: e.key == current})
	}
	return links
}
