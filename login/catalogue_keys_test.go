package login

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/entity-account/idp/templates"
)

// Every catalogue key a use case or a page names for its refusal (Key: in a
// storage.Error, kit.Fail) has a text in every language: otherwise a
// person would see an empty message.
func TestRefusalKeysHaveTexts(t *testing.T) {
	keyed := regexp.MustCompile(`(?:Key:\s*|kit\.Fail\(storage\.E[A-Za-z]+,\s*)"([a-z][a-z0-9_]*)"`)
	keys := map[string]string{}
	for _, root := range []string{"../login", "../storage", "../op"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range keyed.FindAllStringSubmatch(string(src), -1) {
				keys[m[1]] = path
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(keys) < 20 {
		t.Fatalf("found only %d keys: the pattern no longer matches the code", len(keys))
	}
	for _, lang := range templates.Languages {
		cat, err := templates.Catalogue(lang)
		if err != nil {
			t.Fatal(err)
		}
		for k, where := range keys {
			if cat[k] == "" {
				t.Errorf("%s: %s names %q, which has no text", lang, where, k)
			}
		}
	}
}
