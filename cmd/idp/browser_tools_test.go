package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The 安全驗證碼 enrolment in a real browser, on a phone's width and a
// desktop's: the pages lay out without sideways scrolling, the QR code is
// drawn, and the code typed from the secret on the page confirms it.

// screenshotDir is where the browser tests leave their screenshots:
// IDP_SCREENSHOT_DIR when set (to look at them), else the test's
// temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("IDP_SCREENSHOT_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// atWidth lays the page out at a viewport width (a phone's is emulated as
// one, in portrait), takes a full-page screenshot into dir, and fails when
// the page is wider than the viewport.
func (c *chrome) atWidth(width int64, dir, name string) {
	c.t.Helper()
	if width < 600 {
		c.do("emulate a phone", chromedp.EmulateViewport(width, 844, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch))
	} else {
		c.do("emulate a desktop", chromedp.EmulateViewport(width, 900))
	}
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot %s: %v\n%s", name, err, c.where())
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.t.Logf("screenshot: %s", path)
	// Against the width emulated: a phone's layout viewport grows to a
	// page wider than the screen (clientWidth with it).
	if over := eval[int](c, fmt.Sprintf(`document.documentElement.scrollWidth - Math.min(document.documentElement.clientWidth, %d)`, width)); over > 0 {
		// Name the widest culprits (visually hidden ones, clipped to a
		// pixel, reach past the edge without widening the page).
		wide := eval[string](c, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > `+fmt.Sprint(width)+` + 0.5).map(e => e.tagName + (e.id ? "#" + e.id : "") + (e.getAttribute("class") ? "." + e.getAttribute("class") : "")).slice(0, 8).join(", ")`)
		c.t.Errorf("%s: the page is %d px wider than the %d px viewport (past the edge: %s)", name, over, width, wide)
	}
}

// TestBrowserToolsTOTP: staff01 signs in to the portal, opens
// 電子身份識別工具 from the navigation, then 安全驗證碼, presses 開始設定;
// the QR code and the secret show at 390 px and at 1280 px without
// sideways scrolling. In Portuguese (its longer texts laid out too) it
// starts again, and the code computed from the secret now shown confirms
// the tool: the page says it is active, and so does the list.
func TestBrowserToolsTOTP(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	staff := idp.login("staff01")
	T, P := messages(t, "zh-Hant"), messages(t, "pt")
	dir := screenshotDir(t)

	c := newChrome(t)
	c.portalSignIn(idp.issuer, idp.demo.EntityNumber, staff.Username, staff.Password)
	c.follow(T["tools_title"])
	if got := c.text("h1"); got != T["tools_title"] {
		t.Fatalf("heading %q, want %q", got, T["tools_title"])
	}
	c.follow(T["tools_kind_totp"])
	if got := c.text("h1"); got != T["totp_title"] {
		t.Fatalf("heading %q, want %q", got, T["totp_title"])
	}
	c.press(T["totp_start"])
	if n := eval[int](c, `document.querySelectorAll("figure.qr svg path").length`); n != 1 {
		t.Fatalf("the enrolment page draws %d QR paths, want 1\n%s", n, c.where())
	}
	c.atWidth(390, dir, "tools-totp-enrol-zh-390")
	if w := eval[float64](c, `document.querySelector("figure.qr svg").getBoundingClientRect().width`); w < 160 {
		t.Errorf("the QR code is %.0f px wide on a phone, too small to scan", w)
	}
	c.atWidth(1280, dir, "tools-totp-enrol-zh-1280")

	// In Portuguese: 開始設定 again gives a new secret.
	first := c.text("#totp_secret")
	c.open(idp.issuer + "/account/tools/totp?lang=pt")
	c.press(P["totp_start"])
	c.atWidth(390, dir, "tools-totp-enrol-pt-390")
	secret := c.text("#totp_secret")
	if secret == first {
		t.Error("starting again shows the same secret")
	}
	c.fill("code", totpCode(t, strings.ReplaceAll(secret, " ", ""), time.Now()))
	c.press(P["totp_confirm"])
	if got := c.text("#totp_state"); got != P["totp_active"] {
		t.Fatalf("after Confirmar: %q, want %q\n%s", got, P["totp_active"], c.where())
	}
	c.atWidth(1280, dir, "tools-totp-active-pt-1280")
	c.atWidth(390, dir, "tools-totp-active-pt-390")

	c.follow(P["tools_title"])
	if got := c.text("td.state"); got != P["tools_state_active"] {
		t.Errorf("the list's state %q, want %q", got, P["tools_state_active"])
	}
	c.atWidth(390, dir, "tools-list-pt-390")
	c.atWidth(1280, dir, "tools-list-pt-1280")
}
