package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"image/color"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/entity-account/idp/storage"
)

// The desk's camera in a real browser: Chromium with a fake camera that
// films a Y4M video made here from the person's approval QR code (read
// back from the SVG the person's page drew). The officer presses the
// camera's button on /approve; static/deskqr.js reads the code (Chromium
// on Linux has no BarcodeDetector for QR codes, so the vendored jsQR does)
// and sends the form; the officer types the document checked and presses
// 核准; the tool is active and the person's next step-up takes the app's
// code. An altered and an expired QR code filmed are refused; a desk
// without a camera types the code.

// writeY4M writes a video of frames frames of the QR code whose modules
// are grid (the quiet zone included), black on white, centred in a
// width×height picture, as YUV4MPEG2 4:2:0 (what Chromium's fake camera
// reads from a file).
func writeY4M(t *testing.T, path string, grid [][]bool, width, height, frames int) {
	t.Helper()
	n := len(grid)
	scale := min(width, height) * 9 / 10 / n
	if scale < 2 {
		t.Fatalf("a QR code of %d modules does not fit %dx%d", n, width, height)
	}
	x0, y0 := (width-n*scale)/2, (height-n*scale)/2
	luma := make([]byte, width*height)
	for y := range height {
		for x := range width {
			luma[y*width+x] = 255
			mx, my := (x-x0)/scale, (y-y0)/scale
			if x >= x0 && y >= y0 && mx < n && my < n && grid[my][mx] {
				luma[y*width+x] = 0
			}
		}
	}
	chroma := make([]byte, width/2*height/2)
	for i := range chroma {
		chroma[i] = 128
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(f)
	fmt.Fprintf(out, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", width, height)
	for range frames {
		out.WriteString("FRAME\n")
		out.Write(luma)
		out.Write(chroma) // U
		out.Write(chroma) // V
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// qrGrid encodes text as the person's page does (level M) and returns its
// modules with a quiet zone of four.
func qrGrid(t *testing.T, text string) [][]bool {
	t.Helper()
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	n := code.Bounds().Dx()
	grid := make([][]bool, n+8)
	for y := range grid {
		grid[y] = make([]bool, n+8)
	}
	for y := range n {
		for x := range n {
			grid[y+4][x+4] = color.GrayModel.Convert(code.At(x, y)).(color.Gray).Y < 128
		}
	}
	return grid
}

// cameraDesk starts a Chromium whose camera films grid and signs it in to
// the desk as officer o.
func cameraDesk(t *testing.T, w *deskWorld, o storage.Officer, grid [][]bool) *chrome {
	t.Helper()
	video := filepath.Join(t.TempDir(), "qr.y4m")
	writeY4M(t, video, grid, 640, 480, 10)
	c := newChromeWith(t,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	)
	var secret string
	for _, ck := range w.signedIn(t, o).c.Jar.Cookies(mustParse(t, w.srv.URL)) {
		if ck.Name == "idp_desk" {
			secret = ck.Value
		}
	}
	c.do("the desk session's cookie", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "idp_desk", Value: secret, URL: w.srv.URL + "/"}); err != nil {
			return err
		}
		// The pages in zh-Hant, whatever the browser's own language.
		_, err := cdp.Call(ctx, tg, network.SetCookie, network.SetCookieParams{Name: "idp_lang", Value: "zh-Hant", URL: w.srv.URL + "/"})
		return err
	}))
	return c
}

