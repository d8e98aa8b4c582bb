package redis

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
)

// The relying parties of a session: which clients received tokens under it,
// so that back-channel logout can tell each of them when the session ends.

// kSIDParties is the hash client id → subject of the clients that received
// tokens under session sid. It shares the session pointer's hash tag, so
// that the script that records a client (sessionIssued, index.go) can read
// the session's remaining life.
func (s *Store) kSIDParties(sid string) string { return s.prefix + "sid:{" + sid + "}:rps" }

// SessionParties returns the clients that received tokens under the given
// sessions, one entry per session and client. The record outlives the end
// of a session (it expires by itself), so it can be read again afterwards.
func (s *Store) SessionParties(ctx context.Context, sids ...string) ([]storage.SessionParty, error) {
	if len(sids) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.MapStringStringCmd, len(sids))
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, sid := range sids {
			cmds[i] = p.HGetAll(ctx, s.kSIDParties(sid))
		}
		return nil
	})
	if err != nil {
		return nil, wrap("read session parties", err)
	}
	var parties []storage.SessionParty
	for i, sid := range sids {
		for client, subject := range cmds[i].Val() {
			parties = append(parties, storage.SessionParty{SessionID: sid, Subject: subject, ClientID: client})
		}
	}
	return parties, nil
}

// SubjectSessions returns the public sids of subject's sessions, without
// changing anything (EndAllForSubject takes them when it ends them).
func (s *Store) SubjectSessions(ctx context.Context, subject string) ([]string, error) {
	if subject == "" {
		return nil, nil
	}
	sids, err := s.rdb.ZRange(ctx, s.kSubSessions(subject), 0, -1).Result()
	return sids, wrap("read subject sessions", err)
}
