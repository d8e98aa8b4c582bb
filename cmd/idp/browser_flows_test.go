package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestBrowserSignIn is the e-service journey in a real browser: the demo
// web client's authorization URL, our sign-in page, the three fields typed
// and 登入 pressed, then the redirect to the client's callback with a code
// (nothing listens there: the URL is read from the navigation), which the
// client exchanges for an ID token of the login.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin := idp.login("admin01")
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])
	params := newAuthParams(t)
	params.Extra = url.Values{"ui_locales": {"zh-Hant"}}
	T := messages(t, "zh-Hant")

	c := newChrome(t)
	c.open(r.authURL(params))
	if loc, _ := url.Parse(c.location()); loc.Path != idp.issuerPath()+"/login" {
		t.Fatalf("the authorization URL led to %s, want our sign-in page", loc)
	}
	if got := c.text("h1"); got != T["sign_in_title"] {
		t.Errorf("sign-in page heading %q, want %q", got, T["sign_in_title"])
	}
	c.fill("entity_number", idp.demo.EntityNumber)
	c.fill("username", admin.Username)
	c.fill("password", admin.Password)
	cbURL := c.pressUntil(T["sign_in"], web.RedirectURIs[0])

	cb, err := url.Parse(cbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := cb.Query()
	if q.Get("code") == "" || q.Get("state") != params.State || q.Get("iss") != idp.issuer {
		t.Fatalf("callback %s: want a code, state %s and iss %s", cbURL, params.State, idp.issuer)
	}
	tok, err := r.exchange(q.Get("code"), params.Verifier)
	if err != nil {
		t.Fatalf("exchange of the browser's code: %v", err)
	}
	claims := r.idClaims(t, tok, params.Nonce)
	if claims["sub"] != admin.EUID || claims["entity_number"] != idp.demo.EntityNumber {
		t.Errorf("ID token after the browser sign-in: %v", claims)
	}
	if strings.Contains(cbURL, admin.Password) {
		t.Error("the password appears in the callback URL")
	}
}

// TestBrowserActivation is the onboarding of an entity in a real browser:
// the operator opens the entity (the code of `idp entity create`), the
// entity account activates with the code of its SMS (steps 1 and 2), then
// the admin, on the page whose address the admin's SMS gives, and the admin
// follows the done page's link to the portal, signs in and finds the EUID on
// the profile.
func TestBrowserActivation(t *testing.T) {
	t.Parallel()
	w := startActivationIDP(t, nil)
	const number = "03-000301"
	spec := standardEntity(number)
	created := w.newEntity(t, spec)
	adminEUID := created.Admins[0].EUID
	ownerCode := codeIn(t, w.message(t, spec.AccountMobile, 1))
	adminSMS := w.message(t, spec.Admins[0].Mobile, 1)
	adminCode := codeIn(t, adminSMS)
	adminURL := urlInText.FindString(adminSMS.Text)
	if !strings.HasPrefix(adminURL, w.issuer+"/activate/staff") {
		t.Fatalf("the admin's SMS gives no staff activation address: %q", adminSMS.Text)
	}
	T := messages(t, "zh-Hant")

	c := newChrome(t)
	// The entity account: step 1 (application number, code, entity number).
	c.open(w.issuer + "/activate/entity?lang=zh-Hant")
	c.fill("application_number", spec.ApplicationNumber)
	c.fill("code", ownerCode)
	c.fill("entity_number", number)
	c.press(T["activate_next"])
	if got := c.text("h1"); got != T["activate_choose_heading"] {
		t.Fatalf("after step 1: heading %q, want %q\n%s", got, T["activate_choose_heading"], c.where())
	}
	// Step 2: username and password, twice.
	c.fill("username", "owner.hk")
	c.fill("password", ownerPassword)
	c.fill("password2", ownerPassword)
	c.press(T["activate_submit"])
	if got := c.text("h1"); got != T["activate_done_heading"] {
		t.Fatalf("after step 2: heading %q, want %q\n%s", got, T["activate_done_heading"], c.where())
	}

	// The admin, from the address in the SMS; the code typed in lower case.
	c.open(adminURL)
	c.fill("entity_number", number)
	c.fill("code", strings.ToLower(adminCode))
	c.fill("id_doc_number", spec.Admins[0].IDNumber)
	c.press(T["activate_next"])
	c.fill("username", "boss")
	c.fill("password", adminPassword)
	c.fill("password2", adminPassword)
	c.press(T["activate_submit"])
	if got := c.text("h1"); got != T["activate_done_heading"] {
		t.Fatalf("admin activation: heading %q, want %q\n%s", got, T["activate_done_heading"], c.where())
	}
	if body := c.text("body"); !strings.Contains(body, adminEUID) {
		t.Errorf("the done page does not show the EUID %s: %q", adminEUID, body)
	}

	// The done page leads to the portal's sign-in; the profile shows the EUID.
	c.follow(T["activate_sign_in"])
	c.fill("entity_number", number)
	c.fill("username", "boss")
	c.fill("password", adminPassword)
	c.press(T["sign_in"])
	if got := c.text("#account_euid"); got != adminEUID {
		t.Errorf("profile EUID %q, want %q\n%s", got, adminEUID, c.where())
	}
}

