package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var (
	refusalHeading = regexp.MustCompile(`<h1>([^<]*)</h1>`)
	refusalMessage = regexp.MustCompile(`id="message">([^<]*)<`)
	refusalBack    = regexp.MustCompile(`<a class="button[^"]*" href="([^"]*)">([^<]+)</a>`)
)

// TestPortalRefusalsKeepNavigation: every refusal the portal answers a
// signed-in account with (403 at a page its rights do not open, 404 for
// what its entity does not have or an address no page has, a form without
// the session's token) is drawn inside the portal: the navigation of its
// rights, a heading and a message of their own (never only
// 「未能完成操作」, never the outage's words), and a link back to a page it
// may open.
func TestPortalRefusalsKeepNavigation(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	admin := idp.loginBrowser("admin01")
	staff := idp.loginBrowser("staff01")
	owner := idp.entityAccountBrowser()
	internal := catalogue(t, "error_internal")
	cases := []struct {
		who    string
		b      *browser
		nav    []string
		method string
		path   string
		status int
		back   string // where the link leads
	}{
		{"staff", staff, navStaff, "GET", "/account/entities", 403, "/account"},
		{"staff", staff, navStaff, "GET", "/account/entity", 403, "/account"},
		{"staff", staff, navStaff, "GET", "/account/staff", 403, "/account"},
		{"staff", staff, navStaff, "GET", "/account/staff/" + idp.login("staff02").EUID, 403, "/account"},
		{"staff", staff, navStaff, "GET", "/account/admins", 403, "/account"},
		{"staff", staff, navStaff, "GET", "/account/services", 403, "/account"},
		{"staff", staff, navStaff, "GET", "/account/changes", 403, "/account"},
		{"the entity account", owner, navEntityAccount, "GET", "/account/tools", 403, "/account"},
		{"the entity account", owner, navEntityAccount, "GET", "/account/staff", 403, "/account"},
		{"admin01", admin, navAdmin, "GET", "/account/staff/CU999999999", 404, "/account/staff"},
		{"admin01", admin, navAdmin, "GET", "/account/services/nosuch", 404, "/account/services"},
		{"admin01", admin, navAdmin, "GET", "/account/services/demo/groups/nosuch", 404, "/account/services"},
		{"admin01", admin, navAdmin, "GET", "/account/no-such-page", 404, "/account"},
		{"admin01", admin, navAdmin, "POST", "/account/staff/" + idp.login("staff02").EUID + "/code", 403, "/account/staff"},
		{"admin01", admin, navAdmin, "POST", "/account/admins", 403, "/account/admins"},
	}
	for _, c := range cases {
		what := c.who + " " + c.method + " " + c.path
		var p page
		if c.method == "POST" {
			p = c.b.post(idp.portal(c.path), url.Values{"csrf_token": {"forged"}, "channel": {"sms"}})
		} else {
			p = c.b.get(idp.portal(c.path))
		}
		if p.StatusCode != c.status {
			t.Errorf("%s = %d, want %d", what, p.StatusCode, c.status)
			continue
		}
		if !navBlock.MatchString(p.Body) {
			t.Errorf("%s: the refusal has no portal navigation: %.600s", what, p.Body)
			continue
		}
		wantNav(t, idp, what, p, c.nav)
		heading := html.UnescapeString(submatch(refusalHeading, p.Body))
		message := html.UnescapeString(submatch(refusalMessage, p.Body))
		if heading == "" || message == "" || message == internal {
			t.Errorf("%s: heading %q, message %q", what, heading, message)
		}
		back := refusalBack.FindStringSubmatch(p.Body)
		if back == nil || html.UnescapeString(back[1]) != idp.portal(c.back) {
			t.Errorf("%s: the way back %v, want a link to %s", what, back, c.back)
		}
	}
	// Without a session, the plain page answers: no navigation to offer.
	if p := idp.browser().get(idp.portal("/account/no-such-page")); p.StatusCode != http.StatusNotFound || navBlock.MatchString(p.Body) {
		t.Errorf("signed out GET /account/no-such-page = %d (navigation: %v)", p.StatusCode, navBlock.MatchString(p.Body))
	}
	if !strings.Contains(idp.browser().get(idp.portal("/account/entities")).Header.Get("Location"), "/account/login") {
		t.Error("signed out, 實體列表 does not lead to the sign-in")
	}
}
