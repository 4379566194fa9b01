package cli_test

import (
	"image"
	"image/color"
	"regexp"
	"testing"

	goqr "github.com/piglig/go-qr"

	"github.com/pairdeck/pairdeck/tui/qr"
)

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func qrStrip(s string) string { return sgr.ReplaceAllString(s, "") }

// decodeDrawing reads a QR code drawn on the terminal back to its text:
// the half blocks become modules (tui/qr.Parse), the modules a picture,
// and the picture goes through a QR decoder, as a phone's camera would.
func decodeDrawing(t *testing.T, drawing string) string {
	t.Helper()
	rows, err := qr.Parse(drawing)
	if err != nil {
		t.Fatalf("the drawing is not a QR code: %v", err)
	}
	const scale = 3
	img := image.NewGray(image.Rect(0, 0, len(rows[0])*scale, len(rows)*scale))
	for y := range rows {
		for x := range rows[y] {
			c := color.Gray{Y: 255}
			if rows[y][x] {
				c.Y = 0
			}
			for dy := range scale {
				for dx := range scale {
					img.SetGray(x*scale+dx, y*scale+dy, c)
				}
			}
		}
	}
	text, err := goqr.Decode(img)
	if err != nil {
		t.Fatalf("decode the drawing: %v", err)
	}
	return text
}
