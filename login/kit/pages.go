package kit

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"

	"golang.org/x/text/language"

	"github.com/entity-account/idp/op/telemetry"
	"github.com/entity-account/idp/templates"
)

// requiredTemplates are the pages of every surface. They are checked once,
// at start, so that a missing one stops the server rather than a visitor.
var requiredTemplates = []string{
	"login.html", "login_verify.html", "message.html", "logout.html", // sign-in, its second step, sign-out
	"account_login.html", "account_profile.html", "account_password.html", "account_message.html", // portal
	"account_entities.html", "account_entity.html", "account_admins.html", "account_service_admins.html", "account_changes.html", // portal administration
	"account_staff_list.html", "account_staff.html", "account_staff_form.html", "account_staff_status.html", // portal: staff
	"account_services.html", "account_service.html", "account_service_group.html", "account_service_staff.html", // portal: 服務列表
	"account_tools.html", "account_tools_totp.html", "account_tools_passkeys.html", // portal: 電子身份識別工具
	"activate_index.html", "activate_entity.html", "activate_staff.html", "activate_choose.html", "resend.html", // activation
	"desk_home.html", "desk_message.html", // the operator's desk
	"help_index.html", "help_role.html", "help_task.html", // the guide (login/guide)
	"desk_departments.html", "desk_department.html", "desk_services.html", "desk_service_new.html", "desk_service.html", // desk: the register
	"desk_clients.html", "desk_client_new.html", "desk_client.html", "desk_client_secret.html", "desk_audit.html", "desk_audit_event.html",
}

// pages holds the parsed templates and message catalogues.
type pages struct {
	tmpl     *template.Template
	messages map[string]map[string]string // lang → key → text
	matcher  language.Matcher
}

func loadPages() (*pages, error) {
	tmpl, err := templates.Parse(nil)
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	for _, name := range requiredTemplates {
		if tmpl.Lookup(name) == nil {
			return nil, fmt.Errorf("template %s is missing", name)
		}
	}
	p := &pages{tmpl: tmpl, messages: map[string]map[string]string{}}
	base, err := templates.Catalogue(templates.Languages[0])
	if err != nil {
		return nil, err
	}
	var tags []language.Tag
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
		tags = append(tags, language.MustParse(lang))
	}
	p.matcher = language.NewMatcher(tags)
	return p, nil
}

// T is the message catalogue of lang (key → text). Every catalogue has
// every key of the default one (checked at start).
func (k *Kit) T(lang string) map[string]string { return k.pages.messages[lang] }

// Language picks the page language: a choice made on the page (Chosen),
// then the language cookie (the last choice remembered), then prefs (an
// account's own language), then the browser's Accept-Language.
func (k *Kit) Language(r *http.Request, prefs ...string) string {
	if l := k.Chosen(r); l != "" {
		return l
	}
	if l := k.cookieLanguage(r); l != "" {
		return l
	}
	return k.match(append(parseTags(prefs), acceptLanguage(r)...), templates.Languages[0])
}

// RequestLanguage picks the language of a page reached from a request that
// names the languages it wants (an authorization request's ui_locales): a
// choice made on the page (Chosen), then the first of uiLocales we have,
// then the language cookie, then the browser's Accept-Language.
func (k *Kit) RequestLanguage(r *http.Request, uiLocales []string) string {
	if l := k.Chosen(r); l != "" {
		return l
	}
	if l := k.match(parseTags(uiLocales), ""); l != "" {
		return l
	}
	if l := k.cookieLanguage(r); l != "" {
		return l
	}
	return k.match(acceptLanguage(r), templates.Languages[0])
}

// Chosen is a language the person chose for this page: ?lang= (a language
// link), or the lang field of a form whose page had one ("" for none). It
// outranks everything, ui_locales included, so that the answer to a form
// is in the language of the page it was sent from.
func (k *Kit) Chosen(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); k.pages.messages[l] != nil {
		return l
	}
	if r.PostForm != nil {
		if l := r.PostForm.Get("lang"); k.pages.messages[l] != nil {
			return l
		}
	}
	return ""
}

func (k *Kit) cookieLanguage(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && k.pages.messages[c.Value] != nil {
		return c.Value
	}
	return ""
}

