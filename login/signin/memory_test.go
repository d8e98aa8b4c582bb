package signin

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/entity-account/idp/login/seal"
	"github.com/entity-account/idp/storage"
)

func testMemory(t *testing.T, key byte) *entityMemory {
	t.Helper()
	s, err := seal.New([]byte(strings.Repeat(string(rune(key)), seal.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	return &entityMemory{sealer: s, path: "/login", secure: true}
}

// signInWith runs afterSignIn for a login of entity number n on a request
// carrying cookies, and returns the cookie set (nil: none).
func signInWith(m *entityMemory, cookies []*http.Cookie, n string, ticked bool) *http.Cookie {
	r := httptest.NewRequest(http.MethodPost, "/login", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	m.afterSignIn(w, r, storage.Principal{EntityNumber: n, EntityNameZH: "實體 " + n, EntityNamePT: "Entidade " + n}, ticked)
	for _, c := range w.Result().Cookies() {
		if c.Name == memoryCookie {
			return c
		}
	}
	return nil
}

// numbers are the numbers a request with cookie c is offered (and whether
// reading cleared the cookie).
func numbers(m *entityMemory, c *http.Cookie) (out []string, cleared bool) {
	r := httptest.NewRequest(http.MethodGet, "/login", nil)
	if c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	for _, e := range m.read(w, r) {
		out = append(out, e.Number)
	}
	for _, set := range w.Result().Cookies() {
		cleared = cleared || (set.Name == memoryCookie && set.MaxAge < 0)
	}
	return out, cleared
}

func TestEntityMemoryCookie(t *testing.T) {
	m := testMemory(t, 'k')
	if c := signInWith(m, nil, "02-000021", false); c != nil {
		t.Fatalf("a sign-in without the box set a cookie: %v", c)
	}
	c := signInWith(m, nil, "02-000021", true)
	if c == nil || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/login" || c.MaxAge != memoryMaxAge {
		t.Fatalf("cookie %+v: want HttpOnly, Secure, SameSite=Lax, Path=/login, 400 days", c)
	}
	if strings.Contains(c.Value, "000021") {
		t.Fatal("the cookie shows the number in clear")
	}
	c = signInWith(m, []*http.Cookie{c}, "03-000601", true)
	if got, _ := numbers(m, c); fmt.Sprint(got) != "[03-000601 02-000021]" {
		t.Fatalf("remembered %v, want the newest first", got)
	}
	// Signing in again with one moves it first, once.
	c = signInWith(m, []*http.Cookie{c}, "02-000021", true)
	if got, _ := numbers(m, c); fmt.Sprint(got) != "[02-000021 03-000601]" {
		t.Fatalf("remembered %v", got)
	}
	// Unticked: that number is forgotten, the other kept.
	c = signInWith(m, []*http.Cookie{c}, "02-000021", false)
	if got, _ := numbers(m, c); fmt.Sprint(got) != "[03-000601]" {
		t.Fatalf("after a sign-in without the box: %v", got)
	}
	// Unticked with a number not remembered: the cookie is not rewritten.
	if again := signInWith(m, []*http.Cookie{c}, "04-000001", false); again != nil {
		t.Fatalf("rewritten: %v", again)
	}
}

func TestEntityMemoryBounded(t *testing.T) {
	m := testMemory(t, 'k')
	var c *http.Cookie
	for i := 1; i <= maxRemembered+3; i++ {
		var jar []*http.Cookie
		if c != nil {
			jar = append(jar, c)
		}
		c = signInWith(m, jar, fmt.Sprintf("02-%06d", i), true)
	}
	got, _ := numbers(m, c)
	if len(got) != maxRemembered || got[0] != "02-000013" || got[len(got)-1] != "02-000004" {
		t.Fatalf("remembered %v: want the %d newest, newest first", got, maxRemembered)
	}
	// Long names: the oldest go until the cookie fits.
	long := make([]rememberedEntity, maxRemembered)
	for i := range long {
		long[i] = rememberedEntity{Number: fmt.Sprintf("02-%06d", i), NameZH: strings.Repeat("澳", maxRememberedName), NamePT: strings.Repeat("M", maxRememberedName)}
	}
	w := httptest.NewRecorder()
	m.write(w, long)
	set := w.Result().Cookies()[0]
	if len(set.Value) > maxMemoryCookie || set.MaxAge <= 0 {
		t.Fatalf("cookie of %d bytes", len(set.Value))
	}
	kept, _ := numbers(m, set)
	if len(kept) == 0 || len(kept) == maxRemembered || kept[0] != "02-000000" {
		t.Fatalf("kept %v of names too long for one cookie: want the newest, fewer than all", kept)
	}
	if got := cut(strings.Repeat("澳", 100), maxRememberedName); len([]rune(got)) != maxRememberedName {
		t.Fatalf("cut to %d characters", len([]rune(got)))
	}
}

// A cookie that does not open is ignored and cleared: altered, sealed
// under another key, or not ours at all.
func TestEntityMemoryTampered(t *testing.T) {
	m := testMemory(t, 'k')
	good := signInWith(m, nil, "02-000021", true)
	raw, err := base64.RawURLEncoding.DecodeString(good.Value)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	other := signInWith(testMemory(t, 'o'), nil, "02-000021", true)
	longList := make([]rememberedEntity, maxRemembered+1)
	for i := range longList {
		longList[i] = rememberedEntity{Number: fmt.Sprintf("02-%06d", i)}
	}
	tooMany, _ := m.seal(longList)
	notNumber, _ := m.seal([]rememberedEntity{{Number: "<script>"}})
	for name, value := range map[string]string{
		"altered":          base64.RawURLEncoding.EncodeToString(raw),
		"another key":      other.Value,
		"not base64":       "%%%",
		"empty":            "",
		"too long":         strings.Repeat("A", maxMemoryCookie+1),
		"too many numbers": tooMany,
		"not a number":     notNumber,
	} {
		got, cleared := numbers(m, &http.Cookie{Name: memoryCookie, Value: value})
		if len(got) != 0 || !cleared {
			t.Errorf("%s: offered %v, cleared %v; want none, cleared", name, got, cleared)
		}
	}
	if got, cleared := numbers(m, good); len(got) != 1 || cleared {
		t.Fatalf("the good cookie: %v %v", got, cleared)
	}
}

func TestHintedCredentials(t *testing.T) {
	for hint, want := range map[string]Credentials{
		"02-000021":                             {EntityNumber: "02-000021"},
		"02000021":                              {EntityNumber: "02-000021"},
		"０２－０００ ０２１":                            {EntityNumber: "02-000021"},
		"02-000021:Staff01":                     {EntityNumber: "02-000021", Username: "staff01"},
		"02-000021:":                            {},
		"02-000021:a":                           {},
		"02-000021:staff01:x":                   {},
		"staff01":                               {},
		"":                                      {},
		"\"><script>alert(1)</script>":          {},
		"02-000021:\"><script>":                 {},
		"02-000021:staff\x00":                   {},
		"02-000021:\xff\xfe":                    {},
		"02-0000\xff21:staff01":                 {},
		"02-000021:" + strings.Repeat("a", 300): {},
		strings.Repeat("0", 300):                {},
	} {
		if got := hintedCredentials(hint); got != want {
			t.Errorf("login_hint %q: %+v, want %+v", hint, got, want)
		}
	}
}
