package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/login/guide"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// The guide's screenshots (login/guide, /help) are made here, from the demo
// world, by the same steps a person takes: `make guide` runs
//
//	go test ./cmd/idp -run TestGuideShots -guide.write
//
// which writes every screenshot the guide names, in each language, to
// templates/static/guide/LANG/SHOT.jpg (a phone's 390 px for what staff do,
// a desktop's 1280 px for administration: the width of the shot's role in
// templates/guide/guide.json), and templates/guide/shots.json: per shot and
// language a hash of the page's structure and text (shotHashJS), never of
// its pixels. Without the flag, in `make test`, the test takes the same
// steps, hashes each page again and fails when a page no longer is what its
// screenshot shows, naming the shot: the guide cannot go stale unnoticed.

var guideWrite = flag.Bool("guide.write", false, "write the guide's screenshots and templates/guide/shots.json (make guide)")

// guideRedraw makes -guide.write take every picture again, not only those of
// pages that changed (a change of style, which the hashes do not see).
var guideRedraw = flag.Bool("guide.redraw", false, "with -guide.write: take every screenshot again, changed or not")

// Where the guide's files are, from this package's directory.
var (
	guideShotDir  = filepath.Join("..", "..", "templates", "static", "guide")
	guideManifest = filepath.Join("..", "..", "templates", "guide", "shots.json")
)

// shotHashJS is what a shot's hash is taken of: the document's title, the
// main element's visible text, its headings and the kind and name of its
// form fields. Digits become 0 (dates, times, EUIDs and codes differ from
// run to run), the name of the system Chromium runs on <system> (the
// devices and the sign-in history name it); the setup key of the security
// verification code and a client's secret, which are random, are taken
// out, and so is the desk session an audit event's details name. A
// table's rows count in sorted order: rows made within the same second
// (sessions, sign-ins) may come in either order.
const shotHashJS = `(() => {
  const main = document.querySelector("main");
  const digits = s => s.replace(/[0-9]+/g, "0").replace(/\b(Linux|Windows|macOS|Mac OS X|Android|iOS|Chrome OS)\b/g, "<system>")
    .replace(/"desk_session": "[^"]*"/g, '"desk_session": "<session>"');
  let text = main.innerText;
  for (const e of main.querySelectorAll("#totp_secret, #client_secret")) text = text.split(e.innerText).join("");
  const tables = [...main.querySelectorAll("table")].map(tb => {
    text = text.split(tb.innerText).join("<table>");
    return [...tb.rows].map(r => digits(r.innerText)).sort();
  });
  const heads = [...main.querySelectorAll("h1, h2, h3")].map(h => digits(h.textContent.trim()));
  const fields = [...main.querySelectorAll("input, select, textarea, button")].map(e => e.tagName.toLowerCase() + ":" + (e.type || "") + ":" + (e.name || "")).sort();
  return JSON.stringify({title: digits(document.title), heads, fields, tables, text: digits(text)});
})()`

// shotClipJS is the part of a desktop's viewport a shot keeps: the width
// of the main element's card and 24 px either side, the whole height.
const shotClipJS = `(() => {
  const r = document.querySelector("main > *").getBoundingClientRect();
  const x = Math.max(0, Math.floor(r.left) - 24), right = Math.min(window.innerWidth, Math.ceil(r.right) + 24);
  return JSON.stringify({x, y: window.scrollY, width: right - x});
})()`

// shotManifest is templates/guide/shots.json: shot → language → hash.
type shotManifest map[string]map[string]string

// guideShooter takes the guide's shots of one run.
type guideShooter struct {
	t      *testing.T
	c      *chrome
	lang   string
	widths map[string]int // shot → width, from guide.json
	write  bool
	old    shotManifest // the manifest in the repository
	got    shotManifest // what this run saw
	bytes  int          // of the images written
}

