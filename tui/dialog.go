package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
)

// confirmDialog asks before a bulk decision or a removal. then is the
// message the root acts on when the operator says yes.
type confirmDialog struct {
	title string
	body  []string
	yes   string // what "y" does, in words
	then  tea.Msg
	// bulk, when set, is a bulk decision: its title and body are drawn
	// from the requests it showed as they stand now (Model.bulkView).
	bulk *bulkDialog
}

func (d confirmDialog) Update(msg tea.KeyPressMsg, keys KeyMap) tea.Cmd {
	switch {
	case key.Matches(msg, keys.Confirm):
		return emit(confirmedMsg{then: d.then})
	case key.Matches(msg, keys.Deny):
		return emit(dialogClosedMsg{})
	}
	return nil
}

// View draws the dialog. Its title and body name nodes and say what a
// gateway said: they are escaped before they are styled.
func (d confirmDialog) View(st *styles.Styles, width int) string {
	lines := []string{st.DialogTitle.Render(protocol.Printable(d.title)), ""}
	for _, l := range d.body {
		lines = append(lines, protocol.Printable(l))
	}
	lines = append(lines, "", st.HelpKey.Render("y/enter")+" "+st.HelpDesc.Render(d.yes)+"   "+
		st.HelpKey.Render("n/esc")+" "+st.HelpDesc.Render("cancel"))
	return box(st, lines, width)
}

// tokenNotice is a token the waiting node did not receive: the operator
// must pass it on by hand, so it is shown once, and then forgotten.
type tokenNotice struct {
	name   string
	nodeID string
	token  string
}

// tokenDismissedMsg: the operator closed the token dialog.
type tokenDismissedMsg struct{}

func (t tokenNotice) Update(msg tea.KeyPressMsg, keys KeyMap) tea.Cmd {
	if key.Matches(msg, keys.Dismiss) {
		return emit(tokenDismissedMsg{})
	}
	return nil
}

func (t tokenNotice) View(st *styles.Styles, width int) string {
	lines := []string{
		st.DialogTitle.Render("Token for " + protocol.Printable(t.name)),
		"",
		"The node was approved but did not receive its token",
		"(it is not connected). Give it this token by hand:",
		"",
		st.Token.Render(protocol.Printable(t.token)),
		"",
		st.Expiring.Render(glyphExpiring + " It will not be shown again."),
		"",
		st.HelpKey.Render("enter/esc") + " " + st.HelpDesc.Render("dismiss"),
	}
	return box(st, lines, width)
}

// box frames lines as a dialog no wider than width.
func box(st *styles.Styles, lines []string, width int) string {
	inner := max(width-4, 10) // border and padding
	for i, l := range lines {
		if ansi.StringWidth(l) > inner {
			lines[i] = ansi.Wrap(l, inner, " ")
		}
	}
	return st.Dialog.Render(strings.Join(lines, "\n"))
}

// overlay draws a dialog over the middle of the body (w×h lines), so the
// queue and its countdowns stay in view around it.
func overlay(body, dialog string, w, h int) string {
	lines := strings.Split(body, "\n")
	for len(lines) < h {
		lines = append(lines, "")
	}
	box := strings.Split(dialog, "\n")
	bw := 0
	for _, l := range box {
		bw = max(bw, ansi.StringWidth(l))
	}
	top := max((h-len(box))/2, 0)
	left := max((w-bw)/2, 0)
	for i, l := range box {
		y := top + i
		if y >= len(lines) {
			break
		}
		base := lines[y]
		if bwid := ansi.StringWidth(base); bwid < w {
			base += strings.Repeat(" ", w-bwid)
		}
		before := ansi.Truncate(base, left, "")
		if strings.Contains(before, "\x1b") {
			before += ansi.ResetStyle
		}
		after := ansi.Cut(base, left+bw, w)
		lines[y] = before + l + strings.Repeat(" ", bw-ansi.StringWidth(l)) + after
	}
	return strings.Join(lines[:h], "\n")
}
