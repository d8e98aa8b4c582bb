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

// Every notice the code composes (notify.Notices: ForStaff, To; the entity
// administration's tell, tellAlsoAccount; the identity tools' ToolEvent)
// names catalogue entry notify_<key>, which has a text in every language:
// otherwise a holder would be sent an empty message.
func TestNoticeKeysHaveTexts(t *testing.T) {
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`\btell(?:AlsoAccount)?\(\s*"([a-z][a-z0-9_]*)"(?:\s*,\s*"([a-z][a-z0-9_]*)")?`),
		regexp.MustCompile(`\bForStaff\([^"()\n]*"([a-z][a-z0-9_]*)"`),
		regexp.MustCompile(`\b[Nn]otices\.To\([^"()\n]*"([a-z][a-z0-9_]*)"`),
	}
	toolEvent := regexp.MustCompile(`\bToolEvent\s*=\s*"([a-z][a-z0-9_]*)"`)
	keys := map[string]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, p := range patterns {
			for _, m := range p.FindAllStringSubmatch(string(src), -1) {
				for _, k := range m[1:] {
					if k != "" {
						keys["notify_"+k] = path
					}
				}
			}
		}
		for _, m := range toolEvent.FindAllStringSubmatch(string(src), -1) {
			keys["notify_tool_"+m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 18 {
		t.Fatalf("found only %d notice keys: the patterns no longer match the code", len(keys))
	}
	for _, lang := range templates.Languages {
		cat, err := templates.Catalogue(lang)
		if err != nil {
			t.Fatal(err)
		}
		for k, where := range keys {
			if cat[k] == "" {
				t.Errorf("%s: %s composes the notice %q, which has no text", lang, where, k)
			}
		}
	}
}
