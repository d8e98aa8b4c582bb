package portal

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/templates"
)

// The portal's pages render in every language, with every text they use
// present in the catalogue.
func TestAccountPagesRender(t *testing.T) {
	k, err := kit.New(kit.Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range templates.Languages {
		r := httptest.NewRequest("GET", "/account", nil)
		c := k.Common(r, lang)
		ch := chrome{Common: c, Current: "profile", Who: "staff01 (02-000021)", LogoutCSRF: "tok"}
		for name, data := range map[string]any{
			"account_login.html":         loginPage{Common: c, CSRF: "tok", Error: "x"},
			"account_profile.html":       profilePage{chrome: ch, Rows: []profileRow{{ID: "account_euid", Label: c.T["account_euid"], Value: "CU000000101"}}},
			"account_password.html":      passwordPage{chrome: ch, CSRF: "tok", Username: "staff01", Error: c.T["pw_common"]},
			"account_password.html#done": passwordPage{chrome: ch, CSRF: "tok", Done: true},
		} {
			w := httptest.NewRecorder()
			k.Render(w, 200, strings.TrimSuffix(name, "#done"), data)
			body := w.Body.String()
			if w.Code != 200 || !strings.Contains(body, "</html>") {
				t.Fatalf("%s in %s: %d %.300s", name, lang, w.Code, body)
			}
		}
	}
	// Every text the portal's templates and code name is in every catalogue.
	keys := []string{"pw_too_short", "pw_too_long", "pw_contains_identity", "pw_common", "pw_same_as_old"}
	for _, file := range []string{"account_login.html", "account_profile.html", "account_password.html"} {
		b, err := os.ReadFile("../../templates/pages/" + file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\.T\.(\w+)`).FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	sources, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range sources {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`"((?:account|pw)_[a-z0-9_]+)"`).FindAllStringSubmatch(string(src), -1) {
			if !strings.HasSuffix(m[1], "_") {
				keys = append(keys, m[1])
			}
		}
	}
	for _, key := range keys {
		for _, lang := range templates.Languages {
			if k.T(lang)[key] == "" {
				t.Errorf("catalogue %s lacks %s", lang, key)
			}
		}
	}
}
