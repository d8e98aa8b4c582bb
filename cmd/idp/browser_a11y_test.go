package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	idpop "github.com/entity-account/idp/op"
	"github.com/entity-account/idp/storage"
	"github.com/entity-account/idp/templates"
)

// The accessibility tour: every page the provider serves, in each language,
// at a phone's width (390 px, emulated as a phone) and a desktop's (1280
// px), in one Chromium against one provider, page after page. On each it
// runs axe-core (testdata/axe, see its README) for the rules of WCAG 2.0,
// 2.1 and 2.2 at levels A and AA, and fails on
//
//   - any axe violation;
//   - a page whose <html lang> is not its language;
//   - a title other than the page's own: its catalogue name, then the
//     system's name, and "Error:" (title_error) first when the page shows an
//     error, so never the sign-in's title on another page;
//   - sideways scrolling (the document wider than the viewport);
//   - on the phone, a visible control (link, button, field, select,
//     summary, or the label that wraps a checkbox or radio button) smaller
//     than 44 × 44 px (WCAG 2.5.5). Exempt, as WCAG 2.5.5's inline
//     exception allows, is only a link inside a sentence: an <a> whose
//     nearest block is a <p> with at least six letters of its own text
//     once every link and control in it is taken out. A lone link, a list
//     of links, navigation, a button and a field are never exempt.
//
// On the forms shown again after a refusal it checks the refusal's marks
// in the browser: the fields in error (aria-invalid), their
// aria-describedby naming an element that holds the message, and the focus
// (autofocus) on the field where typing resumes. It leaves a screenshot of
// every page at the phone's width in IDP_SCREENSHOT_DIR (else a temporary
// directory).

// axeTags are the axe-core rules the pages must pass.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// axeVersion is the axe-core in testdata/axe, and axeSHA256 the SHA-256 of
// its axe.min.js as the npm registry's package holds it (testdata/axe/README.md).
const (
	axeVersion = "4.14.1"
	axeSHA256  = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
)

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		return "", err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != axeSHA256 {
		return "", fmt.Errorf("testdata/axe/axe.min.js is not axe-core %s as published (SHA-256 %x); run scripts/axe.sh", axeVersion, sum)
	}
	return string(b), nil
})

// a11yPage is a page of the tour as it is expected.
type a11yPage struct {
	name  string // in failure messages and the screenshot's name
	title string // the page's own name, the first part of its title
	error bool   // the page shows an error
}

// a11yTour walks the pages of one language.
type a11yTour struct {
	t    *testing.T
	c    *chrome
	lang string
	T    map[string]string
	dir  string
	n    int // pages checked
}

// check checks the page the browser shows at both widths.
func (tr *a11yTour) check(p a11yPage) {
	tr.t.Helper()
	tr.n++
	c, T, where := tr.c, tr.T, tr.lang+" "+p.name
	if got := eval[string](c, `document.documentElement.lang`); got != tr.lang {
		tr.t.Errorf("%s: <html lang=%q>", where, got)
	}
	want := p.title + " — " + T["site_name"]
	if p.error {
		want = fmt.Sprintf(T["title_error"], want)
	}
	if got := eval[string](c, `document.title`); got != want || p.title == "" {
		tr.t.Errorf("%s: title %q, want %q", where, got, want)
	}
	for _, width := range []int64{1280, 390} {
		at := fmt.Sprintf("%s at %d px", where, width)
		if width < 600 {
			c.do("emulate a phone", chromedp.EmulateViewport(width, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch))
		} else {
			c.do("emulate a desktop", chromedp.EmulateViewport(width, 900))
		}
		for _, v := range tr.axe() {
			tr.t.Errorf("%s: axe %s", at, v)
		}
		if over := eval[string](c, overflowJS(width)); over != "" {
			tr.t.Errorf("%s: wider than the viewport: %s", at, over)
		}
		if width < 600 {
			for _, small := range eval[[]string](c, smallTargetsJS) {
				tr.t.Errorf("%s: control under 44×44 px: %s", at, small)
			}
			tr.screenshot(fmt.Sprintf("%s-%02d-%s-%d", tr.lang, tr.n, slug(p.name), width))
		}
	}
}

