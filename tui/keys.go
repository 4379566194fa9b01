package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the console answers to, and its help. The model
// enables only the bindings that apply to what is on screen (see syncKeys),
// so the help — short and full — never offers a key that would do nothing.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	Top      key.Binding
	Bottom   key.Binding
	PageUp   key.Binding
	PageDown key.Binding

	Approve       key.Binding
	Reject        key.Binding
	Rename        key.Binding
	Remove        key.Binding
	Mark          key.Binding
	ApproveMarked key.Binding
	RejectMarked  key.Binding
	Block         key.Binding
	Unblock       key.Binding
	// NewCode and Revoke create and revoke setup codes (Codes view).
	NewCode key.Binding
	Revoke  key.Binding

	// TogglePairing switches the gateway's pairing on or off.
	TogglePairing key.Binding
	// Sort cycles the queue's order.
	Sort key.Binding
	// Messages shows the recent flash messages in full.
	Messages key.Binding

	Filter      key.Binding
	ClearFilter key.Binding
	Detail      key.Binding
	Back        key.Binding
	NextView    key.Binding
	PrevView    key.Binding

	// While a text input has the focus.
	Submit key.Binding
	Cancel key.Binding
	// In a form: from field to field, and a yes/no field.
	NextField key.Binding
	PrevField key.Binding
	Toggle    key.Binding

	// In a dialog.
	Confirm key.Binding
	Deny    key.Binding
	Dismiss key.Binding

	// Quitting a console whose gateway others use.
	StopGateway key.Binding
	KeepServing key.Binding

	Help      key.Binding
	Quit      key.Binding
	Interrupt key.Binding
}

// DefaultKeyMap follows the conventions of k9s and lazygit: vi movement,
// / to filter, esc to go back, ? for help, q to quit.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:      key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g/home", "first")),
		Bottom:   key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G/end", "last")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),

		Approve:       key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "approve")),
		Reject:        key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reject")),
		Rename:        key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "rename")),
		Remove:        key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "remove")),
		Mark:          key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "mark")),
		ApproveMarked: key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "approve marked")),
		RejectMarked:  key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "reject marked")),
		Block:         key.NewBinding(key.WithKeys("b"), key.WithHelp("b", "block")),
		Unblock:       key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "unblock")),
		NewCode:       key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new code")),
		Revoke:        key.NewBinding(key.WithKeys("x", "d"), key.WithHelp("x/d", "revoke")),
		TogglePairing: key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "stop pairing")),
		Sort:          key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Messages:      key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "messages")),

		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Detail:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "details")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		NextView:    key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next view")),
		PrevView:    key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev view")),

		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),

		NextField: key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab/↓", "next field")),
		PrevField: key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab/↑", "previous field")),
		Toggle:    key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "toggle")),

		Confirm: key.NewBinding(key.WithKeys("y", "enter"), key.WithHelp("y/enter", "confirm")),
		Deny:    key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel")),
		Dismiss: key.NewBinding(key.WithKeys("enter", "esc"), key.WithHelp("enter/esc", "dismiss")),

		StopGateway: key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "stop the gateway")),
		KeepServing: key.NewBinding(key.WithKeys("k"), key.WithHelp("k", "keep it serving")),

		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// ShortHelp is the one-line help: what can be done to the row under the
// cursor, or in the dialog or input that has the focus. The view keeps "?"
// and "q" in sight by rendering them apart (see helpLine).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{
		k.Submit, k.Cancel, k.NextField, k.Toggle, k.PrevField, k.Confirm, k.StopGateway, k.KeepServing, k.Deny, k.Dismiss,
		k.Approve, k.Reject, k.ApproveMarked, k.RejectMarked, k.Rename, k.Remove, k.Unblock, k.NewCode, k.Revoke,
		k.Mark, k.Detail, k.Block, k.Back, k.ClearFilter, k.Filter, k.NextView, k.Sort, k.TogglePairing, k.Messages,
	}
}

// shortTail is always drawn at the right end of the help line.
func (k KeyMap) shortTail() []key.Binding {
	return []key.Binding{k.Help, k.Quit}
}

// FullHelp is the "?" screen, in columns: moving, deciding, the views and
// the app, and — never reachable from "?" but listed for completeness —
// the keys of inputs and dialogs.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Approve, k.Reject, k.Mark, k.ApproveMarked, k.RejectMarked, k.Rename, k.Remove, k.Block, k.Unblock, k.NewCode, k.Revoke},
		{k.Filter, k.ClearFilter, k.Sort, k.Detail, k.Back, k.NextView, k.PrevView, k.TogglePairing, k.Messages, k.Help, k.Quit, k.Interrupt},
		{k.Submit, k.Cancel, k.NextField, k.PrevField, k.Toggle, k.Confirm, k.Deny, k.Dismiss, k.StopGateway, k.KeepServing},
	}
}

// all lists every binding, for switching them all off at once.
func (k *KeyMap) all() []*key.Binding {
	return []*key.Binding{
		&k.Up, &k.Down, &k.Top, &k.Bottom, &k.PageUp, &k.PageDown,
		&k.Approve, &k.Reject, &k.Rename, &k.Remove, &k.Mark, &k.ApproveMarked, &k.RejectMarked,
		&k.Block, &k.Unblock, &k.NewCode, &k.Revoke, &k.TogglePairing, &k.Sort, &k.Messages,
		&k.Filter, &k.ClearFilter, &k.Detail, &k.Back, &k.NextView, &k.PrevView,
		&k.Submit, &k.Cancel, &k.NextField, &k.PrevField, &k.Toggle, &k.Confirm, &k.Deny, &k.Dismiss, &k.StopGateway, &k.KeepServing,
		&k.Help, &k.Quit, &k.Interrupt,
	}
}

// navigation switches the movement keys together.
func (k *KeyMap) navigation(on bool) {
	for _, b := range []*key.Binding{&k.Up, &k.Down, &k.Top, &k.Bottom, &k.PageUp, &k.PageDown} {
		b.SetEnabled(on)
	}
}
