package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// The department API's side of the store: a department's e-services, their
// groups, to which entities they are opened, and who is assigned. The use
// cases (login/manage/department.go) have asked the rule book first; every
// change is written with its audit event in one transaction, the event
// naming the e-service in details.service so that the department's trail
// (DepartmentChanges) finds it.

// DepartmentServices returns the e-services of the department ordered by
// code, each with its groups ordered by code, in two queries.
func (s *Store) DepartmentServices(ctx context.Context, departmentID int64) ([]storage.DepartmentService, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+serviceColumns+` FROM services WHERE department_id = $1 ORDER BY code`, departmentID)
	if err != nil {
		return nil, wrap("list department services", err)
	}
	services, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.DepartmentService, error) {
		sv, err := scanService(row)
		return storage.DepartmentService{Service: sv, Groups: []storage.Group{}}, err
	})
	if err != nil || len(services) == 0 {
		return nonNil(services), wrap("list department services", err)
	}
	byID := map[int64]*storage.DepartmentService{}
	for i := range services {
		byID[services[i].ID] = &services[i]
	}
	rows, err = s.pool.Query(ctx, `
		SELECT g.id, g.service_id, g.code, g.name_zh, g.name_pt, g.name_en
		FROM service_groups g JOIN services sv ON sv.id = g.service_id
		WHERE sv.department_id = $1 ORDER BY g.service_id, g.code`, departmentID)
	if err != nil {
		return nil, wrap("list department groups", err)
	}
	var g storage.Group
	_, err = pgx.ForEachRow(rows, []any{&g.ID, &g.ServiceID, &g.Code, &g.NameZH, &g.NamePT, &g.NameEN}, func() error {
		sv := byID[g.ServiceID]
		sv.Groups = append(sv.Groups, g)
		return nil
	})
	if err != nil {
		return nil, wrap("list department groups", err)
	}
	return services, nil
}

// ServiceGroup returns the group code of the e-service, or storage.ErrNotFound.
func (s *Store) ServiceGroup(ctx context.Context, serviceID int64, code string) (storage.Group, error) {
	var g storage.Group
	err := s.pool.QueryRow(ctx, `
		SELECT id, service_id, code, name_zh, name_pt, name_en FROM service_groups
		WHERE service_id = $1 AND code = $2`, serviceID, code,
	).Scan(&g.ID, &g.ServiceID, &g.Code, &g.NameZH, &g.NamePT, &g.NameEN)
	return g, wrap("get service group", err)
}

// AddServiceGroup defines the group g in the e-service sv (g.ServiceID is
// set) and fills g.ID; audited as group.create. A code taken in that
// e-service gives storage.ErrAlreadyExists.
func (s *Store) AddServiceGroup(ctx context.Context, actor storage.Actor, sv storage.Service, g *storage.Group) error {
	now := s.now()
	g.ServiceID = sv.ID
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO service_groups (service_id, code, name_zh, name_pt, name_en)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			sv.ID, g.Code, g.NameZH, g.NamePT, g.NameEN,
		).Scan(&g.ID)
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "group.create", target: sv.Code + "/" + g.Code,
			details: map[string]any{"service": sv.Code, "group": g.Code, "name_zh": g.NameZH, "name_pt": g.NamePT, "name_en": g.NameEN}})
	})
	return wrap("add service group", err)
}

// RenameServiceGroup changes the names of the group code of sv that
// names sets; audited as group.rename with the names before and after. An
// unknown group is storage.ErrNotFound.
func (s *Store) RenameServiceGroup(ctx context.Context, actor storage.Actor, sv storage.Service, code string, names storage.GroupNames) (storage.Group, error) {
	now := s.now()
	var g storage.Group
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var before storage.Group
		err := tx.QueryRow(ctx, `
			SELECT id, name_zh, name_pt, name_en FROM service_groups WHERE service_id = $1 AND code = $2 FOR UPDATE`,
			sv.ID, code).Scan(&before.ID, &before.NameZH, &before.NamePT, &before.NameEN)
		if err != nil {
			return err
		}
		g = storage.Group{ID: before.ID, ServiceID: sv.ID, Code: code, NameZH: before.NameZH, NamePT: before.NamePT, NameEN: before.NameEN}
		if names.ZH != nil {
			g.NameZH = *names.ZH
		}
		if names.PT != nil {
			g.NamePT = *names.PT
		}
		if names.EN != nil {
			g.NameEN = *names.EN
		}
		if _, err := tx.Exec(ctx, `UPDATE service_groups SET name_zh = $2, name_pt = $3, name_en = $4 WHERE id = $1`,
			g.ID, g.NameZH, g.NamePT, g.NameEN); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "group.rename", target: sv.Code + "/" + code,
			details: map[string]any{"service": sv.Code, "group": code,
				"before": map[string]string{"zh": before.NameZH, "pt": before.NamePT, "en": before.NameEN},
				"after":  map[string]string{"zh": g.NameZH, "pt": g.NamePT, "en": g.NameEN}}})
	})
	return g, wrap("rename service group", err)
}

