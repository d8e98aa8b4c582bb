package postgres

import "context"

// OutboxBacklog counts the messages still to deliver (due or waiting for a
// retry), for the idp_outbox_backlog metric. The count walks the partial
// index of pending rows, so it stays cheap however long the delivered
// history grows.
func (s *Store) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE `+outboxPending).Scan(&n)
	return n, wrap("outbox backlog", err)
}
