package qr

import (
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"
	"unicode/utf8"

	goqr "github.com/piglig/go-qr"

	"github.com/pairdeck/pairdeck/protocol"
)

// setupLink is a link as `pairdeck codes create` makes it: a LAN address,
// a code, an expiry. It is about 160 characters, like OpenClaw's own.
func setupLink(t *testing.T, url string) string {
	t.Helper()
	link, err := protocol.EncodeSetupLink(protocol.SetupPayload{
		URL:            url,
		BootstrapToken: "K7QM-2XHF-9RTW-C4PA-M3DE",
		ExpiresAtMs:    1796567074031,
	})
	if err != nil {
		t.Fatal(err)
	}
	return link
}

func TestDrawingIsTheLibrarysBitmap(t *testing.T) {
	texts := []string{
		"a",
		"HELLO WORLD 123",
		"Küche · 台所 · 🍳",
		setupLink(t, "ws://192.168.178.20:18789"),
		setupLink(t, "wss://gateway.example.com/pairdeck"),
		strings.Repeat("x", 1000),
	}
	for _, text := range texts {
		code, err := goqr.EncodeText(text, goqr.Low)
		if err != nil {
			t.Fatal(err)
		}
		for name, render := range map[string]func(string) (string, error){"Render": Render, "RenderColor": RenderColor} {
			drawing, err := render(text)
			if err != nil {
				t.Fatalf("%s(%.20q): %v", name, text, err)
			}
			got, err := Parse(drawing)
			if err != nil {
				t.Fatalf("%s(%.20q) does not parse back: %v", name, text, err)
			}
			want := code.Size() + 2*QuietZone
			if len(got) != want || len(got[0]) != want {
				t.Fatalf("%s(%.20q): %dx%d modules, want %dx%d", name, text, len(got[0]), len(got), want, want)
			}
			for y := range got {
				for x := range got[y] {
					inSymbol := x >= QuietZone && y >= QuietZone && x < want-QuietZone && y < want-QuietZone
					if !inSymbol && got[y][x] {
						t.Fatalf("%s(%.20q): dark module at (%d,%d) in the quiet zone", name, text, x, y)
					}
					if inSymbol && got[y][x] != code.Module(x-QuietZone, y-QuietZone) {
						t.Fatalf("%s(%.20q): module (%d,%d) drawn dark=%v, the library made %v", name, text, x-QuietZone, y-QuietZone, got[y][x], !got[y][x])
					}
				}
			}
		}
	}
}

// A reader of the terminal gets the text back: the drawing, read as a
// picture (one module = 3x3 pixels), decodes to what was encoded.
func TestDrawingDecodesToTheText(t *testing.T) {
	for _, text := range []string{"pairdeck", setupLink(t, "ws://10.0.0.7:18789"), "Küche · 台所"} {
		drawing, err := RenderColor(text)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := Parse(drawing)
		if err != nil {
			t.Fatal(err)
		}
		const scale = 3
		img := image.NewGray(image.Rect(0, 0, len(rows[0])*scale, len(rows)*scale))
		for y := range rows {
			for x := range rows[y] {
				c := color.Gray{Y: 255}
				if rows[y][x] {
					c = color.Gray{Y: 0}
				}
				for dy := range scale {
					for dx := range scale {
						img.SetGray(x*scale+dx, y*scale+dy, c)
					}
				}
			}
		}
		got, err := goqr.Decode(img)
		if err != nil {
			t.Fatalf("decode the drawing of %q: %v", text, err)
		}
		if got != text {
			t.Fatalf("decoded %q, want %q", got, text)
		}
	}
}

func TestASetupLinkFitsAnEightyColumnTerminal(t *testing.T) {
	for _, url := range []string{"ws://127.0.0.1:18789", "ws://192.168.178.120:18789", "wss://pairdeck-gateway.internal.example.com/nodes"} {
		link := setupLink(t, url)
		drawing, err := Render(link)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(drawing, "\n")
		width := utf8.RuneCountInString(lines[0])
		if width > 80 || len(lines) > 40 {
			t.Errorf("a %d-character link draws %d columns x %d lines, want it within 80 columns and 40 lines", len(link), width, len(lines))
		}
		t.Logf("%d-character link: %d columns x %d lines", len(link), width, len(lines))
	}
}

func TestPlainDrawingIsPlain(t *testing.T) {
	drawing, err := Render(setupLink(t, "ws://192.168.1.2:18789"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(drawing, "\x1b\r\t") || strings.HasSuffix(drawing, "\n") {
		t.Fatalf("Render wrote control characters or a final newline")
	}
	lines := strings.Split(drawing, "\n")
	for i, l := range lines {
		if utf8.RuneCountInString(l) != utf8.RuneCountInString(lines[0]) {
			t.Fatalf("line %d is %d cells wide, the first %d", i+1, utf8.RuneCountInString(l), utf8.RuneCountInString(lines[0]))
		}
		if strings.HasSuffix(l, " ") || strings.HasPrefix(l, " ") {
			t.Fatalf("line %d starts or ends in a space: the quiet zone must be drawn, not left to the background", i+1)
		}
	}
	colored, err := RenderColor(setupLink(t, "ws://192.168.1.2:18789"))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(colored, "\n") {
		if !strings.HasPrefix(l, "\x1b[97;40m") || !strings.HasSuffix(l, "\x1b[0m") {
			t.Fatalf("RenderColor line %d does not set and reset its colours: %q", i+1, l)
		}
		if stripSGR(l) != lines[i] {
			t.Fatalf("RenderColor line %d draws other cells than Render", i+1)
		}
	}
}

func TestTooLongTextIsRefused(t *testing.T) {
	_, err := Render(strings.Repeat("x", 3000))
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("got %v, want ErrTooLong", err)
	}
	if !strings.Contains(err.Error(), "3000 bytes") {
		t.Fatalf("error %q does not say how long the text was", err)
	}
}

func TestParseRefusesWhatRenderDoesNotDraw(t *testing.T) {
	for _, drawing := range []string{"██\n█x", "███\n██", "█▀\n▄█\n▀▀"} {
		if _, err := Parse(drawing); err == nil {
			t.Errorf("Parse(%q) accepted it", drawing)
		}
	}
}
