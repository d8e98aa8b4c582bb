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

// TestEveryPageIsTitled: every page starts with the head template given
// its own title (templates.Head), never the bare data, so that no page
// falls back to another's title; and the short name the header shows on a
// phone is the system name's second part.
func TestEveryPageIsTitled(t *testing.T) {
	call := regexp.MustCompile(`\{\{template "head" \(head \. \S[^\n]*\)\}\}`)
	err := fs.WalkDir(pages, "pages", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "pages/layout.html" {
			return err
		}
		b, err := pages.ReadFile(path)
		if err != nil {
			return err
		}
		s := string(b)
		if n := strings.Count(s, `{{template "head"`); n != 1 || !call.MatchString(s) {
			t.Errorf("%s: %d head templates; want one, called as {{template \"head\" (head . TITLE ERRORS...)}}", path, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for lang, cat := range allCatalogues(t) {
		_, short, _ := strings.Cut(cat["brand"], " — ")
		if cat["site_name"] != short {
			t.Errorf("%s site_name = %q, want the brand's second part %q", lang, cat["site_name"], short)
		}
		if strings.Count(cat["title_error"], "%s") != 1 {
			t.Errorf("%s title_error = %q, want one %%s for the title", lang, cat["title_error"])
		}
	}
}

// TestHead: a page's error fields, any of them set, make its title say so.
func TestHead(t *testing.T) {
	for _, c := range []struct {
		failed []any
		want   bool
	}{{nil, false}, {[]any{""}, false}, {[]any{"", false, 0}, false}, {[]any{"", "wrong"}, true}, {[]any{true}, true}} {
		if got := head(nil, "t", c.failed...).Failed; got != c.want {
			t.Errorf("head(%q).Failed = %v, want %v", c.failed, got, c.want)
		}
	}
}

// Every language has every key: a text added in one language only would
// show a person an empty message in the others.
func TestCataloguesHaveTheSameKeys(t *testing.T) {
	cats := allCatalogues(t)
	for lang, cat := range cats {
		for other, oc := range cats {
			for k := range cat {
				if _, ok := oc[k]; !ok {
					t.Errorf("%q is in %s but not in %s", k, lang, other)
				}
			}
		}
	}
}
