package kit

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/boombuler/barcode/qr"
)

// The SVG draws exactly the dark modules of the QR code, inside a quiet
// zone of four modules.
func TestQRSVG(t *testing.T) {
	const content = "otpauth://totp/%E6%BE%B3%E9%96%80:02-000021%20staff01?algorithm=SHA1&digits=6&issuer=%E6%BE%B3%E9%96%80&period=30&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	s, err := NewQRSVG(content)
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	n := code.Bounds().Dx()
	if s.Size != n+2*QRQuietZone {
		t.Fatalf("size %d, want %d modules and the quiet zone", s.Size, n)
	}
	drawn := make([][]bool, s.Size)
	for i := range drawn {
		drawn[i] = make([]bool, s.Size)
	}
	run := regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	if rest := run.ReplaceAllString(s.Path, ""); rest != "" {
		t.Fatalf("the path has more than runs: %q", rest)
	}
	for _, m := range run.FindAllStringSubmatch(s.Path, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		if m[3] != m[4] {
			t.Fatalf("run %q does not close", m[0])
		}
		for i := range w {
			if drawn[y][x+i] {
				t.Fatalf("module %d,%d drawn twice", x+i, y)
			}
			drawn[y][x+i] = true
		}
	}
	for y := range s.Size {
		for x := range s.Size {
			want := false
			if x >= QRQuietZone && y >= QRQuietZone && x < QRQuietZone+n && y < QRQuietZone+n {
				want = dark(code, x-QRQuietZone, y-QRQuietZone)
			}
			if drawn[y][x] != want {
				t.Fatalf("module %d,%d drawn %v, want %v", x, y, drawn[y][x], want)
			}
		}
	}
}
