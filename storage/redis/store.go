// Package redis is the short-lived store of the identity provider
// (storage.ShortLived, every role) on Redis: authorization requests and
// codes, browser sessions, access tokens (tokens.go) and refresh tokens
// (refresh_family.go, refresh_rotation.go), and rate-limit counters.
//
// # Secrets
//
// Authorization codes, session cookie secrets and refresh tokens are never
// stored: keys hold the hex SHA-256 of the secret, so a dump of Redis cannot be
// replayed. New secrets are 32 random bytes, base64url without padding.
//
// # Key layout
//
// Every key starts with the store's prefix P. Braces mark the Redis Cluster
// hash tag: keys that one Lua script touches together share a tag, so every
// script stays within one slot. (The prefix itself must not contain '{'.)
//
//	P ar:{id}                 string  JSON storage.AuthRequest as /authorize made it, TTL of the request
//	P ar:{id}:auth            string  JSON storage.Authentication once a sign-in answered it (SET NX), same TTL
//	P ar:{id}:code            string  hash of the request's only code (SET NX), TTL ≥ the request's
//	P code:{hash(code)}       string  "<redemptions>:<auth request id>", TTL of the code
//	P ss:{hash(secret)}       string  JSON storage.Session, TTL min(idle, ExpiresAt-now)
//	P sid:{sid}               string  hash(secret) of the session with public sid, TTL until ExpiresAt
//	P at:{id}                 string  JSON storage.AccessToken, TTL until ExpiresAt
//	P rt:{hash(token)}        string  "<generation>:<family id>", TTL until the family's ExpiresAt
//	P rtf:{family}            hash    rt=<JSON storage.RefreshToken>, gen=<current generation>,
//	                                  revoked=1 once revoked (tombstone kept until expiry)
//	P grant:{grant}:ats       zset    access token ids of a grant (auth request or family)
//	P sid:{sid}:ats           zset    access token ids issued under a session without a refresh family
//	P sid:{sid}:rtf           zset    refresh families issued under a session
//	P sid:{sid}:rps           hash    client id → subject of the clients that got tokens under a
//	                                  session, for back-channel logout; lives as long as the
//	                                  session or the latest such token (backchannel.go)
//	P sub:{subject}:sessions  zset    public sids of a subject's sessions
//	P sub:{subject}:ats       zset    access token ids of a subject without a refresh family
//	P sub:{subject}:rtf       zset    refresh families of a subject
//	P cnt:{key}               string  attempts reserved in a fixed window (counters.go)
//	P arq:{budget}…           zset, hash, string  the admission of authorization requests: open
//	                                  requests, their browsers, per-browser sets, per-address
//	                                  buckets; one slot (admission.go)
//	P once:<purpose>:{hash}   string  single-use marks (once.go)
//	P da:{login}:cur, da:{login}:used:<id>, dac:{hash}
//	                          string  approval QR codes of pending 安全驗證碼: the latest, used
//	                                  marks, typed codes (approval.go)
//
// The index sets are sorted sets scored by the member's expiry (Unix ms):
// the key's TTL follows the latest member, and members past expiry are
// pruned on a fraction of the inserts (index.go), so an index never
// outgrows the live state it points to by more than a few members.
//
// An access token issued with a refresh family (a code exchange with
// offline_access, every refresh) is indexed under the family's grant
// only: the family is indexed under its session and subject, and revoking
// the family (which every session end and EndAllForSubject does) revokes
// the access tokens of its grant. Any other access token is indexed under
// its grant, session and subject.
//
// Scripts only touch keys of one hash tag; commands that span several tags
// are batched in go-redis pipelines, which a Cluster client splits per node.
// Where the order of writes to different tags matters (a record before the
// indexes that point to it), one pipeline is used only on a client that sends
// it to one server in order; otherwise the writes take separate round trips.
// Stores are therefore safe on a single Redis, Sentinel and Cluster alike.
package redis

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/entity-account/idp/storage"
)

// Store implements storage.ShortLived on Redis.
type Store struct {
	rdb    goredis.UniversalClient
	prefix string
	// traffic counts the commands sent (Open installs it); nil for New.
	traffic *Traffic
	// Now is the clock used for expiry decisions; nil means time.Now.
	Now func() time.Time
	// PruneEvery is how many index writes share one pruning of expired
	// members, on average (index.go); 0 means the default, 1 prunes on
	// every write.
	PruneEvery int
}

