package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/entity-account/idp/login/seal"
	idpop "github.com/entity-account/idp/op"
)

// The cookie of the entity numbers a browser remembers (login/signin's
// entityMemory), as the tests read and forge it.
const memoryCookieName = "idp_entities"

var (
	offeredNumber = regexp.MustCompile(`form="pick_entity" name="entity" value="([^"]*)"`)
	rememberBox   = regexp.MustCompile(`<input type="checkbox" id="remember_entity" name="remember_entity" value="1"[^>]*>`)
)

// offered are the numbers a sign-in page offers to pick.
func (p page) offered() []string {
	var out []string
	for _, m := range offeredNumber.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

// boxTicked reports whether the page's 記住此實體編號 box is ticked; it
// fails the test when the page has none.
func (p page) boxTicked(t *testing.T) bool {
	t.Helper()
	box := rememberBox.FindString(p.Body)
	if box == "" {
		t.Fatalf("the sign-in page has no 記住此實體編號 box: %.600s", p.Body)
	}
	return strings.Contains(box, " checked")
}

// submitRemembering posts the three fields with the box ticked or not.
func (b *browser) submitRemembering(f loginForm, entity, username, pw string, tick bool) page {
	b.t.Helper()
	form := url.Values{
		"authRequestID": {f.AuthRequestID}, "csrf_token": {f.CSRF},
		"entity_number": {entity}, "username": {username}, "password": {pw},
	}
	if tick {
		form.Set("remember_entity", "1")
	}
	return b.post(b.idp.issuerPath()+"/login", form)
}

// memoryCookie is the browser's cookie of remembered numbers; nil: none.
func (b *browser) memoryCookie() *http.Cookie {
	u, _ := url.Parse(b.idp.issuer + "/login")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == memoryCookieName {
			return c
		}
	}
	return nil
}

// setMemoryCookie puts value in the browser as the cookie of remembered numbers.
func (b *browser) setMemoryCookie(value string) {
	u, _ := url.Parse(b.idp.issuer + "/login")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: memoryCookieName, Value: value, Path: b.idp.issuerPath() + "/login"}})
}

// sealedMemory is a cookie of remembered numbers (newest first) sealed as
// the provider seals it, for a test to start from a list it could not make
// by signing in (entities it has no login of).
func sealedMemory(t *testing.T, idp *testIDP, numbers ...string) string {
	t.Helper()
	s, err := seal.New(idpop.DeriveKey(idp.app.cfg.MasterKey, "remembered-entities"))
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		N string `json:"n"`
		Z string `json:"z"`
	}
	var list []entry
	for _, n := range numbers {
		list = append(list, entry{N: n, Z: "實體 " + n})
	}
	plain, _ := json.Marshal(list)
	sealed, err := s.Seal(plain, []byte(memoryCookieName))
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(sealed)
}

// setCookie is the Set-Cookie of name in p; nil: none.
func (p page) setCookie(name string) *http.Cookie {
	for _, c := range p.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestRememberedEntityNumbers: a number is remembered only after a
// successful sign-in with 記住此實體編號 ticked; it is then offered, with the
// entity's name, and picking it fills the field (and ticks the box);
// signing in without the box forgets it; one number or all are forgotten on
// request; a cookie that does not open is ignored and cleared; at most ten
// numbers are kept, the oldest dropped. The same under an issuer with a
// path, where the cookie is scoped to that path's sign-in.
func TestRememberedEntityNumbers(t *testing.T) {
	t.Parallel()
	for name, path := range map[string]string{"issuer at the root": "", "issuer with a path": "/oidc"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rememberedEntityNumbers(t, path)
		})
	}
}

