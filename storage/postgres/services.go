package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// CreateDepartment registers a department and fills d.ID. A taken code gives
// storage.ErrAlreadyExists.
func (s *Store) CreateDepartment(ctx context.Context, actor storage.Actor, d *storage.Department) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO departments (code, name_zh, name_pt, name_en)
			VALUES ($1, $2, $3, $4)
			RETURNING id`,
			d.Code, d.NameZH, d.NamePT, d.NameEN,
		).Scan(&d.ID)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "department.create", target: d.Code})
	})
	return wrap("create department", err)
}

// DepartmentByCode returns the department with the given code, or storage.ErrNotFound.
func (s *Store) DepartmentByCode(ctx context.Context, code string) (storage.Department, error) {
	var d storage.Department
	err := s.pool.QueryRow(ctx, `
		SELECT id, code, name_zh, name_pt, name_en FROM departments WHERE code = $1`, code,
	).Scan(&d.ID, &d.Code, &d.NameZH, &d.NamePT, &d.NameEN)
	return d, wrap("get department by code", err)
}

// Departments returns every department ordered by code (none: an empty slice).
func (s *Store) Departments(ctx context.Context) ([]storage.Department, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, code, name_zh, name_pt, name_en FROM departments ORDER BY code`)
	if err != nil {
		return nil, wrap("list departments", err)
	}
	ds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Department, error) {
		var d storage.Department
		err := row.Scan(&d.ID, &d.Code, &d.NameZH, &d.NamePT, &d.NameEN)
		return d, err
	})
	if err != nil {
		return nil, wrap("list departments", err)
	}
	return nonNil(ds), nil
}

const serviceColumns = `id, code, department_id, name_zh, name_pt, name_en, access_policy, min_acr`

func scanService(row pgx.Row) (storage.Service, error) {
	var sv storage.Service
	var acr *string
	err := row.Scan(&sv.ID, &sv.Code, &sv.DepartmentID, &sv.NameZH, &sv.NamePT, &sv.NameEN, &sv.AccessPolicy, &acr)
	if err != nil {
		return sv, err
	}
	sv.MinLevel, err = levelOfMinACR(acr)
	return sv, err
}

// An e-service's minimum assurance level is stored as its acr value in
// services.min_acr, NULL for none (LevelNone).

// minACR is the min_acr value of level l: its acr, or nil (NULL) for
// storage.LevelNone. A level the provider does not know is storage.ErrInvalid.
func minACR(l storage.Level) (*string, error) {
	if !l.Known() {
		return nil, fmt.Errorf("minimum assurance level %d: %w", int(l), storage.ErrInvalid)
	}
	if l == storage.LevelNone {
		return nil, nil
	}
	acr := l.ACR()
	return &acr, nil
}

// levelOfMinACR reads a min_acr value. The database holds known values only
// (migration 00012); any other is a fault, never a level to guess.
func levelOfMinACR(acr *string) (storage.Level, error) {
	if acr == nil {
		return storage.LevelNone, nil
	}
	l, ok := storage.LevelOfACR(*acr)
	if !ok {
		return storage.LevelNone, fmt.Errorf("services.min_acr %q is not an acr value this provider knows", *acr)
	}
	return l, nil
}

// acrOrNil is level l as the audit trail records it: its acr, or nil.
func acrOrNil(l storage.Level) any {
	if l == storage.LevelNone {
		return nil
	}
	return l.ACR()
}