// RemoveServiceGroup deletes the group code of sv and its memberships, and
// returns the EUIDs of the staff logins that were in it; audited as
// group.delete with their number. An unknown group is storage.ErrNotFound.
func (s *Store) RemoveServiceGroup(ctx context.Context, actor storage.Actor, sv storage.Service, code string) ([]string, error) {
	now := s.now()
	var members []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM service_groups WHERE service_id = $1 AND code = $2 FOR UPDATE`, sv.ID, code).Scan(&id)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			DELETE FROM group_members gm USING staff_logins sl
			WHERE gm.group_id = $1 AND sl.id = gm.staff_login_id RETURNING sl.euid`, id)
		if err != nil {
			return err
		}
		if members, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM service_groups WHERE id = $1`, id); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "group.delete", target: sv.Code + "/" + code,
			details: map[string]any{"service": sv.Code, "group": code, "members_removed": len(members)}})
	})
	return nonNil(members), wrap("remove service group", err)
}

// SetServiceMinLevel sets the minimum assurance level of sv and returns
// the level it had. Only a change is written, and audited as
// service.min_level with the acr values before and after (null for none).
// An unknown e-service is storage.ErrNotFound, an unknown level
// storage.ErrInvalid. Telling the nodes' client caches is the caller's job.
func (s *Store) SetServiceMinLevel(ctx context.Context, actor storage.Actor, sv storage.Service, level storage.Level) (storage.Level, error) {
	if _, err := minACR(level); err != nil {
		return storage.LevelNone, wrap("set service minimum level", err)
	}
	now := s.now()
	var before storage.Level
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		before, err = setMinLevelTx(ctx, tx, now, actor, sv, level)
		return err
	})
	return before, wrap("set service minimum level", err)
}

// setMinLevelTx sets, in tx, the minimum level of sv to level when it is
// another, audited as service.min_level, and returns the one it had.
func setMinLevelTx(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, sv storage.Service, level storage.Level) (storage.Level, error) {
	acr, err := minACR(level)
	if err != nil {
		return storage.LevelNone, err
	}
	var old *string
	if err := tx.QueryRow(ctx, `SELECT min_acr FROM services WHERE id = $1 FOR UPDATE`, sv.ID).Scan(&old); err != nil {
		return storage.LevelNone, err
	}
	before, err := levelOfMinACR(old)
	if err != nil || before == level {
		return before, err
	}
	if _, err := tx.Exec(ctx, `UPDATE services SET min_acr = $2 WHERE id = $1`, sv.ID, acr); err != nil {
		return before, err
	}
	return before, audit(ctx, tx, now, actor, auditEvent{action: "service.min_level", target: sv.Code,
		details: map[string]any{"service": sv.Code, "before": acrOrNil(before), "after": acrOrNil(level)}})
}

// entityIDByNumber returns the id of the entity numbered number, or an
// ENotFound *storage.Error.
func entityIDByNumber(ctx context.Context, tx pgx.Tx, number string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM entities WHERE number = $1`, number).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, errNotInEntity("Entity " + number)
	}
	return id, err
}

