package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
)

// sessionTTL is how long a session record lives from now: idle, but never past expires.
func (s *Store) sessionTTL(idle time.Duration, expires time.Time) (time.Duration, bool) {
	left, ok := s.ttlUntil(expires)
	if !ok {
		return 0, false
	}
	return min(idle, left), true
}

// CreateSession stores s under a new random secret, which it returns for the
// cookie, and sets s.SessionID to a new public sid. The record lives for idle
// (extended by Session) but never past s.ExpiresAt, which is required.
// CreatedAt and LastSeenAt default to now.
func (s *Store) CreateSession(ctx context.Context, sess *storage.Session, idle time.Duration) (string, error) {
	if idle < time.Millisecond {
		return "", fmt.Errorf("redis: create session: idle timeout %v too short", idle)
	}
	if sess.ExpiresAt.IsZero() {
		return "", errors.New("redis: create session: ExpiresAt is required")
	}
	ttl, ok := s.sessionTTL(idle, sess.ExpiresAt)
	if !ok {
		return "", errors.New("redis: create session: ExpiresAt is in the past")
	}
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	sid, err := newID()
	if err != nil {
		return "", err
	}
	now := s.now()
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = now
	}
	if sess.LastSeenAt.IsZero() {
		sess.LastSeenAt = now
	}
	sess.SessionID = sid
	raw, err := json.Marshal(sess)
	if err != nil {
		return "", wrap("create session", err)
	}
	h := hashSecret(secret)
	sidTTL, _ := s.ttlUntil(sess.ExpiresAt)
	// The sid pointer and the subject index (independent of each other), then
	// the record: the session exists only once it can be found by sid and subject.
	err = s.sequenced(ctx, func(p goredis.Pipeliner, run scriptRunner) {
		p.Set(ctx, s.kSID(sid), h, sidTTL)
		if sess.Subject != "" {
			run(indexAdd, []string{s.kSubSessions(sess.Subject)}, s.indexArgs(sid, sess.ExpiresAt)...)
		}
	}, func(p goredis.Pipeliner, _ scriptRunner) {
		p.Set(ctx, s.kSession(h), raw, ttl)
	})
	if err != nil {
		return "", wrap("create session", err)
	}
	return secret, nil
}

// Session looks a session up by its cookie secret, records the visit in
// LastSeenAt and extends its idle expiry to idle from now, never past
// ExpiresAt; with idle ≤ 0 it only looks. A visit within idle/touchEvery of
// the last one recorded is not recorded (one read, no write): the idle
// expiry then lies at most that much nearer than idle from now, never
// farther. ErrNotFound when unknown, idle-expired or past ExpiresAt.
func (s *Store) Session(ctx context.Context, secret string, idle time.Duration) (*storage.Session, error) {
	key := s.kSession(hashSecret(secret))
	raw, err := s.rdb.Get(ctx, key).Bytes()
	if isNil(err) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, wrap("load session", err)
	}
	var sess storage.Session
	if err := json.Unmarshal(raw, &sess); err != nil {
		return nil, wrap("decode session", err)
	}
	ttl, ok := s.sessionTTL(idle, sess.ExpiresAt)
	if !ok {
		// Past its absolute expiry (Redis would drop it at once anyway).
		if err := s.rdb.Del(ctx, key).Err(); err != nil {
			return nil, wrap("delete session", err)
		}
		return nil, storage.ErrNotFound
	}
	if idle < time.Millisecond {
		// Nothing to extend: just look.
		return &sess, nil
	}
	if now := s.now(); !now.Before(sess.LastSeenAt) && now.Sub(sess.LastSeenAt) < idle/touchEvery {
		// Recorded moments ago: the idle expiry is as good as extended.
		return &sess, nil
	}
	old := raw
	sess.LastSeenAt = s.now()
	raw, err = json.Marshal(&sess)
	if err != nil {
		return nil, wrap("encode session", err)
	}
	// Only over the record as read: a session deleted meanwhile stays
	// deleted, and a factor proven meanwhile (ProveInSession) is not undone.
	n, err := touchSession.Run(ctx, s.rdb, []string{key}, old, raw, ttl.Milliseconds()).Int()
	if err != nil {
		return nil, wrap("touch session", err)
	}
	switch n {
	case -1:
		return nil, storage.ErrNotFound
	case 0:
		// Changed under us: the newer record is the session (not extended
		// by this visit; the next one will).
		return s.Session(ctx, secret, 0)
	}
	return &sess, nil
}

// touchEvery: a session's visits are recorded at most once per
// idle/touchEvery (Session).
const touchEvery = 32

