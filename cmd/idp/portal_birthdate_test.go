package main

import (
	"html"
	"net/http"
	"strings"
	"testing"
)

// TestPortalBirthDateThatDoesNotExist: 1990/2/30 on the form of a new staff
// login (and of its 編輯) is refused for not existing, in each language,
// not for how it is written; the form comes back with the date kept and
// the field marked.
func TestPortalBirthDateThatDoesNotExist(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	b := idp.loginBrowser("admin01")
	staff01 := idp.login("staff01")
	for _, lang := range []string{"zh-Hant", "pt", "en"} {
		T := messages(t, lang)
		for _, path := range []string{"/account/staff/new", "/account/staff/" + staff01.EUID + "/edit"} {
			form := registration("陳大明", "1357913(5)", "6677 0551")
			form.Set("birth_date", "1990/2/30")
			form.Set("lang", lang)
			p := b.staffPOST(path, form)
			if p.StatusCode != http.StatusBadRequest {
				t.Fatalf("%s %s with 1990/2/30 = %d: %.500s", lang, path, p.StatusCode, p.Body)
			}
			if got := submatch(htmlLang, p.Body); got != lang {
				t.Errorf("%s %s: the answer is in %q", lang, path, got)
			}
			mustContain(t, p.Body, html.EscapeString(T["reg_error_birth_date_nonexistent"]))
			if strings.Contains(p.Body, html.EscapeString(T["reg_error_birth_date"])) {
				t.Errorf("%s %s: 1990/2/30 is refused for its format", lang, path)
			}
			if got := html.UnescapeString(p.fieldValue("birth_date")); got != "1990/2/30" {
				t.Errorf("%s %s: the date is kept as %q", lang, path, got)
			}
		}
	}
}
