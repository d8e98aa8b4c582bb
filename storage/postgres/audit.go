package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// auditEvent is one row of the audit trail, written inside the transaction
// of the change it records.
type auditEvent struct {
	entityID *int64 // the entity acted for; nil for global things (departments, e-services)
	action   string // noun.verb, e.g. staff.create
	target   string // what was acted on: EUID, entity number, client id, code
	details  map[string]any
}

// audit writes e as done by actor at now, in tx.
func audit(ctx context.Context, tx pgx.Tx, now time.Time, actor storage.Actor, e auditEvent) error {
	details := e.details
	if details == nil {
		details = map[string]any{}
	}
	if actor.DeskSession != "" {
		details = withDeskSession(details, actor.DeskSession)
	}
	args := []any{now, string(actor.Kind), actor.ID, e.entityID, e.action, e.target, actor.IP, details}
	insert := `INSERT INTO audit_events (at, actor_kind, actor_id, entity_id, action, target, ip, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	// Only an officer's event names the column: the events of every other
	// actor are written as before it existed (the migrations' tests write
	// them on the older schemas).
	if id := officerID(actor); id != nil {
		args = append(args, *id)
		insert = `INSERT INTO audit_events (at, actor_kind, actor_id, entity_id, action, target, ip, details, officer_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	}
	_, err := tx.Exec(ctx, insert, args...)
	return wrap("write audit event "+e.action, err)
}

// withDeskSession is details with the desk session an officer acted in,
// as a copy: the caller's map is left as it was.
func withDeskSession(details map[string]any, session string) map[string]any {
	out := make(map[string]any, len(details)+1)
	for k, v := range details {
		out[k] = v
	}
	out["desk_session"] = session
	return out
}

// officerID is the officer behind actor, NULL for any other actor.
func officerID(actor storage.Actor) *int64 {
	if actor.Kind != storage.ActorOperator || actor.OfficerID == 0 {
		return nil
	}
	return &actor.OfficerID
}

// AuditEvents returns the last limit audit events, newest first.
func (s *Store) AuditEvents(ctx context.Context, limit int) ([]storage.AuditEvent, error) {
	return s.auditEvents(ctx, `ORDER BY id DESC LIMIT $1`, limit)
}

// EntityAuditEvents returns the audit events of an entity, newest first:
// limit of them (1–500; 0: 50) with ids below before (0: from the newest).
func (s *Store) EntityAuditEvents(ctx context.Context, entityID, before int64, limit int) ([]storage.AuditEvent, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	return s.auditEvents(ctx, `WHERE entity_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, entityID, before, limit)
}

func (s *Store) auditEvents(ctx context.Context, where string, args ...any) ([]storage.AuditEvent, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, at, actor_kind, actor_id, entity_id, action, target, ip, details
		FROM audit_events `+where, args...)
	if err != nil {
		return nil, wrap("list audit events", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.AuditEvent, error) {
		var e storage.AuditEvent
		err := row.Scan(&e.ID, &e.At, &e.ActorKind, &e.ActorID, &e.EntityID, &e.Action, &e.Target, &e.IP, &e.Details)
		return e, err
	})
	if err != nil {
		return nil, wrap("list audit events", err)
	}
	return nonNil(events), nil
}

// AuditNames returns the names of the e-services numbered by services (with
// all their groups) and of the departments whose machine clients are
// clients: what an audit trail records by code or id. Codes and ids that
// name nothing (any more) are left out.
func (s *Store) AuditNames(ctx context.Context, services, clients []string) (storage.AuditNames, error) {
	n := storage.AuditNames{Services: map[string]storage.Names{}, Groups: map[string]map[string]storage.Names{}, Departments: map[string]storage.Names{}}
	if len(services) > 0 {
		rows, err := s.pool.Query(ctx, `
			SELECT s.code, s.name_zh, s.name_pt, s.name_en, coalesce(g.code, ''), coalesce(g.name_zh, ''), coalesce(g.name_pt, ''), coalesce(g.name_en, '')
			FROM services s LEFT JOIN service_groups g ON g.service_id = s.id
			WHERE s.code = ANY($1)`, services)
		if err != nil {
			return n, wrap("audit names: services", err)
		}
		var code, group string
		var sv, g storage.Names
		_, err = pgx.ForEachRow(rows, []any{&code, &sv.ZH, &sv.PT, &sv.EN, &group, &g.ZH, &g.PT, &g.EN}, func() error {
			n.Services[code] = sv
			if group != "" {
				if n.Groups[code] == nil {
					n.Groups[code] = map[string]storage.Names{}
				}
				n.Groups[code][group] = g
			}
			return nil
		})
		if err != nil {
			return n, wrap("audit names: services", err)
		}
	}
	if len(clients) > 0 {
		rows, err := s.pool.Query(ctx, `
			SELECT c.id, d.name_zh, d.name_pt, d.name_en
			FROM clients c JOIN departments d ON d.id = c.department_id
			WHERE c.id = ANY($1)`, clients)
		if err != nil {
			return n, wrap("audit names: departments", err)
		}
		var id string
		var d storage.Names
		_, err = pgx.ForEachRow(rows, []any{&id, &d.ZH, &d.PT, &d.EN}, func() error {
			n.Departments[id] = d
			return nil
		})
		if err != nil {
			return n, wrap("audit names: departments", err)
		}
	}
	return n, nil
}
