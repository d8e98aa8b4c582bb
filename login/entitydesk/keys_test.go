package entitydesk_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/entity-account/idp/templates"
)

// Every catalogue key the desk's use cases refuse with, and those of the
// refusals they pass on, has a text in every language.
func TestRefusalKeysHaveTexts(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	quoted := regexp.MustCompile(`"((?:desk|staff|reset|lockout)_[a-z0-9_]+)"`)
	keys := map[string]bool{}
	for _, f := range files {
		if filepath.Ext(f) != ".go" || regexp.MustCompile(`_test\.go$`).MatchString(f) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range quoted.FindAllStringSubmatch(string(src), -1) {
			keys[m[1]] = true
		}
	}
	for _, k := range []string{"desk_entities_err_not_closed", "desk_entities_err_already_closed", "lockout_error_not_locked",
		"reset_error_no_contact", "reset_error_forbidden", "staff_error_no_code", "staff_error_no_recipient"} {
		keys[k] = true // the refusals of login/manage and login/recovery the desk shows
	}
	if len(keys) < 15 {
		t.Fatalf("found only %d keys", len(keys))
	}
	for _, lang := range templates.Languages {
		cat, err := templates.Catalogue(lang)
		if err != nil {
			t.Fatal(err)
		}
		for k := range keys {
			if cat[k] == "" {
				t.Errorf("%s: no text for %q", lang, k)
			}
		}
	}
}
