package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/tui/table"
)

// printer writes command results: plain aligned columns (fitted to the
// terminal's width on a terminal, whole when piped) or JSON with --json.
// Only results go to out; errors go to stderr, so `--json | jq` always sees
// valid JSON.
//
// Everything a printer writes in text form passes through
// protocol.Printable: table cells, and every string or error given to Line.
// Node names, platforms, addresses and gateway messages come from the
// network or from files, and a terminal would act on the escape sequences
// they may hold.
type printer struct {
	out  io.Writer
	json bool
	tty  bool
	// width is the terminal's width in cells; 0 when out is not a
	// terminal, and then tables are printed whole.
	width int
	// bare is set by a command whose answer is a bare value (--count):
	// nothing is printed around it.
	bare bool
}

func newPrinter(out io.Writer, asJSON bool) *printer {
	p := &printer{out: out, json: asJSON, tty: isTerminal(out)}
	if p.tty {
		p.width = terminalWidth(out)
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// terminalWidth is $COLUMNS when set (as shells export it, and to fit a
// table to a pane other than the one it prints on), else the terminal's
// own width, else 80.
func terminalWidth(w io.Writer) int {
	if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if width, _, err := term.GetSize(f.Fd()); err == nil && width > 0 {
			return width
		}
	}
	return 80
}

// JSON writes v indented, with a trailing newline.
func (p *printer) JSON(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = p.out.Write(append(inertJSON(data), '\n'))
	return err
}

// JSONLine writes v as one compact line: the form of progress streams
// (node pair, node connect, watch), where each line is one JSON value.
func (p *printer) JSONLine(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = p.out.Write(append(inertJSON(data), '\n'))
	return err
}

// inertJSON escapes, as \uXXXX, the characters encoding/json leaves raw
// that a terminal would act on: DEL, C1 controls (U+009B is a CSI),
// bidi overrides and invisible breaks, the ones protocol.Printable
// escapes. JSON output is often read on a terminal; the value stays the
// same for any JSON reader. (encoding/json already escapes C0 controls
// and turns invalid UTF-8 into U+FFFD.)
func inertJSON(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf && c != 0x7f {
			if out != nil {
				out = append(out, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if c == 0x7f || protocol.CheckText(string(r)) != nil {
			if out == nil {
				out = append(make([]byte, 0, len(data)+16), data[:i]...)
			}
			out = fmt.Appendf(out, `\u%04x`, r)
		} else if out != nil {
			out = append(out, data[i:i+size]...)
		}
		i += size
	}
	if out == nil {
		return data
	}
	return out
}

// Line writes one line of prose. String and error arguments are made
// printable; the format itself is ours.
func (p *printer) Line(format string, args ...any) {
	fmt.Fprintf(p.out, format+"\n", printableArgs(args)...)
}

// printableArgs passes every string, error and Stringer argument through
// protocol.Printable, so no caller has to remember which of its values came
// from the network.
func printableArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = protocol.Printable(v)
		case error:
			out[i] = protocol.Printable(v.Error())
		case fmt.Stringer:
			out[i] = protocol.Printable(v.String())
		default:
			out[i] = a
		}
	}
	return out
}

// column is one column of a CLI table.
type column struct {
	title string
	// cut is the narrowest width the column's cells may be truncated to
	// (with "…") on a narrow terminal; 0 keeps them whole, so the column
	// is shown in full or dropped.
	cut int
	// grow is the column's share of the width the cut columns get back
	// as the terminal widens.
	grow int
	// drop orders dropping on a narrow terminal: the highest number goes
	// first; 0 is never dropped.
	drop int
}

// Table writes headers and rows as plain columns aligned by display
// width (wide characters count two cells). On a terminal the table is
// fitted to its width: low-priority columns are dropped and long cells
// cut with "…"; piped, every cell is printed whole.
func (p *printer) Table(cols []column, rows [][]string) {
	for _, l := range renderTable(cols, rows, p.width) {
		fmt.Fprintln(p.out, l)
	}
}

// renderTable lays the table out for a line of width cells (0: no limit)
// and returns its lines, header first, without trailing spaces.
func renderTable(cols []column, rows [][]string, width int) []string {
	cells := make([][]string, len(rows))
	natural := make([]int, len(cols))
	for i, c := range cols {
		natural[i] = ansi.StringWidth(c.title)
	}
	for r, row := range rows {
		cells[r] = make([]string, len(cols))
		for i := range cols {
			if i < len(row) {
				// Printable first: it is the text the terminal will see,
				// and so the text to measure.
				cells[r][i] = protocol.Printable(row[i])
			}
			natural[i] = max(natural[i], ansi.StringWidth(cells[r][i]))
		}
	}
	widths := natural
	if width > 0 {
		layout := make([]table.Column, len(cols))
		for i, c := range cols {
			lc := table.Column{Title: c.title, Min: natural[i], Max: natural[i], Priority: c.drop}
			if c.cut > 0 && natural[i] > c.cut {
				lc.Min, lc.Grow = c.cut, max(c.grow, 1)
			}
			layout[i] = lc
		}
		widths = table.Layout(layout, width)
	}
	lines := make([]string, 0, len(rows)+1)
	// Every column is left-aligned, times and counts included, as
	// kubectl and gh print them: a reader (and awk) finds each column
	// where its title starts.
	line := func(row []string) string {
		var b strings.Builder
		for i := range cols {
			if widths[i] == 0 {
				continue
			}
			if b.Len() > 0 {
				b.WriteString(strings.Repeat(" ", table.Gap))
			}
			b.WriteString(table.Fit(row[i], widths[i], false))
		}
		return strings.TrimRight(b.String(), " ")
	}
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.title
	}
	lines = append(lines, line(titles))
	for _, row := range cells {
		lines = append(lines, line(row))
	}
	return lines
}

// The time words are the console's: "now", "42s ago", "5m ago" for the
// past, m:ss for what is left.

// ago renders a past instant the way people read it.
func ago(now time.Time, ms int64) string {
	if ms <= 0 {
		return "never"
	}
	d := now.Sub(time.UnixMilli(ms))
	switch {
	case d < 5*time.Second:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
}

// countdown renders the time left as m:ss (h:mm:ss past an hour), or
// "expired". Seconds are floored like the console's, so "0:00" means
// under a second left.
func countdown(now time.Time, expiresAtMs int64) string {
	left := time.UnixMilli(expiresAtMs).Sub(now)
	if left <= 0 {
		return "expired"
	}
	s := int64(left / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// plural says "1 time", "3 times".
func plural[N int | int64](n N, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}
