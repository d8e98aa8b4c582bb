package redis

import (
	"context"
	"encoding/json"
	"slices"
	"sort"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
)

// maxListedSessions bounds what SessionsOf reads: the sessions with the
// latest absolute expiry, so the newest. A login with more live sessions
// than this is an oddity; the rest still end with EndAllForSubject.
const maxListedSessions = 100

// SessionsOf lists the live sessions of subject, newest first, each with
// the clients that received tokens in it (the back-channel logout record,
// backchannel.go). Members of the subject's index whose session has gone
// (ended by cookie, idle-expired) are removed from it. Two round trips:
// the index with the sid pointers and parties, then the records.
func (s *Store) SessionsOf(ctx context.Context, subject string) ([]storage.LiveSession, error) {
	if subject == "" {
		return nil, nil
	}
	idx := s.kSubSessions(subject)
	sids, err := s.rdb.ZRevRange(ctx, idx, 0, maxListedSessions-1).Result()
	if err != nil {
		return nil, wrap("list sessions", err)
	}
	if len(sids) == 0 {
		return nil, nil
	}
	ptrs := make([]*goredis.StringCmd, len(sids))
	parties := make([]*goredis.StringSliceCmd, len(sids))
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, sid := range sids {
			ptrs[i], parties[i] = p.Get(ctx, s.kSID(sid)), p.HKeys(ctx, s.kSIDParties(sid))
		}
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, wrap("list sessions", err)
	}
	records := make([]*goredis.StringCmd, len(sids))
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, ptr := range ptrs {
			if h, err := ptr.Result(); err == nil {
				records[i] = p.Get(ctx, s.kSession(h))
			}
		}
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, wrap("list sessions", err)
	}
	var live []storage.LiveSession
	var dead []any
	for i, sid := range sids {
		if gone(ptrs[i], records[i]) {
			dead = append(dead, sid)
			continue
		}
		sess, ok := decodeListed(records[i], subject, sid)
		if !ok {
			continue // not ours to drop from the index: EndAllForSubject still finds it
		}
		clients := parties[i].Val()
		slices.Sort(clients)
		live = append(live, storage.LiveSession{Session: sess, ClientIDs: clients})
	}
	if len(dead) > 0 {
		if err := s.rdb.ZRem(ctx, idx, dead...).Err(); err != nil {
			return nil, wrap("prune sessions index", err)
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].CreatedAt.After(live[j].CreatedAt) })
	return live, nil
}

// gone: the session's pointer or record no longer exists (only then is
// its index member dropped).
func gone(ptr, rec *goredis.StringCmd) bool {
	return isNil(ptr.Err()) || rec != nil && isNil(rec.Err())
}

// decodeListed is the session record a listing read for sid of subject;
// false when it has gone or is not that session.
func decodeListed(rec *goredis.StringCmd, subject, sid string) (storage.Session, bool) {
	var sess storage.Session
	if rec == nil {
		return sess, false
	}
	raw, err := rec.Bytes()
	if err != nil || json.Unmarshal(raw, &sess) != nil {
		return sess, false
	}
	return sess, sess.Subject == subject && sess.SessionID == sid
}
