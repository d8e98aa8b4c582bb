package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/entity-account/idp/templates"
)

// TestPagesInEachLanguage: in each language the sign-in pages (e-service and
// portal), the activation pages and the resend page show the page header's
// system name, and format hints as placeholders, never a real-looking value
// such as the demo entity's number; the profile names the place of issue in
// the page's language.
func TestPagesInEachLanguage(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff := idp.login("staff01")
	web := idp.rp(idp.client(demoWebClient), idp.rpURL+"/callback")
	brand := regexp.MustCompile(`<span class="brand">([^<]*)</span>`)
	placeholder := regexp.MustCompile(`id="([a-z_]+)"[^>]* placeholder="([^"]*)"`)

	for _, lang := range templates.Languages {
		cat, err := templates.Catalogue(lang)
		if err != nil {
			t.Fatal(err)
		}
		b := idp.browser()
		p := newAuthParams(t)
		p.Extra = url.Values{"ui_locales": {lang}}
		pages := map[string]page{
			"e-service sign-in": b.startLogin(web, p),
			"portal sign-in":    b.get(idp.portal("/account/login?lang=" + lang)),
			"activate staff":    b.get(idp.portal("/activate/staff?lang=" + lang)),
			"activate entity":   b.get(idp.portal("/activate/entity?lang=" + lang)),
			"resend staff":      b.get(idp.portal("/activate/resend?kind=staff&lang=" + lang)),
			"resend entity":     b.get(idp.portal("/activate/resend?kind=entity_account&lang=" + lang)),
		}
		want := map[string]string{
			"entity_number": cat["entity_number_hint"],
			"code":          cat["activate_code_hint"],
			"birth_date":    cat["resend_birth_date_hint"],
		}
		for name, pg := range pages {
			if pg.StatusCode != http.StatusOK {
				t.Fatalf("%s %s = %d: %.500s", lang, name, pg.StatusCode, pg.Body)
			}
			if got := html.UnescapeString(submatch(brand, pg.Body)); got != cat["brand"] {
				t.Errorf("%s %s: header %q, want %q", lang, name, got, cat["brand"])
			}
			ms := placeholder.FindAllStringSubmatch(pg.Body, -1)
			if len(ms) == 0 {
				t.Errorf("%s %s: no placeholder", lang, name)
			}
			for _, m := range ms {
				if got := html.UnescapeString(m[2]); got != want[m[1]] {
					t.Errorf("%s %s: field %s placeholder %q, want %q", lang, name, m[1], got, want[m[1]])
				}
			}
			for _, real := range []string{idp.demo.EntityNumber, "ABCDE-FGHJK", "1980-01-31"} {
				if strings.Contains(pg.Body, `placeholder="`+real+`"`) {
					t.Errorf("%s %s: placeholder %q looks like a real value", lang, name, real)
				}
			}
		}

		// The e-service is named in the page's language.
		wantService := map[string]string{"zh-Hant": "示範電子服務", "pt": "Serviço electrónico de demonstração", "en": "Demo e-service"}[lang]
		if body := html.UnescapeString(pages["e-service sign-in"].Body); !strings.Contains(body, wantService) {
			t.Errorf("%s e-service sign-in: does not name the e-service %q", lang, wantService)
		}

		// The profile's place of issue, stored as 澳門, in the page's language.
		b.accountSignedIn(idp.demo.EntityNumber, staff.Username, staff.Password)
		prof := b.accountPage("/account?lang=" + lang)
		if got := profileField(prof, "account_id_doc_issue_place"); got != cat["place_澳門"] {
			t.Errorf("%s profile: place of issue %q, want %q", lang, got, cat["place_澳門"])
		}
	}
}
