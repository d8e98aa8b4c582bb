// Package guide serves the guide, readable without signing in, under the
// issuer's path:
//
//	{base}/help                 the roles (staff, admin, entity account, department developer, officer)
//	{base}/help/{role}          the tasks of a role
//	{base}/help/{role}/{task}   one task: numbered steps, each with a screenshot of the real page
//
// What the guide says is data, not code: templates/guide/guide.json lists
// the roles, their tasks and the steps of each, every title and step a key
// of the guide's catalogues (templates/i18n/guide*.LANG.json); a step may
// name a screenshot (templates/static/guide/LANG/SHOT.jpg, made by the
// browser tests from the demo world: `make guide`) and a code block. A new
// role or task is new entries there and texts in the catalogues, and
// nothing here (the officers' role, at the operator's desk, is only that);
// a screenshot it names is taken by a step of TestGuideShots (cmd/idp),
// which fails until it is.
//
// A step's text may name a label of the pages as {key}, a key of any
// catalogue: the page shows that label as the pages show it, so that a
// renamed button renames itself in the guide.
package guide

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"image"
	"image/jpeg"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/entity-account/idp/login/kit"
	"github.com/entity-account/idp/templates"
)

// Path is where the guide lives under the issuer's path.
const Path = "/help"

// Guide is templates/guide/guide.json.
type Guide struct {
	Roles []Role `json:"roles"`
}

// Role is a reader of the guide and what it does.
type Role struct {
	ID    string `json:"id"`    // in the address
	Title string `json:"title"` // catalogue key
	Intro string `json:"intro"` // catalogue key
	// Width is the width, in CSS pixels, at which its screenshots are
	// taken: 390 (a phone) for what staff do, 1280 (a desktop) for
	// administration.
	Width int    `json:"width"`
	Tasks []Task `json:"tasks"`
}

// Task is one thing a role does, in steps.
type Task struct {
	ID    string `json:"id"`
	Title string `json:"title"`           // catalogue key
	Intro string `json:"intro,omitempty"` // catalogue key
	Steps []Step `json:"steps"`
}

// Step is one step of a task.
type Step struct {
	Text string `json:"text"`           // catalogue key; {key} in it names a label of the pages
	Shot string `json:"shot,omitempty"` // screenshot id: static/guide/LANG/SHOT.jpg
	// Code is a code block shown under the text as written, but for
	// {issuer}, replaced by the provider's issuer URL.
	Code string `json:"code,omitempty"`
}

// Shot sizes: the viewports the browser tests take the screenshots at.
const (
	PhoneHeight   = 844
	DesktopHeight = 800
)

// Load reads and checks templates/guide/guide.json: ids are unique and
// fit an address, every text is a catalogue key of every language, every
// label it names exists, and a shot named twice is taken at one width.
func Load() (*Guide, error) {
	b, err := templates.GuideFile("guide.json")
	if err != nil {
		return nil, err
	}
	var g Guide
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("guide.json: %w", err)
	}
	return &g, g.check()
}

var idForm = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)

// checker checks guide.json against the catalogues.
type checker struct {
	cats  map[string]map[string]string // lang → catalogue
	shots map[string]int               // shot → width of its role
}