func rememberedEntityNumbers(t *testing.T, issuerPath string) {
	// One browser opens many requests here.
	idp := startIDP(t, map[string]string{"IDP_AUTHORIZE_PER_BROWSER": "100", "ISSUER_PATH": issuerPath})
	admin := idp.login("admin01")
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	number := idp.demo.EntityNumber
	b := idp.browser()
	// The sign-in form of a new request, whatever session the browser has.
	fresh := func() page {
		t.Helper()
		return b.startLogin(r, withExtra(newAuthParams(t), "prompt", "login", "ui_locales", "zh-Hant"))
	}

	p := fresh()
	if p.boxTicked(t) || len(p.offered()) != 0 || strings.Contains(p.Body, `id="remembered_heading"`) {
		t.Fatalf("a browser that remembers nothing: box ticked %v, offered %v", p.boxTicked(t), p.offered())
	}

	// A failed sign-in with the box ticked remembers nothing; the form
	// shown again keeps the box as it was sent.
	p = b.submitRemembering(p.form(t), number, admin.Username, "not the password", true)
	if p.StatusCode != http.StatusUnauthorized || !p.boxTicked(t) {
		t.Fatalf("a wrong password: %d, box ticked %v", p.StatusCode, p.boxTicked(t))
	}
	if c := p.setCookie(memoryCookieName); c != nil || b.memoryCookie() != nil {
		t.Fatalf("a failed sign-in set the cookie: %v", c)
	}

	// A successful sign-in without the box remembers nothing either.
	p = b.submitRemembering(fresh().form(t), number, admin.Username, admin.Password, false)
	if c := p.setCookie(memoryCookieName); c != nil {
		t.Fatalf("a sign-in without the box set the cookie: %v", c)
	}
	b.followToRP(p)
	if got := fresh().offered(); len(got) != 0 {
		t.Fatalf("offered %v after a sign-in without the box", got)
	}

	// With the box: the cookie (scoped to the sign-in, for 400 days), and
	// the number offered with the entity's name.
	p = b.submitRemembering(fresh().form(t), " 02 000021 ", admin.Username, admin.Password, true)
	c := p.setCookie(memoryCookieName)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != idp.issuerPath()+"/login" || c.MaxAge != 400*24*3600 {
		t.Fatalf("the cookie of a sign-in with the box: %+v", c)
	}
	if strings.Contains(c.Value, "000021") || strings.Contains(c.Value, admin.Username) {
		t.Fatal("the cookie shows what it holds")
	}
	b.followToRP(p)
	p = fresh()
	if got := p.offered(); !slices.Equal(got, []string{number}) {
		t.Fatalf("offered %v, want [%s]", got, number)
	}
	mustContain(t, p.Body, "公司19")
	if strings.Contains(p.Body, admin.Username) {
		t.Fatal("the page shows the username signed in with")
	}
	if p.fieldValue("entity_number") != "" || p.boxTicked(t) {
		t.Fatal("a fresh form filled in or ticked before a number is picked")
	}

	// Picking fills the field and ticks the box; a number not remembered fills nothing.
	f := p.form(t)
	pick := func(n string) page {
		return b.get(idp.issuerPath() + "/login?" + url.Values{"authRequestID": {f.AuthRequestID}, "entity": {n}}.Encode())
	}
	if p = pick(number); p.fieldValue("entity_number") != number || !p.boxTicked(t) {
		t.Fatalf("picked: field %q, box ticked %v", p.fieldValue("entity_number"), p.boxTicked(t))
	}
	if p = pick("09-000009"); p.fieldValue("entity_number") != "" || p.boxTicked(t) {
		t.Fatalf("a number not remembered filled the field with %q", p.fieldValue("entity_number"))
	}

	// Signing in with the box unticked forgets the number.
	b.followToRP(b.submitRemembering(pick(number).form(t), number, admin.Username, admin.Password, false))
	if got := fresh().offered(); len(got) != 0 || b.memoryCookie() != nil {
		t.Fatalf("offered %v after a sign-in with the box unticked", got)
	}

	// Ten kept: an eleventh sign-in drops the oldest.
	var ten []string
	for i := 1; i <= 10; i++ {
		ten = append(ten, fmt.Sprintf("09-%06d", i))
	}
	b.setMemoryCookie(sealedMemory(t, idp, ten...))
	b.followToRP(b.submitRemembering(fresh().form(t), number, admin.Username, admin.Password, true))
	if got, want := fresh().offered(), append([]string{number}, ten[:9]...); !slices.Equal(got, want) {
		t.Fatalf("offered %v, want %v", got, want)
	}

	// Forget one, then all.
	forgetForm := func(field, value string) page {
		f := fresh().form(t)
		return b.post(idp.issuerPath()+"/login/remembered", url.Values{"authRequestID": {f.AuthRequestID}, "csrf_token": {f.CSRF}, field: {value}})
	}
	if loc := forgetForm("forget", ten[0]).location(t); !strings.Contains(loc, "/login?authRequestID=") {
		t.Fatalf("forgetting led to %s, want the sign-in page", loc)
	}
	if got, want := fresh().offered(), append([]string{number}, ten[1:9]...); !slices.Equal(got, want) {
		t.Fatalf("after forgetting %s: %v, want %v", ten[0], got, want)
	}
	forgetForm("forget_all", "1")
	if got := fresh().offered(); len(got) != 0 || b.memoryCookie() != nil {
		t.Fatalf("after forgetting all: %v", got)
	}
	// Forgetting needs this browser's form.
	if p := b.post(idp.issuerPath()+"/login/remembered", url.Values{"authRequestID": {"x"}, "csrf_token": {"forged"}, "forget_all": {"1"}}); p.StatusCode != http.StatusForbidden {
		t.Fatalf("a forged forget: %d", p.StatusCode)
	}

	// A cookie that does not open is ignored (the page as without one) and cleared.
	good := sealedMemory(t, idp, number)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	raw[len(raw)-1] ^= 1
	for name, value := range map[string]string{
		"altered":      base64.RawURLEncoding.EncodeToString(raw),
		"not ours":     base64.RawURLEncoding.EncodeToString([]byte(`[{"n":"02-000021"}]`)),
		"not base64":   "%%%",
		"very long":    strings.Repeat("A", 3900),
		"sealed twice": good + good,
	} {
		b.setMemoryCookie(value)
		p := fresh()
		if p.StatusCode != http.StatusOK || len(p.offered()) != 0 {
			t.Errorf("%s cookie: %d, offered %v", name, p.StatusCode, p.offered())
		}
		if c := p.setCookie(memoryCookieName); c == nil || c.MaxAge >= 0 {
			t.Errorf("%s cookie: not cleared (%v)", name, c)
		}
	}
}

