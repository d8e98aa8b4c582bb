package main

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/entity-account/idp/login/officers"
	"github.com/entity-account/idp/storage"
)

// deskWorld is a node's operator's desk served on a listener of its own, as
// IDP_DESK_LISTEN serves it.
type deskWorld struct {
	idp *testIDP
	srv *httptest.Server
}

func (idp *testIDP) startDesk(t *testing.T) *deskWorld {
	t.Helper()
	srv := httptest.NewServer(idp.app.desk)
	t.Cleanup(srv.Close)
	return &deskWorld{idp: idp, srv: srv}
}

// officer creates an active officer of role, as the demo supervisor does.
func (w *deskWorld) officer(t *testing.T, login string, role storage.OfficerRole) storage.Officer {
	t.Helper()
	ctx := context.Background()
	svc := officers.New(w.idp.app.pg)
	boss, err := w.idp.app.pg.OfficerByLogin(ctx, demoOfficer)
	if err != nil {
		t.Fatal(err)
	}
	o, err := svc.Create(ctx, &boss, storage.Officer{Login: login, DisplayName: "Officer " + login, Role: role, Mobile: "66000001"})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// signedIn is a browser holding a desk session of o, opened in the store
// as the sign-in's last step opens one (the sign-in's own tests go through
// its forms).
func (w *deskWorld) signedIn(t *testing.T, o storage.Officer) *deskBrowser {
	t.Helper()
	secret, err := w.idp.app.redis.CreateDeskSession(context.Background(), &storage.DeskSession{
		OfficerID: o.ID, Factor: "totp", ExpiresAt: time.Now().Add(storage.DeskMaxAge)})
	if err != nil {
		t.Fatal(err)
	}
	b := w.browser(t)
	u, _ := url.Parse(w.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "idp_desk", Value: secret, Path: "/"}})
	return b
}

// deskBrowser is a user agent at the desk: cookies, no redirects followed.
type deskBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func (w *deskWorld) browser(t *testing.T) *deskBrowser {
	jar, _ := cookiejar.New(nil)
	return &deskBrowser{t: t, base: w.srv.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *deskBrowser) do(req *http.Request) page {
	b.t.Helper()
	return (&browser{t: b.t, c: b.c}).do(req)
}

func (b *deskBrowser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

// post submits form from a desk page, as a browser does.
func (b *deskBrowser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// submit posts form to path with the CSRF token of the page at from.
func (b *deskBrowser) submit(from, path string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", submatch(csrfField, b.get(from).Body))
	return b.post(path, form)
}

// TestDeskAdmission: the desk admits a signed-in, active officer at every
// request; without a desk session it sends the browser to its sign-in; the
// portal's session opens nothing there; its forms need the session's CSRF
// token; a disabled officer's session ends; and it is not on the public
// listener.
func TestDeskAdmission(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	anon := w.browser(t)
	if p := anon.get("/"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/signin" {
		t.Fatalf("home without a session: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	if p := anon.get("/entities?q=1"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/signin?next=%2Fentities%3Fq%3D1" {
		t.Fatalf("a page without a session: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	// A staff login's portal session, its cookie carried to the desk's host.
	staff := idp.browser()
	acct := idp.demo.EntityAccount
	staff.accountSignedIn(idp.demo.EntityNumber, acct["username"], acct["password"])
	u, _ := url.Parse(w.srv.URL)
	for _, ck := range staff.c.Jar.Cookies(mustParse(t, idp.issuer)) {
		anon.c.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
	}
	if p := anon.get("/"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("a staff login's session opened the desk: %d", p.StatusCode)
	}

	counter := w.officer(t, "chan.tm", storage.RoleCounter)
	b := w.signedIn(t, counter)
	home := b.get("/")
	if home.StatusCode != http.StatusOK || !strings.Contains(home.Body, "chan.tm") || !strings.Contains(home.Body, `action="/signout"`) {
		t.Fatalf("home of a counter officer: %d %.400s", home.StatusCode, home.Body)
	}
	if guide := idp.issuer + "/help/officer"; !strings.Contains(home.Body, `href="`+guide+`"`) {
		t.Errorf("home does not name the officers' guide %s", guide)
	}
	if p := b.get("/no-such-page"); p.StatusCode != http.StatusNotFound || !strings.Contains(p.Body, `action="/signout"`) {
		t.Errorf("an unknown address: %d, inside the desk: %v", p.StatusCode, strings.Contains(p.Body, `action="/signout"`))
	}
	if p := b.post("/signout", url.Values{"csrf_token": {"forged"}}); p.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out with a forged token: %d", p.StatusCode)
	}
	if p := b.submit("/", "/signout", nil); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/signin" {
		t.Fatalf("sign-out: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	if p := b.get("/"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("the desk after sign-out: %d", p.StatusCode)
	}

	// A disabled officer's session opens nothing, and ends.
	b = w.signedIn(t, counter)
	boss, _ := idp.app.pg.OfficerByLogin(context.Background(), demoOfficer)
	if _, err := officers.New(idp.app.pg).Disable(context.Background(), boss, counter.Login); err != nil {
		t.Fatal(err)
	}
	if p := b.get("/"); p.StatusCode != http.StatusForbidden || strings.Contains(p.Body, `action="/signout"`) {
		t.Errorf("a disabled officer at the desk: %d", p.StatusCode)
	}
	if p := b.get("/"); p.StatusCode != http.StatusSeeOther {
		t.Errorf("a disabled officer's session did not end: %d", p.StatusCode)
	}

	// The public listener has none of the desk's pages.
	pub := idp.browser()
	if p := pub.get("/signout"); p.StatusCode != http.StatusNotFound {
		t.Errorf("the desk's sign-out on the public listener: %d", p.StatusCode)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