// scan opens /approve, presses the camera's button and waits for the page
// the scanned form leads to; it returns its h1.
func scan(t *testing.T, c *chrome, w *deskWorld) string {
	t.Helper()
	T := messages(t, "zh-Hant")
	c.open(w.srv.URL + "/approve")
	if got := c.text("h1"); got != T["desk_qr_title"] {
		t.Fatalf("/approve: heading %q\n%s", got, c.where())
	}
	t.Logf("BarcodeDetector in this Chromium: %v", eval[bool](c, `"BarcodeDetector" in window`))
	c.mu.Lock()
	seen := len(c.docs) // the form the script sends is the next document
	c.mu.Unlock()
	c.do("press the camera's button", chromedp.Click(chromedp.ID("scan_start"), chromedp.NodeVisible))
	deadline := time.Now().Add(25 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		sent := len(c.docs) > seen
		c.mu.Unlock()
		if sent && eval[bool](c, `document.readyState === "complete" && !!document.querySelector("h1")`) {
			return c.text("h1")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the QR code was not read: status %q\n%s", eval[string](c, `(document.getElementById("scan_status")||{}).textContent||""`), c.where())
	return ""
}

// approveOnPage types the document checked on the confirmation page and
// presses 核准.
func approveOnPage(t *testing.T, c *chrome, sl storage.StaffLogin) {
	t.Helper()
	T := messages(t, "zh-Hant")
	if got := c.text("#approval_euid"); got != sl.EUID {
		t.Fatalf("the confirmation names %q, want %s\n%s", got, sl.EUID, c.where())
	}
	if got := c.text("#approval_doc_number"); got != storage.MaskDocNumber(sl.IDDocNumber) {
		t.Errorf("the document number shown %q, want it masked", got)
	}
	c.fill("document_number", sl.IDDocNumber)
	c.press(T["desk_qr_approve"])
	if got := c.text("h1"); got != T["desk_qr_done_heading"] {
		t.Fatalf("after 核准: heading %q\n%s", got, c.where())
	}
}

// signApproval signs an approval token as the node does (the format of
// login/tools approval.go), for a token the person's page would never
// show: one already expired.
func signApproval(w *deskWorld, entity, euid string, toolID int64, exp time.Time) string {
	payload := strings.Join([]string{"DA1", entity, euid, fmt.Sprint(toolID), fmt.Sprint(exp.Unix()), "expiredXYZ12"}, ".")
	m := hmac.New(sha256.New, approvalKey(w.idp.app.cfg.MasterKey))
	m.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func TestBrowserDeskApproveQR(t *testing.T) {
	t.Parallel()
	idp := startIDP(t, nil)
	w := idp.startDesk(t)
	T := messages(t, "zh-Hant")
	counter := w.officer(t, "chan.tm", storage.RoleCounter)
	person, sl, secret := pendingPerson(t, idp, "staff02")
	shown := showApprovalQR(t, person, secret)

	// The person's QR code, filmed: read, confirmed, approved.
	c := cameraDesk(t, w, counter, qrModules(t, shown.Body))
	if got := scan(t, c, w); got != T["desk_qr_confirm_title"] {
		t.Fatalf("after the scan: heading %q\n%s", got, c.where())
	}
	approveOnPage(t, c, sl)
	if tl, _, err := idp.app.pg.TOTP(context.Background(), sl.ID); err != nil || tl.State != storage.ToolActive {
		t.Fatalf("after the approval by camera the tool is %+v, %v", tl, err)
	}
	stepUpWithCode(t, idp, idp.login("staff02"), secret)

	// A desk without a camera: the code typed.
	other, sl2, secret2 := pendingPerson(t, idp, "staff01")
	typed := submatch(approvalCodeShown, showApprovalQR(t, other, secret2).Body)
	c.open(w.srv.URL + "/approve")
	c.fill("token", strings.ToLower(strings.ReplaceAll(typed, "-", " ")))
	c.press(T["desk_qr_lookup"])
	approveOnPage(t, c, sl2)

	// An altered QR code and an expired one, filmed: refused on the page.
	third, sl3, secret3 := pendingPerson(t, idp, "admin01")
	code3 := submatch(approvalCodeShown, showApprovalQR(t, third, secret3).Body)
	desk := w.signedIn(t, counter)
	token := html.UnescapeString(submatch(tokenField, desk.submit("/approve", "/approve", url.Values{"step": {"resolve"}, "token": {code3}}).Body))
	if token == "" {
		t.Fatal("no token on the confirmation page")
	}
	tl3, _, err := idp.app.pg.TOTP(context.Background(), sl3.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ name, token, key string }{
		{"altered", strings.Replace(token, sl3.EUID, sl.EUID, 1), "toolsqr_error_invalid"},
		{"expired", signApproval(w, idp.demo.EntityNumber, sl3.EUID, tl3.ID, time.Now().Add(-time.Minute)), "toolsqr_error_expired"},
	} {
		bc := cameraDesk(t, w, counter, qrGrid(t, bad.token))
		if got := scan(t, bc, w); got != T["desk_qr_title"] {
			t.Errorf("%s QR code: heading %q", bad.name, got)
		}
		if got := bc.text("#token_error"); got != T[bad.key] {
			t.Errorf("%s QR code: %q, want %q", bad.name, got, T[bad.key])
		}
	}
	if tl, _, _ := idp.app.pg.TOTP(context.Background(), sl3.ID); tl.State != storage.ToolPending {
		t.Errorf("after the refused QR codes the tool is %s", tl.State)
	}
}
