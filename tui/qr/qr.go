// Package qr draws QR codes in a terminal with Unicode half blocks: one
// character is one module wide and two modules tall, so a setup link of
// about 160 characters (a version 8 symbol, 49 modules, plus the quiet
// zone) takes 57 columns and 29 lines.
//
// A terminal paints characters in its foreground colour on its background,
// and which of the two is light depends on the theme. Two forms answer that:
//
//   - RenderColor sets the colours itself (bright white on black, the 16
//     basic colours every terminal has), so the code reads the same on dark
//     and light themes. Use it on a terminal that takes colours.
//   - Render writes no escape sequence at all (NO_COLOR, TERM=dumb, files).
//     Its blocks are the LIGHT modules and the quiet zone, its spaces the
//     dark modules: on the usual light-on-dark terminal that is a dark code
//     on a light square, exactly as printed on paper. On a dark-on-light
//     theme the same drawing shows reversed (light modules on dark), which
//     phone cameras read as well (QR allows reflectance reversal and the
//     common readers try it); RenderColor is the form that never relies on
//     that.
//
// The quiet zone (QuietZone modules of light on every side) is part of the
// drawing, as scanners need it and a terminal's own background cannot be
// trusted to be light.
package qr

import (
	"errors"
	"fmt"
	"strings"

	goqr "github.com/piglig/go-qr"
)

// QuietZone is the light margin around the symbol, in modules (the QR
// standard's four).
const QuietZone = 4

// The four half-block cells, indexed by (top light, bottom light): the ink
// is light, so a full block is two light modules and a space two dark ones.
const (
	bothDark    = ' '
	topLight    = '▀'
	bottomLight = '▄'
	bothLight   = '█'
)

// ErrTooLong is returned for text that no QR code can hold.
var ErrTooLong = errors.New("too long for a QR code")

// Modules returns text's QR code as rows of modules, true for dark, with
// the quiet zone on every side. The error correction level is the lowest
// (7%), raised by the encoder whenever that costs no size: a screen is a
// clean medium, and a smaller symbol is what makes a terminal QR code fit
// and scan.
func Modules(text string) ([][]bool, error) {
	code, err := goqr.EncodeText(text, goqr.Low)
	if err != nil {
		if errors.Is(err, goqr.ErrDataTooLong) {
			return nil, fmt.Errorf("%d bytes: %w", len(text), ErrTooLong)
		}
		return nil, fmt.Errorf("encode a QR code: %w", err)
	}
	size := code.Size() + 2*QuietZone
	rows := make([][]bool, size)
	for y := range rows {
		rows[y] = make([]bool, size)
		for x := range rows[y] {
			rows[y][x] = code.Module(x-QuietZone, y-QuietZone)
		}
	}
	return rows, nil
}

// Render draws text's QR code with half blocks and no escape sequences
// (see the package comment for how it reads on each theme). Lines are
// separated by "\n", with none after the last; every line has the same
// width, and none ends in a space.
func Render(text string) (string, error) {
	rows, err := Modules(text)
	if err != nil {
		return "", err
	}
	return strings.Join(draw(rows), "\n"), nil
}

// RenderColor is Render with the colours set on every line (bright white
// ink on a black background, reset at the end of the line), so the code
// reads the same on dark and light terminals.
func RenderColor(text string) (string, error) {
	rows, err := Modules(text)
	if err != nil {
		return "", err
	}
	lines := draw(rows)
	for i, l := range lines {
		lines[i] = "\x1b[97;40m" + l + "\x1b[0m"
	}
	return strings.Join(lines, "\n"), nil
}

// draw turns module rows into half-block lines. An odd number of rows
// leaves the last line's lower half outside the symbol: it is drawn light,
// one more half module of quiet zone.
func draw(rows [][]bool) []string {
	var lines []string
	for y := 0; y < len(rows); y += 2 {
		var b strings.Builder
		for x := range rows[y] {
			topIsLight := !rows[y][x]
			bottomIsLight := y+1 >= len(rows) || !rows[y+1][x]
			switch {
			case topIsLight && bottomIsLight:
				b.WriteRune(bothLight)
			case topIsLight:
				b.WriteRune(topLight)
			case bottomIsLight:
				b.WriteRune(bottomLight)
			default:
				b.WriteRune(bothDark)
			}
		}
		lines = append(lines, b.String())
	}
	return lines
}

// Parse reads a drawing made by Render or RenderColor back into module
// rows (true for dark), quiet zone included: what a reader of the
// terminal sees. Colour sequences are skipped. Lines must be equally wide
// and the modules square;
// a trailing half row drawn only as quiet zone is dropped, so that
// Parse(Render(t)) equals Modules(t).
func Parse(drawing string) ([][]bool, error) {
	var rows [][]bool
	width := -1
	for i, line := range strings.Split(strings.TrimRight(drawing, "\n"), "\n") {
		line = stripSGR(line)
		top, bottom := make([]bool, 0, len(line)), make([]bool, 0, len(line))
		for _, r := range line {
			var topLit, bottomLit bool
			switch r {
			case bothLight:
				topLit, bottomLit = true, true
			case topLight:
				topLit = true
			case bottomLight:
				bottomLit = true
			case bothDark:
			default:
				return nil, fmt.Errorf("line %d: %q is not a half-block cell", i+1, r)
			}
			top, bottom = append(top, !topLit), append(bottom, !bottomLit)
		}
		if width >= 0 && len(top) != width {
			return nil, fmt.Errorf("line %d is %d cells wide, the first %d", i+1, len(top), width)
		}
		width = len(top)
		rows = append(rows, top, bottom)
	}
	// The symbol and its quiet zone are square: a drawing with one more
	// row than columns ends in a half row of padding.
	if len(rows) == width+1 {
		for _, dark := range rows[width] {
			if dark {
				return nil, fmt.Errorf("the last half row has dark modules outside the symbol")
			}
		}
		rows = rows[:width]
	}
	if len(rows) != width {
		return nil, fmt.Errorf("%d modules wide and %d tall: a QR code is square", width, len(rows))
	}
	return rows, nil
}

// stripSGR removes the colour sequences RenderColor adds (ESC [ … m).
func stripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';') {
				j++
			}
			if j < len(s) && s[j] == 'm' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
