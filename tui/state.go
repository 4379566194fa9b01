package tui

// syncKeys enables exactly the bindings that do something right now. The
// help is drawn from the same bindings, so it cannot offer a dead key.
func (m *Model) syncKeys() {
	k := &m.keys
	for _, b := range k.all() {
		b.SetEnabled(false)
	}
	k.Interrupt.SetEnabled(true)

	switch {
	case len(m.tokens) > 0:
		k.Dismiss.SetEnabled(true)
		return
	case m.confirm != nil:
		k.Confirm.SetEnabled(true)
		k.Deny.SetEnabled(true)
		return
	case m.prompt != nil:
		k.Submit.SetEnabled(true)
		k.Cancel.SetEnabled(true)
		if m.prompt.purpose == promptRename {
			k.Submit.SetHelp("enter", "save name")
		} else {
			k.Submit.SetHelp("enter", "apply filter")
		}
		return
	}

	k.Help.SetEnabled(true)
	k.Quit.SetEnabled(true)
	k.Back.SetEnabled(m.showHelp)
	if m.showHelp {
		k.Help.SetHelp("?", "close help")
	} else {
		k.Help.SetHelp("?", "help")
	}
	now := m.now()

	if m.detail.open {
		k.Back.SetEnabled(true)
		k.Back.SetHelp("esc", "close details")
		k.navigation(true)
		k.Up.SetHelp("↑/k", "scroll up")
		k.Down.SetHelp("↓/j", "scroll down")
		switch m.detail.kind {
		case detailPending:
			if r, ok := m.pending.Get(m.detail.key); ok {
				can := m.pending.actionable(r, now)
				k.Approve.SetEnabled(can)
				k.Reject.SetEnabled(can)
				k.Rename.SetEnabled(true)
				k.Block.SetEnabled(m.blocked.supported && m.pending.busy[r.req.RequestID] == "")
			}
		case detailPaired:
			k.Rename.SetEnabled(true)
			k.Remove.SetEnabled(true)
		}
		return
	}
	k.Back.SetHelp("esc", "close help")
	k.Up.SetHelp("↑/k", "up")
	k.Down.SetHelp("↓/j", "down")

	k.NextView.SetEnabled(true)
	k.PrevView.SetEnabled(true)
	k.Filter.SetEnabled(true)
	k.ClearFilter.SetEnabled(m.currentList().filter != "")
	// The switch is a pairdeck gateway's; another has none to toggle.
	k.TogglePairing.SetEnabled(m.pairing.known && !m.pairing.busy)
	if m.pairing.enabled {
		k.TogglePairing.SetHelp("P", "stop pairing")
	} else {
		k.TogglePairing.SetHelp("P", "allow pairing")
	}

	switch m.view {
	case viewPending:
		k.navigation(m.pending.list.Shown() > 0)
		if r, ok := m.pending.Selected(); ok {
			can := m.pending.actionable(r, now)
			k.Approve.SetEnabled(can)
			k.Reject.SetEnabled(can)
			k.Rename.SetEnabled(true)
			k.Mark.SetEnabled(true)
			k.Detail.SetEnabled(true)
			k.Block.SetEnabled(m.blocked.supported && m.pending.busy[r.req.RequestID] == "")
		}
		marked := m.pending.MarkCount() > 0
		k.ApproveMarked.SetEnabled(marked)
		k.RejectMarked.SetEnabled(marked)
	case viewPaired:
		k.navigation(m.paired.list.Shown() > 0)
		if _, ok := m.paired.Selected(); ok {
			k.Rename.SetEnabled(true)
			k.Remove.SetEnabled(true)
			k.Detail.SetEnabled(true)
		}
	case viewActivity:
		k.navigation(m.activity.list.Shown() > 0)
	case viewBlocked:
		k.navigation(m.blocked.list.Shown() > 0)
		_, ok := m.blocked.Selected()
		k.Unblock.SetEnabled(ok)
	}
}
