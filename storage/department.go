package storage

// What a department sees of its e-services through the department API.

// DepartmentActor is a department's back end acting through its machine
// client clientID (an access token verified just now) from ip.
func DepartmentActor(clientID string, departmentID int64, ip string) Actor {
	return Actor{Kind: ActorDepartment, ID: clientID, DepartmentID: departmentID, IP: ip, Active: true}
}

// DepartmentService is an e-service of a department with its groups.
type DepartmentService struct {
	Service
	Groups []Group // ordered by code; none is an empty slice
}

// ServiceAssignment is a staff login assigned to an e-service, with the
// codes of its groups in that e-service (sorted, never nil).
type ServiceAssignment struct {
	EUID   string
	Groups []string
}

// GroupNames is a change of a group's names: nil leaves a name as it is.
type GroupNames struct{ ZH, PT, EN *string }