// shot takes the screenshot id of the page the browser shows, scrolled to
// the first element of css (the top when css is "").
func (g *guideShooter) shot(id, css string) {
	g.t.Helper()
	c := g.c
	width, named := g.widths[id]
	if !named {
		g.t.Errorf("guide shot %s is taken but no step of templates/guide/guide.json names it", id)
		return
	}
	if width < 600 {
		c.do("emulate a phone", chromedp.EmulateViewport(int64(width), guide.PhoneHeight, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch))
	} else {
		c.do("emulate a desktop", chromedp.EmulateViewport(int64(width), guide.DesktopHeight))
	}
	scroll := `window.scrollTo(0, 0)`
	if css != "" {
		scroll = `(e => { if (!e) return false; e.scrollIntoView({block: "start"}); window.scrollBy(0, -12); return true; })(document.querySelector(` + jsString(css) + `))`
	}
	if !eval[bool](c, `(() => { const r = `+scroll+`; return r !== false; })()`) {
		g.t.Fatalf("guide shot %s: nothing matches %s\n%s", id, css, c.where())
	}
	hashed := eval[string](c, shotHashJS)
	if d := os.Getenv("GUIDE_DEBUG"); d != "" {
		_ = os.WriteFile(filepath.Join(d, g.lang+"-"+id+".json"), []byte(hashed), 0o644)
	}
	sum := sha256.Sum256([]byte(hashed))
	hash := hex.EncodeToString(sum[:])
	if g.got[id] == nil {
		g.got[id] = map[string]string{}
	}
	g.got[id][g.lang] = hash
	file := filepath.Join(guideShotDir, filepath.FromSlash(strings.TrimPrefix(guide.ShotFile(g.lang, id), "guide/")))
	if !g.write {
		if want := g.old[id][g.lang]; want != hash {
			g.t.Errorf("guide shot %s (%s): the page has changed since its screenshot was made (hash %s, manifest %q): run make guide\nthe page now: %s",
				id, g.lang, hash[:12], want, eval[string](c, shotHashJS))
		}
		if _, err := os.Stat(file); err != nil {
			g.t.Errorf("guide shot %s (%s): no image %s: run make guide", id, g.lang, file)
		}
		return
	}
	if _, err := os.Stat(file); err == nil && g.old[id][g.lang] == hash && !*guideRedraw {
		// The page is as it was: its picture stays, byte for byte (a
		// new JPEG of the same page would differ in its pixels' noise).
		return
	}
	g.capture(id, width, file)
}

