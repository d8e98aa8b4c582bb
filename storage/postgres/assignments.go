package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// Assignments as an entity's admins and service admins make them:
// everything is looked up within the entity acted for, so that a
// staff login, an e-service or a group of another entity is not found, and
// nothing is written for it.

// EntityServices returns the e-services opened to the entity, ordered by
// code, each with its groups and the entity's staff logins in each, and the
// entity's staff logins assigned to it. None is an empty slice.
func (s *Store) EntityServices(ctx context.Context, entityID int64) ([]storage.EntityService, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT sv.`+strings.ReplaceAll(serviceColumns, ", ", ", sv.")+`
		FROM services sv JOIN service_enrollments en ON en.service_id = sv.id
		WHERE en.entity_id = $1 ORDER BY sv.code`, entityID)
	if err != nil {
		return nil, wrap("list entity services", err)
	}
	services, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.EntityService, error) {
		sv, err := scanService(row)
		return storage.EntityService{Service: sv, Groups: []storage.GroupStaff{}, Assigned: []string{}}, err
	})
	if err != nil || len(services) == 0 {
		return nonNil(services), wrap("list entity services", err)
	}
	byID := map[int64]*storage.EntityService{}
	for i := range services {
		byID[services[i].ID] = &services[i]
	}

	// Groups with their members of this entity, in one query.
	rows, err = s.pool.Query(ctx, `
		SELECT g.id, g.service_id, g.code, g.name_zh, g.name_pt,
			ARRAY (SELECT sl.euid FROM group_members gm JOIN staff_logins sl ON sl.id = gm.staff_login_id
				WHERE gm.group_id = g.id AND sl.entity_id = $1 ORDER BY sl.euid)
		FROM service_groups g JOIN service_enrollments en ON en.service_id = g.service_id
		WHERE en.entity_id = $1 ORDER BY g.service_id, g.code`, entityID)
	if err != nil {
		return nil, wrap("list entity service groups", err)
	}
	var g storage.GroupStaff
	_, err = pgx.ForEachRow(rows, []any{&g.ID, &g.ServiceID, &g.Code, &g.NameZH, &g.NamePT, &g.Members}, func() error {
		sv := byID[g.ServiceID]
		g.Members = nonNil(g.Members)
		sv.Groups = append(sv.Groups, g)
		g = storage.GroupStaff{}
		return nil
	})
	if err != nil {
		return nil, wrap("list entity service groups", err)
	}

	rows, err = s.pool.Query(ctx, `
		SELECT sa.service_id, sl.euid
		FROM service_assignments sa
		JOIN staff_logins sl ON sl.id = sa.staff_login_id
		JOIN service_enrollments en ON en.service_id = sa.service_id AND en.entity_id = sl.entity_id
		WHERE sl.entity_id = $1 ORDER BY sa.service_id, sl.euid`, entityID)
	if err != nil {
		return nil, wrap("list entity service assignments", err)
	}
	var serviceID int64
	var euid string
	_, err = pgx.ForEachRow(rows, []any{&serviceID, &euid}, func() error {
		byID[serviceID].Assigned = append(byID[serviceID].Assigned, euid)
		return nil
	})
	if err != nil {
		return nil, wrap("list entity service assignments", err)
	}
	return services, nil
}

// assignmentTarget is what one assignment in an entity acts on.
type assignmentTarget struct {
	loginID     int64
	euid        string
	active      bool
	serviceID   int64
	serviceCode string
	groupID     int64 // 0: the e-service itself
}

// errNotInEntity is the answer for a login, an e-service or a group that
// the entity does not have: not found, whether or not it exists elsewhere.
func errNotInEntity(what string) error {
	return &storage.Error{Code: storage.ENotFound, Message: what + " was not found.", Err: storage.ErrNotFound}
}

// lookupAssignment finds, in tx, the staff login euid of the entity (its
// row locked against a concurrent deletion), the e-service serviceCode
// opened to the entity and, when groupCode is not "", that e-service's
// group.
func lookupAssignment(ctx context.Context, tx pgx.Tx, entityID int64, euid, serviceCode, groupCode string) (assignmentTarget, error) {
	var t assignmentTarget
	var status string
	err := tx.QueryRow(ctx, `
		SELECT id, euid, status FROM staff_logins WHERE entity_id = $1 AND euid = $2 FOR SHARE`, entityID, euid,
	).Scan(&t.loginID, &t.euid, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, errNotInEntity("Staff login " + euid)
	}
	if err != nil {
		return t, err
	}
	t.active = status == string(storage.StatusActive)
	err = tx.QueryRow(ctx, `
		SELECT sv.id, sv.code FROM services sv
		JOIN service_enrollments en ON en.service_id = sv.id AND en.entity_id = $1
		WHERE sv.code = $2`, entityID, serviceCode,
	).Scan(&t.serviceID, &t.serviceCode)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, errNotInEntity("E-service " + serviceCode)
	}
	if err != nil || groupCode == "" {
		return t, err
	}
	err = tx.QueryRow(ctx, `SELECT id FROM service_groups WHERE service_id = $1 AND code = $2`, t.serviceID, groupCode).Scan(&t.groupID)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, errNotInEntity("Group " + groupCode + " of e-service " + serviceCode)
	}
	return t, err
}

// changeInEntity runs change in a transaction on what euid, serviceCode
// and groupCode name in the entity (lookupAssignment), and returns whether
// it changed anything.
func (s *Store) changeInEntity(ctx context.Context, op string, entityID int64, euid, serviceCode, groupCode string,
	change func(tx pgx.Tx, now time.Time, t assignmentTarget) (bool, error),
) (bool, error) {
	now := s.now()
	changed := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		t, err := lookupAssignment(ctx, tx, entityID, euid, serviceCode, groupCode)
		if err == nil {
			changed, err = change(tx, now, t)
		}
		return err
	})
	return changed && err == nil, wrap(op, err)
}

// AssignInEntity assigns the entity's active staff login euid to the
// e-service serviceCode opened to the entity and, when groupCode is not "",
// puts it in that e-service's group (which implies the assignment). It
// reports whether anything changed; only a change writes its audit event
// (service.assign, or group.add_member), in the same transaction. A login,
// e-service or group the entity does not have is storage.ErrNotFound; a
// deleted login storage.ErrInvalid; nothing is written then.
func (s *Store) AssignInEntity(ctx context.Context, actor storage.Actor, entityID int64, euid, serviceCode, groupCode string) (bool, error) {
	return s.changeInEntity(ctx, "assign in entity", entityID, euid, serviceCode, groupCode, func(tx pgx.Tx, now time.Time, t assignmentTarget) (bool, error) {
		if !t.active {
			return false, &storage.Error{Code: storage.EInvalid, Message: "Staff login " + euid + " is deleted: it cannot be assigned.", Err: storage.ErrInvalid}
		}
		assigned, err := assign(ctx, tx, now, t.loginID, t.serviceID)
		if err != nil {
			return false, err
		}
		if groupCode == "" {
			if !assigned {
				return false, nil
			}
			return true, audit(ctx, tx, now, actor, auditEvent{
				entityID: &entityID, action: "service.assign", target: t.euid,
				details: map[string]any{"service": t.serviceCode},
			})
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO group_members (staff_login_id, group_id, created_at)
			VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, t.loginID, t.groupID, now)
		if err != nil || (tag.RowsAffected() == 0 && !assigned) {
			return false, err
		}
		return true, audit(ctx, tx, now, actor, auditEvent{
			entityID: &entityID, action: "group.add_member", target: t.euid,
			details: map[string]any{"service": t.serviceCode, "group": groupCode, "assigned": assigned},
		})
	})
}

// UnassignInEntity takes the entity's staff login euid (deleted ones too)
// out of the group groupCode of the e-service serviceCode or, when
// groupCode is "", off the e-service itself, and then out of every group of
// that e-service too. It reports whether anything changed; only a change
// writes its audit event (group.remove_member, or service.unassign with
// the groups left), in the same transaction. A login, e-service or group
// the entity does not have is storage.ErrNotFound, and nothing is written.
func (s *Store) UnassignInEntity(ctx context.Context, actor storage.Actor, entityID int64, euid, serviceCode, groupCode string) (bool, error) {
	return s.changeInEntity(ctx, "unassign in entity", entityID, euid, serviceCode, groupCode, func(tx pgx.Tx, now time.Time, t assignmentTarget) (bool, error) {
		if groupCode != "" {
			tag, err := tx.Exec(ctx, `DELETE FROM group_members WHERE staff_login_id = $1 AND group_id = $2`, t.loginID, t.groupID)
			if err != nil || tag.RowsAffected() == 0 {
				return false, err
			}
			return true, audit(ctx, tx, now, actor, auditEvent{
				entityID: &entityID, action: "group.remove_member", target: t.euid,
				details: map[string]any{"service": t.serviceCode, "group": groupCode},
			})
		}
		rows, err := tx.Query(ctx, `
			DELETE FROM group_members gm USING service_groups g
			WHERE gm.group_id = g.id AND g.service_id = $1 AND gm.staff_login_id = $2
			RETURNING g.code`, t.serviceID, t.loginID)
		if err != nil {
			return false, err
		}
		groups, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return false, err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM service_assignments WHERE staff_login_id = $1 AND service_id = $2`, t.loginID, t.serviceID)
		if err != nil || (tag.RowsAffected() == 0 && len(groups) == 0) {
			return false, err
		}
		return true, audit(ctx, tx, now, actor, auditEvent{
			entityID: &entityID, action: "service.unassign", target: t.euid,
			details: map[string]any{"service": t.serviceCode, "groups": nonNil(groups)},
		})
	})
}
