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
	keys := keysInCode(t, []string{"../login", "../storage", "../op"}, func(src string, found func(key string)) {
		for _, m := range keyed.FindAllStringSubmatch(src, -1) {
			found(m[1])
		}
	})
	if len(keys) < 20 {
		t.Fatalf("found only %d keys: the pattern no longer matches the code", len(keys))
	}
	requireTexts(t, keys, "names")
}

// keysInCode walks the non-test Go files below roots and gathers the
// catalogue keys that scan finds in each, with a file that names each.
func keysInCode(t *testing.T, roots []string, scan func(src string, found func(key string))) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			scan(string(src), func(key string) { keys[key] = path })
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// requireTexts fails for every key without a text in some language (how
// names how the file uses it, for the message).
func requireTexts(t *testing.T, keys map[string]string, how string) {
	t.Helper()
	for _, lang := range templates.Languages {
		cat, err := templates.Catalogue(lang)
		if err != nil {
			t.Fatal(err)
		}
		for k, where := range keys {
			if cat[k] == "" {
				t.Errorf("%s: %s %s %q, which has no text", lang, where, how, k)
			}
		}
	}
}