var urlInText = regexp.MustCompile(`https?://[^\s]+`)

// TestBrowserFailedSignIn: a wrong password on the e-service sign-in page,
// in each language (zh-Hant and en asked for by the client's ui_locales, pt
// chosen with the page's language link): the page comes back in that
// language with the entity number and username kept, the password empty
// and focused, and the error announced (role=alert).
func TestBrowserFailedSignIn(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff := idp.login("staff01")
	web := idp.client(demoWebClient)
	r := idp.rp(web, web.RedirectURIs[0])

	c := newChrome(t)
	// pt last, chosen with the language link: the choice is kept in a
	// cookie, which the later requests' ui_locales would outrank.
	for _, lang := range []string{"zh-Hant", "en", "pt"} {
		T := messages(t, lang)
		params := newAuthParams(t)
		if lang != "pt" {
			params.Extra = url.Values{"ui_locales": {lang}}
		}
		c.open(r.authURL(params))
		if lang == "pt" {
			c.follow(T["lang_name"])
		}
		if got := eval[string](c, `document.documentElement.lang`); got != lang {
			t.Fatalf("%s: sign-in page in %q", lang, got)
		}
		c.fill("entity_number", idp.demo.EntityNumber)
		c.fill("username", staff.Username)
		c.fill("password", "not the password")
		c.press(T["sign_in"])

		if got := c.text(`[role="alert"]`); got != T["error_credentials"] {
			t.Errorf("%s: alert %q, want %q", lang, got, T["error_credentials"])
		}
		if got := eval[string](c, `document.documentElement.lang`); got != lang {
			t.Errorf("%s: the page after the failure is in %q", lang, got)
		}
		if got := c.value("entity_number"); got != idp.demo.EntityNumber {
			t.Errorf("%s: entity number after the failure %q, want it kept", lang, got)
		}
		if got := c.value("username"); got != staff.Username {
			t.Errorf("%s: username after the failure %q, want it kept", lang, got)
		}
		if got := c.value("password"); got != "" {
			t.Errorf("%s: the password field keeps %q", lang, got)
		}
		if got := eval[string](c, `document.activeElement ? document.activeElement.id : ""`); got != "password" {
			t.Errorf("%s: focus on %q after the failure, want the password", lang, got)
		}
		if got := eval[string](c, `Array.from(document.querySelectorAll('[aria-invalid="true"]')).map(e => e.id + ">" + e.getAttribute("aria-describedby")).join(" ")`); got != "entity_number>form_error username>form_error password>form_error" {
			t.Errorf("%s: fields marked %q, want the three, described by the alert", lang, got)
		}
	}
}
