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

var htmlLang = regexp.MustCompile(`<html lang="([^"]*)">`)

// TestPageLanguageOrder: a page reached from an authorization request is
// in the request's ui_locales before the language cookie; a language chosen
// on the page outranks both, for the form's answer and into the second
// step; the error page of /authorize follows its ui_locales too; a
// browser's request for an address nobody serves gets our 404 page in its
// language, a program the library's answer.
func TestPageLanguageOrder(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin := idp.login("admin01")
	idp.enrolTOTP(t, admin)
	web := idp.rp(idp.client(demoWebClient), idp.rpURL+"/callback")
	b := idp.browser()
	langOf := func(p page) string { return submatch(htmlLang, p.Body) }

	// The cookie says en; the request asks for pt.
	b.get(idp.portal("/account/login?lang=en"))
	login := b.startLogin(web, withExtra(newAuthParams(t), "ui_locales", "pt", "acr_values", acrTool))
	if got := langOf(login); got != "pt" {
		t.Fatalf("sign-in of a request with ui_locales=pt, cookie en: in %q", got)
	}
	if strings.Contains(login.Body, `name="lang"`) {
		t.Error("a page whose language nobody chose carries a lang field")
	}
	// The person chooses English on the page: the form's answer and the
	// second step stay in it.
	loginURL := login.Request.URL.String()
	chosen := b.get(loginURL + "&lang=en")
	if got := langOf(chosen); got != "en" || chosen.fieldValue("lang") != "en" {
		t.Fatalf("after choosing English: page in %q, lang field %q", got, chosen.fieldValue("lang"))
	}
	f := chosen.form(t)
	wrong := b.post(idp.issuerPath()+"/login", url.Values{"authRequestID": {f.AuthRequestID}, "csrf_token": {f.CSRF}, "lang": {"en"},
		"entity_number": {idp.demo.EntityNumber}, "username": {admin.Username}, "password": {"not it"}})
	if got := langOf(wrong); got != "en" {
		t.Errorf("the refused form of an English page is in %q", got)
	}
	right := b.post(idp.issuerPath()+"/login", url.Values{"authRequestID": {f.AuthRequestID}, "csrf_token": {f.CSRF}, "lang": {"en"},
		"entity_number": {idp.demo.EntityNumber}, "username": {admin.Username}, "password": {admin.Password}})
	verify := b.secondStep(right)
	if got := langOf(verify); got != "en" {
		t.Errorf("the second step after English was chosen is in %q (redirected to %s)", got, right.Header.Get("Location"))
	}

	// The error page of /authorize: its ui_locales, not the cookie.
	bad := b.get(idp.issuer + "/authorize?" + url.Values{"client_id": {"no-such-client"}, "redirect_uri": {"https://rp.example/cb"},
		"response_type": {"code"}, "scope": {"openid"}, "ui_locales": {"zh-MO pt"}}.Encode())
	if bad.StatusCode != http.StatusBadRequest || langOf(bad) != "zh-Hant" {
		t.Errorf("/authorize of an unknown client with ui_locales=zh-MO: %d in %q", bad.StatusCode, langOf(bad))
	}

	// An address nobody serves.
	req, _ := http.NewRequest(http.MethodGet, idp.issuer+"/no-such-page", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("Accept-Language", "pt-PT,pt;q=0.9")
	nf := idp.browser().do(req)
	if nf.StatusCode != http.StatusNotFound || langOf(nf) != "pt" || !strings.Contains(nf.Body, html.EscapeString(messages(t, "pt")["not_found_heading"])) {
		t.Errorf("a browser's request for an unknown address: %d in %q: %.300s", nf.StatusCode, langOf(nf), nf.Body)
	}
	api := idp.browser().get(idp.issuer + "/no-such-page")
	if api.StatusCode != http.StatusNotFound || strings.Contains(api.Body, "<html") {
		t.Errorf("a program's request for an unknown address: %d %.200s", api.StatusCode, api.Body)
	}
}