func (g *Guide) check() error {
	c := checker{cats: map[string]map[string]string{}, shots: map[string]int{}}
	for _, lang := range templates.Languages {
		m, err := templates.Catalogue(lang)
		if err != nil {
			return err
		}
		c.cats[lang] = m
	}
	roles := map[string]bool{}
	for _, r := range g.Roles {
		if !idForm.MatchString(r.ID) || roles[r.ID] {
			return fmt.Errorf("guide.json: role id %q is not unique or not an id", r.ID)
		}
		roles[r.ID] = true
		if r.Width != 390 && r.Width != 1280 {
			return fmt.Errorf("guide.json: role %s: width %d, want 390 or 1280", r.ID, r.Width)
		}
		if err := errors.Join(c.has(r.Title), c.has(r.Intro)); err != nil {
			return err
		}
		tasks := map[string]bool{}
		for _, t := range r.Tasks {
			if !idForm.MatchString(t.ID) || tasks[t.ID] || len(t.Steps) == 0 {
				return fmt.Errorf("guide.json: task %s/%q is not unique, not an id or has no step", r.ID, t.ID)
			}
			tasks[t.ID] = true
			if err := c.task(r, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// has checks that key has a text in every language, and that every label
// the text names exists.
func (c checker) has(key string) error {
	for lang, m := range c.cats {
		text, ok := m[key]
		if !ok {
			return fmt.Errorf("guide.json: catalogue %s lacks %q", lang, key)
		}
		for _, ref := range labelRef.FindAllStringSubmatch(text, -1) {
			if _, ok := m[ref[1]]; !ok {
				return fmt.Errorf("guide.json: %s of %s names {%s}, which no catalogue has", key, lang, ref[1])
			}
		}
	}
	return nil
}

func (c checker) task(r Role, t Task) error {
	if err := c.has(t.Title); err != nil {
		return err
	}
	if t.Intro != "" {
		if err := c.has(t.Intro); err != nil {
			return err
		}
	}
	for _, s := range t.Steps {
		if err := c.has(s.Text); err != nil {
			return err
		}
		if s.Shot == "" {
			continue
		}
		if w, seen := c.shots[s.Shot]; !idForm.MatchString(s.Shot) || (seen && w != r.Width) {
			return fmt.Errorf("guide.json: shot %q of %s/%s is not an id, or is named at two widths", s.Shot, r.ID, t.ID)
		}
		c.shots[s.Shot] = r.Width
	}
	return nil
}

// Shots is every shot the guide names, with the width of its role.
func (g *Guide) Shots() map[string]int {
	out := map[string]int{}
	for _, r := range g.Roles {
		for _, t := range r.Tasks {
			for _, s := range t.Steps {
				if s.Shot != "" {
					out[s.Shot] = r.Width
				}
			}
		}
	}
	return out
}

// ShotFile is the path of a screenshot in the static files.
func ShotFile(lang, shot string) string { return "guide/" + lang + "/" + shot + ".jpg" }

// labelRef is a label of the pages named in a step's text.
var labelRef = regexp.MustCompile(`\{([a-z][a-z0-9_]*)\}`)

// Text renders a guide text of catalogue t: escaped, each {key} the
// catalogue's label in bold.
func Text(t map[string]string, key string) template.HTML {
	text := t[key]
	var b strings.Builder
	last := 0
	for _, m := range labelRef.FindAllStringSubmatchIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		b.WriteString("<strong>" + template.HTMLEscapeString(t[text[m[2]:m[3]]]) + "</strong>")
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String()) //nolint:gosec // every piece is escaped above
}

// Handler serves the guide.
type Handler struct {
	k      *kit.Kit
	g      *Guide
	issuer string
	shots  map[string]image.Point // static path → size of the screenshots there are
}

// New loads the guide; issuer replaces {issuer} in its code blocks.
func New(k *kit.Kit, issuer string) (*Handler, error) {
	g, err := Load()
	if err != nil {
		return nil, err
	}
	shots, err := ShotSizes()
	if err != nil {
		return nil, err
	}
	return &Handler{k: k, g: g, issuer: strings.TrimSuffix(issuer, "/"), shots: shots}, nil
}

// ShotSizes is the size of every screenshot in the static files, by its
// path there (ShotFile): the page gives its images their sizes, so that
// the text does not move as they load.
func ShotSizes() (map[string]image.Point, error) {
	out := map[string]image.Point{}
	err := fs.WalkDir(templates.Static(), "guide", func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == "guide" {
			return fs.SkipDir // no screenshot made yet
		}
		if err != nil || d.IsDir() {
			return err
		}
		f, err := templates.Static().Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		c, err := jpeg.DecodeConfig(f)
		if err != nil {
			return fmt.Errorf("guide screenshot %s: %w", path, err)
		}
		out[path] = image.Pt(c.Width, c.Height)
		return nil
	})
	return out, err
}

// Mount registers the guide's pages.
func (h *Handler) Mount(r *mux.Router) {
	get := []string{http.MethodGet, http.MethodHead}
	r.HandleFunc(Path, h.index).Methods(get...)
	r.HandleFunc(Path+"/{role}", h.role).Methods(get...)
	r.HandleFunc(Path+"/{role}/{task}", h.task).Methods(get...)
}

// Link is a link of a guide page.
type Link struct {
	URL   string
	Title string
	Intro template.HTML
}

// Page is the data of the guide's pages.
type Page struct {
	kit.Common
	Title    string
	Intro    template.HTML
	Links    []Link // the roles, or a role's tasks
	Up       *Link  // the page above
	Prev     *Link  // a task's neighbours in its role
	Next     *Link
	Steps    []StepView
	IndexURL string
}

// StepView is a step as the page shows it.
type StepView struct {
	Text          template.HTML
	Code          string
	Shot          string // URL of the screenshot; "" for none
	Width, Height int
	Desktop       bool // a desktop's screenshot, shown as wide as the page
	Alt           string
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) (Page, map[string]string) {
	h.k.RememberLanguage(w, r)
	lang := h.k.Language(r)
	return Page{Common: h.k.Common(r, lang), IndexURL: h.k.BasePath + Path}, h.k.T(lang)
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	p, t := h.page(w, r)
	p.Title, p.Intro = t["guide_title"], Text(t, "guide_intro")
	for _, role := range h.g.Roles {
		p.Links = append(p.Links, Link{URL: p.IndexURL + "/" + role.ID, Title: t[role.Title], Intro: Text(t, role.Intro)})
	}
	h.k.Render(w, http.StatusOK, "help_index.html", p)
}

func (h *Handler) findRole(r *http.Request) *Role {
	id := mux.Vars(r)["role"]
	for i := range h.g.Roles {
		if h.g.Roles[i].ID == id {
			return &h.g.Roles[i]
		}
	}
	return nil
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	h.k.Message(w, r, http.StatusNotFound, "not_found_heading", "guide_not_found", true)
}

func (h *Handler) role(w http.ResponseWriter, r *http.Request) {
	role := h.findRole(r)
	if role == nil {
		h.notFound(w, r)
		return
	}
	p, t := h.page(w, r)
	p.Title, p.Intro = t[role.Title], Text(t, role.Intro)
	p.Up = &Link{URL: p.IndexURL, Title: t["guide_title"]}
	for _, task := range role.Tasks {
		l := Link{URL: p.IndexURL + "/" + role.ID + "/" + task.ID, Title: t[task.Title]}
		if task.Intro != "" {
			l.Intro = Text(t, task.Intro)
		}
		p.Links = append(p.Links, l)
	}
	h.k.Render(w, http.StatusOK, "help_role.html", p)
}

func (h *Handler) task(w http.ResponseWriter, r *http.Request) {
	role := h.findRole(r)
	at := -1
	if role != nil {
		at = slices.IndexFunc(role.Tasks, func(t Task) bool { return t.ID == mux.Vars(r)["task"] })
	}
	if at < 0 {
		h.notFound(w, r)
		return
	}
	task := &role.Tasks[at]
	p, t := h.page(w, r)
	link := func(key string, i int) *Link {
		if i < 0 || i >= len(role.Tasks) {
			return nil
		}
		return &Link{URL: p.IndexURL + "/" + role.ID + "/" + role.Tasks[i].ID, Title: fmt.Sprintf(t[key], t[role.Tasks[i].Title])}
	}
	p.Prev, p.Next = link("guide_prev", at-1), link("guide_next", at+1)
	p.Title = t[task.Title]
	if task.Intro != "" {
		p.Intro = Text(t, task.Intro)
	}
	p.Up = &Link{URL: p.IndexURL + "/" + role.ID, Title: t[role.Title]}
	for i, s := range task.Steps {
		v := StepView{Text: Text(t, s.Text), Code: strings.ReplaceAll(s.Code, "{issuer}", h.issuer)}
		if size, ok := h.shots[ShotFile(p.Lang, s.Shot)]; s.Shot != "" && ok {
			v.Shot = h.k.BasePath + "/static/" + ShotFile(p.Lang, s.Shot)
			v.Width, v.Height, v.Desktop = size.X, size.Y, role.Width > 600
			v.Alt = fmt.Sprintf(t["guide_shot_alt"], i+1)
		}
		p.Steps = append(p.Steps, v)
	}
	h.k.Render(w, http.StatusOK, "help_task.html", p)
}
