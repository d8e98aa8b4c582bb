package guide

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/templates"
)

func newServer(t *testing.T) http.Handler {
	t.Helper()
	k, err := kit.New(kit.Config{BasePath: "/oidc", CSRFKey: make([]byte, 32)}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(k, "https://id.example.gov.mo/oidc")
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	sub := r.PathPrefix("/oidc").Subrouter()
	h.Mount(sub)
	sub.PathPrefix("/static/").Handler(http.StripPrefix("/oidc/static/", kit.StaticFiles()))
	return kit.SecurityHeaders(r)
}

func get(t *testing.T, h http.Handler, path string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, string(b), rec.Header()
}

var imgSrc = regexp.MustCompile(`<img src="([^"]+)"`)

// Every page of the guide answers in every language, under the issuer's
// path, without a session: the index lists every role, a role every task,
// a task its steps with the labels of the pages in them, its code blocks
// with the issuer, and its screenshots, each of which is served.
func TestGuidePages(t *testing.T) {
	h := newServer(t)
	g, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Roles) < 4 {
		t.Fatalf("%d roles", len(g.Roles))
	}
	images := 0
	for _, lang := range templates.Languages {
		T, err := templates.Catalogue(lang)
		if err != nil {
			t.Fatal(err)
		}
		code, body, hdr := get(t, h, "/oidc/help?lang="+lang)
		if code != http.StatusOK || !strings.Contains(body, `<html lang="`+lang+`">`) {
			t.Fatalf("%s /help: %d\n%s", lang, code, body)
		}
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self'") || strings.Contains(csp, "script-src") {
			t.Errorf("/help CSP %q", csp)
		}
		for _, role := range g.Roles {
			if !strings.Contains(body, `href="/oidc/help/`+role.ID+`"`) {
				t.Errorf("%s /help lacks role %s", lang, role.ID)
			}
			images += checkRolePages(t, h, lang, T, role)
		}
	}
	t.Logf("%d screenshots served", images)
}

// checkRolePages checks a role's page and its tasks' in lang; it returns
// the number of screenshots served.
func checkRolePages(t *testing.T, h http.Handler, lang string, T map[string]string, role Role) int {
	t.Helper()
	code, rbody, _ := get(t, h, "/oidc/help/"+role.ID+"?lang="+lang)
	if code != http.StatusOK || !strings.Contains(html.UnescapeString(rbody), "<h1>"+T[role.Title]+"</h1>") {
		t.Fatalf("%s /help/%s: %d", lang, role.ID, code)
	}
	images := 0
	for i, task := range role.Tasks {
		path := "/oidc/help/" + role.ID + "/" + task.ID
		if !strings.Contains(rbody, `href="`+path+`"`) {
			t.Errorf("%s /help/%s lacks task %s", lang, role.ID, task.ID)
		}
		code, tbody, _ := get(t, h, path+"?lang="+lang)
		text := html.UnescapeString(tbody)
		if code != http.StatusOK || !strings.Contains(text, "<h1>"+T[task.Title]+"</h1>") {
			t.Fatalf("%s %s: %d", lang, path, code)
		}
		if i+1 < len(role.Tasks) && !strings.Contains(tbody, `<a rel="next" href="/oidc/help/`+role.ID+"/"+role.Tasks[i+1].ID+`">`) {
			t.Errorf("%s %s: no link to the next task", lang, path)
		}
		if n := strings.Count(tbody, "<li><p class=\"prose\">"); n != len(task.Steps) {
			t.Errorf("%s %s: %d steps shown, want %d", lang, path, n, len(task.Steps))
		}
		if strings.Contains(text, "{issuer}") || labelRef.MatchString(text) {
			t.Errorf("%s %s: a placeholder is left in the page", lang, path)
		}
		shots := 0
		for _, s := range task.Steps {
			if s.Shot != "" {
				shots++
			}
		}
		found := imgSrc.FindAllStringSubmatch(tbody, -1)
		if len(found) != shots {
			t.Errorf("%s %s: %d screenshots shown, want %d (run make guide)", lang, path, len(found), shots)
		}
		for _, m := range found {
			code, img, hdr := get(t, h, m[1])
			if code != http.StatusOK || hdr.Get("Content-Type") != "image/jpeg" || len(img) < 1000 {
				t.Errorf("%s: %d %s", m[1], code, hdr.Get("Content-Type"))
			}
			images++
		}
	}
	return images
}

// The labels a step names are the pages' own, in bold; the rest is escaped.
func TestText(t *testing.T) {
	T := map[string]string{"k": "Press {sign_in} <now> & {sign_in}.", "sign_in": "Sign <in>"}
	got := string(Text(T, "k"))
	want := "Press <strong>Sign &lt;in&gt;</strong> &lt;now&gt; &amp; <strong>Sign &lt;in&gt;</strong>."
	if got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

// An unknown role or task is a 404 page in the guide's language.
func TestGuideNotFound(t *testing.T) {
	h := newServer(t)
	for _, path := range []string{"/oidc/help/nobody", "/oidc/help/staff/nothing", "/oidc/help/nobody/sign-in"} {
		code, body, _ := get(t, h, path+"?lang=pt")
		if code != http.StatusNotFound || !strings.Contains(body, `lang="pt"`) {
			t.Errorf("%s: %d", path, code)
		}
	}
}

// Every shot the guide names has a screenshot in every language.
func TestEveryShotHasItsImages(t *testing.T) {
	g, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	sizes, err := ShotSizes()
	if err != nil {
		t.Fatal(err)
	}
	for shot, width := range g.Shots() {
		for _, lang := range templates.Languages {
			size, ok := sizes[ShotFile(lang, shot)]
			if !ok {
				t.Errorf("shot %s has no image in %s: run make guide", shot, lang)
				continue
			}
			if size.X > width || size.Y > PhoneHeight {
				t.Errorf("shot %s (%s) is %v, wider than its role's %d px", shot, lang, size, width)
			}
		}
	}
}
