package storage

// ActorKind is the kind of whoever performs an action.
type ActorKind string

const (
	// ActorOperator is 行政公職局, acting out of band through the idp command.
	ActorOperator ActorKind = "operator"
	// ActorEntityAccount is an entity's 實體使用者帳戶.
	ActorEntityAccount ActorKind = "entity_account"
	// ActorStaff is a staff login, admin, service admin or neither.
	ActorStaff ActorKind = "staff"
	// ActorDepartment is a department's back end (a machine client).
	ActorDepartment ActorKind = "department"
	// ActorPublic is an unauthenticated holder of something (an activation code).
	ActorPublic ActorKind = "public"
	// ActorSystem is the provider itself (a worker, a migration).
	ActorSystem ActorKind = "system"
)

// Actor is who performs an action: what the rule book (rules.go) decides on
// and what the audit trail records. Its rights are those of the account as
// read from the store for this action, never as remembered by a session:
// removing admin rights takes effect on the next request.
type Actor struct {
	Kind ActorKind
	// ID names the actor in the audit trail: the operator's name, a staff
	// login's EUID, an entity account's subject, a department client's id;
	// "" for the public.
	ID string
	// IP is the remote address, "" when not over the network.
	IP string
	// Name is who acts, in person, for the operator (an office): the
	// officer's login name. OfficerActor records it as the actor's ID too,
	// which the audit trail keeps.
	Name string
	// OfficerID and OfficerRole are the officer acting as the operator (0
	// and "" for any other actor); the audit trail keeps OfficerID.
	OfficerID   int64
	OfficerRole OfficerRole
	// DeskSession is the desk session an officer acts in ("" for a
	// command): the audit trail keeps it beside the officer.
	DeskSession string

	// EntityID is the entity an entity account or staff login belongs to.
	EntityID int64
	// DepartmentID is the department of a department client.
	DepartmentID int64
	// Admin and ServiceAdmin are a staff login's flags (工作人員登入號（管理員）,
	// 服務管理員).
	Admin, ServiceAdmin bool
	// Active: the account may act now (activated, not deleted, its entity
	// open). An inactive entity account or staff login may do nothing.
	Active bool
}

// OperatorActor is the operator, name acting for it, with no officer behind
// it: for the tests of the rule book and of the use cases below the idp
// command. The command and the desk act as OfficerActor.
func OperatorActor(name string) Actor {
	return Actor{Kind: ActorOperator, ID: name, Name: name, Active: true}
}

// PublicActor is an unauthenticated caller at ip.
func PublicActor(ip string) Actor { return Actor{Kind: ActorPublic, IP: ip} }

// SystemActor is the provider acting on its own.
func SystemActor() Actor { return Actor{Kind: ActorSystem, Active: true} }

// ActorOf is the actor of a signed-in principal, as read now.
func ActorOf(p Principal, ip string) Actor {
	a := Actor{ID: p.Subject, IP: ip, EntityID: p.EntityID, Active: p.CanSignIn()}
	switch p.Kind {
	case KindStaff:
		a.Kind, a.Admin, a.ServiceAdmin = ActorStaff, p.Admin, p.ServiceAdmin
	case KindEntityAccount:
		a.Kind = ActorEntityAccount
	}
	return a
}
