package styles

import (
	"strings"

	"charm.land/lipgloss/v2"
)

// Style is a lipgloss style that paints a line of plain text cheaply. A
// frame paints a few hundred cells, and lipgloss' Render weighs borders,
// padding, wrapping and alignment for each; for a style of colours and
// attributes alone, the escape sequences around a line are the same every
// time, so they are worked out once, when the styles are built. Anything
// else — several lines, tabs, a box — goes to lipgloss as usual.
type Style struct {
	lipgloss.Style
	ink    ink
	cursor *Style // the same, merged with the cursor row's style
}

// ink is what a simple style puts around a line of text.
type ink struct {
	simple      bool
	open, close string
}

// newStyle works out s's ink.
func newStyle(s lipgloss.Style) Style {
	st := Style{Style: s}
	const probe = "\x00"
	r := s.Render(probe)
	if i := strings.Index(r, probe); i >= 0 && strings.Count(r, probe) == 1 && !strings.ContainsAny(r, "\n\r") &&
		lipgloss.Width(r) == lipgloss.Width(probe) {
		st.ink = ink{simple: true, open: r[:i], close: r[i+len(probe):]}
	}
	return st
}

// Render paints text: as lipgloss would, faster for one line of text.
func (s Style) Render(text string) string {
	if s.ink.simple && !strings.ContainsAny(text, "\n\r\t") {
		if s.ink.open == "" && s.ink.close == "" {
			return text
		}
		return s.ink.open + text + s.ink.close
	}
	return s.Style.Render(text)
}

// OnCursor is s as it paints the row under the cursor: s merged with the
// Selected style, s's own settings first.
func (s Style) OnCursor() Style {
	if s.cursor != nil {
		return *s.cursor
	}
	return s
}

// withCursor works out s's cursor-row variant.
func (s Style) withCursor(selected lipgloss.Style) Style {
	c := newStyle(s.Style.Inherit(selected))
	s.cursor = &c
	return s
}
