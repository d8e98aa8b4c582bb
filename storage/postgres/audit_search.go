package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// SearchAuditEvents returns the audit events q matches, newest first (by
// at, then id), with the entity's number. The time range bounds every
// search: an entity's search walks the (entity_id, at) index, any other
// the (at) index. Only the filters set become conditions, so that the
// planner sees each search as it is.
func (s *Store) SearchAuditEvents(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEvent, error) {
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) || q.To.Sub(q.From) > storage.MaxAuditRange {
		return nil, storage.Errorf(storage.EInvalid, "an audit search needs a range of at most 366 days")
	}
	if q.Limit < 1 || q.Limit > storage.MaxAuditPage {
		return nil, storage.Errorf(storage.EInvalid, "an audit search returns 1 to %d events", storage.MaxAuditPage)
	}
	args := []any{q.From, q.To}
	where := []string{"a.at >= $1", "a.at < $2"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if q.EntityID != 0 {
		add("a.entity_id = $?", q.EntityID)
	}
	if q.ActorID != "" {
		add("lower(a.actor_id) = lower($?)", q.ActorID)
	}
	if q.Target != "" {
		add("a.target = $?", q.Target)
	}
	if prefix, ok := strings.CutSuffix(q.Action, "."); ok {
		add("starts_with(a.action, $?)", prefix+".")
	} else if q.Action != "" {
		add("a.action = $?", q.Action)
	}
	if !q.After.At.IsZero() {
		add("a.at <= $?", q.After.At) // lets the index stop where the page starts
		add("(a.at, a.id) < ($?::timestamptz", q.After.At)
		args = append(args, q.After.ID)
		where[len(where)-1] += ", $" + strconv.Itoa(len(args)) + "::bigint)"
	}
	args = append(args, q.Limit)
	rows, err := s.pool.Query(ctx, `
		SELECT a.id, a.at, a.actor_kind, a.actor_id, a.entity_id, coalesce(e.number, ''), a.action, a.target, a.ip, a.details
		FROM audit_events a LEFT JOIN entities e ON e.id = a.entity_id
		WHERE `+strings.Join(where, " AND ")+`
		ORDER BY a.at DESC, a.id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, wrap("search audit events", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.AuditEvent, error) {
		var e storage.AuditEvent
		err := row.Scan(&e.ID, &e.At, &e.ActorKind, &e.ActorID, &e.EntityID, &e.EntityNumber, &e.Action, &e.Target, &e.IP, &e.Details)
		return e, err
	})
	if err != nil {
		return nil, wrap("search audit events", err)
	}
	return nonNil(events), nil
}
