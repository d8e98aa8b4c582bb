// Package config reads the provider's configuration from the environment
// into one typed struct and validates it, reporting every bad variable by
// name at once. It imports nothing of ours.
package config

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DevMasterKey is the master key used when IDP_MASTER_KEY is unset and the
// issuer is a loopback http URL. It is public, so it protects nothing: a
// production issuer (https) refuses to start without a real key.
const DevMasterKey = "ZGV2ZWxvcG1lbnQtb25seS1tYXN0ZXIta2V5LTMyYiE" // "development-only-master-key-32b!"

// Config is everything `idp serve` needs.
type Config struct {
	Issuer       string // IDP_ISSUER: public base URL; tokens carry it as iss
	Listen       string // IDP_LISTEN: host:port to listen on
	DatabaseURL  string // IDP_DATABASE_URL
	RedisURL     string // IDP_REDIS_URL
	RedisPrefix  string // IDP_REDIS_PREFIX: key prefix, to share one Redis between deployments
	MasterKey    []byte // IDP_MASTER_KEY: 32 bytes (base64 or hex); seals signing keys, encrypts codes and opaque tokens
	DevMasterKey bool   // true when MasterKey is the public development key

	SigningAlgorithm string        // IDP_SIGNING_ALG: RS256 (default) or ES256
	KeyRefresh       time.Duration // IDP_KEY_REFRESH: how often a node re-reads the signing keys
	ClaimsCacheTTL   time.Duration // IDP_CLAIMS_CACHE_TTL: how long claim contents may be reused; 0 = off

	AuthRequestTTL  time.Duration // IDP_AUTH_REQUEST_TTL
	CodeTTL         time.Duration // IDP_CODE_TTL
	AccessTokenTTL  time.Duration // IDP_ACCESS_TOKEN_TTL
	IDTokenTTL      time.Duration // IDP_ID_TOKEN_TTL
	RefreshTokenTTL time.Duration // IDP_REFRESH_TOKEN_TTL: absolute life of a refresh-token family
	SessionIdle     time.Duration // IDP_SESSION_IDLE
	SessionMax      time.Duration // IDP_SESSION_MAX: absolute life of a browser session

	Argon2MemoryKiB  uint32        // IDP_ARGON2_MEMORY_KIB
	Argon2Iterations uint32        // IDP_ARGON2_ITERATIONS
	Argon2Threads    uint8         // IDP_ARGON2_THREADS
	HashConcurrency  int           // IDP_HASH_CONCURRENCY: password hashes computed at once
	HashQueueWait    time.Duration // IDP_HASH_QUEUE_WAIT: longest wait for a hash slot before "busy"

	LoginFailuresPerAccount int           // IDP_LOGIN_FAILURES_PER_ACCOUNT within IDP_LOGIN_FAILURE_WINDOW
	LoginFailuresPerIP      int           // IDP_LOGIN_FAILURES_PER_IP within IDP_LOGIN_FAILURE_WINDOW
	LoginFailureWindow      time.Duration // IDP_LOGIN_FAILURE_WINDOW
	TrustProxyHeaders       bool          // IDP_TRUST_PROXY: take the client IP from X-Forwarded-For
	// IDP_TOOLS_REAUTH: how recently a browser session's password must have
	// been proven (at sign-in, or typed again) for the portal to enrol or
	// remove an identity tool (電子身份識別工具); older sessions are asked for
	// the password first
	ToolsReauth time.Duration
	// IDP_AUTHORIZE_PER_IP_MINUTE and IDP_AUTHORIZE_PER_IP_BURST: the rate
	// of authorization requests of one client address (an IPv6 /64): a
	// sustained rate per minute and how many may come at once. A high
	// ceiling: a whole office signs in from one address.
	AuthorizePerIPMinute int
	AuthorizePerIPBurst  int
	// IDP_AUTHORIZE_PER_BROWSER: open (not yet signed-in) authorization
	// requests per browser; its newest pushes out its oldest
	AuthorizePerBrowser int
	// IDP_AUTH_REQUEST_BUDGET: open authorization requests stored at most,
	// across all nodes; when full, the oldest past IDP_AUTH_REQUEST_GRACE
	// make room, and newcomers wait while none is that old
	AuthRequestBudget int
	AuthRequestGrace  time.Duration // IDP_AUTH_REQUEST_GRACE

	LogLevel    string // IDP_LOG_LEVEL: debug, info, warn, error
	PprofListen string // IDP_PPROF_LISTEN: loopback host:port for net/http/pprof; "" (default) = off
	// IDP_METRICS_LISTEN: host:port of the Prometheus /metrics listener; "" (default) = off
	MetricsListen string
	// IDP_DESK_LISTEN: host:port of the operator's desk, a loopback or
	// private address only; "" (default) = no desk on this node
	DeskListen string
	// IDP_DESK_ORIGIN: the desk's origin as browsers see it
	// (https://desk.example:8443, or http://localhost:PORT on a developer
	// machine); "" (default) = no passkeys at the desk. Officers may use a
	// passkey as the second factor only when it is set and its host is a
	// name (browsers take no IP address as a WebAuthn relying party).
	DeskOrigin string

	Activation Activation // activation codes and their delivery (config/activation.go)

	BackchannelGiveUp time.Duration // IDP_BACKCHANNEL_GIVE_UP: how long a logout token to a relying party is retried

	// IDP_SIGNIN_HISTORY_DAYS: sign-in events older than this many days are
	// deleted (at least the 90 days the portal shows an account of its own)
	SignInHistoryDays int
	// IDP_DELETED_RETENTION_DAYS: a staff login deleted longer ago than this
	// many days loses its identity document number, birth date, mobile and
	// e-mail (its EUID, names and audit trail stay)
	DeletedRetentionDays int
}

