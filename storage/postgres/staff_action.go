package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// AuditStaffAction records action (with details) as done by actor to the
// staff login euid of entity entityID, for an act whose effect lives
// outside Postgres (its sessions ended, its sign-in lockout lifted): the
// login is read, locked against a concurrent change, and the event written
// in one transaction. A login of another entity is storage.ErrNotFound,
// as a missing one, and nothing is written.
func (s *Store) AuditStaffAction(ctx context.Context, actor storage.Actor, entityID int64, euid, action string, details map[string]any) (storage.StaffLogin, error) {
	now := s.now()
	var sl storage.StaffLogin
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if sl, err = lockStaffLogin(ctx, tx, entityID, euid); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, auditEvent{entityID: &sl.EntityID, action: action, target: sl.EUID, details: details})
	})
	sl.PasswordHash = ""
	return sl, wrap("audit "+action, err)
}