// CreateService registers an e-service of sv.DepartmentID, with its
// minimum assurance level sv.MinLevel, and fills sv.ID. An empty
// AccessPolicy means storage.PolicyAssigned, the stricter one. A taken code
// gives storage.ErrAlreadyExists, an unknown department storage.ErrNotFound,
// an unknown level storage.ErrInvalid. The groups, if any, are defined in
// it in the same transaction (each audited as CreateGroup does), their IDs
// and ServiceID filled: the e-service exists with all of them or not at all.
func (s *Store) CreateService(ctx context.Context, actor storage.Actor, sv *storage.Service, groups ...*storage.Group) error {
	if sv.AccessPolicy == "" {
		sv.AccessPolicy = storage.PolicyAssigned
	}
	acr, err := minACR(sv.MinLevel)
	if err != nil {
		return wrap("create service", err)
	}
	now := s.now()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO services (code, department_id, name_zh, name_pt, name_en, access_policy, min_acr)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			RETURNING id`,
			sv.Code, sv.DepartmentID, sv.NameZH, sv.NamePT, sv.NameEN, string(sv.AccessPolicy), acr,
		).Scan(&sv.ID)
		if err != nil {
			return err
		}
		err = audit(ctx, tx, now, actor, auditEvent{
			action:  "service.create",
			target:  sv.Code,
			details: map[string]any{"access_policy": string(sv.AccessPolicy), "min_acr": acrOrNil(sv.MinLevel)},
		})
		for _, g := range groups {
			if err != nil {
				return err
			}
			g.ServiceID = sv.ID
			err = createGroup(ctx, tx, now, actor, g)
		}
		return err
	})
	return wrap("create service", err)
}

// Service returns the e-service with the given id, or storage.ErrNotFound.
func (s *Store) Service(ctx context.Context, id int64) (storage.Service, error) {
	sv, err := scanService(s.pool.QueryRow(ctx, `SELECT `+serviceColumns+` FROM services WHERE id = $1`, id))
	return sv, wrap("get service", err)
}

// ServiceByCode returns the e-service with the given code, or storage.ErrNotFound.
func (s *Store) ServiceByCode(ctx context.Context, code string) (storage.Service, error) {
	sv, err := scanService(s.pool.QueryRow(ctx, `SELECT `+serviceColumns+` FROM services WHERE code = $1`, code))
	return sv, wrap("get service by code", err)
}

// CreateGroup defines a group in the e-service g.ServiceID and fills g.ID. A
// code taken in that e-service gives storage.ErrAlreadyExists, an unknown
// e-service storage.ErrNotFound.
func (s *Store) CreateGroup(ctx context.Context, actor storage.Actor, g *storage.Group) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error { return createGroup(ctx, tx, now, actor, g) })
	return wrap("create group", err)
}

// createGroup is CreateGroup within tx.
func createGroup(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, g *storage.Group) error {
	var serviceCode string
	err := tx.QueryRow(ctx, `
		INSERT INTO service_groups (service_id, code, name_zh, name_pt, name_en)
		VALUES ($1, $2, $3, $4, $5)
		RETURNING id, (SELECT code FROM services WHERE id = $1)`,
		g.ServiceID, g.Code, g.NameZH, g.NamePT, g.NameEN,
	).Scan(&g.ID, &serviceCode)
	if err != nil {
		return err
	}
	return audit(ctx, tx, now, actor, auditEvent{action: "group.create", target: serviceCode + "/" + g.Code})
}

// Groups returns the groups of an e-service ordered by code; none is an empty slice.
func (s *Store) Groups(ctx context.Context, serviceID int64) ([]storage.Group, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, service_id, code, name_zh, name_pt, name_en
		FROM service_groups WHERE service_id = $1 ORDER BY code`, serviceID)
	if err != nil {
		return nil, wrap("list groups", err)
	}
	groups, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.Group, error) {
		var g storage.Group
		err := row.Scan(&g.ID, &g.ServiceID, &g.Code, &g.NameZH, &g.NamePT, &g.NameEN)
		return g, err
	})
	if err != nil {
		return nil, wrap("list groups", err)
	}
	return nonNil(groups), nil
}