// Load reads the environment and validates the result.
func Load() (*Config, error) { return FromLookup(os.LookupEnv) }

// FromLookup reads configuration through lookup (os.LookupEnv in production;
// a map in tests) and validates it.
func FromLookup(lookup func(string) (string, bool)) (*Config, error) {
	r := reader{lookup: lookup}
	c := r.settings()
	r.validate(c)
	c.Activation = r.activation()
	r.checkSenders(c)
	r.masterKey(c)
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return c, nil
}

// settings reads every setting but the activation's and the master key,
// each with its default.
func (r *reader) settings() *Config {
	c := &Config{
		Issuer:           r.str("IDP_ISSUER", "http://localhost:8080"),
		Listen:           r.str("IDP_LISTEN", "127.0.0.1:8080"),
		DatabaseURL:      r.str("IDP_DATABASE_URL", "postgres://idp:idp@127.0.0.1:5432/idp?sslmode=disable"),
		RedisURL:         r.str("IDP_REDIS_URL", "redis://127.0.0.1:6379/0"),
		RedisPrefix:      r.str("IDP_REDIS_PREFIX", "idp:"),
		SigningAlgorithm: r.str("IDP_SIGNING_ALG", "RS256"),
		KeyRefresh:       r.duration("IDP_KEY_REFRESH", time.Minute),
		ClaimsCacheTTL:   r.duration("IDP_CLAIMS_CACHE_TTL", 5*time.Second),

		AuthRequestTTL:  r.duration("IDP_AUTH_REQUEST_TTL", 30*time.Minute),
		CodeTTL:         r.duration("IDP_CODE_TTL", time.Minute),
		AccessTokenTTL:  r.duration("IDP_ACCESS_TOKEN_TTL", 10*time.Minute),
		IDTokenTTL:      r.duration("IDP_ID_TOKEN_TTL", 10*time.Minute),
		RefreshTokenTTL: r.duration("IDP_REFRESH_TOKEN_TTL", 30*24*time.Hour),
		SessionIdle:     r.duration("IDP_SESSION_IDLE", 30*time.Minute),
		SessionMax:      r.duration("IDP_SESSION_MAX", 10*time.Hour),

		Argon2MemoryKiB:  uint32(r.integer("IDP_ARGON2_MEMORY_KIB", 19*1024, 8*1024, 4*1024*1024)),
		Argon2Iterations: uint32(r.integer("IDP_ARGON2_ITERATIONS", 2, 1, 100)),
		Argon2Threads:    uint8(r.integer("IDP_ARGON2_THREADS", 1, 1, 64)),
		HashConcurrency:  r.integer("IDP_HASH_CONCURRENCY", runtime.GOMAXPROCS(0), 1, 1024),
		HashQueueWait:    r.duration("IDP_HASH_QUEUE_WAIT", 2*time.Second),

		LoginFailuresPerAccount: r.integer("IDP_LOGIN_FAILURES_PER_ACCOUNT", 5, 1, 1000),
		LoginFailuresPerIP:      r.integer("IDP_LOGIN_FAILURES_PER_IP", 50, 1, 1_000_000),
		LoginFailureWindow:      r.duration("IDP_LOGIN_FAILURE_WINDOW", 15*time.Minute),
		TrustProxyHeaders:       r.boolean("IDP_TRUST_PROXY", false),
		AuthorizePerIPMinute:    r.integer("IDP_AUTHORIZE_PER_IP_MINUTE", 600, 1, 1_000_000),
		AuthorizePerIPBurst:     r.integer("IDP_AUTHORIZE_PER_IP_BURST", 200, 1, 1_000_000),
		AuthorizePerBrowser:     r.integer("IDP_AUTHORIZE_PER_BROWSER", 10, 1, 1000),
		AuthRequestBudget:       r.integer("IDP_AUTH_REQUEST_BUDGET", 50_000, 1, 10_000_000),
		AuthRequestGrace:        r.duration("IDP_AUTH_REQUEST_GRACE", 0),
		ToolsReauth:             r.duration("IDP_TOOLS_REAUTH", 5*time.Minute),

		LogLevel:      r.str("IDP_LOG_LEVEL", "info"),
		PprofListen:   r.str("IDP_PPROF_LISTEN", ""),
		MetricsListen: r.str("IDP_METRICS_LISTEN", ""),
		DeskListen:    r.str("IDP_DESK_LISTEN", ""),
		DeskOrigin:    strings.TrimSuffix(r.str("IDP_DESK_ORIGIN", ""), "/"),

		BackchannelGiveUp: r.duration("IDP_BACKCHANNEL_GIVE_UP", 24*time.Hour),

		SignInHistoryDays:    r.integer("IDP_SIGNIN_HISTORY_DAYS", 365, 90, 3650),
		DeletedRetentionDays: r.integer("IDP_DELETED_RETENTION_DAYS", 365, 30, 3650),
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if v, ok := r.lookup("IDP_AUTH_REQUEST_GRACE"); !ok || v == "" {
		// 5 minutes to type a password, or the request's whole life if shorter.
		c.AuthRequestGrace = min(5*time.Minute, c.AuthRequestTTL)
	}

	return c
}

// validate checks the settings read, alone and against each other.
func (r *reader) validate(c *Config) {
	r.check(validIssuer(c.Issuer), "IDP_ISSUER", "must be an absolute http(s) URL without query or fragment, e.g. https://id.example.gov.mo")
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		r.fail("IDP_LISTEN", "must be host:port, e.g. 0.0.0.0:8080")
	}
	r.check(hasScheme(c.DatabaseURL, "postgres", "postgresql"), "IDP_DATABASE_URL", "must be a postgres:// URL")
	r.check(hasScheme(c.RedisURL, "redis", "rediss"), "IDP_REDIS_URL", "must be a redis:// or rediss:// URL")
	r.check(c.SigningAlgorithm == "RS256" || c.SigningAlgorithm == "ES256", "IDP_SIGNING_ALG", "must be RS256 or ES256")
	for name, d := range map[string]time.Duration{
		"IDP_AUTH_REQUEST_TTL": c.AuthRequestTTL, "IDP_CODE_TTL": c.CodeTTL, "IDP_ACCESS_TOKEN_TTL": c.AccessTokenTTL,
		"IDP_ID_TOKEN_TTL": c.IDTokenTTL, "IDP_REFRESH_TOKEN_TTL": c.RefreshTokenTTL, "IDP_SESSION_IDLE": c.SessionIdle,
		"IDP_SESSION_MAX": c.SessionMax, "IDP_LOGIN_FAILURE_WINDOW": c.LoginFailureWindow, "IDP_HASH_QUEUE_WAIT": c.HashQueueWait,
		"IDP_KEY_REFRESH": c.KeyRefresh, "IDP_BACKCHANNEL_GIVE_UP": c.BackchannelGiveUp, "IDP_TOOLS_REAUTH": c.ToolsReauth,
		"IDP_AUTH_REQUEST_GRACE": c.AuthRequestGrace,
	} {
		r.check(d > 0, name, "must be a positive duration, e.g. 10m")
	}
	r.check(c.ClaimsCacheTTL >= 0 && c.ClaimsCacheTTL <= time.Minute, "IDP_CLAIMS_CACHE_TTL", "must be from 0 (off) to 1m")
	r.check(c.CodeTTL <= 10*time.Minute, "IDP_CODE_TTL", "must be at most 10m (RFC 6749 §4.1.2)")
	r.check(c.ToolsReauth <= time.Hour, "IDP_TOOLS_REAUTH", "must be at most 1h: a change of identity tools needs a recently typed password")
	r.check(c.SessionIdle <= c.SessionMax, "IDP_SESSION_IDLE", "must not exceed IDP_SESSION_MAX")
	// A request dropped before its grace would be taken from a person typing
	// a password; a grace beyond the request's life would never let one go.
	r.check(c.AuthRequestGrace <= c.AuthRequestTTL, "IDP_AUTH_REQUEST_GRACE", "must not exceed IDP_AUTH_REQUEST_TTL")
	r.check(c.AuthRequestGrace <= 0 || c.AuthRequestGrace >= time.Second, "IDP_AUTH_REQUEST_GRACE", "must be at least 1s: time for a person to sign in")
	r.check(c.AuthorizePerIPBurst <= c.AuthRequestBudget, "IDP_AUTHORIZE_PER_IP_BURST", "must not exceed IDP_AUTH_REQUEST_BUDGET: one address's burst would fill the budget")
	// The burst is also the address's tolerance for requests that reach
	// Redis out of the order of their clocks (two nodes, a slow goroutine):
	// spread over less than a second, it would refuse people at random.
	r.check(c.AuthorizePerIPMinute < 1 || time.Duration(c.AuthorizePerIPBurst)*time.Minute >= time.Duration(c.AuthorizePerIPMinute)*time.Second,
		"IDP_AUTHORIZE_PER_IP_BURST", "must cover at least one second of IDP_AUTHORIZE_PER_IP_MINUTE (burst ≥ rate per minute ÷ 60)")
	r.check(slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel), "IDP_LOG_LEVEL", "must be debug, info, warn or error")
	r.check(c.PprofListen == "" || isLoopbackAddr(c.PprofListen), "IDP_PPROF_LISTEN", "must be empty (off) or a loopback host:port, e.g. 127.0.0.1:6060")
	// Not only loopback: a Prometheus server elsewhere on an internal network
	// must reach it. The metrics carry no personal data, only counts.
	r.check(c.MetricsListen == "" || isHostPort(c.MetricsListen), "IDP_METRICS_LISTEN", "must be empty (off) or host:port, e.g. 127.0.0.1:9090 or 10.0.0.5:9090")
	r.check(c.MetricsListen == "" || c.MetricsListen != c.Listen, "IDP_METRICS_LISTEN", "must differ from IDP_LISTEN: metrics are served on a listener of their own")
	// The desk acts for 行政公職局: never on the public listener, never on
	// an address the internet could reach.
	r.check(c.DeskListen == "" || isInternalAddr(c.DeskListen), "IDP_DESK_LISTEN",
		"must be empty (off) or a loopback or private host:port, e.g. 127.0.0.1:8443 or 10.0.0.5:8443")
	r.check(c.DeskListen == "" || (c.DeskListen != c.Listen && c.DeskListen != c.MetricsListen && c.DeskListen != c.PprofListen),
		"IDP_DESK_LISTEN", "must differ from IDP_LISTEN, IDP_METRICS_LISTEN and IDP_PPROF_LISTEN: the desk has a listener of its own")
	r.check(c.DeskOrigin == "" || validDeskOrigin(c.DeskOrigin), "IDP_DESK_ORIGIN",
		"must be empty (no passkeys at the desk) or http(s)://host[:port] without a path, http only for localhost, e.g. https://desk.example.internal:8443")
}

