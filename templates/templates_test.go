package templates

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestPlaceholdersAreCatalogueHints: every placeholder of every page comes
// from the message catalogue (a format hint in the page's language), never a
// literal that could pass for a real value (the demo entity's number, a code,
// a date) and look pre-filled.
func TestPlaceholdersAreCatalogueHints(t *testing.T) {
	attr := regexp.MustCompile(`placeholder="([^"]*)"`)
	hint := regexp.MustCompile(`^\{\{\.T\.([a-z_]+_hint)\}\}$`)
	cats := allCatalogues(t)
	found := 0
	err := fs.WalkDir(pages, "pages", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := pages.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range attr.FindAllStringSubmatch(string(b), -1) {
			found++
			k := hint.FindStringSubmatch(m[1])
			if k == nil {
				t.Errorf("%s: placeholder=%q is not a catalogue hint {{.T.…_hint}}", path, m[1])
				continue
			}
			for lang, cat := range cats {
				if cat[k[1]] == "" {
					t.Errorf("%s: catalogue %s lacks %s", path, lang, k[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found == 0 {
		t.Fatal("no placeholder found: the pattern is out of date")
	}
	for lang, cat := range cats {
		for k, v := range cat {
			if strings.HasSuffix(k, "_hint") && regexp.MustCompile(`[1-9]`).MatchString(v) {
				t.Errorf("%s %s = %q: a hint has no real-looking digits (write 0, X or the format)", lang, k, v)
			}
		}
	}
}

// TestOneSystemNamePerLanguage: the system's name in the page header (brand,
// before " — ") is the one the SMS and e-mail texts start with.
func TestOneSystemNamePerLanguage(t *testing.T) {
	want := map[string]string{"zh-Hant": "澳門公共服務一戶通", "pt": "Conta Única de Macau", "en": "Macao One Account"}
	for lang, cat := range allCatalogues(t) {
		name, _, ok := strings.Cut(cat["brand"], " — ")
		if !ok || name != want[lang] {
			t.Errorf("%s brand = %q, want it to start with %q", lang, cat["brand"], want[lang]+" — ")
		}
		for _, k := range []string{"notify_sms_entity_account", "notify_sms_staff"} {
			if !strings.Contains(cat[k], name) {
				t.Errorf("%s %s = %q does not carry the system name %q of the page header", lang, k, cat[k], name)
			}
		}
	}
}

func allCatalogues(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, lang := range Languages {
		m, err := Catalogue(lang)
		if err != nil {
			t.Fatal(err)
		}
		out[lang] = m
	}
	return out
}