// EnrollEntity opens the e-service serviceID to the entity entityID (the
// act "enroll": a row of service_enrollments) and reports whether it was
// closed before; only then is it audited (service.enroll, for the entity,
// with the e-service's code and the entity's number). Enrolling twice is not
// an error. An unknown e-service or entity gives storage.ErrNotFound.
func (s *Store) EnrollEntity(ctx context.Context, actor storage.Actor, serviceID, entityID int64) (bool, error) {
	now := s.now()
	enrolled := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var serviceCode, entityNumber *string
		err := tx.QueryRow(ctx, `
			SELECT (SELECT code FROM services WHERE id = $1), (SELECT number FROM entities WHERE id = $2)`,
			serviceID, entityID).Scan(&serviceCode, &entityNumber)
		if err != nil {
			return err
		}
		if serviceCode == nil {
			return storage.ErrNotFound
		}
		if entityNumber == nil {
			return errNotInEntity("Entity")
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO service_enrollments (service_id, entity_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, serviceID, entityID, now)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		enrolled = true
		return audit(ctx, tx, now, actor, auditEvent{entityID: &entityID, action: "service.enroll", target: *serviceCode,
			details: map[string]any{"service": *serviceCode, "entity_number": *entityNumber}})
	})
	return enrolled && err == nil, wrap("enroll entity", err)
}

// loginInService is what assigning a staff login within an e-service needs
// to know.
type loginInService struct {
	entityID    int64
	euid        string
	serviceCode string
	enrolled    bool
}

// lookupLoginInService returns storage.ErrNotFound when the login or the
// e-service is unknown or the e-service is not opened to the login's entity:
// to a caller acting for that entity, such an e-service does not exist.
func lookupLoginInService(ctx context.Context, tx pgx.Tx, staffLoginID, serviceID int64) (loginInService, error) {
	var l loginInService
	err := tx.QueryRow(ctx, `
		SELECT s.entity_id, s.euid, sv.code,
			EXISTS (SELECT FROM service_enrollments en WHERE en.service_id = sv.id AND en.entity_id = s.entity_id)
		FROM staff_logins s, services sv
		WHERE s.id = $1 AND sv.id = $2`, staffLoginID, serviceID,
	).Scan(&l.entityID, &l.euid, &l.serviceCode, &l.enrolled)
	if err != nil {
		return l, err
	}
	if !l.enrolled {
		return l, storage.ErrNotFound
	}
	return l, nil
}

