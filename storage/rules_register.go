package storage

// The rule book, the register: which departments exist, their e-services,
// and the clients that act for them. Only the operator (行政公職局) keeps
// it; a department manages what it was given (rules_department.go) but
// registers nothing.

// CanRegisterDepartment: register a department.
func CanRegisterDepartment(a Actor) bool { return isOperator(a) }

// CanRegisterService: register an e-service of a department, with its groups.
func CanRegisterService(a Actor) bool { return isOperator(a) }

// CanRegisterClient: register a client of an e-service (web, native) or of
// a department (machine).
func CanRegisterClient(a Actor) bool { return isOperator(a) }

// CanRenameDepartment: change the names of a department (its code never
// changes). The register's keeper only: a department does not rename itself.
func CanRenameDepartment(a Actor) bool { return isOperator(a) }

// CanSetServiceAccessPolicy: set who of an entity an e-service is opened to
// may use it (Service.AccessPolicy). Part of the e-service's registration,
// so the operator's only: its department sets the minimum level
// (CanSetServiceMinLevel), not who may use it.
func CanSetServiceAccessPolicy(a Actor) bool { return isOperator(a) }
