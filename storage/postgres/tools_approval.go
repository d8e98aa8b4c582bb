package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/entity-account/idp/storage"
)

// The in-person approval of a pending 安全驗證碼 from the person's approval
// QR code (login/tools, approval.go). The person proves the device when
// the QR code is made: that code's time step is stored as a code used at
// sign-in is (ProvePendingTOTP), so it works once. The officer's approval
// then records no step of its own: it names the tool the QR code was made
// for, which must still be that pending tool (a tool reset and enrolled
// again meanwhile is another row).

// ProvePendingTOTP accepts a code of time step step of the pending TOTP
// of staff login staffLoginID, once, and returns the tool: it moves the
// last accepted step as UseTOTP does, unaudited (nothing changes but the
// step). Not pending, or a step not later than the last accepted one (a
// replay): storage.ErrConflict.
func (s *Store) ProvePendingTOTP(ctx context.Context, staffLoginID, step int64) (storage.IdentityTool, error) {
	t, err := scanTool(s.pool.QueryRow(ctx, `
		UPDATE identity_tools SET last_step = $2
		WHERE staff_login_id = $1 AND kind = 'totp' AND state = 'pending' AND last_step < $2
		RETURNING `+toolColumns, staffLoginID, step))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, storage.ErrConflict
	}
	return t, wrap("prove pending totp", err)
}

// ApproveTOTPInPerson makes the pending TOTP toolID of sl active after the
// officer's check of the identity document in person, with tool.approve
// (its details: how, the document checked, the step proven when the QR
// code was made, besides those given) and the notice (nil: none). The
// tool gone, another tool, or not pending any more: storage.ErrConflict.
func (s *Store) ApproveTOTPInPerson(ctx context.Context, actor storage.Actor, sl storage.StaffLogin, toolID int64, details map[string]any, notice *storage.OutboxMessage) (storage.IdentityTool, error) {
	now := s.now()
	var t storage.IdentityTool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		t, err = scanTool(tx.QueryRow(ctx, `
			UPDATE identity_tools SET state = 'active', approved_at = $3
			WHERE id = $1 AND staff_login_id = $2 AND kind = 'totp' AND state = 'pending'
			RETURNING `+toolColumns, toolID, sl.ID, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return storage.ErrConflict
		}
		if err != nil {
			return err
		}
		d := map[string]any{"kind": "totp", "state": string(storage.ToolActive), "tool_id": t.ID, "proven_step": t.LastStep}
		for k, v := range details {
			d[k] = v
		}
		return toolChange(ctx, tx, now, actor, sl, "tool.approve", d, notice)
	})
	return t, wrap("approve totp in person", err)
}