// touchSession replaces KEYS[1] by ARGV[2] with a TTL of ARGV[3] ms, only
// if it still holds ARGV[1]. Returns 1 on success, 0 if the value changed,
// -1 if gone.
var touchSession = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// ProveInSession changes a live session with fn and stores it over the
// record as read, keeping its expiry; a concurrent change makes it read
// and try again.
func (s *Store) ProveInSession(ctx context.Context, secret string, fn func(*storage.Session)) (*storage.Session, error) {
	key := s.kSession(hashSecret(secret))
	for range 16 {
		old, err := s.rdb.Get(ctx, key).Bytes()
		if isNil(err) {
			return nil, storage.ErrNotFound
		}
		if err != nil {
			return nil, wrap("load session", err)
		}
		var sess storage.Session
		if err := json.Unmarshal(old, &sess); err != nil {
			return nil, wrap("decode session", err)
		}
		sub, sid := sess.Subject, sess.SessionID
		fn(&sess)
		sess.Subject, sess.SessionID = sub, sid
		raw, err := json.Marshal(&sess)
		if err != nil {
			return nil, wrap("encode session", err)
		}
		n, err := casKeepTTL.Run(ctx, s.rdb, []string{key}, old, raw).Int()
		if err != nil {
			return nil, wrap("update session", err)
		}
		switch n {
		case 1:
			return &sess, nil
		case -1:
			return nil, storage.ErrNotFound
		}
	}
	return nil, wrap("update session", errors.New("the session kept changing"))
}

// DeleteSession ends a session by its cookie secret; unknown is not an error.
// Tokens issued under it are kept (see EndSessionByID).
func (s *Store) DeleteSession(ctx context.Context, secret string) error {
	h := hashSecret(secret)
	raw, err := s.rdb.GetDel(ctx, s.kSession(h)).Bytes()
	if isNil(err) {
		return nil
	}
	if err != nil {
		return wrap("delete session", err)
	}
	var sess storage.Session
	if err := json.Unmarshal(raw, &sess); err != nil {
		return nil // the record is gone; its indexes expire by themselves
	}
	return wrap("delete session", s.unlinkSession(ctx, &sess))
}

// unlinkSession removes the sid pointer and the subject index entry of a deleted session.
func (s *Store) unlinkSession(ctx context.Context, sess *storage.Session) error {
	if sess.SessionID == "" {
		return nil
	}
	if err := s.rdb.Del(ctx, s.kSID(sess.SessionID)).Err(); err != nil {
		return err
	}
	if sess.Subject != "" {
		return s.rdb.ZRem(ctx, s.kSubSessions(sess.Subject), sess.SessionID).Err()
	}
	return nil
}

// EndSessionByID ends the session with public sid and revokes every access
// token and refresh family issued under it. Unknown is not an error.
func (s *Store) EndSessionByID(ctx context.Context, sid string) error {
	return wrap("end session", s.endSession(ctx, sid))
}

func (s *Store) endSession(ctx context.Context, sid string) error {
	if sid == "" {
		return nil
	}
	h, err := s.rdb.GetDel(ctx, s.kSID(sid)).Result()
	switch {
	case isNil(err):
	case err != nil:
		return err
	default:
		raw, err := s.rdb.GetDel(ctx, s.kSession(h)).Bytes()
		if err != nil && !isNil(err) {
			return err
		}
		var sess storage.Session
		if err == nil && json.Unmarshal(raw, &sess) == nil && sess.Subject != "" {
			if err := s.rdb.ZRem(ctx, s.kSubSessions(sess.Subject), sid).Err(); err != nil {
				return err
			}
		}
	}
	ats, err := s.takeIndex(ctx, s.kSIDATs(sid))
	if err != nil {
		return err
	}
	if err := s.deleteAccessTokens(ctx, ats); err != nil {
		return err
	}
	families, err := s.takeIndex(ctx, s.kSIDFamilies(sid))
	if err != nil {
		return err
	}
	for _, f := range families {
		// remember: a family indexed but not created yet never will be.
		if err := s.revokeFamily(ctx, f, true); err != nil {
			return err
		}
	}
	return nil
}

// EndAllForSubject ends every session of subject and revokes every access
// token and refresh family issued to it.
func (s *Store) EndAllForSubject(ctx context.Context, subject string) error {
	if subject == "" {
		return nil
	}
	sids, err := s.takeIndex(ctx, s.kSubSessions(subject))
	if err != nil {
		return wrap("end all for subject", err)
	}
	for _, sid := range sids {
		if err := s.endSession(ctx, sid); err != nil {
			return wrap("end all for subject", err)
		}
	}
	ats, err := s.takeIndex(ctx, s.kSubATs(subject))
	if err != nil {
		return wrap("end all for subject", err)
	}
	if err := s.deleteAccessTokens(ctx, ats); err != nil {
		return wrap("end all for subject", err)
	}
	families, err := s.takeIndex(ctx, s.kSubFamilies(subject))
	if err != nil {
		return wrap("end all for subject", err)
	}
	for _, f := range families {
		if err := s.revokeFamily(ctx, f, true); err != nil {
			return wrap("end all for subject", err)
		}
	}
	return nil
}
