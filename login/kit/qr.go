package kit

import (
	"fmt"
	"image/color"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
)

// QRSVG is a QR code drawn for inline SVG in the page itself: no image
// address to fetch (which would have to carry or look up the secret), no
// data: URI and no script, so the pages' CSP stays as it is.
type QRSVG struct {
	// Size is the width and height in modules, the quiet zone included:
	// the SVG's viewBox is 0 0 Size Size.
	Size int
	// Path draws the dark modules, one subpath per horizontal run of them
	// ("M4 4h7v1h-7z"), on a light background the page draws under it.
	Path string
}

// QRQuietZone is the light margin around the code, in modules, that
// scanners need (ISO/IEC 18004: four).
const QRQuietZone = 4

// NewQRSVG encodes content (an otpauth:// URL, an approval token) at error correction level M,
// which every authenticator app reads from a screen.
func NewQRSVG(content string) (QRSVG, error) {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return QRSVG{}, fmt.Errorf("encode the QR code: %w", err)
	}
	n := code.Bounds().Dx()
	var b strings.Builder
	for y := range n {
		for x := 0; x < n; {
			if !dark(code, x, y) {
				x++
				continue
			}
			run := 1
			for x+run < n && dark(code, x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+QRQuietZone, y+QRQuietZone, run, run)
			x += run
		}
	}
	return QRSVG{Size: n + 2*QRQuietZone, Path: b.String()}, nil
}

func dark(code barcode.Barcode, x, y int) bool {
	return color.GrayModel.Convert(code.At(x, y)).(color.Gray).Y < 128
}
