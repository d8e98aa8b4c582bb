package redis

import (
	"context"
	"strings"
)

// Client changes: a client's secret rotated, the client disabled or
// enabled. Every node keeps clients in memory for a short time (op's
// client cache); the operator's command tells every node on one pub/sub
// channel, so that no node keeps accepting a rotated-out secret or a
// disabled client's tokens. A node that misses a message (while
// reconnecting) still drops the client within the cache's TTL.

func (s *Store) kClientsChannel() string { return s.prefix + "clients-changed" }

// PublishClientsChanged tells every node that the clients clientIDs changed.
func (s *Store) PublishClientsChanged(ctx context.Context, clientIDs ...string) error {
	if len(clientIDs) == 0 {
		return nil
	}
	return wrap("publish clients changed", s.rdb.Publish(ctx, s.kClientsChannel(), strings.Join(clientIDs, "\n")).Err())
}

// SubscribeClientsChanged calls forget with the client ids of every change
// published until ctx ends. It returns once the subscription is in place.
func (s *Store) SubscribeClientsChanged(ctx context.Context, forget func(clientIDs []string)) error {
	return s.subscribe(ctx, s.kClientsChannel(), "clients changes", 64, func(payload string) {
		var ids []string
		for _, id := range strings.Split(payload, "\n") {
			if id != "" {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			forget(ids)
		}
	})
}