// capture writes the screenshot of the viewport (a desktop's cut to the
// card) to file.
func (g *guideShooter) capture(id string, width int, file string) {
	g.t.Helper()
	c := g.c
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	quality, fromSurface := int64(65), true
	params := cdppage.CaptureScreenshotParams{Format: cdppage.CaptureScreenshotFormatJpeg, Quality: &quality, FromSurface: &fromSurface}
	if width >= 600 {
		// A desktop's shot is cut to the page's card and a margin: the
		// grey on either side says nothing.
		var clip cdppage.Viewport
		if err := json.Unmarshal([]byte(eval[string](c, shotClipJS)), &clip); err != nil {
			g.t.Fatal(err)
		}
		clip.Height, clip.Scale = guide.DesktopHeight, 1
		params.Clip = &clip
	}
	img, err := chromedp.Run(ctx, chromedp.Action[[]byte](func(ctx context.Context, tg *chromedp.Target) ([]byte, error) {
		r, err := cdp.Call(ctx, tg, cdppage.CaptureScreenshot, params)
		if err != nil {
			return nil, err
		}
		return r.Data, nil
	}))
	if err != nil {
		g.t.Fatalf("guide shot %s: %v", id, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.WriteFile(file, img, 0o644); err != nil {
		g.t.Fatal(err)
	}
	g.bytes += len(img)
}

// TestGuideShots takes every screenshot of the guide in each language (see
// above): in `make test` it checks that each page is still what its
// screenshot shows; with -guide.write (`make guide`) it makes them again.
// One provider (its operator's desk too) and one Chromium serve all of them.
func TestGuideShots(t *testing.T) {
	t.Parallel()
	start := time.Now()
	gd, err := guide.Load()
	if err != nil {
		t.Fatal(err)
	}
	g := &guideShooter{t: t, widths: gd.Shots(), write: *guideWrite, old: shotManifest{}, got: shotManifest{}}
	if !g.write {
		b, err := os.ReadFile(guideManifest)
		if err != nil {
			t.Fatalf("%v: run make guide", err)
		}
		if err := json.Unmarshal(b, &g.old); err != nil {
			t.Fatalf("%s: %v", guideManifest, err)
		}
	}
	w := startActivationIDP(t, map[string]string{"ISSUER_HOST": "localhost"}) // passkeys on
	g.c = newChrome(t)
	g.c.withAuthenticator()
	desk := w.startDesk(t) // the officers' desk of the same provider
	for i, lang := range templates.Languages {
		g.lang = lang
		s := newGuideScenario(t, w, g, i)
		s.adminCreates()
		s.staffActivates()
		s.staffPortal()
		s.staffRecovers()
		s.adminManages()
		s.entityAccount()
	}
	// The desk after every language's portal: what the officers do there
	// (an e-service opened to the demo entity, staff01 unlocked) does not
	// change the portal's pages above.
	deskStart := time.Now()
	for i, lang := range templates.Languages {
		g.lang = lang
		newDeskScenario(newGuideScenario(t, w, g, i), desk).officerDesk()
	}
	deskTook := time.Since(deskStart).Round(time.Second)
	for id := range g.widths {
		for _, lang := range templates.Languages {
			if g.got[id][lang] == "" {
				t.Errorf("guide shot %s (%s) is named in guide.json but no step of TestGuideShots takes it", id, lang)
			}
		}
	}
	if t.Failed() {
		return
	}
	if g.write {
		writeGuideManifest(t, g.got)
		t.Logf("guide: %d shots in %d languages, %d KiB of images, in %s (the desk's in %s)", len(g.got), len(templates.Languages), g.bytes>>10, time.Since(start).Round(time.Second), deskTook)
		return
	}
	t.Logf("guide: %d shots in %d languages checked in %s (the desk's in %s)", len(g.got), len(templates.Languages), time.Since(start).Round(time.Second), deskTook)
}

// writeGuideManifest writes shots.json and removes the images no shot has.
func writeGuideManifest(t *testing.T, got shotManifest) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(guideManifest, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(guideShotDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		lang, name := filepath.Base(filepath.Dir(path)), strings.TrimSuffix(d.Name(), ".jpg")
		if got[name][lang] == "" {
			return os.Remove(path)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

// guideScenario is the demo world's story in one language: an admin
// registers a new staff login, its holder activates it and uses the
// account, the admin manages logins, and an entity account is activated
// and used. Each step leaves the shots the guide names.
type guideScenario struct {
	t    *testing.T
	w    *actIDP
	g    *guideShooter
	c    *chrome
	lang string
	i    int
	T    map[string]string

	// The staff login the admin registers, then activated by its holder.
	mobile, doc, username, password, euid string
}

func newGuideScenario(t *testing.T, w *actIDP, g *guideShooter, i int) *guideScenario {
	lang := templates.Languages[i]
	return &guideScenario{t: t, w: w, g: g, c: g.c, lang: lang, i: i, T: messages(t, lang),
		mobile: fmt.Sprintf("6688%04d", 101+i), doc: fmt.Sprintf("246813%d(5)", i), username: fmt.Sprintf("chan%d", i+1),
		password: "Lanterns along the Inner Harbour " + lang}
}

// open opens a page of the provider in the scenario's language.
func (s *guideScenario) open(path string) {
	s.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	s.c.open(s.w.issuer + path + sep + "lang=" + url.QueryEscape(s.lang))
}

// signIn signs in at the portal with the three fields.
func (s *guideScenario) signIn(username, password string) {
	s.t.Helper()
	s.c.clearCookies()
	s.open("/account/login")
	s.c.fill("entity_number", s.w.demo.EntityNumber)
	s.c.fill("username", username)
	s.c.fill("password", password)
	s.c.press(s.T["sign_in"])
}

// delivered waits until the login's page says that an activation code was
// delivered (最後發送啟動碼時間, which the outbox sets after the gateway took
// the message), reloading it.
func (s *guideScenario) delivered() {
	s.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		s.c.do("reload", chromedp.Reload())
		if s.c.text("#staff_last_code_sent") != "—" {
			return
		}
	}
	s.t.Fatalf("the login's page never says its code was sent\n%s", s.c.where())
}

// adminCreates: the admin signs in, registers a staff login, changes it,
// sends it a new code and assigns it to the demo e-service's group.
func (s *guideScenario) adminCreates() {
	t, c, g, T := s.t, s.c, s.g, s.T
	admin := s.w.login("admin01")
	s.signIn(admin.Username, admin.Password)
	g.shot("admin-profile", "")
	s.open("/account/entities")
	g.shot("entities", "")
	s.open("/account/entity")
	g.shot("entity", "")
	s.open("/account/staff")
	g.shot("staff-list", "")
	s.open("/account/staff/new")
	c.fill("name_zh", "陳大文")
	c.fill("name_foreign", "CHAN, Tai Man")
	c.choose("id_doc_type", storage.IDMacauPermanent)
	c.fill("id_doc_number", s.doc)
	c.fill("id_doc_issue_place", "澳門")
	c.fill("birth_date", "1991-03-04")
	c.fill("mobile", s.mobile)
	c.choose("language", s.lang)
	c.tick(`input[name="channel"][value="sms"]`)
	g.shot("staff-new", "form")
	c.press(T["staff_new_submit"])
	m := staffPagePath.FindStringSubmatch(c.location())
	if m == nil {
		t.Fatalf("after %s the browser is not on a login's page\n%s", T["staff_new_submit"], c.where())
	}
	s.euid = m[1]
	s.delivered()
	g.shot("staff-created", "")
	s.open("/account/staff/" + s.euid)
	g.shot("staff-page", "")
	c.follow(T["staff_edit"])
	c.fill("name_foreign", "CHAN, Tai Man David")
	g.shot("staff-edit", "form")
	c.press(T["staff_edit_submit"])
	g.shot("staff-edited", "")
	c.press(T["staff_channel_sms"])
	g.shot("staff-code-sent", "")
	s.open("/account/services")
	g.shot("services", "")
	s.open("/account/services/" + demoService)
	g.shot("service", "")
	s.open("/account/services/" + demoService + "/groups/operator")
	c.tick(`input[name="assign"][value="` + s.euid + `"]`)
	g.shot("group-staff", "")
	c.press(T["nav_update"])
	g.shot("group-assigned", "")
}

// staffActivates: the holder activates the login with the latest code,
// and signs in to the demo e-service.
func (s *guideScenario) staffActivates() {
	c, g, T, w := s.c, s.g, s.T, s.w
	code := codeIn(s.t, w.message(s.t, "+853"+s.mobile, 2)) // the code 手機短訊 sent
	c.clearCookies()
	s.open("/activate")
	g.shot("help-index", "")
	s.open("/activate/staff")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("code", code)
	c.fill("id_doc_number", s.doc)
	g.shot("activate-staff", "")
	c.press(T["activate_next"])
	c.fill("username", s.username)
	c.fill("password", s.password)
	c.fill("password2", s.password)
	g.shot("activate-choose", "")
	c.press(T["activate_submit"])
	g.shot("activate-done", "")
	s.open("/activate/resend?kind=staff")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("id_doc_number", s.doc)
	c.fill("birth_date", "1991-03-04")
	g.shot("resend", "")
	c.press(T["resend_submit"])
	g.shot("resend-done", "")

	web := w.client(demoWebClient)
	r := w.rp(web, web.RedirectURIs[0])
	c.open(r.authURL(withExtra(newAuthParams(s.t), "ui_locales", s.lang)))
	g.shot("signin-page", "")
	g.shot("signin-passkey", "form.passkey")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", s.username)
	c.fill("password", s.password)
	g.shot("signin-filled", "")
	c.pressUntil(T["sign_in"], web.RedirectURIs[0])
}

// staffPortal: the holder uses the account: profile, menu, identity
// tools, devices, password; then the second step of a stricter e-service.
func (s *guideScenario) staffPortal() {
	t, c, g, T, w := s.t, s.c, s.g, s.T, s.w
	c.clearCookies()
	s.open("/account/login")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", s.username)
	c.fill("password", s.password)
	g.shot("portal-signin", "")
	c.press(T["sign_in"])
	g.shot("profile", "")
	c.do("open the menu", chromedp.Click(`details.menu > summary`, chromedp.NodeVisible))
	g.shot("portal-menu", "")
	s.open("/account/tools")
	g.shot("tools", "")
	s.open("/account/tools/totp")
	g.shot("totp-start", "")
	c.press(T["totp_start"])
	secret := strings.ReplaceAll(c.text("#totp_secret"), " ", "")
	c.fill("code", totpCode(t, secret, time.Now()))
	g.shot("totp-scan", "")
	c.press(T["totp_confirm"])
	g.shot("totp-active", "")
	s.open("/account/tools/passkeys")
	c.fill("passkey_name", "iPhone")
	g.shot("passkeys", "")
	c.do("add a passkey", chromedp.Click(chromedp.CSS(addPasskey), chromedp.NodeVisible))
	c.waitFor("ul.passkeys", "iPhone")
	g.shot("passkeys-added", "")

	w.signedInAs(w.demo.EntityNumber, s.username, s.password) // a second device
	s.open("/account/devices")
	g.shot("devices", "")
	c.press(T["devices_end_others"])
	g.shot("devices-ended", "")
	s.open("/account/password")
	next := s.password + " again"
	c.fill("old_password", s.password)
	c.fill("new_password", next)
	c.fill("new_password2", next)
	g.shot("password-filled", "")
	c.press(T["account_password_submit"])
	s.password = next
	g.shot("password-done", "")

	web := w.client(demoWebClient)
	r := w.rp(web, web.RedirectURIs[0])
	c.clearCookies()
	c.open(r.authURL(withExtra(newAuthParams(t), "ui_locales", s.lang, "acr_values", acrTool)))
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", s.username)
	c.fill("password", s.password)
	c.press(T["sign_in"])
	g.shot("signin-verify", "")
}

// staffRecovers: 忘記密碼 up to the new password, and 忘記用戶名稱.
func (s *guideScenario) staffRecovers() {
	c, g, T, w := s.c, s.g, s.T, s.w
	c.clearCookies()
	s.open("/activate/forgot-password?kind=staff")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", s.username)
	c.fill("id_doc_number", s.doc)
	c.fill("birth_date", "1991-03-04")
	g.shot("forgot-password", "")
	c.press(T["recover_password_submit"])
	g.shot("forgot-password-done", "")
	code := codeIn(s.t, w.resetCodeMessage(s.t, "+853"+s.mobile, 3)) // after the two activation codes
	c.follow(T["recover_have_code"])
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", s.username)
	c.fill("code", code)
	g.shot("reset-code", "")
	c.press(T["recover_code_submit"])
	c.fill("new_password", s.password+" anew")
	c.fill("new_password2", s.password+" anew")
	g.shot("reset-new", "")
	s.open("/activate/forgot-username?kind=staff")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("id_doc_number", s.doc)
	c.fill("birth_date", "1991-03-04")
	g.shot("forgot-username", "")
}

// adminManages: the admin unlocks, signs out and resets staff01, deletes
// the new login, and reads the administration pages.
func (s *guideScenario) adminManages() {
	c, g, T, w := s.c, s.g, s.T, s.w
	admin, staff01 := w.login("admin01"), w.login("staff01")
	s.signIn(admin.Username, admin.Password)
	w.browser().lockOut(w.demo.EntityNumber, staff01.Username, 5)
	s.open("/account/staff/" + staff01.EUID)
	g.shot("staff-locked", "#staff_lock")
	c.press(T["staff_unlock"])
	g.shot("staff-unlocked", "")
	c.press(T["staff_signout"])
	g.shot("staff-signed-out", "")
	c.press(T["staff_reset_submit"])
	g.shot("staff-reset-sent", "")
	s.open("/account/staff/" + s.euid + "/status")
	c.tick(`input[name="status"][value="deleted"]`)
	c.tick(`input[name="confirm"]`)
	g.shot("staff-status", "")
	c.press(T["staff_status_submit"])
	g.shot("staff-deleted", "")
	s.open("/account/admins")
	g.shot("admins", "")
	s.open("/account/service-admins")
	g.shot("service-admins", "")
	s.open("/account/changes")
	g.shot("changes", "")
	w.app.history.Flush(s.t.Context())
	s.open("/account/history")
	g.shot("history", "")
}

// entityAccount: a new entity's account is activated; the demo entity's
// account signs in and opens 移除管理員的權限; its recovery pages.
func (s *guideScenario) entityAccount() {
	c, g, T, w := s.c, s.g, s.T, s.w
	spec := standardEntity(fmt.Sprintf("03-00070%d", s.i+1))
	w.newEntity(s.t, spec)
	code := codeIn(s.t, w.message(s.t, spec.AccountMobile, 1))
	c.clearCookies()
	s.open("/activate/entity")
	c.fill("application_number", spec.ApplicationNumber)
	c.fill("code", code)
	c.fill("entity_number", spec.Number)
	g.shot("activate-entity", "")
	c.press(T["activate_next"])
	c.fill("username", "owner")
	c.fill("password", s.password)
	c.fill("password2", s.password)
	g.shot("activate-entity-choose", "")
	c.press(T["activate_submit"])

	acct := w.demo.EntityAccount
	c.clearCookies()
	s.open("/account/login")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", acct["username"])
	c.fill("password", acct["password"])
	g.shot("entity-signin", "")
	c.press(T["sign_in"])
	g.shot("entity-profile", "")
	s.open("/account/admins")
	g.shot("entity-admins", "")
	c.clearCookies()
	s.open("/activate/forgot-password?kind=entity_account")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("username", acct["username"])
	c.fill("application_number", "A2026-000021")
	g.shot("entity-forgot-password", "")
	s.open("/activate/forgot-username?kind=entity_account")
	c.fill("entity_number", w.demo.EntityNumber)
	c.fill("application_number", "A2026-000021")
	g.shot("entity-forgot-username", "")
}