// axe runs axe-core on the page (injected through the DevTools protocol,
// which the page's CSP does not govern) and returns its violations.
func (tr *a11yTour) axe() []string {
	tr.t.Helper()
	c := tr.c
	if !eval[bool](c, `typeof window.axe === "object"`) {
		src, err := axeSource()
		if err != nil {
			tr.t.Fatalf("axe-core: %v", err)
		}
		eval[chromedp.Void](c, src)
		if v := eval[string](c, `axe.version`); v != axeVersion {
			tr.t.Fatalf("axe-core %s in testdata, want %s", v, axeVersion)
		}
	}
	tags, _ := json.Marshal(axeTags)
	raw := eval[string](c, `axe.run(document, {runOnly: {type: "tag", values: `+string(tags)+`}, resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => v.id + " (" + v.impact + "): " + v.help + " — " + v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " ")).join(" | "))))`, chromedp.EvalAwaitPromise)
	var out []string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		tr.t.Fatalf("axe result %q: %v", raw, err)
	}
	return out
}

// overflowJS(width) names what reaches past the viewport's right edge when
// the document is wider than the viewport of width ("" when it is not).
// The width is the one emulated: a phone's layout viewport (innerWidth)
// grows to a page wider than the screen, and would hide the overflow.
func overflowJS(width int64) string {
	return `((w) => {
  w = Math.min(w, window.innerWidth);
  const d = document.documentElement;
  if (d.scrollWidth <= w) return "";
  const past = Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > w + 0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.getAttribute("class") ? "." + e.getAttribute("class").replace(/ /g, ".") : "")).slice(0, 8);
  return d.scrollWidth + " px in " + w + " px (" + past.join(", ") + ")";
})(` + fmt.Sprint(width) + `)`
}

// smallTargetsJS lists the visible controls smaller than 44 × 44 px, with
// the one exemption of a link inside a sentence (see the tour's comment).
const smallTargetsJS = `(() => {
  const shown = e => {
    for (let x = e; x; x = x.parentElement) {
      const s = getComputedStyle(x);
      if (s.display === "none" || s.visibility === "hidden") return false;
    }
    const r = e.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const letters = s => (s.match(/\p{L}/gu) || []).length;
  const inSentence = a => {
    let b = a.parentElement;
    while (b && getComputedStyle(b).display.startsWith("inline")) b = b.parentElement;
    if (!b || b.tagName !== "P") return false;
    const own = b.cloneNode(true);
    own.querySelectorAll("a, button, input, select, textarea, label").forEach(x => x.remove());
    return letters(own.textContent) >= 6;
  };
  const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.getAttribute("name") ? "[name=" + e.getAttribute("name") + "]" : "") +
    ' "' + (e.textContent || e.value || "").trim().replace(/\s+/g, " ").slice(0, 40) + '"';
  const out = [];
  for (const e of document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")) {
    let box = e;
    if ((e.type === "checkbox" || e.type === "radio") && e.closest("label")) box = e.closest("label");
    if (!shown(box)) continue;
    if (e.tagName === "A" && inSentence(e)) continue;
    const r = box.getBoundingClientRect();
    if (r.width < 44 || r.height < 44) out.push(name(e) + " " + Math.round(r.width) + "×" + Math.round(r.height));
  }
  return out;
})()`

