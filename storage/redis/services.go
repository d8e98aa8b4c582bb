package redis

import (
	"context"
	"strconv"
	"strings"
)

// E-service changes: every node keeps clients in memory for a short time
// (op's client cache), each carrying what it needs of its e-service (name,
// minimum assurance level). When an e-service's settings change, the node
// that made the change tells every node on one pub/sub channel, so that the
// next sign-in anywhere loads the clients afresh. A node that misses a
// message (while reconnecting) still drops them within the cache's TTL.

func (s *Store) kServicesChannel() string { return s.prefix + "services-changed" }

// PublishServicesChanged tells every node that the e-services with ids
// serviceIDs changed.
func (s *Store) PublishServicesChanged(ctx context.Context, serviceIDs ...int64) error {
	if len(serviceIDs) == 0 {
		return nil
	}
	ids := make([]string, len(serviceIDs))
	for i, id := range serviceIDs {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return wrap("publish services changed", s.rdb.Publish(ctx, s.kServicesChannel(), strings.Join(ids, "\n")).Err())
}

// SubscribeServicesChanged calls forget with the e-service ids of every
// change published until ctx ends. It returns once the subscription is in
// place.
func (s *Store) SubscribeServicesChanged(ctx context.Context, forget func(serviceIDs []int64)) error {
	return s.subscribe(ctx, s.kServicesChannel(), "services changes", 64, func(payload string) {
		var ids []int64
		for _, f := range strings.Split(payload, "\n") {
			if id, err := strconv.ParseInt(f, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			forget(ids)
		}
	})
}
