package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// Exit says how the console ended.
type Exit int

const (
	// ExitQuit: the operator quit (or the console was ended); a gateway
	// the console embeds stops with it.
	ExitQuit Exit = iota
	// ExitKeepServing: the operator quit, asking the gateway the console
	// embeds to keep serving the other operators attached to it.
	ExitKeepServing
)

// quitDialog asks, before a console that embeds its gateway quits, what
// becomes of the gateway for the others attached to it. Who they are is
// asked again each frame: they come and go while it is open.
type quitDialog struct{}

// others names the other operators attached to the gateway this console
// embeds; none for a console attached to a gateway elsewhere.
func (m *Model) others() []string {
	if m.opts.Others == nil {
		return nil
	}
	return m.opts.Others()
}

// askQuit quits at once when nobody else depends on this console's
// gateway, and asks first when somebody does.
func (m *Model) askQuit() tea.Cmd {
	if len(m.others()) == 0 {
		return tea.Quit
	}
	m.quit = &quitDialog{}
	return nil
}

// onQuitKey answers the quit dialog: stop the gateway for everyone, keep
// it serving them without this console, or stay. A second ctrl+c stops.
func (m *Model) onQuitKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.StopGateway), key.Matches(msg, k.Interrupt):
		m.exit = ExitQuit
		return tea.Quit
	case key.Matches(msg, k.KeepServing):
		m.exit = ExitKeepServing
		if len(m.others()) == 0 {
			m.exit = ExitQuit // they left meanwhile: nothing to keep serving
		}
		return tea.Quit
	case key.Matches(msg, k.Deny):
		m.quit = nil
	}
	return nil
}

// quitView is the dialog as things stand: who is attached now.
func (m Model) quitView() string {
	st := m.st
	others := m.others()
	var lines []string
	if len(others) == 0 {
		lines = []string{
			st.DialogTitle.Render("Quit?"),
			"",
			"Nobody else uses this console's gateway now: quitting stops it.",
			"",
			st.HelpKey.Render("s") + " " + st.HelpDesc.Render("quit") + "   " +
				st.HelpKey.Render("n/esc") + " " + st.HelpDesc.Render("stay"),
		}
		return box(st, lines, m.width-2)
	}
	lines = []string{
		st.DialogTitle.Render(fmt.Sprintf("Quit? %s this console's gateway", plural(len(others), "other operator uses", "other operators use"))),
		"",
	}
	const shown = 4
	for _, o := range others[:min(len(others), shown)] {
		lines = append(lines, "  "+protocol.Printable(o))
	}
	if len(others) > shown {
		lines = append(lines, fmt.Sprintf("  and %d more", len(others)-shown))
	}
	lines = append(lines, "",
		st.HelpKey.Render("s")+" "+st.HelpDesc.Render("stop the gateway: they are disconnected"),
		st.HelpKey.Render("k")+" "+st.HelpDesc.Render("keep it serving them without this console;"),
		"  "+st.HelpDesc.Render("it stops when the last one has left"),
		st.HelpKey.Render("n/esc")+" "+st.HelpDesc.Render("stay"),
	)
	return box(st, lines, m.width-2)
}

// quitKeys is the quit dialog's part of the help line.
func quitKeys(k *KeyMap, others int) {
	k.StopGateway.SetEnabled(true)
	k.KeepServing.SetEnabled(others > 0)
	k.Deny.SetEnabled(true)
	k.Deny.SetHelp("n/esc", "stay")
	if others == 0 {
		k.StopGateway.SetHelp("s", "quit")
	} else {
		k.StopGateway.SetHelp("s", "stop the gateway")
	}
}
