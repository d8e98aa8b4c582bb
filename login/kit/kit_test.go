package kit

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// Every response runs no script; a page that asks (AllowOwnScripts) may run
// script files of our origin, and still no inline script, and that page only.
func TestScriptPolicy(t *testing.T) {
	h := SecurityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/with-script" {
			AllowOwnScripts(w)
		}
		w.WriteHeader(http.StatusOK)
	}))
	csp := func(path string) string {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w.Header().Get("Content-Security-Policy")
	}
	strict := csp("/account")
	if strings.Contains(strict, "script-src") || !strings.Contains(strict, "default-src 'none'") {
		t.Errorf("a page's CSP = %q, want default-src 'none' and no script source", strict)
	}
	scripted := csp("/with-script")
	if !strings.HasPrefix(scripted, strict+";") || !strings.HasSuffix(scripted, "script-src 'self'") ||
		strings.Contains(scripted, "unsafe-inline") || strings.Contains(scripted, "unsafe-eval") {
		t.Errorf("the CSP of a page that asked for scripts = %q, want the strict policy plus script-src 'self' alone", scripted)
	}
	if again := csp("/account"); again != strict {
		t.Errorf("after a scripted page, the next page's CSP = %q", again)
	}
}

// The page language: a choice made on the page first (a language link, or
// the lang field of the form a page was sent from); then, for a page of an
// authorization request, its ui_locales; then the language cookie; then an
// account's own language; then Accept-Language; then the default.
func TestLanguageOrder(t *testing.T) {
	k, err := New(Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	type req struct {
		query, form, cookie, accept string
		ui                          []string
		account                     string // Language's preference (an account's language)
	}
	request := func(q req) *http.Request {
		var r *http.Request
		if q.form != "" {
			r = httptest.NewRequest(http.MethodPost, "/login?"+q.query, strings.NewReader("lang="+q.form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if err := r.ParseForm(); err != nil {
				t.Fatal(err)
			}
		} else {
			r = httptest.NewRequest(http.MethodGet, "/login?"+q.query, nil)
		}
		if q.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: q.cookie})
		}
		if q.accept != "" {
			r.Header.Set("Accept-Language", q.accept)
		}
		return r
	}
	for _, c := range []struct {
		name string
		req  req
		want string
	}{
		{"ui_locales before the cookie", req{ui: []string{"pt"}, cookie: "en", accept: "zh-TW"}, "pt"},
		{"the first ui_locale we have", req{ui: []string{"fr", "en-GB", "pt"}, cookie: "zh-Hant"}, "en"},
		{"a regional ui_locale", req{ui: []string{"pt-BR"}, cookie: "en"}, "pt"},
		{"Chinese of Macau", req{ui: []string{"zh-MO"}, cookie: "en"}, "zh-Hant"},
		{"no ui_locale we have: the cookie", req{ui: []string{"fr"}, cookie: "en", accept: "pt"}, "en"},
		{"no ui_locales, no cookie: Accept-Language", req{accept: "en-US,en;q=0.9"}, "en"},
		{"nothing: the default", req{}, "zh-Hant"},
		{"a language link outranks ui_locales", req{query: "lang=en", ui: []string{"pt"}, cookie: "pt"}, "en"},
		{"the form's language outranks ui_locales", req{form: "en", ui: []string{"pt"}}, "en"},
		{"a form's unknown language counts for nothing", req{form: "xx", ui: []string{"pt"}}, "pt"},
	} {
		if got := k.RequestLanguage(request(c.req), c.req.ui); got != c.want {
			t.Errorf("RequestLanguage: %s: %q, want %q", c.name, got, c.want)
		}
	}
	for _, c := range []struct {
		name string
		req  req
		want string
	}{
		{"the cookie before the account's language", req{cookie: "en", account: "pt", accept: "zh-TW"}, "en"},
		{"the account's language before Accept-Language", req{account: "pt", accept: "en"}, "pt"},
		{"a language link first", req{query: "lang=en", cookie: "pt", account: "pt"}, "en"},
	} {
		if got := k.Language(request(c.req), c.req.account); got != c.want {
			t.Errorf("Language: %s: %q, want %q", c.name, got, c.want)
		}
	}
}

// The focus of a form shown again: the first field in error that must be
// typed again, else the first in error, else the first empty field, else
// the first field.
func TestFieldsFocus(t *testing.T) {
	names := []string{"entity_number", "username", "password"}
	kept := map[string]string{"entity_number": "02-000021", "username": "staff01"}
	for _, c := range []struct {
		name    string
		shown   map[string]string
		invalid []string
		focus   string
	}{
		{"fresh", nil, nil, "entity_number"},
		{"fresh with the entity number given", map[string]string{"entity_number": "02-000021"}, nil, "username"},
		{"wrong credentials: all three, the password to type again", kept, names, "password"},
		{"the username missing", map[string]string{"entity_number": "02-000021"}, []string{"username", "password"}, "username"},
		{"a kept field in error", kept, []string{"username"}, "username"},
		{"a refusal of no field", kept, nil, "password"},
		{"everything kept and fine", map[string]string{"entity_number": "a", "username": "b", "password": "c"}, nil, "entity_number"},
	} {
		f := FieldsOf(names, c.shown, c.invalid...)
		var focused []string
		for _, n := range names {
			if f.Focus(n) {
				focused = append(focused, n)
			}
			if f.Invalid(n) != slices.Contains(c.invalid, n) {
				t.Errorf("%s: Invalid(%s) = %v", c.name, n, f.Invalid(n))
			}
		}
		if len(focused) != 1 || focused[0] != c.focus {
			t.Errorf("%s: focus on %v, want %s", c.name, focused, c.focus)
		}
	}
	if got := Empty(map[string]string{"a": "x", "c": ""}, "a", "b", "c"); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("Empty = %v, want [b c]", got)
	}
}