// screenshot saves the whole page as name.png.
func (tr *a11yTour) screenshot(name string) {
	tr.t.Helper()
	ctx, cancel := context.WithTimeout(tr.c.ctx, 20*time.Second)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		tr.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(tr.dir, name+".png"), shot, 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	return strings.Trim(nonWord.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// formError is what a form shown again after a refusal must carry.
type formError struct {
	invalid []string // the fields marked aria-invalid (id, or name when they have none), in the page's order
	message string   // the text of the message they point at; "" for a message of each field's own
	focus   string   // the field with the focus (id or name)
}

// fieldMarksJS reads a form's marks: each field in error with the texts of
// the elements its aria-describedby names, and the focused field.
const fieldMarksJS = `(() => {
  const key = e => e ? (e.id || e.getAttribute("name") || e.tagName.toLowerCase()) : "";
  const invalid = [], described = {};
  for (const e of document.querySelectorAll('[aria-invalid="true"]')) {
    const k = key(e);
    if (invalid.includes(k)) continue;
    invalid.push(k);
    described[k] = (e.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean)
      .map(id => { const d = document.getElementById(id); return d ? d.textContent.trim() : "<no element #" + id + ">"; });
  }
  const autofocus = Array.from(document.querySelectorAll("[autofocus]")).map(key);
  return JSON.stringify({invalid, described, focus: key(document.activeElement), autofocus});
})()`

// fieldErrors checks the marks of the form the browser shows.
func (tr *a11yTour) fieldErrors(what string, want formError) {
	tr.t.Helper()
	var got struct {
		Invalid   []string
		Described map[string][]string
		Focus     string
		Autofocus []string
	}
	if err := json.Unmarshal([]byte(eval[string](tr.c, fieldMarksJS)), &got); err != nil {
		tr.t.Fatal(err)
	}
	where := tr.lang + " " + what
	if !slices.Equal(got.Invalid, want.invalid) {
		tr.t.Errorf("%s: fields marked aria-invalid %q, want %q", where, got.Invalid, want.invalid)
	}
	for _, f := range got.Invalid {
		texts := got.Described[f]
		ok := slices.ContainsFunc(texts, func(s string) bool { return s != "" && (want.message == "" || s == want.message) })
		if !ok {
			tr.t.Errorf("%s: %s is described by %q, none the message %q", where, f, texts, want.message)
		}
	}
	if got.Focus != want.focus || !slices.Equal(got.Autofocus, []string{want.focus}) {
		tr.t.Errorf("%s: focus on %q (autofocus %q), want %q", where, got.Focus, got.Autofocus, want.focus)
	}
}

// openStatus navigates to u and returns the HTTP status of the page.
func (c *chrome) openStatus(u string) int64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	if err != nil {
		c.t.Fatalf("open %s: %v\n%s", u, err, c.where())
	}
	return resp.Status
}

// clearCookies forgets every cookie: no session, no language chosen.
func (c *chrome) clearCookies() {
	c.t.Helper()
	c.do("clear cookies", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	}))
}

// ageSession moves the password proof of the browser's session d into
// the past, as if the password had been typed d earlier.
func (c *chrome) ageSession(w *actIDP, d time.Duration) {
	c.t.Helper()
	var secret string
	c.do("read the session cookie", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{w.issuer}})
		for _, ck := range res.Cookies {
			if ck.Name == idpop.SessionCookie {
				secret = ck.Value
			}
		}
		return err
	}))
	if _, err := w.app.redis.ProveInSession(context.Background(), secret, func(s *storage.Session) { s.AuthTime, s.PasswordAt = s.AuthTime.Add(-d), s.PasswordAt.Add(-d) }); err != nil {
		c.t.Fatal(err)
	}
}

