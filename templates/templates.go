// Package templates embeds the hosted pages, their static assets and the
// message catalogues (zh-Hant, pt, en). It imports nothing of ours.
package templates

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
)

//go:embed pages/*.html
var pages embed.FS

//go:embed static
var static embed.FS

//go:embed i18n/*.json
var catalogues embed.FS

// Languages are the catalogues shipped, the first being the default.
var Languages = []string{"zh-Hant", "pt", "en"}

// Static returns the static assets (style sheet), rooted at the folder.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}

// Parse parses every page with funcs (and head, which every page uses).
// Call it at start-up: a broken template stops the server before it takes
// traffic.
func Parse(funcs template.FuncMap) (*template.Template, error) {
	return template.New("").Funcs(template.FuncMap{"head": head}).Funcs(funcs).ParseFS(pages, "pages/*.html")
}

// Head is what a page hands the layout's head template: its data, its own
// title (what the page is, in its language) and whether it shows an error,
// which the document's title then says first. Every page begins
//
//	{{template "head" (head . TITLE FAILED...)}}
//
// where FAILED are the page's error fields (its alert, a field's error):
// any of them set makes the title start with the catalogue's title_error.
type Head struct {
	Page   any
	Title  string
	Failed bool
}

func head(page any, title string, failed ...any) Head {
	h := Head{Page: page, Title: title}
	for _, f := range failed {
		if truth, ok := template.IsTrue(f); ok && truth {
			h.Failed = true
		}
	}
	return h
}

// Catalogue returns the messages of one language, key → text: those of
// i18n/LANG.json and of every area's i18n/AREA.LANG.json (an area of the
// product keeps its texts in its own file). A key defined twice is an
// error, so that one file can never silently override another.
func Catalogue(lang string) (map[string]string, error) {
	if _, err := catalogues.Open("i18n/" + lang + ".json"); err != nil {
		return nil, fmt.Errorf("no catalogue for %q: %w", lang, err)
	}
	areas, err := fs.Glob(catalogues, "i18n/*."+lang+".json")
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, name := range append([]string{"i18n/" + lang + ".json"}, areas...) {
		b, err := catalogues.ReadFile(name)
		if err != nil {
			return nil, err
		}
		part := map[string]string{}
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("catalogue %s: %w", name, err)
		}
		for k, v := range part {
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("catalogue %s: key %q is defined twice", name, k)
			}
			m[k] = v
		}
	}
	return m, nil
}

//go:embed guide/*.json
var guide embed.FS

// GuideFile returns a file of the guide (guide/NAME): guide.json, the
// roles, their tasks and their steps; shots.json, the manifest of the
// screenshots the browser tests made (login/guide).
func GuideFile(name string) ([]byte, error) { return guide.ReadFile("guide/" + name) }
