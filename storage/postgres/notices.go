package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// tell writes what tellOf composes of a change to sl (the login as it was
// before the change) to the outbox in tx, due at once, and records each
// notice in details, the audit event's: notice (to the holder) and
// account_notice (to the entity account), by outbox id and channel. A nil
// tellOf tells nobody.
func tell(ctx context.Context, tx pgx.Tx, now time.Time, sl storage.StaffLogin, tellOf storage.TellOf, details map[string]any) error {
	if tellOf == nil {
		return nil
	}
	number, err := entityNumberOf(ctx, tx, sl.EntityID)
	if err != nil {
		return err
	}
	told, err := tellOf(sl, number)
	if err != nil {
		return err
	}
	for _, n := range []struct {
		key string
		m   *storage.OutboxMessage
	}{{"notice", told.Holder}, {"account_notice", told.EntityAccount}} {
		m := n.m
		if m == nil {
			continue
		}
		if err := enqueueNotice(ctx, tx, now, sl.EntityID, m); err != nil {
			return err
		}
		details[n.key] = map[string]any{"outbox_id": m.ID, "channel": string(m.Channel)}
	}
	return nil
}

// entityNumberOf is the number of entity id, read in tx.
func entityNumberOf(ctx context.Context, tx pgx.Tx, id int64) (string, error) {
	var number string
	err := tx.QueryRow(ctx, `SELECT number FROM entities WHERE id = $1`, id).Scan(&number)
	return number, err
}
