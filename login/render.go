package login

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/text/language"

	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/templates"
)

// pages holds the parsed templates and message catalogues.
type pages struct {
	tmpl     *template.Template
	messages map[string]map[string]string // lang → key → text
	matcher  language.Matcher
	tags     []language.Tag
}

func loadPages() (*pages, error) {
	tmpl, err := templates.Parse(nil)
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	for _, name := range []string{"login.html", "message.html", "logout.html"} {
		if tmpl.Lookup(name) == nil {
			return nil, fmt.Errorf("template %s is missing", name)
		}
	}
	p := &pages{tmpl: tmpl, messages: map[string]map[string]string{}}
	base, err := templates.Catalogue(templates.Languages[0])
	if err != nil {
		return nil, err
	}
	for _, lang := range templates.Languages {
		m, err := templates.Catalogue(lang)
		if err != nil {
			return nil, err
		}
		for k := range base {
			if m[k] == "" {
				return nil, fmt.Errorf("catalogue %s lacks %q", lang, k)
			}
		}
		p.messages[lang] = m
		p.tags = append(p.tags, language.MustParse(lang))
	}
	p.matcher = language.NewMatcher(p.tags)
	return p, nil
}

// language picks the page language: an explicit choice (?lang= or its
// cookie), then the RP's ui_locales, then the browser's Accept-Language.
func (p *pages) language(r *http.Request, uiLocales []string) string {
	if l := r.URL.Query().Get("lang"); p.messages[l] != nil {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && p.messages[c.Value] != nil {
		return c.Value
	}
	var prefs []language.Tag
	for _, l := range uiLocales {
		if t, err := language.Parse(l); err == nil {
			prefs = append(prefs, t)
		}
	}
	if accept, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language")); err == nil {
		prefs = append(prefs, accept...)
	}
	_, idx, conf := p.matcher.Match(prefs...)
	if conf == language.No {
		return templates.Languages[0]
	}
	return templates.Languages[idx]
}

const langCookie = "idp_lang"

type langLink struct {
	Code, Name, URL string
	Current         bool
}

// common is what every page template uses.
type common struct {
	Lang  string
	T     map[string]string
	Base  string
	Langs []langLink
	// RequestID is the request's id (X-Request-ID, and request_id in the
	// log); error pages show it as a reference for the help desk.
	RequestID string
}

func (p *pages) common(r *http.Request, base, lang string) common {
	c := common{Lang: lang, T: p.messages[lang], Base: base, RequestID: telemetry.RequestIDFrom(r.Context())}
	for _, l := range templates.Languages {
		q := r.URL.Query()
		q.Set("lang", l)
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		if r.Method == http.MethodPost {
			// After a failed POST, switching language reloads the form for the same request.
			u = url.URL{Path: base + "/login", RawQuery: url.Values{"authRequestID": {r.PostFormValue("authRequestID")}, "lang": {l}}.Encode()}
		}
		c.Langs = append(c.Langs, langLink{Code: l, Name: p.messages[l]["lang_name"], URL: u.String(), Current: l == lang})
	}
	return c
}

type loginPage struct {
	common
	ServiceName   string
	AuthRequestID string
	CSRF          string
	EntityNumber  string
	Username      string
	Error         string
}

type messagePage struct {
	common
	Heading, Message  string
	Detail            string // technical detail, shown small (e.g. the library's reason)
	IsError           bool
	LinkURL, LinkText string
}

// render writes a page with status; it renders into a buffer first so that a
// template error becomes a clean 500 instead of half a page.
func (p *pages) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		slog.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func retryAfter(w http.ResponseWriter, d time.Duration) {
	secs := int(d.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
}
