package tui

import (
	"slices"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/styles"
)

// viewID is one of the screens tab cycles through.
type viewID int

const (
	viewPending viewID = iota
	viewPaired
	viewActivity
	viewBlocked
	viewCodes
	viewCount
)

// listView is a screen tab cycles through. It owns its rows and the keys
// that act on them: which apply, and what they do. The same row actions
// serve the row under the list's cursor and the row the detail pane shows,
// so the two can never disagree.
type listView interface {
	SetSize(w, h int)
	// Filter is the query in force; shown and total count the rows.
	Filter() string
	SetFilter(q string)
	Counts() (shown, total int)
	// Position is the window over the rows shown (see rowList.Position).
	Position() (first, last, n int, scrolls bool)

	// enableKeys turns on the keys of the list and of the row under its
	// cursor that apply now; onKey does what they say.
	enableKeys(k *KeyMap, c viewCtx)
	onKey(msg tea.KeyPressMsg, k *KeyMap, c viewCtx) tea.Cmd

	// A row by key, for the detail pane (views without one report
	// false): the keys that act on it, and its fields.
	selectedKey() (string, bool)
	enableRowKeys(k *KeyMap, rowKey string, c viewCtx) bool
	onRowKey(msg tea.KeyPressMsg, k *KeyMap, rowKey string, c viewCtx) (tea.Cmd, bool)
	details(rowKey string, c viewCtx) (title string, fields []field, ok bool)

	View(c viewCtx, st *styles.Styles) string
}

// viewCtx is what a view needs to know of the world outside it.
type viewCtx struct {
	now      time.Time
	loaded   bool // the first list has arrived
	canBlock bool // the gateway keeps a block list
	pairing  pairingSwitch
	features features // what the gateway offers
	// paired reports whether a node is paired (in the Paired view's own
	// list, so a gateway renames it).
	paired func(nodeID string) bool
}

// offered reports whether the gateway has what view v shows: every
// gateway has a queue, nodes and activity; the Blocked view is a block
// list's, the Codes view a gateway's that issues setup codes.
func (m *Model) offered(v viewID) bool {
	switch v {
	case viewBlocked:
		return m.features.offers(FeatureBlockList)
	case viewCodes:
		return m.features.offers(FeatureCodes)
	}
	return true
}

// nextView is the view step tabs away from the one on show, passing over
// those the gateway does not offer.
func (m *Model) nextView(step int) viewID {
	v := m.view
	for range viewCount {
		v = (v + viewID(step) + viewCount) % viewCount
		if m.offered(v) {
			return v
		}
	}
	return viewPending
}

// views are the screens, in tab order.
func (m *Model) views() [viewCount]listView {
	return [viewCount]listView{&m.pending, &m.paired, &m.activity, &m.blocked, &m.codes}
}

// current is the screen on show.
func (m *Model) current() listView { return m.views()[m.view] }

func (m *Model) viewCtx() viewCtx {
	return viewCtx{
		now: m.now(), loaded: m.sync.loaded, pairing: m.pairing, features: m.features,
		canBlock: m.blocked.supported && m.features.offers(FeatureBlockList),
		paired:   m.paired.listed,
	}
}

// rowAction is one thing a key does to a row: when it applies, what it
// does (usually: what it asks the root for), and — for a key the operator
// may press on a row it no longer applies to — why it does nothing.
type rowAction[R any] struct {
	binding func(*KeyMap) *key.Binding
	applies func(R) bool
	// ready, when set, must also hold for the key to act as it is
	// pressed (it does not change what the help offers): the operator has
	// had the row in view long enough.
	ready func(R) bool
	do    func(R) tea.Cmd
	// refused explains a key pressed where it does not apply ("" says
	// nothing); nil for keys that need no explaining.
	refused func(R) string
}

// enableActions turns each action's key on when it applies to r (ok:
// there is a row at all).
func enableActions[R any](k *KeyMap, acts []rowAction[R], r R, ok bool) {
	for _, a := range acts {
		a.binding(k).SetEnabled(ok && a.applies(r))
	}
}

// runAction does the action msg's key names, if it applies to r now. The
// key is matched whether or not its binding is enabled: the binding shows
// what applied when the frame was drawn, the check here what applies now.
// handled is false when msg is none of the actions' keys.
func runAction[R any](msg tea.KeyPressMsg, k *KeyMap, acts []rowAction[R], r R, ok bool) (cmd tea.Cmd, handled bool) {
	for _, a := range acts {
		if !pressed(msg, *a.binding(k)) {
			continue
		}
		switch {
		case ok && a.applies(r) && (a.ready == nil || a.ready(r)):
			return a.do(r), true
		case ok && a.refused != nil:
			if why := a.refused(r); why != "" {
				return emit(refusedMsg{why: why}), true
			}
		}
		return nil, true
	}
	return nil, false
}

// pressed reports whether msg is one of b's keys, enabled or not.
func pressed(msg tea.KeyPressMsg, b key.Binding) bool {
	return slices.Contains(b.Keys(), msg.String())
}

// refusedMsg says why a key did nothing; the root shows it.
type refusedMsg struct{ why string }
