package storage

// What an entity's admins and service admins see of the e-services opened to
// it: each e-service with its groups and who of the entity is
// in each, and who is assigned to the e-service itself.

// EntityService is an e-service opened to an entity, with the entity's
// staff logins in it.
type EntityService struct {
	Service
	Groups []GroupStaff // the e-service's groups, ordered by code; none is empty
	// Assigned are the EUIDs of the entity's staff logins assigned to the
	// e-service (with or without a group), ordered; deleted ones included.
	Assigned []string
}

// Names is the e-service's name in the three languages.
func (s Service) Names() Names { return Names{ZH: s.NameZH, PT: s.NamePT, EN: s.NameEN} }

// Group returns the e-service's group of code.
func (s EntityService) Group(code string) (GroupStaff, bool) {
	for _, g := range s.Groups {
		if g.Code == code {
			return g, true
		}
	}
	return GroupStaff{}, false
}

// GroupStaff is a group with the EUIDs of the entity's staff logins in it,
// ordered; deleted ones included.
type GroupStaff struct {
	Group
	Members []string
}

// Names is the group's name in the three languages (Names.In says which
// one a page without a translation shows).
func (g Group) Names() Names { return Names{ZH: g.NameZH, PT: g.NamePT, EN: g.NameEN} }