// TestBrowserA11y is the tour (see above): the public pages, the sign-in
// and its second step, activation and resend, the portal with its
// administration and identity-tool pages, and the error pages, in zh-Hant,
// pt and en.
func TestBrowserA11y(t *testing.T) {
	t.Parallel()
	start := time.Now()
	w := startActivationIDP(t, map[string]string{"ISSUER_HOST": "localhost"}) // passkeys on: their pages and buttons too
	social := w.seedSocialService()                                           // staff02 is not assigned to it: the no-access page
	admin, staff01, staff02 := w.login("admin01"), w.login("staff01"), w.login("staff02")
	adminSecret := w.enrolTOTP(t, admin) // the second step; the 安全驗證碼 page when active
	// staff02 is registered with a passport: its 安全驗證碼, confirmed, waits
	// for the check in person (the page when pending), and the second step
	// finds no tool it can use.
	ctx := context.Background()
	if _, err := w.app.pg.Pool().Exec(ctx, `UPDATE staff_logins SET id_doc_type = 'passport' WHERE euid = $1`, staff02.EUID); err != nil {
		t.Fatal(err)
	}
	w.enrolTOTP(t, staff02)
	// An entity not yet activated: the activation's second step.
	const number = "03-000601"
	spec := standardEntity(number)
	w.newEntity(t, spec)
	ownerCode := codeIn(t, w.message(t, spec.AccountMobile, 1))

	web := w.client(demoWebClient)
	r := w.rp(web, web.RedirectURIs[0])
	socialRP := w.rp(social, social.RedirectURIs[0])
	endSession := r.discovery(t, "end_session_endpoint")
	dir := screenshotDir(t)
	c := newChrome(t)
	total := 0

	for langIndex, lang := range templates.Languages {
		T := messages(t, lang)
		tr := &a11yTour{t: t, c: c, lang: lang, T: T, dir: dir}
		auth := func(rp *rp, kv ...string) string {
			p := withExtra(newAuthParams(t), append([]string{"ui_locales", lang}, kv...)...)
			return rp.authURL(p)
		}
		signIn := func(entity, username, pw string) {
			c.fill("entity_number", entity)
			c.fill("username", username)
			c.fill("password", pw)
			c.press(T["sign_in"])
		}

		// ---- error pages, reached with no cookie: in the language the request asks for ----
		c.clearCookies()
		c.open(w.issuer + "/authorize?" + url.Values{"client_id": {"no-such-client"}, "redirect_uri": {"https://rp.example/cb"},
			"response_type": {"code"}, "scope": {"openid"}, "ui_locales": {lang}}.Encode())
		tr.check(a11yPage{"bad request", T["error_request_heading"], true})
		c.open(w.issuer + "/no-such-page?lang=" + lang)
		tr.check(a11yPage{"not found", T["not_found_heading"], true})
		c.open(w.issuer + "/login?authRequestID=gone&lang=" + lang)
		tr.check(a11yPage{"expired request", T["error_heading"], true})

		// ---- the e-service sign-in ----
		c.open(auth(r))
		tr.check(a11yPage{"sign-in", T["sign_in_title"], false})
		signIn(w.demo.EntityNumber, "nobody-"+lang, "not the password") // not staff01's sign-in counter, which the password typed again below takes
		tr.check(a11yPage{"sign-in failed", T["sign_in_title"], true})
		tr.fieldErrors("sign-in failed", formError{[]string{"entity_number", "username", "password"}, T["error_credentials"], "password"})

		// ---- activation and resend ----
		c.open(w.issuer + "/activate?lang=" + lang)
		tr.check(a11yPage{"activation", T["activate_index_heading"], false})
		c.open(w.issuer + "/activate/entity")
		tr.check(a11yPage{"activate entity", T["activate_entity_heading"], false})
		c.fill("entity_number", number)
		c.press(T["activate_next"])
		tr.check(a11yPage{"activate entity missing", T["activate_entity_heading"], true})
		tr.fieldErrors("activate entity missing", formError{[]string{"application_number", "code"}, T["activate_error_missing"], "application_number"})
		c.open(w.issuer + "/activate/staff")
		tr.check(a11yPage{"activate staff", T["activate_staff_heading"], false})
		c.fill("entity_number", number)
		c.fill("code", "123")
		c.fill("id_doc_number", spec.Admins[0].IDNumber)
		c.press(T["activate_next"])
		tr.check(a11yPage{"activate staff code", T["activate_staff_heading"], true})
		tr.fieldErrors("activate staff code", formError{[]string{"code"}, T["activate_error_code_format"], "code"})
		c.open(w.issuer + "/activate/entity")
		c.fill("application_number", spec.ApplicationNumber)
		c.fill("code", ownerCode)
		c.fill("entity_number", number)
		c.press(T["activate_next"])
		tr.check(a11yPage{"activate choose", T["activate_choose_heading"], false})
		c.fill("username", "owner-"+lang)
		c.fill("password", "A harbour of many boats")
		c.fill("password2", "A harbour of many ships")
		c.press(T["activate_submit"])
		tr.check(a11yPage{"activate choose mismatch", T["activate_choose_heading"], true})
		tr.fieldErrors("activate choose mismatch", formError{[]string{"password2"}, T["activate_error_password_mismatch"], "password2"})
		if got := c.value("username"); got != "owner-"+lang {
			t.Errorf("%s: step 2 after a refusal keeps the username %q, want it kept", lang, got)
		}
		c.open(w.issuer + "/activate/resend?kind=staff")
		tr.check(a11yPage{"resend", T["resend_heading"], false})
		if typ := eval[string](c, `document.getElementById("birth_date").type`); typ != "text" {
			t.Errorf("%s: the birth date is an input of type %q, want text (the format is ours, not the browser's locale's)", lang, typ)
		}
		c.fill("entity_number", number)
		c.fill("id_doc_number", "A11Y-"+lang)
		c.fill("birth_date", "31/31/1990")
		c.press(T["resend_submit"])
		tr.check(a11yPage{"resend birth date", T["resend_heading"], true})
		tr.fieldErrors("resend birth date", formError{[]string{"birth_date"}, T["resend_error_birth_date"], "birth_date"})
		c.fill("birth_date", "1990年2月3日")
		c.press(T["resend_submit"])
		tr.check(a11yPage{"resend answer", T["resend_done_heading"], false})
		if got := c.text(`[role="status"]`); got != T["resend_done"] {
			t.Errorf("%s: the resend answer's status %q, want %q", lang, got, T["resend_done"])
		}

		// ---- the guide: its index, a role, tasks with a phone's and a desktop's screenshots, and code; the officers' ----
		c.open(w.issuer + "/activate?lang=" + lang)
		c.follow(T["guide_link"])
		tr.check(a11yPage{"guide", T["guide_title"], false})
		c.follow(T["guide_role_staff"])
		tr.check(a11yPage{"guide staff", T["guide_role_staff"], false})
		c.follow(T["guide_staff_sign_in"])
		tr.check(a11yPage{"guide staff sign-in", T["guide_staff_sign_in"], false})
		c.open(w.issuer + "/help/admin/create-staff")
		tr.check(a11yPage{"guide admin create staff", T["guide_admin_create_staff"], false})
		c.open(w.issuer + "/help/developer/web-app")
		tr.check(a11yPage{"guide developer web app", T["guide_developer_web_app"], false})
		c.open(w.issuer + "/help/officer")
		tr.check(a11yPage{"guide officer", T["guide_officer"], false})
		c.open(w.issuer + "/help/officer/approve")
		tr.check(a11yPage{"guide officer approve", T["guide_officer_approve"], false})

		// ---- recovery: 忘記密碼, 忘記用戶名稱, 已收到重設碼, the new password ----
		c.open(w.issuer + "/activate/forgot-username?kind=entity_account")
		tr.check(a11yPage{"forgot username", T["recover_username_heading"], false})
		c.open(w.issuer + "/activate/forgot-password?kind=staff")
		tr.check(a11yPage{"forgot password", T["recover_password_heading"], false})
		c.fill("entity_number", w.demo.EntityNumber)
		c.press(T["recover_password_submit"])
		tr.check(a11yPage{"forgot password missing", T["recover_password_heading"], true})
		tr.fieldErrors("forgot password missing", formError{[]string{"username", "id_doc_number", "birth_date"}, T["resend_error_missing"], "username"})
		c.fill("username", admin.Username)
		c.fill("id_doc_number", "1000001(1)")
		c.fill("birth_date", demoBirthDate)
		c.press(T["recover_password_submit"])
		tr.check(a11yPage{"forgot password answer", T["recover_done_heading"], false})
		resetCode := codeIn(t, w.resetCodeMessage(t, "+85366000100", langIndex+1))
		c.follow(T["recover_have_code"])
		tr.check(a11yPage{"reset code", T["recover_code_heading"], false})
		c.fill("entity_number", w.demo.EntityNumber)
		c.fill("username", admin.Username)
		c.fill("code", "ABC")
		c.press(T["recover_code_submit"])
		tr.check(a11yPage{"reset code format", T["recover_code_heading"], true})
		tr.fieldErrors("reset code format", formError{[]string{"code"}, T["reset_error_code_format"], "code"})
		c.fill("code", resetCode)
		c.press(T["recover_code_submit"])
		tr.check(a11yPage{"new password", T["recover_new_heading"], false}) // the admin's 安全驗證碼 is asked too
		c.fill("new_password", "Lotus bridge over the bay")
		c.fill("new_password2", "Lotus bridge over the sea")
		c.press(T["recover_new_submit"])
		tr.check(a11yPage{"new password mismatch", T["recover_new_heading"], true})
		tr.fieldErrors("new password mismatch", formError{[]string{"new_password2"}, T["account_error_mismatch"], "new_password2"})

		// ---- the portal's sign-in and the signed-out page ----
		c.open(w.issuer + "/account/login")
		tr.check(a11yPage{"portal sign-in", T["account_sign_in_title"], false})
		c.fill("entity_number", w.demo.EntityNumber)
		c.press(T["sign_in"])
		tr.check(a11yPage{"portal sign-in missing", T["account_sign_in_title"], true})
		tr.fieldErrors("portal sign-in missing", formError{[]string{"username", "password"}, T["error_missing_fields"], "username"})
		c.open(w.issuer + "/logged-out")
		tr.check(a11yPage{"signed out", T["logged_out_heading"], false})

		// ---- a login without a tool, an e-service it is not assigned to, logout ----
		c.open(auth(r, "acr_values", acrTool))
		signIn(w.demo.EntityNumber, staff02.Username, staff02.Password)
		tr.check(a11yPage{"no tool", T["no_tool_heading"], true})
		c.open(auth(socialRP))
		tr.check(a11yPage{"no access", T["no_access_heading"], true})
		c.open(endSession + "?" + url.Values{"client_id": {web.ClientID}, "post_logout_redirect_uri": {web.PostLogoutRedirectURIs[0]}}.Encode())
		tr.check(a11yPage{"logout", T["logout_heading"], false})

		// ---- the sign-in with a remembered entity number, and one picked ----
		c.open(auth(r, "prompt", "login"))
		signInRemembering(c, T, w.demo.EntityNumber, staff01.Username, staff01.Password, web.RedirectURIs[0])
		c.open(auth(r, "prompt", "login"))
		tr.check(a11yPage{"sign-in remembered", T["sign_in_title"], false})
		c.pickRemembered(w.demo.EntityNumber+" "+storage.Names{ZH: "公司19", PT: "Companhia 19"}.In(lang), w.demo.EntityNumber)
		tr.check(a11yPage{"sign-in picked", T["sign_in_title"], false})

		// ---- the second step ----
		c.clearCookies()
		c.open(auth(r, "acr_values", acrTool))
		signIn(w.demo.EntityNumber, admin.Username, admin.Password)
		tr.check(a11yPage{"second step", T["verify_title"], false})
		c.fill("code", wrongCode(t, adminSecret, time.Now()))
		c.press(T["verify_submit"])
		tr.check(a11yPage{"second step wrong code", T["verify_title"], true})
		tr.fieldErrors("second step wrong code", formError{[]string{"code"}, T["tool_error_code"], "code"})

		// ---- the portal of an admin ----
		c.clearCookies()
		c.open(w.issuer + "/account/login?lang=" + lang)
		signIn(w.demo.EntityNumber, admin.Username, admin.Password)
		tr.check(a11yPage{"profile", T["account_profile_title"], false})
		// 已登入的裝置 with a second session of the admin's, which 登出所有其他裝置 ends.
		w.loginBrowser("admin01")
		c.open(w.issuer + "/account/devices")
		tr.check(a11yPage{"devices", T["devices_title"], false})
		c.press(T["devices_end_others"])
		tr.check(a11yPage{"devices others ended", T["devices_title"], false})
		c.open(w.issuer + "/account/password")
		tr.check(a11yPage{"password", T["account_password_title"], false})
		c.fill("old_password", admin.Password)
		c.fill("new_password", "Lotus bridge over the bay")
		c.fill("new_password2", "Lotus bridge over the sea")
		c.press(T["account_password_submit"])
		tr.check(a11yPage{"password mismatch", T["account_password_title"], true})
		tr.fieldErrors("password mismatch", formError{[]string{"new_password2"}, T["account_error_mismatch"], "new_password2"})
		for _, id := range []string{"old_password", "new_password", "new_password2"} {
			if got := c.value(id); got != "" {
				t.Errorf("%s: the password page shown again holds a value in %s", lang, id)
			}
		}
		c.open(w.issuer + "/account/entities")
		tr.check(a11yPage{"entities", T["nav_entities"], false})
		c.open(w.issuer + "/account/entity")
		tr.check(a11yPage{"entity", T["nav_entity_info"], false})
		// staff01 locked by failed sign-ins: the list and its page say until
		// when, and 解除鎖定 lifts it (staff01 signs in below).
		w.browser().lockOut(w.demo.EntityNumber, staff01.Username, 5)
		c.open(w.issuer + "/account/staff")
		tr.check(a11yPage{"staff list", T["staff_list_title"], false})
		c.open(w.issuer + "/account/staff/new")
		tr.check(a11yPage{"new staff", T["staff_new_title"], false})
		c.fill("name_zh", "陳大明")
		c.fill("birth_date", "31/31/1990")
		c.fill("mobile", "1234")
		c.press(T["staff_new_submit"])
		tr.check(a11yPage{"new staff errors", T["staff_new_title"], true})
		tr.fieldErrors("new staff errors", formError{[]string{"id_doc_number", "birth_date", "mobile"}, "", "id_doc_number"})
		staffPage := w.issuer + "/account/staff/" + staff01.EUID
		c.open(staffPage)
		tr.check(a11yPage{"staff login locked", T["staff_page_title"], false})
		c.press(T["staff_unlock"])
		tr.check(a11yPage{"staff login unlocked", T["staff_page_title"], false})
		c.open(staffPage + "/edit")
		tr.check(a11yPage{"staff edit", T["staff_edit_title"], false})
		c.open(staffPage + "/status")
		tr.check(a11yPage{"staff status", T["staff_status_title"], false})
		c.tick(`input[name="status"][value="deleted"]`)
		c.press(T["staff_status_submit"])
		tr.check(a11yPage{"staff status unconfirmed", T["staff_status_title"], true})
		tr.fieldErrors("staff status unconfirmed", formError{[]string{"confirm"}, T["staff_error_confirm"], "confirm"})
		c.open(w.issuer + "/account/admins")
		tr.check(a11yPage{"admins", T["admins_title"], false})
		c.press(T["nav_update"])
		tr.check(a11yPage{"admins none chosen", T["admins_title"], true})
		tr.fieldErrors("admins none chosen", formError{nil, "", "remove"}) // the first box to tick
		c.open(w.issuer + "/account/service-admins")
		tr.check(a11yPage{"service admins", T["svcadmin_title"], false})
		c.open(w.issuer + "/account/changes")
		tr.check(a11yPage{"changes", T["changes_title"], false})
		w.app.history.Flush(t.Context()) // the sign-ins so far, as rows
		c.open(w.issuer + "/account/history")
		tr.check(a11yPage{"sign-in history", T["history_title"], false})
		c.open(w.issuer + "/account/history?from=2026-02-01&to=2025-01-01")
		tr.check(a11yPage{"sign-in history bad range", T["account_error_heading"], true})
		c.open(w.issuer + "/account/services")
		tr.check(a11yPage{"services", T["svc_list_title"], false})
		service := storage.Names{ZH: "示範電子服務", PT: "Serviço electrónico de demonstração", EN: "Demo e-service"}.In(lang)
		c.open(w.issuer + "/account/services/" + demoService)
		tr.check(a11yPage{"service", service, false})
		group := storage.Group{NameZH: "管理員", NamePT: "Administrador"}.Names().In(lang)
		c.open(w.issuer + "/account/services/" + demoService + "/groups/admin/members")
		tr.check(a11yPage{"group", group, false})
		c.open(w.issuer + "/account/staff/CU999999999")
		tr.check(a11yPage{"staff login not found", T["nav_not_found_heading"], true})
		c.open(w.issuer + "/account/services/" + demoService + "/groups/admin")
		target := strings.NewReplacer("{service}", service, "{group}", group).Replace(T["svc_target_group"])
		tr.check(a11yPage{"group staff", T["svc_staff_list"] + " — " + target, false})
		c.open(w.issuer + "/account/tools")
		tr.check(a11yPage{"tools", T["tools_title"], false})
		c.open(w.issuer + "/account/tools/totp")
		tr.check(a11yPage{"totp active", T["totp_title"], false})
		if status := c.openStatus(w.issuer + "/account/tools/passkeys"); status != 200 {
			t.Fatalf("passkeys page: %d", status)
		}
		tr.check(a11yPage{"passkeys", T["passkeys_title"], false})

		// ---- a staff login: 安全驗證碼 from the start, and a page it may not open ----
		c.clearCookies()
		c.open(w.issuer + "/account/login?lang=" + lang)
		signIn(w.demo.EntityNumber, staff01.Username, staff01.Password)
		c.open(w.issuer + "/account/tools/totp")
		tr.check(a11yPage{"totp start", T["totp_title"], false})
		c.press(T["totp_start"])
		tr.check(a11yPage{"totp scan", T["totp_title"], false})
		c.fill("code", "000000")
		c.press(T["totp_confirm"])
		tr.check(a11yPage{"totp wrong code", T["totp_title"], true})
		tr.fieldErrors("totp wrong code", formError{[]string{"code"}, T["tool_error_code"], "code"})
		c.ageSession(w, time.Hour) // the password typed too long ago: typed again first
		c.open(w.issuer + "/account/tools/totp")
		tr.check(a11yPage{"totp password again", T["totp_title"], false})
		c.fill("reauth_password", "not the password")
		c.press(T["tools_reauth_submit"])
		tr.check(a11yPage{"totp password again wrong", T["totp_title"], true})
		tr.fieldErrors("totp password again wrong", formError{[]string{"reauth_password"}, T["tools_reauth_wrong"], "reauth_password"})
		c.open(w.issuer + "/account/entity")
		tr.check(a11yPage{"no access to administration", T["nav_forbidden_heading"], true})
		w.app.history.Flush(t.Context())
		c.open(w.issuer + "/account/history")
		tr.check(a11yPage{"own sign-in history", T["history_title"], false})

		// ---- a login whose 安全驗證碼 waits for the check in person ----
		c.clearCookies()
		c.open(w.issuer + "/account/login?lang=" + lang)
		signIn(w.demo.EntityNumber, staff02.Username, staff02.Password)
		c.open(w.issuer + "/account/tools/totp")
		tr.check(a11yPage{"totp pending", T["totp_title"], false})
		total += tr.n
	}
	t.Logf("%d pages in %d languages at 390 and 1280 px in %s; screenshots in %s", total, len(templates.Languages), time.Since(start).Round(time.Second), dir)
	if total < 40*len(templates.Languages) {
		t.Errorf("only %d pages checked", total)
	}
}