// checkSenders refuses the console senders of activation codes outside a
// developer machine.
func (r *reader) checkSenders(c *Config) {
	if !c.IsLocalDevelopment() {
		// The console senders write activation codes into the log: fine on a
		// developer machine, a leak anywhere else unless chosen on purpose.
		for _, name := range []string{"IDP_SMS_SENDER", "IDP_EMAIL_SENDER"} {
			if v, ok := r.lookup(name); !ok || v == "" {
				r.fail(name, "must be set when the issuer is not a loopback http URL (http / smtp; console writes activation codes to the log)")
			}
		}
	}
}

// masterKey reads IDP_MASTER_KEY, or the public development key on a
// developer machine.
func (r *reader) masterKey(c *Config) {
	if raw, ok := r.lookup("IDP_MASTER_KEY"); ok && raw != "" {
		key, err := decodeKey(raw)
		if err != nil {
			r.fail("IDP_MASTER_KEY", err.Error())
		}
		c.MasterKey = key
	} else if c.IsLocalDevelopment() {
		c.MasterKey, _ = decodeKey(DevMasterKey)
		c.DevMasterKey = true
	} else {
		r.fail("IDP_MASTER_KEY", "is required when the issuer is not a loopback http URL (32 random bytes, base64: openssl rand -base64 32)")
	}
}