var _ storage.ShortLived = (*Store)(nil)

// New returns a store using rdb, putting prefix in front of every key. The
// prefix must not contain '{' (it would break the Cluster hash tags).
func New(rdb goredis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix}
}

// Open connects to the Redis named by url and returns a store on it together
// with the client, which the caller closes. It does not contact the server;
// call Ping for that.
//
// The URL is a redis:// or rediss:// URL as understood by go-redis
// (redis://user:pass@host:6379/0?dial_timeout=3s&pool_size=20 ...), plus:
//
//	addr=host:port      another node (repeatable): several addresses make a Cluster client
//	cluster=true        a Cluster client even with one seed address
//	master_name=name    Sentinel: the URL's host(s) are sentinels watching master "name"
//	sentinel_username=  credentials for the sentinels
//	sentinel_password=
func Open(url string, prefix string) (*Store, goredis.UniversalClient, error) {
	if strings.Contains(prefix, "{") || strings.Contains(prefix, "}") {
		return nil, nil, fmt.Errorf("redis: key prefix %q must not contain braces", prefix)
	}
	opts, err := ParseURL(url)
	if err != nil {
		return nil, nil, err
	}
	rdb := goredis.NewUniversalClient(opts)
	s := New(rdb, prefix)
	s.traffic = &Traffic{}
	rdb.AddHook(s.traffic)
	return s, rdb, nil
}

// ParseURL turns a redis:// or rediss:// URL (see Open) into UniversalOptions.
func ParseURL(rawURL string) (*goredis.UniversalOptions, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis: invalid URL: %w", err)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, fmt.Errorf("redis: URL scheme must be redis or rediss, not %q", u.Scheme)
	}
	q := u.Query()
	extraAddrs := q["addr"]
	masterName := q.Get("master_name")
	sentinelUser := q.Get("sentinel_username")
	sentinelPass := q.Get("sentinel_password")
	cluster := false
	if v := q.Get("cluster"); v != "" {
		switch v {
		case "true", "1":
			cluster = true
		case "false", "0":
		default:
			return nil, fmt.Errorf("redis: invalid cluster boolean %q", v)
		}
	}
	for _, k := range []string{"addr", "master_name", "sentinel_username", "sentinel_password", "cluster"} {
		q.Del(k)
	}
	u.RawQuery = q.Encode()

	o, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, err
	}
	return &goredis.UniversalOptions{
		Addrs:                 append([]string{o.Addr}, extraAddrs...),
		ClientName:            o.ClientName,
		DB:                    o.DB,
		Protocol:              o.Protocol,
		Username:              o.Username,
		Password:              o.Password,
		SentinelUsername:      sentinelUser,
		SentinelPassword:      sentinelPass,
		MaxRetries:            o.MaxRetries,
		MinRetryBackoff:       o.MinRetryBackoff,
		MaxRetryBackoff:       o.MaxRetryBackoff,
		DialTimeout:           o.DialTimeout,
		ReadTimeout:           o.ReadTimeout,
		WriteTimeout:          o.WriteTimeout,
		ContextTimeoutEnabled: o.ContextTimeoutEnabled,
		PoolFIFO:              o.PoolFIFO,
		PoolSize:              o.PoolSize,
		PoolTimeout:           o.PoolTimeout,
		MinIdleConns:          o.MinIdleConns,
		MaxIdleConns:          o.MaxIdleConns,
		MaxActiveConns:        o.MaxActiveConns,
		ConnMaxIdleTime:       o.ConnMaxIdleTime,
		ConnMaxLifetime:       o.ConnMaxLifetime,
		TLSConfig:             o.TLSConfig,
		DisableIdentity:       o.DisableIdentity,
		IdentitySuffix:        o.IdentitySuffix,
		UnstableResp3:         o.UnstableResp3,
		MasterName:            masterName,
		IsClusterMode:         cluster,
	}, nil
}

// Traffic returns the counts of what the store's client sent (see
// Traffic); nil for a store made by New, whose client the caller owns.
func (s *Store) Traffic() *Traffic { return s.traffic }

