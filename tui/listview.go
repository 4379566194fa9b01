package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

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

// listFrame draws a list view: the column titles, a line saying why no row
// shows (when empty is set), the rows in the cursor's window — never more,
// whatever the list's length — and blank lines down to height.
func listFrame[T any](st *styles.Styles, cols []table.Column, widths []int, height int, l *rowList[T], empty string,
	row func(r T, rs rowStyles, isSel bool) string) string {
	lines := make([]string, 0, height)
	lines = append(lines, st.ColumnTitle.Render(strings.Repeat(" ", gutterWidth)+table.Titles(cols, widths)))
	if empty != "" {
		lines = append(lines, st.Dim.Render("  "+protocol.Printable(empty)))
	}
	plain := rowStyles{base: st.Pending, mark: st.Marked}
	selected := plain.selected()
	l.Window(func(r T, isSel bool) {
		rs := plain
		if isSel {
			rs = selected
		}
		lines = append(lines, row(r, rs, isSel))
	})
	for len(lines) < height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
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
