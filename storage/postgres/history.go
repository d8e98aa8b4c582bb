package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

var _ storage.SignInHistory = (*Store)(nil)

// recordSignInsSQL stores a batch of attempts from parallel arrays in one
// statement, in the order they came (ids follow it, so that attempts of
// one instant page in order). An attempt the sign-in could not tie to an account (refused
// before the account was looked up, or at a name that does not exist)
// takes its entity from the typed entity number and its account from the
// typed username, when they name one: so the entity's admins see attempts
// at its usernames that do not exist, and a login's own history shows the
// attempts locked out at its name.
const recordSignInsSQL = `
	INSERT INTO signin_events (at, entity_id, subject, entity_number, username, outcome, method, address, user_agent, client_id)
	SELECT v.at, coalesce(nullif(v.entity_id, 0), e.id), coalesce(nullif(v.subject, ''), sl.euid, ea.subject, ''),
		v.entity_number, v.username, v.outcome, v.method, v.address, v.user_agent, v.client_id
	FROM unnest($1::timestamptz[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
		WITH ORDINALITY AS v(at, entity_id, subject, entity_number, username, outcome, method, address, user_agent, client_id, n)
	LEFT JOIN entities e ON v.entity_id = 0 AND e.number = v.entity_number
	LEFT JOIN staff_logins sl ON v.subject = '' AND sl.entity_id = e.id AND lower(sl.username) = v.username
	LEFT JOIN entity_accounts ea ON v.subject = '' AND ea.entity_id = e.id AND lower(ea.username) = v.username
	ORDER BY v.n`

// lastSignInSQL moves 最後登入時間 of the accounts (staff logins, then
// entity accounts) that signed in in a batch: one UPDATE each per batch.
const lastSignInSQL = `
	WITH latest AS (SELECT s, max(a) AS at FROM unnest($1::text[], $2::timestamptz[]) AS v(s, a) GROUP BY s),
	staff AS (
		UPDATE staff_logins p SET last_signin_at = latest.at FROM latest
		WHERE p.euid = latest.s AND (p.last_signin_at IS NULL OR p.last_signin_at < latest.at)
	)
	UPDATE entity_accounts ea SET last_signin_at = latest.at FROM latest
	WHERE ea.subject = latest.s AND (ea.last_signin_at IS NULL OR ea.last_signin_at < latest.at)`

// RecordSignIns stores events and moves the 最後登入時間 of the accounts
// that signed in, in one round trip.
func (s *Store) RecordSignIns(ctx context.Context, events []storage.SignInEvent) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	at, entity := make([]time.Time, n), make([]int64, n)
	cols := make([][]string, 8)
	for i := range cols {
		cols[i] = make([]string, n)
	}
	var signedSubjects []string
	var signedAt []time.Time
	for i, e := range events {
		at[i], entity[i] = e.At, e.EntityID
		for j, v := range []string{e.Subject, e.EntityNumber, e.Username, string(e.Outcome), string(e.Method), e.Address, e.UserAgent, e.ClientID} {
			cols[j][i] = v
		}
		if e.Outcome == storage.SignInSucceeded && e.Subject != "" {
			signedSubjects, signedAt = append(signedSubjects, e.Subject), append(signedAt, e.At)
		}
	}
	b := &pgx.Batch{}
	b.Queue(recordSignInsSQL, at, entity, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7])
	if len(signedSubjects) > 0 {
		b.Queue(lastSignInSQL, signedSubjects, signedAt)
	}
	return wrap("record sign-ins", s.pool.SendBatch(ctx, b).Close())
}

// SignInEvents returns a page of the history, newest first: the events of
// q.Subject (within q.EntityID when it is set too) or of q.EntityID,
// within [q.From, q.To), of q.Outcome if set, after q.After. Each shape of
// query walks one index in order: (subject, at, id) or (entity_id, at, id).
func (s *Store) SignInEvents(ctx context.Context, q storage.SignInQuery) ([]storage.SignInEvent, error) {
	if q.Subject == "" && q.EntityID == 0 {
		return nil, fmt.Errorf("postgres: sign-in events: %w: no subject or entity", storage.ErrInvalid)
	}
	sql, args := signInEventsSQL(q)
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap("list sign-in events", err)
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storage.SignInEvent, error) {
		var e storage.SignInEvent
		err := row.Scan(&e.ID, &e.At, &e.EntityID, &e.Subject, &e.EntityNumber, &e.Username, &e.Outcome, &e.Method,
			&e.Address, &e.UserAgent, &e.ClientID)
		return e, err
	})
	if err != nil {
		return nil, wrap("list sign-in events", err)
	}
	return nonNil(events), nil
}

// signInEventsSQL is the query of a page of q and its arguments: only the
// conditions q sets, so that each shape has a plan of its own.
func signInEventsSQL(q storage.SignInQuery) (string, []any) {
	limit := q.Limit
	if limit <= 0 || limit > storage.MaxSignInPage {
		limit = storage.MaxSignInPage
	}
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if q.Subject != "" {
		arg("subject = $?", q.Subject)
	}
	if q.EntityID != 0 {
		arg("entity_id = $?", q.EntityID)
	}
	arg("at >= $?", q.From)
	arg("at < $?", q.To)
	if q.Outcome != "" {
		arg("outcome = $?", string(q.Outcome))
	}
	if !q.After.IsZero() {
		args = append(args, q.After.At, q.After.ID)
		where = append(where, fmt.Sprintf("(at, id) < ($%d, $%d)", len(args)-1, len(args)))
	}
	args = append(args, limit)
	return `
		SELECT id, at, coalesce(entity_id, 0), subject, entity_number, username, outcome, method, address, user_agent, client_id
		FROM signin_events WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY at DESC, id DESC LIMIT $` + fmt.Sprint(len(args)), args
}