// Client returns the underlying Redis client.
func (s *Store) Client() goredis.UniversalClient { return s.rdb }

// Prefix returns the key prefix of the store.
func (s *Store) Prefix() string { return s.prefix }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Keys. See the package comment.

func (s *Store) kAuthRequest(id string) string { return s.prefix + "ar:{" + id + "}" }
func (s *Store) kCodeMarker(id string) string  { return s.prefix + "ar:{" + id + "}:code" }
func (s *Store) kCode(h string) string         { return s.prefix + "code:{" + h + "}" }
func (s *Store) kSession(h string) string      { return s.prefix + "ss:{" + h + "}" }
func (s *Store) kSID(sid string) string        { return s.prefix + "sid:{" + sid + "}" }
func (s *Store) kSIDATs(sid string) string     { return s.prefix + "sid:{" + sid + "}:ats" }
func (s *Store) kSIDFamilies(sid string) string {
	return s.prefix + "sid:{" + sid + "}:rtf"
}
func (s *Store) kAccessToken(id string) string { return s.prefix + "at:{" + id + "}" }
func (s *Store) kRefresh(h string) string      { return s.prefix + "rt:{" + h + "}" }
func (s *Store) kFamily(f string) string       { return s.prefix + "rtf:{" + f + "}" }
func (s *Store) kGrantATs(g string) string     { return s.prefix + "grant:{" + g + "}:ats" }
func (s *Store) kSubSessions(sub string) string {
	return s.prefix + "sub:{" + sub + "}:sessions"
}
func (s *Store) kSubATs(sub string) string      { return s.prefix + "sub:{" + sub + "}:ats" }
func (s *Store) kSubFamilies(sub string) string { return s.prefix + "sub:{" + sub + "}:rtf" }

// kCounter is the key of a counter. Callers build counter names from
// normalised input; a name that is still long or holds bytes that would
// break the hash tag (braces, control characters) is stored by its hash,
// so that no caller input can make a key large or ambiguous.
func (s *Store) kCounter(key string) string {
	if len(key) > 160 || strings.ContainsFunc(key, func(r rune) bool {
		return r == '{' || r == '}' || r < 0x20 || r == 0x7f || r == utf8.RuneError
	}) {
		key = "h:" + hashSecret(key)
	}
	return s.prefix + "cnt:{" + key + "}"
}

// hashSecret is the key form of a secret: hex SHA-256.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// randomString returns n random bytes, base64url without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("redis: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newSecret returns a new 256-bit secret.
func newSecret() (string, error) { return randomString(32) }

// newID returns a new 128-bit identifier.
func newID() (string, error) { return randomString(16) }

// ttlUntil is the time left until t, and whether any is.
func (s *Store) ttlUntil(t time.Time) (time.Duration, bool) {
	d := t.Sub(s.now())
	if d < time.Millisecond {
		return 0, false
	}
	return d, true
}

func isNil(err error) bool { return errors.Is(err, goredis.Nil) }

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if kind := classify(err); kind != nil {
		return fmt.Errorf("redis: %s: %w: %w", op, kind, err)
	}
	return fmt.Errorf("redis: %s: %w", op, err)
}

// classify tells a Redis that cannot serve now (storage.ErrUnavailable)
// from everything else, positively: connection errors and timeouts, a
// closed or exhausted pool, and the replies of a server that is loading,
// failing over or without a quorum. Other errors (a reply error to a bad
// command, a record that does not decode) are faults of ours and stay
// unclassified, so they are never answered as an outage.
func classify(err error) error {
	if errors.Is(err, storage.ErrUnavailable) || isNil(err) || errors.Is(err, context.Canceled) {
		return nil
	}
	for _, prefix := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY ", "NOREPLICAS"} {
		if goredis.HasErrorPrefix(err, prefix) {
			return storage.ErrUnavailable
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, goredis.ErrClosed) || errors.Is(err, goredis.ErrPoolTimeout) || errors.Is(err, goredis.ErrPoolExhausted) ||
		errors.Is(err, context.DeadlineExceeded) {
		return storage.ErrUnavailable
	}
	return nil
}
