package tui

import "strings"

// syncKeys enables exactly the bindings that do something right now. The
// help is drawn from the same bindings, so it cannot offer a dead key; and
// which keys apply is each view's own answer (enableKeys), the same one
// that decides what its keys do.
func (m *Model) syncKeys() {
	k := &m.keys
	for _, b := range k.all() {
		b.SetEnabled(false)
	}
	k.Interrupt.SetEnabled(true)

	switch {
	case m.quit != nil:
		quitKeys(k, len(m.others()))
		return
	case len(m.tokens) > 0:
		k.Dismiss.SetEnabled(true)
		k.Dismiss.SetHelp("enter/esc", "dismiss")
		return
	case m.confirm != nil:
		k.Confirm.SetEnabled(true)
		k.Deny.SetEnabled(true)
		k.Deny.SetHelp("n/esc", "cancel")
		return
	case m.codeForm != nil:
		k.Submit.SetEnabled(!m.codeForm.busy)
		k.Submit.SetHelp("enter", "create code")
		k.Cancel.SetEnabled(true)
		k.Cancel.SetHelp("esc", "cancel")
		k.NextField.SetEnabled(true)
		k.PrevField.SetEnabled(true)
		k.Toggle.SetEnabled(m.codeForm.focus == cfExec)
		return
	case m.prompt != nil:
		k.Submit.SetEnabled(true)
		k.Cancel.SetEnabled(true)
		switch {
		case m.prompt.purpose == promptRename:
			k.Submit.SetHelp("enter", "save name")
		case m.prompt.purpose == promptReason:
			verb := m.prompt.ask.verb()
			if strings.TrimSpace(m.prompt.Value()) == "" {
				k.Submit.SetHelp("enter", verb+" without a reason")
			} else {
				k.Submit.SetHelp("enter", verb+" with this reason")
			}
			k.Cancel.SetHelp("esc", "do not "+verb)
			return
		default:
			k.Submit.SetHelp("enter", "apply filter")
		}
		k.Cancel.SetHelp("esc", "cancel")
		return
	}

	k.Help.SetEnabled(true)
	k.Quit.SetEnabled(true)
	if m.page != pageNone {
		// A page of its own: it scrolls, and the key that opened it, esc
		// and q close it.
		what := "close help"
		k.Help.SetEnabled(m.page == pageHelp)
		switch m.page {
		case pageMessages:
			what = "close messages"
			k.Messages.SetEnabled(true)
			k.Messages.SetHelp("m", what)
		case pageCode:
			what = "close for good"
			k.Dismiss.SetEnabled(true)
			k.Dismiss.SetHelp("enter/esc", what)
		}
		k.Help.SetHelp("?", what)
		k.Quit.SetHelp("q", what)
		k.Back.SetEnabled(true)
		k.Back.SetHelp("esc", what)
		k.navigation(m.pageScrolls())
		k.Up.SetHelp("↑/k", "scroll up")
		k.Down.SetHelp("↓/j", "scroll down")
		return
	}
	k.Help.SetHelp("?", "help")
	k.Quit.SetHelp("q", "quit")
	k.Messages.SetHelp("m", "messages")
	k.Messages.SetEnabled(len(m.messages) > 0)
	c := m.viewCtx()

	if m.detail.open {
		k.Back.SetEnabled(true)
		k.Back.SetHelp("esc", "close details")
		k.navigation(true)
		k.Up.SetHelp("↑/k", "scroll up")
		k.Down.SetHelp("↓/j", "scroll down")
		m.views()[m.detail.view].enableRowKeys(k, m.detail.key, c)
		return
	}
	k.Up.SetHelp("↑/k", "up")
	k.Down.SetHelp("↓/j", "down")

	v := m.current()
	k.NextView.SetEnabled(true)
	k.PrevView.SetEnabled(true)
	k.Filter.SetEnabled(true)
	k.ClearFilter.SetEnabled(v.Filter() != "")
	// The switch is a pairdeck gateway's; another has none to toggle.
	k.TogglePairing.SetEnabled(m.pairing.sure() && !m.pairing.busy)
	if m.pairing.enabled {
		k.TogglePairing.SetHelp("P", "stop pairing")
	} else {
		k.TogglePairing.SetHelp("P", "allow pairing")
	}
	v.enableKeys(k, c)
}
