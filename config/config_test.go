package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/config"
)

func load(env map[string]string) (*config.Config, error) {
	return config.FromLookup(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func TestDefaultsWorkOnADeveloperMachine(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "http://localhost:8080" || !c.DevMasterKey || len(c.MasterKey) != 32 || c.SecureCookies() {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if c.CodeTTL != time.Minute || c.SigningAlgorithm != "RS256" {
		t.Fatalf("code TTL %s, alg %s", c.CodeTTL, c.SigningAlgorithm)
	}
}

// Every bad variable is named in one error, so an operator fixes them all at once.
func TestBadValuesAreNamed(t *testing.T) {
	_, err := load(map[string]string{
		"IDP_ISSUER":            "https://id.example.gov.mo/?x=1",
		"IDP_LISTEN":            "8080",
		"IDP_DATABASE_URL":      "mysql://x",
		"IDP_ACCESS_TOKEN_TTL":  "ten minutes",
		"IDP_ARGON2_MEMORY_KIB": "12",
		"IDP_SIGNING_ALG":       "HS256",
		"IDP_TRUST_PROXY":       "maybe",
	})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"IDP_ISSUER", "IDP_LISTEN", "IDP_DATABASE_URL", "IDP_ACCESS_TOKEN_TTL", "IDP_ARGON2_MEMORY_KIB", "IDP_SIGNING_ALG", "IDP_TRUST_PROXY", "IDP_MASTER_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

// A production issuer needs a real master key; the development key is only for loopback http.
func TestMasterKey(t *testing.T) {
	if _, err := load(map[string]string{"IDP_ISSUER": "https://id.example.gov.mo"}); err == nil || !strings.Contains(err.Error(), "IDP_MASTER_KEY") {
		t.Fatalf("https issuer without IDP_MASTER_KEY: err = %v", err)
	}
	if _, err := load(map[string]string{"IDP_ISSUER": "http://id.example.gov.mo"}); err == nil {
		t.Fatal("plain http on a public host accepted without a key")
	}
	prod := map[string]string{"IDP_ISSUER": "https://id.example.gov.mo/oidc/", "IDP_MASTER_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	if _, err := load(prod); err == nil || !strings.Contains(err.Error(), "IDP_SMS_SENDER") || !strings.Contains(err.Error(), "IDP_EMAIL_SENDER") {
		t.Fatalf("production issuer without chosen senders: err = %v", err)
	}
	prod["IDP_SMS_SENDER"], prod["IDP_SMS_URL"], prod["IDP_EMAIL_SENDER"] = "http", "https://sms.example.gov.mo/send", "console"
	c, err := load(prod)
	if err != nil {
		t.Fatal(err)
	}
	if c.DevMasterKey || !c.SecureCookies() || c.IssuerPath() != "/oidc" || c.Issuer != "https://id.example.gov.mo/oidc" {
		t.Fatalf("%+v", c)
	}
	if _, err := load(map[string]string{"IDP_MASTER_KEY": "too-short"}); err == nil || !strings.Contains(err.Error(), "IDP_MASTER_KEY") {
		t.Fatalf("short key: err = %v", err)
	}
}

// The profiling listener is off by default and may only listen on loopback.
func TestPprofListen(t *testing.T) {
	c, err := load(nil)
	if err != nil || c.PprofListen != "" {
		t.Fatalf("default IDP_PPROF_LISTEN = %q, %v; want off", c.PprofListen, err)
	}
	if c, err := load(map[string]string{"IDP_PPROF_LISTEN": "127.0.0.1:6060"}); err != nil || c.PprofListen != "127.0.0.1:6060" {
		t.Fatalf("loopback IDP_PPROF_LISTEN refused: %v", err)
	}
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "6060", "10.0.0.1:6060"} {
		if _, err := load(map[string]string{"IDP_PPROF_LISTEN": bad}); err == nil || !strings.Contains(err.Error(), "IDP_PPROF_LISTEN") {
			t.Errorf("IDP_PPROF_LISTEN=%q accepted (err %v)", bad, err)
		}
	}
}

// The operator's desk is off by default, and listens only on a loopback or
// private address of its own.
func TestDeskListen(t *testing.T) {
	c, err := load(nil)
	if err != nil || c.DeskListen != "" {
		t.Fatalf("default IDP_DESK_LISTEN = %q, %v; want off", c.DeskListen, err)
	}
	for _, good := range []string{"127.0.0.1:8443", "localhost:8443", "10.0.0.5:8443", "192.168.1.2:8443", "[::1]:8443", "[fd00::5]:8443"} {
		if c, err := load(map[string]string{"IDP_DESK_LISTEN": good}); err != nil || c.DeskListen != good {
			t.Errorf("IDP_DESK_LISTEN=%q refused: %v", good, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:8443", ":8443", "8443", "203.0.113.5:8443", "desk.example.org:8443", "[::]:8443"} {
		if _, err := load(map[string]string{"IDP_DESK_LISTEN": bad}); err == nil || !strings.Contains(err.Error(), "IDP_DESK_LISTEN") {
			t.Errorf("IDP_DESK_LISTEN=%q accepted (err %v)", bad, err)
		}
	}
	if _, err := load(map[string]string{"IDP_DESK_LISTEN": "127.0.0.1:9090", "IDP_METRICS_LISTEN": "127.0.0.1:9090"}); err == nil {
		t.Error("the desk on the metrics listener accepted")
	}
}

// IDP_DESK_ORIGIN is off by default; when set it is an origin, https or
// http on localhost, without a path.
func TestDeskOrigin(t *testing.T) {
	if c, err := load(nil); err != nil || c.DeskOrigin != "" {
		t.Fatalf("default IDP_DESK_ORIGIN = %q, %v; want off", c.DeskOrigin, err)
	}
	for good, want := range map[string]string{"https://desk.dsaj.internal:8443": "https://desk.dsaj.internal:8443",
		"http://localhost:8082": "http://localhost:8082", "https://desk.example.org/": "https://desk.example.org",
		"https://10.0.0.5:8443": "https://10.0.0.5:8443"} {
		if c, err := load(map[string]string{"IDP_DESK_ORIGIN": good}); err != nil || c.DeskOrigin != want {
			t.Errorf("IDP_DESK_ORIGIN=%q: %q, %v", good, c.DeskOrigin, err)
		}
	}
	for _, bad := range []string{"desk.example.org", "http://desk.example.org", "http://127.0.0.1:8082", "https://desk.example.org/desk",
		"https://desk.example.org?x=1", "ftp://desk.example.org", "https://user@desk.example.org", "https://desk.example.org:99999", "https://"} {
		if _, err := load(map[string]string{"IDP_DESK_ORIGIN": bad}); err == nil || !strings.Contains(err.Error(), "IDP_DESK_ORIGIN") {
			t.Errorf("IDP_DESK_ORIGIN=%q accepted (err %v)", bad, err)
		}
	}
}

// A change of identity tools needs a password typed within five minutes by
// default; the limit is a positive duration of at most an hour.
func TestToolsReauth(t *testing.T) {
	for env, want := range map[string]time.Duration{"": 5 * time.Minute, "90s": 90 * time.Second} {
		c, err := load(map[string]string{"IDP_TOOLS_REAUTH": env})
		if err != nil {
			t.Fatalf("IDP_TOOLS_REAUTH=%q: %v", env, err)
		}
		if c.ToolsReauth != want {
			t.Errorf("IDP_TOOLS_REAUTH=%q gives %s, want %s", env, c.ToolsReauth, want)
		}
	}
	for _, bad := range []string{"0s", "-1m", "2h", "soon"} {
		if _, err := load(map[string]string{"IDP_TOOLS_REAUTH": bad}); err == nil || !strings.Contains(err.Error(), "IDP_TOOLS_REAUTH") {
			t.Errorf("IDP_TOOLS_REAUTH=%q accepted (err %v)", bad, err)
		}
	}
}

// The admission of authorization requests: defaults that let an office of
// 2,000 behind one address sign in within ten minutes (bursts of 50 in a
// second), and values that cannot work refused by name.
func TestAuthorizeAdmission(t *testing.T) {
	c, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.AuthorizePerIPMinute != 600 || c.AuthorizePerIPBurst != 200 || c.AuthorizePerBrowser != 10 ||
		c.AuthRequestBudget != 50_000 || c.AuthRequestGrace != 5*time.Minute {
		t.Fatalf("defaults: %d/min burst %d, %d per browser, budget %d, grace %v",
			c.AuthorizePerIPMinute, c.AuthorizePerIPBurst, c.AuthorizePerBrowser, c.AuthRequestBudget, c.AuthRequestGrace)
	}
	// 2,000 in ten minutes, 50 at once: within the burst and the sustained rate.
	if c.AuthorizePerIPBurst < 50 || c.AuthorizePerIPBurst+c.AuthorizePerIPMinute*10 < 2000 {
		t.Fatal("the defaults would refuse an office of 2,000 behind one address")
	}
	ok, err := load(map[string]string{"IDP_AUTHORIZE_PER_IP_MINUTE": "3000", "IDP_AUTHORIZE_PER_IP_BURST": "50",
		"IDP_AUTHORIZE_PER_BROWSER": "3", "IDP_AUTH_REQUEST_BUDGET": "100", "IDP_AUTH_REQUEST_GRACE": "2s"})
	if err != nil || ok.AuthorizePerIPMinute != 3000 || ok.AuthorizePerIPBurst != 50 || ok.AuthorizePerBrowser != 3 ||
		ok.AuthRequestBudget != 100 || ok.AuthRequestGrace != 2*time.Second {
		t.Fatalf("valid values: %+v, %v", ok, err)
	}
	// Unset, the grace is the request's whole life when that is shorter.
	if short, err := load(map[string]string{"IDP_AUTH_REQUEST_TTL": "2m"}); err != nil || short.AuthRequestGrace != 2*time.Minute {
		t.Fatalf("grace with a 2m TTL: %+v, %v", short, err)
	}
	for _, tc := range []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"IDP_AUTHORIZE_PER_IP_MINUTE": "0"}, "IDP_AUTHORIZE_PER_IP_MINUTE"},
		{map[string]string{"IDP_AUTHORIZE_PER_IP_BURST": "-1"}, "IDP_AUTHORIZE_PER_IP_BURST"},
		{map[string]string{"IDP_AUTHORIZE_PER_BROWSER": "0"}, "IDP_AUTHORIZE_PER_BROWSER"},
		{map[string]string{"IDP_AUTHORIZE_PER_BROWSER": "many"}, "IDP_AUTHORIZE_PER_BROWSER"},
		{map[string]string{"IDP_AUTH_REQUEST_BUDGET": "0"}, "IDP_AUTH_REQUEST_BUDGET"},
		{map[string]string{"IDP_AUTH_REQUEST_GRACE": "0s"}, "IDP_AUTH_REQUEST_GRACE"},
		{map[string]string{"IDP_AUTH_REQUEST_GRACE": "500ms"}, "IDP_AUTH_REQUEST_GRACE"},
		{map[string]string{"IDP_AUTH_REQUEST_GRACE": "40m"}, "IDP_AUTH_REQUEST_GRACE"}, // beyond IDP_AUTH_REQUEST_TTL (30m)
		{map[string]string{"IDP_AUTH_REQUEST_GRACE": "3m", "IDP_AUTH_REQUEST_TTL": "2m"}, "IDP_AUTH_REQUEST_GRACE"},
		{map[string]string{"IDP_AUTH_REQUEST_BUDGET": "100", "IDP_AUTHORIZE_PER_IP_BURST": "101"}, "IDP_AUTHORIZE_PER_IP_BURST"},
		{map[string]string{"IDP_AUTHORIZE_PER_BROWSER": "1001"}, "IDP_AUTHORIZE_PER_BROWSER"},
		// 6,000 a minute with 50 at once: a burst window of half a second.
		{map[string]string{"IDP_AUTHORIZE_PER_IP_MINUTE": "6000", "IDP_AUTHORIZE_PER_IP_BURST": "50"}, "IDP_AUTHORIZE_PER_IP_BURST"},
	} {
		if _, err := load(tc.env); err == nil || !strings.Contains(err.Error(), tc.name) {
			t.Errorf("%v: err = %v, want it to name %s", tc.env, err, tc.name)
		}
	}
}
