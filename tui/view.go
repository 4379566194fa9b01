package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// View is the frame: on the alternate screen, with the terminal's cursor
// in the text input while one is open.
func (m Model) View() tea.View {
	v := tea.NewView(m.frame())
	v.AltScreen = true
	if x, y, ok := m.inputCursor(); ok {
		v.Cursor = tea.NewCursor(x, y)
		v.Cursor.Blink = false
	}
	return v
}

// inputCursor is where the text input's cursor is — on the status line,
// or in the form in the body — when an input is open on a frame that
// shows it.
func (m Model) inputCursor() (x, y int, ok bool) {
	if m.width < minWidth || m.height < minHeight {
		return 0, 0, false
	}
	switch {
	case len(m.tokens) > 0, m.confirm != nil, m.quit != nil, m.page != pageNone:
		return 0, 0, false
	case m.codeForm != nil:
		x, y, ok = m.codeForm.cursor()
		return min(x, m.width-1), 2 + y, ok && 2+y < m.height-2
	case m.prompt != nil:
		x, ok = m.prompt.Cursor(m.width)
		return x, m.height - 2, ok
	}
	return 0, 0, false
}

// frame draws the screen: header, tabs, body, status, help — each exactly
// one line but the body, which fills the rest.
func (m Model) frame() string {
	if m.width == 0 || m.height == 0 {
		return "" // not sized yet: the first WindowSizeMsg is on its way
	}
	if m.width < minWidth || m.height < minHeight {
		return m.tooSmall()
	}
	bodyH := max(m.height-4, 2)
	return strings.Join([]string{
		m.header(),
		m.tabs(),
		m.body(bodyH),
		m.statusLine(),
		m.helpLine(),
	}, "\n")
}

func (m Model) tooSmall() string {
	msg := fmt.Sprintf("terminal too small (need %d×%d, have %d×%d)", minWidth, minHeight, m.width, m.height)
	msg = ansi.Wrap(msg, m.width, " ") + "\n" + m.st.Dim.Render("q quits")
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, msg)
}

func (m Model) body(h int) string {
	var base string
	switch {
	case m.page != pageNone:
		return m.pageView(h)
	case m.codeForm != nil:
		return scrollView(m.codeForm.lines(m.st, m.width), 0, h, m.st)
	case m.detail.open:
		if ok, lines := m.detailLines(); ok {
			base = m.detail.View(lines, m.st)
			break
		}
		fallthrough
	default:
		base = m.current().View(m.viewCtx(), m.st)
	}
	switch {
	case m.quit != nil:
		return overlay(base, m.quitView(), m.width, h)
	case len(m.tokens) > 0:
		return overlay(base, m.tokens[0].View(m.st, m.width-2), m.width, h)
	case m.confirm != nil:
		d := *m.confirm
		if d.bulk != nil {
			d = m.bulkView(*d.bulk)
		}
		return overlay(base, d.View(m.st, m.width-2), m.width, h)
	}
	return base
}

// statusLine is the input when one is open, else the latest flash.
func (m Model) statusLine() string {
	switch {
	case m.prompt != nil:
		return ansi.Truncate(m.prompt.View(), m.width, "")
	case m.flash.active(m.now()):
		return m.flash.View(m.st, m.width, m.st.HelpKey.Render("m")+m.st.HelpDesc.Render(": more"))
	}
	return ""
}

// helpLine is the short help, with "? help" and "q quit" pinned to the
// right so truncation never hides the way to more help or out.
func (m Model) helpLine() string {
	if m.page != pageNone {
		// The help lists every key; here, how to move in a page and out.
		k := m.keys
		closer, what := "?/esc/q", "close help"
		switch m.page {
		case pageMessages:
			closer, what = "m/esc/q", "close messages"
		case pageCode:
			closer, what = "enter/esc", "close for good"
		}
		return spread(m.shortHelp([]key.Binding{k.Up, k.Down}, m.width), m.st.HelpKey.Render(closer)+" "+m.st.HelpDesc.Render(what), m.width)
	}
	tail := m.shortHelp(m.keys.shortTail(), m.width)
	room := m.width - ansi.StringWidth(tail) - 2
	return spread(m.shortHelp(m.keys.ShortHelp(), room), tail, m.width)
}

// shortHelp renders the enabled bindings as "key desc" items that fit in
// width, ending in "…" when some had to be left out.
func (m Model) shortHelp(bindings []key.Binding, width int) string {
	st := m.st
	sep := st.HelpSep.Render(" • ")
	more := st.HelpSep.Render(" …")
	var b strings.Builder
	used := 0
	for i, kb := range bindings {
		if !kb.Enabled() {
			continue
		}
		item := st.HelpKey.Render(kb.Help().Key) + " " + st.HelpDesc.Render(kb.Help().Desc)
		w := ansi.StringWidth(item)
		if used > 0 {
			w += ansi.StringWidth(sep)
		}
		// Keep room for the "…" unless this is the last enabled item.
		reserve := 0
		for _, rest := range bindings[i+1:] {
			if rest.Enabled() {
				reserve = ansi.StringWidth(more)
				break
			}
		}
		if used+w+reserve > width {
			if used > 0 {
				b.WriteString(more)
			}
			break
		}
		if used > 0 {
			b.WriteString(sep)
		}
		b.WriteString(item)
		used += w
	}
	return b.String()
}

// wrapItems joins items with sep into lines no wider than w, breaking only
// between items.
func wrapItems(items []string, sep string, w int) []string {
	var lines []string
	line := ""
	for _, item := range items {
		if line != "" && ansi.StringWidth(line)+ansi.StringWidth(sep)+ansi.StringWidth(item) > w {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += sep
		}
		line += item
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