// TestLoginHintPrefills: login_hint "ENTITY:USERNAME" or "ENTITY" fills in
// the form, in canonical form; anything else fills in nothing and is never
// shown; and a hint changes nothing but the filled-in values: another
// login may sign in.
func TestLoginHintPrefills(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, map[string]string{"IDP_AUTHORIZE_PER_BROWSER": "100"}) // one browser opens many requests here
	admin, staff := idp.login("admin01"), idp.login("staff01")
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	number := idp.demo.EntityNumber
	b := idp.browser()

	for hint, want := range map[string][2]string{
		number + ":" + strings.ToUpper(staff.Username): {number, staff.Username},
		"02000021":                                         {number, ""},
		`"><script>alert(1)</script>`:                      {"", ""},
		number + `:"><script>alert(1)</script>`:            {"", ""},
		`02-000021"><img src=x onerror=alert(1)>:staff01`:  {"", ""},
		number + ":staff01\xff\xfe":                        {"", ""},
		number + ":staff01\x00":                            {"", ""},
		number + ":" + staff.Username + ":" + "x":          {"", ""},
		strings.Repeat("9", 250):                           {"", ""},
		number + ":" + strings.Repeat("a", 240):            {"", ""},
		number + "\u202e:" + staff.Username:                {"", ""},
		"  " + number + " : " + staff.Username + "  ":      {number, staff.Username},
		"０２－０００ ０２１":                                       {number, ""},
		number + ":" + staff.Username + "@example.invalid": {"", ""},
	} {
		first := b.get(r.authURL(withExtra(newAuthParams(t), "login_hint", hint, "prompt", "login")))
		if first.StatusCode >= 500 {
			t.Fatalf("login_hint %q: %d", hint, first.StatusCode)
		}
		if first.StatusCode != http.StatusFound {
			t.Logf("login_hint %q: refused with %d", hint, first.StatusCode)
			// The edge refused the request's bytes: no page to fill in.
			if first.StatusCode != http.StatusBadRequest || strings.Contains(first.Body, "<script>alert") {
				t.Errorf("login_hint %q: %d %.300s", hint, first.StatusCode, first.Body)
			}
			continue
		}
		p := b.get(first.location(t))
		if p.StatusCode != http.StatusOK {
			t.Fatalf("login_hint %q: the sign-in page answered %d", hint, p.StatusCode)
		}
		if got := [2]string{p.fieldValue("entity_number"), p.fieldValue("username")}; got != want {
			t.Errorf("login_hint %q: filled in %q, want %q", hint, got, want)
		}
		if strings.Contains(p.Body, "<script>alert") || strings.Contains(p.Body, "onerror=alert") || strings.Contains(p.Body, "\u202e") {
			t.Errorf("login_hint %q: shown unescaped", hint)
		}
	}

	// Too long for the request's bounds: the client is told, as before.
	first := b.get(r.authURL(withExtra(newAuthParams(t), "login_hint", number+":"+strings.Repeat("a", 300))))
	if q := mustQuery(t, first.location(t)); q.Get("error") != "invalid_request" {
		t.Fatalf("a login_hint of 310 bytes: %v", q)
	}

	// The hint names staff01; admin01 signs in, and the ID token is admin01's.
	params := withExtra(newAuthParams(t), "login_hint", number+":"+staff.Username, "prompt", "login")
	p := b.startLogin(r, params)
	q := b.followToRP(b.submit(p.form(t), number, admin.Username, admin.Password))
	tok, err := r.exchange(q.Get("code"), params.Verifier)
	if err != nil {
		t.Fatal(err)
	}
	if sub := r.idClaims(t, tok, params.Nonce)["sub"]; sub != admin.EUID {
		t.Fatalf("signed in as %v, want %s: the hint decided who signed in", sub, admin.EUID)
	}
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Query()
}
