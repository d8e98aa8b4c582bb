package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// The register as the operator's desk reads and changes it besides what
// the commands did before: a department's names, an e-service's access
// policy, every e-service, the entities one is opened to, one audit event.

// RenameDepartment changes the names of the department code that names
// sets and returns it as it is now. Only a change is written, audited as
// department.rename with the names before and after. An unknown
// department is storage.ErrNotFound.
func (s *Store) RenameDepartment(ctx context.Context, actor storage.Actor, code string, names storage.DepartmentNames) (storage.Department, bool, error) {
	now := s.now()
	var d storage.Department
	changed := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id, code, name_zh, name_pt, name_en FROM departments WHERE code = $1 FOR UPDATE`, code).
			Scan(&d.ID, &d.Code, &d.NameZH, &d.NamePT, &d.NameEN)
		if err != nil {
			return err
		}
		before := d
		for _, n := range []struct {
			to   *string
			from *string
		}{{&d.NameZH, names.ZH}, {&d.NamePT, names.PT}, {&d.NameEN, names.EN}} {
			if n.from != nil {
				*n.to = *n.from
			}
		}
		if d == before {
			return nil
		}
		changed = true
		if _, err := tx.Exec(ctx, `UPDATE departments SET name_zh = $2, name_pt = $3, name_en = $4 WHERE id = $1`,
			d.ID, d.NameZH, d.NamePT, d.NameEN); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{action: "department.rename", target: d.Code,
			details: map[string]any{"department": d.Code,
				"before": map[string]string{"zh": before.NameZH, "pt": before.NamePT, "en": before.NameEN},
				"after":  map[string]string{"zh": d.NameZH, "pt": d.NamePT, "en": d.NameEN}}})
	})
	return d, changed, wrap("rename department", err)
}

// SetServiceAccessPolicy sets the access policy of sv and returns the one
// it had. Only a change is written, audited as service.access_policy with
// the policies before and after. An unknown e-service is
// storage.ErrNotFound, an unknown policy storage.ErrInvalid.
func (s *Store) SetServiceAccessPolicy(ctx context.Context, actor storage.Actor, sv storage.Service, p storage.AccessPolicy) (storage.AccessPolicy, error) {
	if !p.Known() {
		return "", wrap("set service access policy", storage.ErrInvalid)
	}
	now := s.now()
	var before storage.AccessPolicy
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		before, err = setAccessPolicyTx(ctx, tx, now, actor, sv, p)
		return err
	})
	return before, wrap("set service access policy", err)
}

// SetServiceSettings sets the minimum assurance level and the access
// policy of sv together, in one transaction, and returns the ones it had.
// Each setting that changes is written and audited with its own event
// (service.min_level, service.access_policy, as when set alone); neither
// is written unless both can be. An unknown e-service is
// storage.ErrNotFound, an unknown level or policy storage.ErrInvalid.
func (s *Store) SetServiceSettings(ctx context.Context, actor storage.Actor, sv storage.Service, level storage.Level, p storage.AccessPolicy) (storage.Level, storage.AccessPolicy, error) {
	if !p.Known() || !level.Known() {
		return storage.LevelNone, "", wrap("set service settings", storage.ErrInvalid)
	}
	now := s.now()
	var beforeLevel storage.Level
	var beforePolicy storage.AccessPolicy
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if beforeLevel, err = setMinLevelTx(ctx, tx, now, actor, sv, level); err != nil {
			return err
		}
		beforePolicy, err = setAccessPolicyTx(ctx, tx, now, actor, sv, p)
		return err
	})
	return beforeLevel, beforePolicy, wrap("set service settings", err)
}

// setAccessPolicyTx sets, in tx, the access policy of sv to p when it is
// another, audited as service.access_policy, and returns the one it had.
func setAccessPolicyTx(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, sv storage.Service, p storage.AccessPolicy) (storage.AccessPolicy, error) {
	var before storage.AccessPolicy
	if err := tx.QueryRow(ctx, `SELECT access_policy FROM services WHERE id = $1 FOR UPDATE`, sv.ID).Scan(&before); err != nil {
		return before, err
	}
	if before == p {
		return before, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE services SET access_policy = $2 WHERE id = $1`, sv.ID, string(p)); err != nil {
		return before, err
	}
	return before, audit(ctx, tx, now, actor, auditEvent{action: "service.access_policy", target: sv.Code,
		details: map[string]any{"service": sv.Code, "before": string(before), "after": string(p)}})
}

// RegisteredServices returns every e-service ordered by code, with its
// department's code and how many entities it is opened to.
func (s *Store) RegisteredServices(ctx context.Context) ([]storage.RegisteredService, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT sv.id, sv.code, sv.department_id, sv.name_zh, sv.name_pt, sv.name_en, sv.access_policy, sv.min_acr,
			d.code, (SELECT count(*) FROM service_enrollments en WHERE en.service_id = sv.id)
		FROM services sv JOIN departments d ON d.id = sv.department_id
		ORDER BY sv.code`)
	if err != nil {
		return nil, wrap("list services", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.RegisteredService, error) {
		var r storage.RegisteredService
		var acr *string
		err := row.Scan(&r.ID, &r.Code, &r.DepartmentID, &r.NameZH, &r.NamePT, &r.NameEN, &r.AccessPolicy, &acr,
			&r.DepartmentCode, &r.Entities)
		if err != nil {
			return r, err
		}
		r.MinLevel, err = levelOfMinACR(acr)
		return r, err
	})
	if err != nil {
		return nil, wrap("list services", err)
	}
	return nonNil(list), nil
}

// ServiceEntities returns the entities the e-service serviceID is opened
// to, ordered by number.
func (s *Store) ServiceEntities(ctx context.Context, serviceID int64) ([]storage.EnrolledEntity, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT e.number, e.name_zh, e.name_pt, e.status, en.created_at
		FROM service_enrollments en JOIN entities e ON e.id = en.entity_id
		WHERE en.service_id = $1 ORDER BY e.number`, serviceID)
	if err != nil {
		return nil, wrap("list service entities", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.EnrolledEntity, error) {
		var e storage.EnrolledEntity
		err := row.Scan(&e.Number, &e.NameZH, &e.NamePT, &e.Status, &e.Since)
		return e, err
	})
	if err != nil {
		return nil, wrap("list service entities", err)
	}
	return nonNil(list), nil
}

// AuditEvent returns the audit event id with its entity's number, or
// storage.ErrNotFound.
func (s *Store) AuditEvent(ctx context.Context, id int64) (storage.AuditEvent, error) {
	var e storage.AuditEvent
	err := s.pool.QueryRow(ctx, `
		SELECT a.id, a.at, a.actor_kind, a.actor_id, a.entity_id, coalesce(e.number, ''), a.action, a.target, a.ip, a.details
		FROM audit_events a LEFT JOIN entities e ON e.id = a.entity_id
		WHERE a.id = $1`, id,
	).Scan(&e.ID, &e.At, &e.ActorKind, &e.ActorID, &e.EntityID, &e.EntityNumber, &e.Action, &e.Target, &e.IP, &e.Details)
	return e, wrap("get audit event", err)
}
