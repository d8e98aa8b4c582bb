package redis

import (
	"context"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Claims changes: every node keeps the content of claims (names, groups) for
// a few seconds (op's claims cache). When an account's claims change (an
// assignment, a group, a name), the node that made the change tells every
// node on one pub/sub channel, so that userinfo and introspection answer the
// new content at once everywhere. A node that misses a message (while
// reconnecting) still forgets the entry within the cache's TTL.

func (s *Store) kClaimsChannel() string { return s.prefix + "claims-changed" }

// PublishClaimsChanged tells every node that the claims of subjects changed.
func (s *Store) PublishClaimsChanged(ctx context.Context, subjects ...string) error {
	if len(subjects) == 0 {
		return nil
	}
	return wrap("publish claims changed", s.rdb.Publish(ctx, s.kClaimsChannel(), strings.Join(subjects, "\n")).Err())
}

// SubscribeClaimsChanged calls forget with the subjects of every change
// published until ctx ends. It returns once the subscription is in place.
func (s *Store) SubscribeClaimsChanged(ctx context.Context, forget func(subjects []string)) error {
	return s.subscribe(ctx, s.kClaimsChannel(), "claims changes", 256, func(payload string) {
		forget(strings.Split(payload, "\n"))
	})
}

// subscribe calls fn with the payload of every message published on
// channel until ctx ends, in order, on one goroutine. It returns once the
// subscription is in place.
func (s *Store) subscribe(ctx context.Context, channel, what string, size int, fn func(payload string)) error {
	sub := s.rdb.Subscribe(ctx, channel)
	if _, err := sub.Receive(ctx); err != nil { // the subscription's confirmation
		sub.Close()
		return wrap("subscribe to "+what, err)
	}
	go func() {
		defer sub.Close()
		ch := sub.Channel(goredis.WithChannelSize(size))
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				fn(m.Payload)
			}
		}
	}()
	return nil
}
