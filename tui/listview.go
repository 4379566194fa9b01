package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
	"github.com/pairdeck/pairdeck/tui/table"
)

// moveCursor applies the navigation keys every list shares and reports
// whether msg was one of them.
func moveCursor(c *table.Cursor, msg tea.KeyPressMsg, keys KeyMap) bool {
	switch {
	case key.Matches(msg, keys.Up):
		c.Up()
	case key.Matches(msg, keys.Down):
		c.Down()
	case key.Matches(msg, keys.Top):
		c.Top()
	case key.Matches(msg, keys.Bottom):
		c.Bottom()
	case key.Matches(msg, keys.PageUp):
		c.PageUp()
	case key.Matches(msg, keys.PageDown):
		c.PageDown()
	default:
		return false
	}
	return true
}

// listFrame draws a list view of width×height: the column titles, the
// lines saying why no row shows (empty), the rows in the cursor's window —
// never more, whatever the list's length — and blank lines down to height.
// The columns are laid out for the cells in view (cellsOf), so none is cut
// while the line has room.
func listFrame[T any](st *styles.Styles, cols []table.Column, width, height int, l *rowList[T], empty []string,
	cellsOf func(T) []string, row func(r T, cells []string, widths []int, rs rowStyles, isSel bool) string) string {
	content := make([]int, len(cols))
	for i, c := range cols {
		content[i] = ansi.StringWidth(c.Title)
	}
	rows, sel := l.window()
	cells := make([][]string, len(rows))
	for r, it := range rows {
		cells[r] = cellsOf(it.v)
		for i, c := range cells[r] {
			content[i] = max(content[i], ansi.StringWidth(protocol.Printable(c)))
		}
	}
	widths := table.LayoutFit(cols, width-gutterWidth, content)

	lines := make([]string, 0, height)
	lines = append(lines, st.ColumnTitle.Render(strings.Repeat(" ", gutterWidth)+table.Titles(cols, widths)))
	lines = append(lines, empty[:min(len(empty), max(height-1, 0))]...)
	plain := rowStyles{base: st.Pending, mark: st.Marked}
	selected := plain.selected()
	for r, it := range rows {
		rs := plain
		if r == sel {
			rs = selected
		}
		lines = append(lines, row(it.v, cells[r], widths, rs, r == sel))
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// hint is one part of what an empty list says: a sentence, or a command
// to type.
type hint struct {
	text    string
	command bool
}

func say(text string) hint { return hint{text: text} }
func cmd(text string) hint { return hint{text: text, command: true} }
func blankLine() hint      { return hint{} }
func sayOnly(text string) []hint {
	if text == "" {
		return nil
	}
	return []hint{say(text)}
}

// hintLines lays out what an empty list says for a width of w: sentences
// dim and wrapped, commands on lines of their own, as typed — one too long
// for the line goes on over the next ones as a shell would read it, each
// but the last ending in " \\" (a single word too long is cut with "…").
func hintLines(st *styles.Styles, w int, hints []hint) []string {
	var lines []string
	for _, h := range hints {
		text := protocol.Printable(h.text)
		switch {
		case h.text == "":
			lines = append(lines, "")
		case h.command:
			for i, part := range commandLines(text, max(w-4, 1)) {
				indent := "    "
				if i > 0 {
					indent = "      "
				}
				lines = append(lines, indent+st.Command.Render(part))
			}
		default:
			for _, l := range strings.Split(ansi.Wrap(text, max(w-2, 10), ""), "\n") {
				lines = append(lines, st.Dim.Render("  "+ansi.Truncate(l, max(w-2, 1), "…")))
			}
		}
	}
	return lines
}

// commandLines breaks a shell command into lines of at most w cells
// (continuations 2 narrower, for their indent), between words outside
// quotes, each line but the last ending in " \\".
func commandLines(cmd string, w int) []string {
	if ansi.StringWidth(cmd) <= w {
		return []string{cmd}
	}
	var words []string
	start, quoted := 0, false
	for i, r := range cmd {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == ' ' && !quoted:
			if i > start {
				words = append(words, cmd[start:i])
			}
			start = i + 1
		}
	}
	words = append(words, cmd[start:])
	var lines []string
	line, room := "", w
	for _, word := range words {
		if line != "" && ansi.StringWidth(line)+1+ansi.StringWidth(word)+2 > room {
			lines = append(lines, line+" \\")
			line, room = "", max(w-2, 1)
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	lines = append(lines, line)
	for i, l := range lines {
		limit := w
		if i > 0 {
			limit = max(w-2, 1)
		}
		lines[i] = ansi.Truncate(l, limit, "…")
	}
	return lines
}

// noMatch is the empty-state line of a filter that lets nothing through.
func noMatch(what, filter string) string {
	return "No " + what + " matches “" + protocol.Printable(filter) + "”. esc clears the filter."
}

// cellsLine draws one row of a list: the gutter, each visible cell fitted to
// its column and painted in the style styleOf gives its index, one gap
// between cells, and padding out to width — all under the row's styles.
func cellsLine(st *styles.Styles, rs rowStyles, isSel bool, cols []table.Column, widths []int, width int,
	cells []string, styleOf func(i int) styles.Style) string {
	var b strings.Builder
	b.WriteString(rs.gutter(isSel, false))
	first := true
	for i, text := range cells {
		if widths[i] == 0 {
			continue
		}
		if !first {
			b.WriteString(rs.paint(st.Pending, strings.Repeat(" ", table.Gap)))
		}
		first = false
		b.WriteString(rs.paint(styleOf(i), table.Fit(text, widths[i], cols[i].Right)))
	}
	used := gutterWidth + table.WidthOf(widths)
	b.WriteString(rs.paint(st.Pending, strings.Repeat(" ", max(width-used, 0))))
	return b.String()
}
