// Package table lays out the console's lists: columns that shrink, grow and
// hide by importance as the terminal narrows, and a cursor that scrolls a
// window over rows so a frame only ever touches the rows it shows.
package table

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
)

// Column describes one column of a list.
type Column struct {
	Title string
	// Min is the narrowest width at which the column still says something.
	Min int
	// Max caps growth; 0 means no cap.
	Max int
	// Grow is the column's share of spare width (0: stays at Min).
	Grow int
	// Priority orders hiding when the width runs out: the highest number
	// goes first; 0 is never hidden.
	Priority int
	// Right aligns the cells to the right edge (numbers, times).
	Right bool
	// Off leaves the column out altogether, whatever the width: a list
	// shows it only when its rows have something to put in it.
	Off bool
}

// Gap is the space between two visible columns.
const Gap = 2

// Layout gives each column its width for a line of the given width; hidden
// columns get 0. Columns are hidden in Priority order until the minimum
// widths fit, then spare width is shared by Grow.
func Layout(cols []Column, width int) []int { return LayoutFit(cols, width, nil) }

// LayoutFit is Layout for cells of known widths: content[i] is the widest
// cell of column i (its title included; nil or 0: unknown). Columns hide
// as in Layout; then the spare width goes first to the columns whose cells
// it would otherwise cut, by Grow (at least 1 each), up to what they need
// — Max does not cut content while there is room — and only then, by Grow
// and up to Max, into blank space.
func LayoutFit(cols []Column, width int, content []int) []int {
	widths := make([]int, len(cols))
	visible := make([]bool, len(cols))
	for i, c := range cols {
		visible[i] = !c.Off
	}
	need := func() int {
		n, count := 0, 0
		for i, c := range cols {
			if visible[i] {
				n += c.Min
				count++
			}
		}
		if count > 1 {
			n += Gap * (count - 1)
		}
		return n
	}
	for need() > width {
		victim := -1
		for i, c := range cols {
			if visible[i] && c.Priority > 0 && (victim < 0 || c.Priority >= cols[victim].Priority) {
				victim = i
			}
		}
		if victim < 0 {
			break
		}
		visible[victim] = false
	}

	spare := width - need()
	totalGrow := 0
	for i, c := range cols {
		if visible[i] {
			widths[i] = c.Min
			totalGrow += c.Grow
		}
	}
	// First what the cells need, shared by weight until each has it or the
	// room runs out.
	fill := func() {
		for spare > 0 {
			weight := 0
			for i, c := range cols {
				if visible[i] && i < len(content) && widths[i] < content[i] {
					weight += max(c.Grow, 1)
				}
			}
			if weight == 0 {
				break
			}
			given := 0
			for i, c := range cols {
				if !visible[i] || i >= len(content) || widths[i] >= content[i] || given == spare {
					continue
				}
				add := max(spare*max(c.Grow, 1)/weight, 1)
				add = min(add, spare-given, content[i]-widths[i])
				widths[i] += add
				given += add
			}
			spare -= given
		}
	}
	fill()
	// Columns held at a minimum wider than their cells give the rest to
	// columns whose cells are cut (a "—" does not need an address's room).
	if spare == 0 && wantsMore(visible, widths, content) {
		for i := range cols {
			if visible[i] && i < len(content) && content[i] > 0 && widths[i] > content[i] {
				spare += widths[i] - content[i]
				widths[i] = content[i]
			}
		}
		fill()
	}
	// Then blank space, by Grow, up to Max; a column its cells took past
	// Max takes no more.
	// Share spare width by Grow; a column that hits Max gives the rest back
	// to the others on the next round.
	for spare > 0 && totalGrow > 0 {
		given, nextGrow := 0, 0
		for i, c := range cols {
			if !visible[i] || c.Grow == 0 || (c.Max > 0 && widths[i] >= c.Max) {
				continue
			}
			add := spare * c.Grow / totalGrow
			if add == 0 {
				add = 1
			}
			if add > spare-given {
				add = spare - given
			}
			if c.Max > 0 && widths[i]+add > c.Max {
				add = c.Max - widths[i]
			}
			widths[i] += add
			given += add
			if c.Max == 0 || widths[i] < c.Max {
				nextGrow += c.Grow
			}
		}
		if given == 0 {
			break
		}
		spare -= given
		totalGrow = nextGrow
	}
	// Still too wide with nothing left to hide: squeeze the growable
	// columns rather than overflow the line.
	for over := need() - width; over > 0; over-- {
		widest := -1
		for i, c := range cols {
			if visible[i] && widths[i] > 1 && c.Grow > 0 && (widest < 0 || widths[i] > widths[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		widths[widest]--
	}
	return widths
}

// Fit truncates s to w cells (ending in "…" when cut) and pads it to exactly
// w cells. s is plain text, styled after fitting, and untrusted: what a
// terminal would act on rather than show is escaped first
// (protocol.Printable), so a cell can never carry an escape sequence,
// whoever wrote its text.
func Fit(s string, w int, right bool) string {
	if w <= 0 {
		return ""
	}
	s = protocol.Printable(s)
	sw := ansi.StringWidth(s)
	if sw > w {
		s = ansi.Truncate(s, w, "…")
		sw = ansi.StringWidth(s)
	}
	pad := strings.Repeat(" ", w-sw)
	if right {
		return pad + s
	}
	return s + pad
}

// Titles renders the header line for the given widths.
func Titles(cols []Column, widths []int) string {
	var b strings.Builder
	first := true
	for i, c := range cols {
		if widths[i] == 0 {
			continue
		}
		if !first {
			b.WriteString(strings.Repeat(" ", Gap))
		}
		first = false
		b.WriteString(Fit(c.Title, widths[i], c.Right))
	}
	return b.String()
}

// WidthOf is the width of a line laid out with widths, gaps included.
func WidthOf(widths []int) int {
	n, count := 0, 0
	for _, w := range widths {
		if w > 0 {
			n += w
			count++
		}
	}
	if count > 1 {
		n += Gap * (count - 1)
	}
	return n
}

// wantsMore reports whether a visible column's cells are wider than it.
func wantsMore(visible []bool, widths, content []int) bool {
	for i := range widths {
		if visible[i] && i < len(content) && widths[i] < content[i] {
			return true
		}
	}
	return false
}
