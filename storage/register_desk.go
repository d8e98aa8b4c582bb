package storage

import "time"

// What the operator's desk reads of the register: every e-service with
// its department, the entities an e-service is opened to.

// RegisteredService is an e-service as the operator lists it: with its
// department's code and how many entities it is opened to.
type RegisteredService struct {
	Service
	DepartmentCode string
	Entities       int
}

// EnrolledEntity is an entity an e-service is opened to, since when.
type EnrolledEntity struct {
	Number         string
	NameZH, NamePT string
	Status         string
	Since          time.Time
}

// DepartmentNames are the names of a department a rename sets; nil leaves
// a name as it is.
type DepartmentNames struct {
	ZH, PT, EN *string
}

// AccessPolicies are the access policies of an e-service, the stricter first.
var AccessPolicies = []AccessPolicy{PolicyAssigned, PolicyEnrolled}

// Known reports whether p is an access policy of this provider.
func (p AccessPolicy) Known() bool { return p == PolicyAssigned || p == PolicyEnrolled }