// CloseServiceTo closes sv to the entity numbered entityNumber: the
// enrollment goes, and with it every assignment of the entity's staff
// logins to sv and their memberships in its groups. It returns whether it
// was open and the EUIDs that lost an assignment or a group; only a change
// is audited (service.unenroll, for the entity, with the numbers removed).
// An unknown entity is storage.ErrNotFound.
func (s *Store) CloseServiceTo(ctx context.Context, actor storage.Actor, sv storage.Service, entityNumber string) (bool, []string, error) {
	now := s.now()
	closed := false
	var affected []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		entityID, err := entityIDByNumber(ctx, tx, entityNumber)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM service_enrollments WHERE service_id = $1 AND entity_id = $2`, sv.ID, entityID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		closed = true
		rows, err := tx.Query(ctx, `
			DELETE FROM group_members gm USING service_groups g, staff_logins sl
			WHERE gm.group_id = g.id AND g.service_id = $1 AND sl.id = gm.staff_login_id AND sl.entity_id = $2
			RETURNING sl.euid`, sv.ID, entityID)
		if err != nil {
			return err
		}
		memberships, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `
			DELETE FROM service_assignments sa USING staff_logins sl
			WHERE sa.service_id = $1 AND sl.id = sa.staff_login_id AND sl.entity_id = $2
			RETURNING sl.euid`, sv.ID, entityID)
		if err != nil {
			return err
		}
		assignments, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, e := range append(assignments, memberships...) {
			if !seen[e] {
				seen[e] = true
				affected = append(affected, e)
			}
		}
		return audit(ctx, tx, now, actor, auditEvent{entityID: &entityID, action: "service.unenroll", target: sv.Code,
			details: map[string]any{"service": sv.Code, "entity_number": entityNumber,
				"assignments_removed": len(assignments), "group_memberships_removed": len(memberships)}})
	})
	return closed && err == nil, nonNil(affected), wrap("close service", err)
}

// ServiceAssignments returns the staff logins (not deleted) of the entity
// numbered entityNumber assigned to the e-service serviceID, ordered by
// EUID, each with the codes of its groups there; EUIDs and codes only. An
// unknown entity, or one the e-service is not opened to, is
// storage.ErrNotFound.
func (s *Store) ServiceAssignments(ctx context.Context, serviceID int64, entityNumber string) ([]storage.ServiceAssignment, error) {
	rows, err := s.pool.Query(ctx, serviceAssignmentsSQL, serviceID, entityNumber)
	if err != nil {
		return nil, wrap("list service assignments", err)
	}
	out := []storage.ServiceAssignment{}
	missing := false
	var found bool
	var a storage.ServiceAssignment
	_, err = pgx.ForEachRow(rows, []any{&found, &a.EUID, &a.Groups}, func() error {
		if !found {
			missing = true
			return nil
		}
		out = append(out, storage.ServiceAssignment{EUID: a.EUID, Groups: nonNil(a.Groups)})
		return nil
	})
	if err != nil {
		return nil, wrap("list service assignments", err)
	}
	if missing {
		return nil, errNotInEntity("Entity " + entityNumber + " with this e-service opened")
	}
	return out, nil
}

// serviceAssignmentsSQL lists an entity's assignments to an e-service
// ($1 the e-service, $2 the entity number; a row "false" when the entity is
// unknown or not enrolled). Its shape keeps the work linear in the entity's
// staff logins whatever the planner believes of the tables: it is driven by
// the entity's logins, and each login's assignment and groups are looked up
// through primary keys (a semi-join and a correlated ARRAY subquery, which
// the planner cannot turn into a join). A join of the logins to a grouped
// subquery of memberships, as before, was planned without fresh
// statistics (a newly onboarded entity, before autovacuum analyses) as a
// nested loop re-reading every membership for every login: quadratic.
// TestServiceAssignmentsPlanWithoutStatistics holds it to its shape.
const serviceAssignmentsSQL = `
	WITH en AS (
		SELECT e.id FROM entities e JOIN service_enrollments se ON se.entity_id = e.id AND se.service_id = $1
		WHERE e.number = $2
	)
	SELECT true, sl.euid, coalesce(array_agg(g.code ORDER BY g.code) FILTER (WHERE g.code IS NOT NULL), '{}')
	FROM staff_logins sl
	JOIN service_assignments sa ON sa.staff_login_id = sl.id AND sa.service_id = $1
	LEFT JOIN (group_members gm JOIN service_groups g ON g.id = gm.group_id AND g.service_id = $1)
		ON gm.staff_login_id = sl.id
	WHERE sl.entity_id = (SELECT id FROM en) AND sl.status <> 'deleted'
	GROUP BY sl.id
	UNION ALL
	SELECT false, '', '{}' WHERE NOT EXISTS (SELECT FROM en)
	ORDER BY 2`

// DepartmentChanges returns the department's audit trail, newest first:
// the events written by its machine clients, those about its e-services
// (details.service, or the e-service or one of its groups as target), about
// the department itself (department.*: its registration and names), and
// about its clients and its e-services' (client.*: registered, secret
// rotated, disabled, enabled); limit of them (1–200; 0: 50) with ids below before (0: from the
// newest).
func (s *Store) DepartmentChanges(ctx context.Context, departmentID, before int64, limit int) ([]storage.AuditEvent, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	return s.auditEvents(ctx, `
		WHERE ($2 = 0 OR id < $2) AND (
			(actor_kind = 'department' AND actor_id IN (SELECT id FROM clients WHERE department_id = $1))
			OR details->>'service' IN (SELECT code FROM services WHERE department_id = $1)
			OR (action LIKE 'service.%' AND target IN (SELECT code FROM services WHERE department_id = $1))
			OR (action LIKE 'group.%' AND split_part(target, '/', 1) IN (SELECT code FROM services WHERE department_id = $1))
			OR (action LIKE 'department.%' AND target = (SELECT code FROM departments WHERE id = $1))
			OR (action LIKE 'client.%' AND target IN (SELECT c.id FROM clients c LEFT JOIN services sv ON sv.id = c.service_id
				WHERE c.department_id = $1 OR sv.department_id = $1)))
		ORDER BY id DESC LIMIT $3`, departmentID, before, limit)
}