// IsLocalDevelopment reports whether the issuer is plain http on a loopback
// host: the only case where insecure defaults are allowed.
func (c *Config) IsLocalDevelopment() bool {
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// SecureCookies reports whether cookies must carry the Secure attribute.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.Issuer, "https://") }

// IssuerPath is the path part of the issuer ("" or e.g. "/oidc"); every
// route of the server lives under it.
func (c *Config) IssuerPath() string {
	u, _ := url.Parse(c.Issuer)
	return strings.TrimSuffix(u.Path, "/")
}

type reader struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (r *reader) fail(name, msg string) { r.errs = append(r.errs, fmt.Errorf("%s %s", name, msg)) }

func (r *reader) check(ok bool, name, msg string) {
	if !ok {
		r.fail(name, msg)
	}
}

func (r *reader) str(name, def string) string {
	if v, ok := r.lookup(name); ok && v != "" {
		return v
	}
	return def
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v, ok := r.lookup(name)
	if !ok || v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("must be a duration such as 30s or 10m, got %q", v))
		return def
	}
	return d
}

func (r *reader) integer(name string, def, min, max int) int {
	v, ok := r.lookup(name)
	if !ok || v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		r.fail(name, fmt.Sprintf("must be an integer from %d to %d, got %q", min, max, v))
		return def
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v, ok := r.lookup(name)
	if !ok || v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("must be true or false, got %q", v))
		return def
	}
	return b
}

func validIssuer(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// isLoopbackAddr reports whether s is host:port on a loopback address, so
// that profiling data never leaves the machine.
func isLoopbackAddr(s string) bool {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isInternalAddr reports whether s is host:port on a loopback or private
// (RFC 1918, unique local) address: an IP literal, or localhost. A name
// other than localhost could resolve anywhere, and 0.0.0.0 is every
// address, the public ones included.
func isInternalAddr(s string) bool {
	if !isHostPort(s) {
		return false
	}
	host, _, _ := net.SplitHostPort(s)
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate())
}

// isHostPort reports whether s is host:port with a numeric port.
func isHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}

func hasScheme(s string, schemes ...string) bool {
	u, err := url.Parse(s)
	return err == nil && slices.Contains(schemes, u.Scheme)
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, dec := range []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	} {
		if b, err := dec(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("must be 32 bytes encoded as base64 or hex (openssl rand -base64 32)")
}

// validDeskOrigin: an origin http(s)://host[:port], no path, query or
// user; http only for localhost (browsers give WebAuthn only to a secure
// context).
func validDeskOrigin(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	switch u.Scheme {
	case "https":
		return u.Hostname() != ""
	case "http":
		return u.Hostname() == "localhost"
	}
	return false
}
