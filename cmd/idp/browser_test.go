package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/templates"
)

// Real-browser tests: headless Chromium, driven through the DevTools
// protocol by chromedp, against the in-process provider of startIDP /
// startActivationIDP. They check what the HTTP tests cannot: that the pages
// work in a browser as rendered (forms, buttons, cookies, redirects, the
// Origin and Fetch-metadata headers a browser really sends, the CSP). Every
// test starts its own Chromium with its own profile (user-data-dir), so they
// run in parallel. There is no skip: without Chromium they fail, and
// `make test` installs it (scripts/browser.sh).

// chromePath finds Chromium: CHROME_PATH, else /usr/bin/chromium, else a
// Chromium or Chrome on the PATH.
func chromePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium for the browser tests: run `make test` or scripts/browser.sh (it installs Debian's chromium), or set CHROME_PATH")
	return ""
}

// chrome is one tab of a headless Chromium of its own.
type chrome struct {
	t      *testing.T
	ctx    context.Context
	output *syncBuffer // what Chromium printed, shown when the test fails

	mu   sync.Mutex
	docs []string // URL of every document request of the tab, redirect hops included
}

// newChrome starts a headless Chromium with a fresh profile. It is closed,
// and its profile removed, when the test ends.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	return newChromeWith(t)
}

// newChromeWith is newChrome with extra options of this browser alone (a
// test's own flags, such as a fake camera).
func newChromeWith(t *testing.T, extra ...chromedp.ExecAllocatorOption) *chrome {
	t.Helper()
	dir := t.TempDir() // removed after the browser has exited (cleanups run last-in first-out)
	c := &chrome{t: t, output: &syncBuffer{}}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromePath(t)),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these, Chromium calls home at start, and this machine's
		// closed network refuses it, many connections at a time.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// The demo client's redirect URIs are on port 9 (discard), where
		// nothing listens; Chromium refuses that port unless allowed, and
		// then fails the connection as for any closed port.
		chromedp.Flag("explicitly-allowed-ports", "9"),
		chromedp.WindowSize(1024, 900),
		chromedp.CombinedOutput(c.output),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("chromium output:\n%s", c.output.tail(3000))
		}
		cancelTab()
		cancelAlloc() // waits for the process to exit
	})
	c.ctx = ctx
	// The first call starts the browser and opens the tab, under ctx: a
	// context with a deadline here would end the browser at that deadline.
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Type == network.ResourceTypeDocument {
			c.mu.Lock()
			c.docs = append(c.docs, e.Request.URL)
			c.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v\n%s", err, c.output.tail(3000))
	}
	return c
}

// do runs actions with a deadline; on failure it stops the test, saying
// where the browser was and what the page showed.
func (c *chrome) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v\n%s", what, err, c.where())
	}
}

// where describes the page the tab is on, for failure messages.
func (c *chrome) where() string {
	ctx, cancel := context.WithTimeout(c.ctx, 3*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if len(text) > 800 {
		text = text[:800] + "…"
	}
	return "at " + loc + ":\n" + text
}

// open navigates to u and waits for the page to load.
func (c *chrome) open(u string) {
	c.t.Helper()
	c.do("open "+u, chromedp.Navigate(u))
}

// fill types value into the field with this id, replacing what it held.
// The field is emptied through its value property, not its attribute
// (chromedp.Clear): an attribute change comes back as a DOM event that
// chromedp applies to its copy of the node while SendKeys reads it, a race.
func (c *chrome) fill(id, value string) {
	c.t.Helper()
	if !eval[bool](c, `(e => !!e && (e.value = "", true))(document.getElementById(`+jsString(id)+`))`) {
		c.t.Fatalf("fill: no field #%s\n%s", id, c.where())
	}
	c.do("fill #"+id, chromedp.SendKeys(chromedp.ID(id), value))
}

// press clicks the button whose visible text is label and waits for the
// page it loads.
func (c *chrome) press(label string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(buttonLabelled(label), chromedp.NodeVisible))
	if err != nil {
		c.t.Fatalf("press %q: %v\n%s", label, err, c.where())
	}
	if resp.Status >= 500 {
		c.t.Fatalf("press %q: HTTP %d\n%s", label, resp.Status, c.where())
	}
}