// match is the catalogue that best serves tags, or def when none does.
func (k *Kit) match(tags []language.Tag, def string) string {
	if len(tags) == 0 {
		return def
	}
	_, idx, conf := k.pages.matcher.Match(tags...)
	if conf == language.No {
		return def
	}
	return templates.Languages[idx]
}

func parseTags(langs []string) []language.Tag {
	var tags []language.Tag
	for _, l := range langs {
		if t, err := language.Parse(l); err == nil {
			tags = append(tags, t)
		}
	}
	return tags
}

func acceptLanguage(r *http.Request) []language.Tag {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil {
		return nil
	}
	return tags
}

const langCookie = "idp_lang"

// RememberLanguage keeps an explicit ?lang= choice in a cookie.
func (k *Kit) RememberLanguage(w http.ResponseWriter, r *http.Request) {
	if l := r.URL.Query().Get("lang"); k.pages.messages[l] != nil {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: k.CookiePath(),
			MaxAge: 365 * 24 * 3600, HttpOnly: true, Secure: k.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
}

// LangLink is one entry of a page's language switcher.
type LangLink struct {
	Code, Name, URL string
	Current         bool
}

// Common is what every page template uses.
type Common struct {
	Lang string
	// Chosen is the language chosen on this page (Kit.Chosen), "" for
	// none: the forms of pages whose language ui_locales would otherwise
	// decide carry it, so that their answer stays in it.
	Chosen string
	T      map[string]string
	Base   string
	Langs  []LangLink
	// RequestID is the request's id (X-Request-ID, and request_id in the
	// log); error pages show it as a reference for the help desk.
	RequestID string
}

// Common is the Common of a page in lang whose language links reload this
// request's URL (after a failed POST of the sign-in form, the form of the
// same auth request).
func (k *Kit) Common(r *http.Request, lang string) Common {
	c := Common{Lang: lang, Chosen: k.Chosen(r), T: k.pages.messages[lang], Base: k.BasePath, RequestID: telemetry.RequestIDFrom(r.Context())}
	for _, l := range templates.Languages {
		q := r.URL.Query()
		q.Set("lang", l)
		u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
		if r.Method == http.MethodPost {
			u = url.URL{Path: k.BasePath + "/login", RawQuery: url.Values{"authRequestID": {r.PostFormValue("authRequestID")}, "lang": {l}}.Encode()}
		}
		c.Langs = append(c.Langs, LangLink{Code: l, Name: k.pages.messages[l]["lang_name"], URL: u.String(), Current: l == lang})
	}
	return c
}

// CommonAt is Common with language links to the GET of path (a full path,
// the issuer's included): pages whose POST address takes no GET, or whose
// query must not be carried over.
func (k *Kit) CommonAt(r *http.Request, lang, path string) Common {
	c := k.Common(r, lang)
	for i := range c.Langs {
		c.Langs[i].URL = (&url.URL{Path: path, RawQuery: url.Values{"lang": {c.Langs[i].Code}}.Encode()}).String()
	}
	return c
}

// MessagePage is the data of message.html: a heading, a message, and
// optionally a technical detail and a link.
type MessagePage struct {
	Common
	Heading, Message  string
	Detail            string // technical detail, shown small (e.g. the library's reason)
	IsError           bool
	LinkURL, LinkText string
}

// Message shows message.html with the catalogue texts of headingKey and
// messageKey.
func (k *Kit) Message(w http.ResponseWriter, r *http.Request, status int, headingKey, messageKey string, isError bool) {
	lang := k.Language(r)
	t := k.T(lang)
	k.Render(w, status, "message.html", MessagePage{
		Common: k.Common(r, lang), Heading: t[headingKey], Message: t[messageKey], IsError: isError,
	})
}

// Render writes a page with status; it renders into a buffer first so that
// a template error becomes a clean 500 instead of half a page.
func (k *Kit) Render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := k.pages.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
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

// PasskeySignIn is the form of the sign-in with a passkey alone, as the
// e-service's and the portal's sign-in pages show it (template
// "passkey_signin" in layout.html); no Options: no form.
type PasskeySignIn struct {
	Action, Options, State string
	AuthRequestID          string // the e-service sign-in's auth request; "" at the portal
}