// assign links a staff login to an e-service and reports whether it was new.
func assign(ctx context.Context, tx pgx.Tx, now time.Time, staffLoginID, serviceID int64) (bool, error) {
	tag, err := tx.Exec(ctx, `
		INSERT INTO service_assignments (staff_login_id, service_id, created_at)
		VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, staffLoginID, serviceID, now)
	return tag.RowsAffected() == 1, err
}

// AssignService lets a staff login use an e-service (under
// storage.PolicyAssigned). Assigning twice is not an error; only the first
// call writes an audit event. Returns storage.ErrNotFound when the login or
// the e-service is unknown or the e-service is not opened to the login's
// entity.
func (s *Store) AssignService(ctx context.Context, actor storage.Actor, staffLoginID, serviceID int64) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		l, err := lookupLoginInService(ctx, tx, staffLoginID, serviceID)
		if err != nil {
			return err
		}
		added, err := assign(ctx, tx, now, staffLoginID, serviceID)
		if err != nil || !added {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{
			entityID: &l.entityID,
			action:   "service.assign",
			target:   l.euid,
			details:  map[string]any{"service": l.serviceCode},
		})
	})
	return wrap("assign service", err)
}

// AddGroupMember puts a staff login in a group, and assigns it to the
// group's e-service as well, since a group membership implies the
// assignment. Adding twice is not an error; only a call that changes
// something writes an audit event. Returns storage.ErrNotFound when the login
// or the group is unknown or the group's e-service is not opened to the
// login's entity.
func (s *Store) AddGroupMember(ctx context.Context, actor storage.Actor, staffLoginID, groupID int64) error {
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var serviceID int64
		var groupCode string
		err := tx.QueryRow(ctx, `SELECT service_id, code FROM service_groups WHERE id = $1`, groupID).
			Scan(&serviceID, &groupCode)
		if err != nil {
			return err
		}
		l, err := lookupLoginInService(ctx, tx, staffLoginID, serviceID)
		if err != nil {
			return err
		}
		assigned, err := assign(ctx, tx, now, staffLoginID, serviceID)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO group_members (staff_login_id, group_id, created_at)
			VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, staffLoginID, groupID, now)
		if err != nil || (tag.RowsAffected() == 0 && !assigned) {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{
			entityID: &l.entityID,
			action:   "group.add_member",
			target:   l.euid,
			details:  map[string]any{"service": l.serviceCode, "group": groupCode, "assigned": assigned},
		})
	})
	return wrap("add group member", err)
}

// serviceAccessSQL reads what decides whether staff login $1 may use
// e-service $2 (see ServiceAccess).
const serviceAccessSQL = `
		SELECT sv.access_policy,
			EXISTS (SELECT FROM service_enrollments en
				WHERE en.service_id = sv.id AND en.entity_id = s.entity_id),
			EXISTS (SELECT FROM service_assignments sa
				WHERE sa.service_id = sv.id AND sa.staff_login_id = s.id),
			ARRAY (SELECT g.code FROM group_members gm JOIN service_groups g ON g.id = gm.group_id
				WHERE gm.staff_login_id = s.id AND g.service_id = sv.id ORDER BY g.code)
		FROM staff_logins s, services sv
		WHERE s.id = $1 AND sv.id = $2`

func scanServiceAccess(row pgx.Row) (storage.ServiceAccess, error) {
	var a storage.ServiceAccess
	if err := row.Scan(&a.Policy, &a.Enrolled, &a.Assigned, &a.Groups); err != nil {
		return storage.ServiceAccess{}, err
	}
	a.Groups = nonNil(a.Groups)
	return a, nil
}

// ServiceAccess returns, in one round trip, what decides whether a staff
// login may use an e-service: the e-service's policy, whether it is opened to
// the login's entity, whether the login is assigned to it, and the codes of
// the login's groups in that e-service only (sorted, never nil). Returns
// storage.ErrNotFound when the login or the e-service is unknown.
func (s *Store) ServiceAccess(ctx context.Context, staffLoginID, serviceID int64) (storage.ServiceAccess, error) {
	a, err := scanServiceAccess(s.pool.QueryRow(ctx, serviceAccessSQL, staffLoginID, serviceID))
	return a, wrap("get service access", err)
}

// PrincipalInService returns the account of subject (as PrincipalBySubject)
// and the access of staff login loginID to e-service serviceID (as
// ServiceAccess), both read in one batch: one round trip, one snapshot. The
// access is the account's only if the account is the staff login loginID;
// the caller checks that (Principal.Kind and ID). ErrNotFound when the
// account is unknown; an unknown login or e-service gives the zero access,
// which allows nothing.
func (s *Store) PrincipalInService(ctx context.Context, subject string, loginID, serviceID int64) (storage.Principal, storage.ServiceAccess, error) {
	var p storage.Principal
	var a storage.ServiceAccess
	var perr, aerr error
	b := &pgx.Batch{}
	b.Queue(principalBySubjectSQL, subject).QueryRow(func(row pgx.Row) error {
		p, perr = scanPrincipal(row)
		return nil
	})
	b.Queue(serviceAccessSQL, loginID, serviceID).QueryRow(func(row pgx.Row) error {
		a, aerr = scanServiceAccess(row)
		return nil
	})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return p, a, wrap("get principal in service", err)
	}
	if perr != nil {
		return p, a, wrap("get principal in service", perr)
	}
	if aerr != nil && !errors.Is(aerr, pgx.ErrNoRows) {
		return p, a, wrap("get principal in service", aerr)
	}
	a.Groups = nonNil(a.Groups)
	return p, a, nil
}