// follow clicks the link whose visible text is label and waits for the page
// it loads.
func (c *chrome) follow(label string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	// The first such link a person can press: not one folded away in a
	// closed menu (the portal's navigation on a phone), where a click at its
	// place would land on whatever the page shows there. It is marked, then
	// clicked as a person would.
	mark := `(() => {
		document.querySelectorAll("a[data-follow]").forEach(a => a.removeAttribute("data-follow"));
		for (const a of document.querySelectorAll("a")) {
			if (a.textContent.replace(/\s+/g, " ").trim() !== ` + jsString(label) + `) continue;
			a.scrollIntoView({block: "center"});
			const r = a.getBoundingClientRect();
			const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
			if (r.width > 0 && hit && (hit === a || a.contains(hit))) { a.setAttribute("data-follow", ""); return true; }
		}
		return false;
	})()`
	if !eval[bool](c, mark) {
		c.t.Fatalf("no link %q that a person can press\n%s", label, c.where())
	}
	sel := chromedp.Search(`//a[@data-follow]`)
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(sel, chromedp.NodeVisible)); err != nil {
		c.t.Fatalf("follow the link %q: %v\n%s", label, err, c.where())
	}
}

// pressUntil clicks the button labelled label and waits until the tab has
// requested a document whose URL starts with prefix (a page elsewhere,
// where the navigation may fail: an RP's callback with nothing listening).
// It returns that URL.
func (c *chrome) pressUntil(label, prefix string) string {
	c.t.Helper()
	return c.clickUntil(buttonLabelled(label), prefix)
}

// clickUntil clicks what sel selects and waits, as pressUntil does, for a
// document request to prefix.
func (c *chrome) clickUntil(sel chromedp.Search, prefix string) string {
	c.t.Helper()
	c.mu.Lock()
	seen := len(c.docs) // only what this click leads to counts
	c.mu.Unlock()
	c.do("click", chromedp.Click(sel, chromedp.NodeVisible))
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		for _, u := range c.docs[seen:] {
			if strings.HasPrefix(u, prefix) {
				c.mu.Unlock()
				return u
			}
		}
		c.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	c.mu.Lock()
	docs := append([]string(nil), c.docs...)
	c.mu.Unlock()
	c.t.Fatalf("no request to %s; documents requested: %q\n%s", prefix, docs, c.where())
	return ""
}

// buttonLabelled selects the first button whose visible text is label.
func buttonLabelled(label string) chromedp.Search {
	return chromedp.Search(`//button[normalize-space(.)=` + xpathString(label) + `]`)
}

// xpathString quotes s as an XPath 1.0 string literal.
func xpathString(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return `'` + s + `'`
}

// text returns the visible text of the element matched by a CSS selector.
func (c *chrome) text(css string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css), chromedp.NodeVisible))
	if err != nil {
		c.t.Fatalf("text of %s: %v\n%s", css, err, c.where())
	}
	return strings.TrimSpace(s)
}

// value returns the current value of the field with this id.
func (c *chrome) value(id string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		c.t.Fatalf("value of #%s: %v\n%s", id, err, c.where())
	}
	return s
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](c *chrome, expr string, opts ...chromedp.EvaluateOption) T {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		if len(expr) > 200 {
			expr = expr[:200] + "…"
		}
		c.t.Fatalf("evaluate %s: %v\n%s", expr, err, c.where())
	}
	return v
}

// location is the URL of the page the tab shows.
func (c *chrome) location() string {
	c.t.Helper()
	return eval[string](c, `location.href`)
}

// messages is the message catalogue of lang, as a page shows the text
// (unescaped: the browser reads the rendered text).
func messages(t *testing.T, lang string) map[string]string {
	t.Helper()
	m, err := templates.Catalogue(lang)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// syncBuffer is a bytes.Buffer that Chromium's output goroutine and the test
// may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// tail is the end of the output, without the lines about D-Bus, which
// a machine without a desktop session lacks and Chromium does not need.
func (s *syncBuffer) tail(n int) string {
	s.mu.Lock()
	var keep []string
	for _, line := range strings.Split(s.b.String(), "\n") {
		if !strings.Contains(line, "dbus") {
			keep = append(keep, line)
		}
	}
	s.mu.Unlock()
	out := strings.Join(keep, "\n")
	if len(out) > n {
		out = "…" + out[len(out)-n:]
	}
	return out
}
