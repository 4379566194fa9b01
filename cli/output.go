package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"
)

// printer writes command results: a bordered table on a terminal, plain
// aligned columns when piped, or JSON with --json. Only results go to out;
// errors go to stderr, so `--json | jq` always sees valid JSON.
type printer struct {
	out  io.Writer
	json bool
	tty  bool
}

func newPrinter(out io.Writer, asJSON bool) *printer {
	return &printer{out: out, json: asJSON, tty: isTerminal(out)}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// JSON writes v indented, with a trailing newline.
func (p *printer) JSON(v any) error {
	enc := json.NewEncoder(p.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// JSONLine writes v as one compact line: the form of progress streams
// (node pair, node connect), where each line is one JSON value.
func (p *printer) JSONLine(v any) error {
	return json.NewEncoder(p.out).Encode(v)
}

// Table writes headers and rows in the form that suits the output.
func (p *printer) Table(headers []string, rows [][]string) {
	if p.tty {
		t := table.New().Border(lipgloss.RoundedBorder()).Headers(headers...).Rows(rows...).
			StyleFunc(func(row, _ int) lipgloss.Style {
				s := lipgloss.NewStyle().Padding(0, 1)
				if row == table.HeaderRow {
					s = s.Bold(true)
				}
				return s
			})
		lipgloss.Fprintln(p.out, t.Render())
		return
	}
	tw := tabwriter.NewWriter(p.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(headers, "\t")))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// Line writes one line of prose.
func (p *printer) Line(format string, args ...any) {
	fmt.Fprintf(p.out, format+"\n", args...)
}

// ago renders a past instant the way people read it: "just now", "4m ago".
func ago(now time.Time, ms int64) string {
	if ms == 0 {
		return "never"
	}
	d := now.Sub(time.UnixMilli(ms))
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}

// countdown renders time left as m:ss, or "expired".
func countdown(now time.Time, expiresAtMs int64) string {
	left := time.UnixMilli(expiresAtMs).Sub(now)
	if left <= 0 {
		return "expired"
	}
	s := int(left.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
