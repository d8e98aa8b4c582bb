package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// ChangePassword sets the password of an account that has just proved its
// old one (the portal's 「變更密碼」): the hash becomes newHash only if it
// still is oldHash, so that of two changes at once only one wins and no
// change overwrites another made meanwhile, and only while the account may
// sign in (activated; a staff login not deleted). The audit event
// (staff.password_change or entity_account.password_change, target the
// subject) is written in the same transaction, with the account itself as
// the actor and ip as where it acted from; it never carries a hash.
//
// Returns storage.ErrNotFound for an unknown account and storage.ErrConflict
// when the hash is no longer oldHash or the account may not sign in. Ending
// the account's other sessions and tokens is the caller's job
// (storage.ShortLived.EndAllForSubject). notice, when not nil, tells the
// holder ("password changed"): it is written to the outbox in the same
// transaction, so it goes exactly when the change is made.
func (s *Store) ChangePassword(ctx context.Context, kind storage.PrincipalKind, id int64, oldHash, newHash, ip string, notice *storage.OutboxMessage) error {
	var update, exists, action string
	switch kind {
	case storage.KindStaff:
		update = `
			UPDATE staff_logins SET password_hash = $3, updated_at = $4
			WHERE id = $1 AND password_hash = $2 AND activated_at IS NOT NULL AND status = 'active'
			RETURNING entity_id, euid`
		exists = `SELECT EXISTS (SELECT FROM staff_logins WHERE id = $1)`
		action = "staff.password_change"
	case storage.KindEntityAccount:
		update = `
			UPDATE entity_accounts SET password_hash = $3
			WHERE id = $1 AND password_hash = $2 AND activated_at IS NOT NULL
			RETURNING entity_id, subject`
		exists = `SELECT EXISTS (SELECT FROM entity_accounts WHERE id = $1)`
		action = "entity_account.password_change"
	default:
		return fmt.Errorf("postgres: change password: unknown principal kind %q", kind)
	}
	if oldHash == "" || newHash == "" {
		return errors.New("postgres: change password: empty hash")
	}
	now := s.now()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		args := []any{id, oldHash, newHash}
		if kind == storage.KindStaff {
			args = append(args, now)
		}
		var entityID int64
		var subject string
		err := tx.QueryRow(ctx, update, args...).Scan(&entityID, &subject)
		if errors.Is(err, pgx.ErrNoRows) {
			return existsOrNotFound(ctx, tx, exists, id)
		}
		if err != nil {
			return err
		}
		ev := auditEvent{entityID: &entityID, action: action, target: subject}
		if notice != nil {
			if err := enqueueNotice(ctx, tx, now, entityID, notice); err != nil {
				return err
			}
			ev.details = map[string]any{"notice": map[string]any{"outbox_id": notice.ID, "channel": string(notice.Channel)}}
		}
		return audit(ctx, tx, now, storage.Actor{Kind: storage.ActorKind(kind), ID: subject, IP: ip}, ev)
	})
	return wrap("change password", err)
}
