package tui

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
	"github.com/pairdeck/pairdeck/tui/table"
)

// pairedRow is an approved node and what the gateway knows of its link.
type pairedRow struct {
	node    protocol.PairedNode
	info    protocol.NodeInfo
	hasInfo bool // node.list answered for this node
}

func newPairedRow(n protocol.PairedNode, info protocol.NodeInfo, hasInfo bool) pairedRow {
	return pairedRow{node: n.WithoutSecrets(), info: info, hasInfo: hasInfo}
}

// searchText is what the filter searches in a node.
func (r pairedRow) searchText() string {
	n := r.node
	return strings.Join([]string{n.DisplayName, n.NodeID, shortID(n.NodeID), n.RemoteIP, n.Platform}, "\x00")
}

func (r pairedRow) name() string { return nameOr(r.node.DisplayName, r.node.NodeID) }

// lastSeen is when the node was last connected, as far as anyone knows.
func (r pairedRow) lastSeen() time.Time {
	ms := max(r.node.LastConnectedAtMs, r.info.LastConnectedAtMs)
	return msTime(ms)
}

func (r pairedRow) stateText() string {
	switch {
	case !r.hasInfo:
		return "? unknown"
	case r.info.Connected:
		return glyphOnline + " online"
	default:
		return glyphOffline + " offline"
	}
}

func (r pairedRow) seenText(now time.Time) string {
	if r.hasInfo && r.info.Connected {
		return "now"
	}
	if t := r.lastSeen(); !t.IsZero() {
		return ago(now.Sub(t))
	}
	return "never"
}

var pairedColumns = []table.Column{
	{Title: "NAME", Min: 14, Grow: 4},
	{Title: "STATE", Min: 9, Max: 9},
	{Title: "NODE", Min: 14, Max: 14, Priority: 2},
	{Title: "PLATFORM", Min: 8, Max: 12, Grow: 1, Priority: 4},
	{Title: "IP", Min: 12, Max: 15, Grow: 1, Priority: 6},
	{Title: "SEEN", Min: 8, Max: 9, Priority: 3, Right: true},
	{Title: "CAPS", Min: 8, Grow: 3, Priority: 5},
}

// pairedView lists approved nodes with their live presence.
type pairedView struct {
	list          rowList[pairedRow]
	width, height int
}

func newPairedView() pairedView {
	return pairedView{list: newRowList(
		func(r pairedRow) string { return r.node.NodeID },
		pairedRow.searchText,
	)}
}

func (v *pairedView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.list.cursor.SetHeight(h - 1)
}

// Replace installs the paired nodes from node.pair.list, with presence from
// node.list when it answered (infos nil: keep what we knew).
func (v *pairedView) Replace(nodes []protocol.PairedNode, infos map[string]protocol.NodeInfo) {
	rows := make([]pairedRow, len(nodes))
	for i, n := range nodes {
		info, ok := infos[n.NodeID]
		if infos == nil {
			if old, had := v.list.Get(n.NodeID); had {
				info, ok = old.info, old.hasInfo
			}
		}
		rows[i] = newPairedRow(n, info, ok)
	}
	v.list.Set(rows)
}

// Approved puts a node this console just approved at the top of the list
// (newest approval first), as a re-list would. A node that was paired
// before keeps what node.list said of it; a new one has no paired socket
// yet, so it is offline until its presence says otherwise.
func (v *pairedView) Approved(n protocol.PairedNode) {
	info, hasInfo := protocol.NodeInfo{NodeID: n.NodeID, Paired: true}, true
	if old, ok := v.list.Remove(n.NodeID); ok {
		info, hasInfo = old.info, old.hasInfo
	}
	v.list.Upsert(newPairedRow(n, info, hasInfo))
}

// Presence records a node connecting or leaving. It reports false for a
// node not in the list (the caller re-lists).
func (v *pairedView) Presence(nodeID string, connected bool, at time.Time) bool {
	return v.list.Update(nodeID, func(r *pairedRow) {
		r.hasInfo = true
		r.info.Connected = connected
		if connected {
			r.info.ConnectedAtMs = at.UnixMilli()
		}
		// Connected or leaving, the node was there just now.
		r.info.LastConnectedAtMs = at.UnixMilli()
	})
}

func (v *pairedView) Rename(nodeID, name string) bool {
	return v.list.Update(nodeID, func(r *pairedRow) {
		n := r.node
		n.DisplayName = name
		*r = newPairedRow(n, r.info, r.hasInfo)
	})
}

func (v *pairedView) Remove(nodeID string) (pairedRow, bool) { return v.list.Remove(nodeID) }
func (v *pairedView) Get(nodeID string) (pairedRow, bool)    { return v.list.Get(nodeID) }
func (v *pairedView) Selected() (pairedRow, bool)            { return v.list.Selected() }

// actions are the keys that act on one node, under the cursor or in the
// detail pane.
func (v *pairedView) actions() []rowAction[pairedRow] {
	always := func(pairedRow) bool { return true }
	return []rowAction[pairedRow]{
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Rename },
			applies: always,
			do: func(r pairedRow) tea.Cmd {
				return emit(startRenameMsg{nodeID: r.node.NodeID, current: r.node.DisplayName})
			},
		},
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Remove },
			applies: always,
			do:      func(r pairedRow) tea.Cmd { return emit(askRemoveMsg{nodeID: r.node.NodeID, name: r.name()}) },
		},
	}
}

// listActions act on the node under the cursor only.
func (v *pairedView) listActions() []rowAction[pairedRow] {
	return []rowAction[pairedRow]{{
		binding: func(k *KeyMap) *key.Binding { return &k.Detail },
		applies: func(pairedRow) bool { return true },
		do:      func(pairedRow) tea.Cmd { return emit(openDetailMsg{}) },
	}}
}

func (v *pairedView) Filter() string                  { return v.list.Filter() }
func (v *pairedView) SetFilter(q string)              { v.list.SetFilter(q) }
func (v *pairedView) Counts() (shown, total int)      { return v.list.Shown(), v.list.Len() }
func (v *pairedView) Position() (int, int, int, bool) { return v.list.Position() }
func (v *pairedView) selectedKey() (string, bool) {
	k := v.list.SelectedKey()
	return k, k != ""
}

func (v *pairedView) enableKeys(k *KeyMap, _ viewCtx) {
	k.navigation(v.list.Shown() > 0)
	r, ok := v.list.Selected()
	enableActions(k, v.actions(), r, ok)
	enableActions(k, v.listActions(), r, ok)
}

func (v *pairedView) onKey(msg tea.KeyPressMsg, k *KeyMap, _ viewCtx) tea.Cmd {
	if moveCursor(&v.list.cursor, msg, *k) {
		return nil
	}
	r, ok := v.list.Selected()
	if cmd, handled := runAction(msg, k, v.actions(), r, ok); handled {
		return cmd
	}
	cmd, _ := runAction(msg, k, v.listActions(), r, ok)
	return cmd
}

func (v *pairedView) enableRowKeys(k *KeyMap, rowKey string, _ viewCtx) bool {
	r, ok := v.list.Get(rowKey)
	enableActions(k, v.actions(), r, ok)
	return ok
}

func (v *pairedView) onRowKey(msg tea.KeyPressMsg, k *KeyMap, rowKey string, _ viewCtx) (tea.Cmd, bool) {
	r, ok := v.list.Get(rowKey)
	return runAction(msg, k, v.actions(), r, ok)
}

func (v *pairedView) details(rowKey string, c viewCtx) (string, []field, bool) {
	r, ok := v.list.Get(rowKey)
	if !ok {
		return "", nil, false
	}
	return "Paired node " + r.name(), pairedFields(r, c.now), true
}

func (v *pairedView) View(c viewCtx, st *styles.Styles) string {
	empty := ""
	switch {
	case !c.loaded:
		empty = "Loading paired nodes…"
	case v.list.Len() == 0:
		empty = "No paired nodes yet. Approve a request to pair one."
	case v.list.Shown() == 0:
		empty = noMatch("node", v.list.Filter())
	}
	return listFrame(st, pairedColumns, v.width, v.height, &v.list, hintLines(st, v.width, sayOnly(empty)),
		func(r pairedRow) []string { return r.cells(c.now) },
		func(r pairedRow, cells []string, widths []int, rs rowStyles, isSel bool) string {
			return v.renderRow(r, cells, widths, st, rs, isSel)
		})
}

// cells are the node's columns, as text.
func (r pairedRow) cells(now time.Time) []string {
	caps := r.node.Caps
	if len(caps) == 0 {
		caps = r.info.Caps
	}
	return []string{
		r.name(),
		r.stateText(),
		shortID(r.node.NodeID),
		r.node.Platform,
		r.node.RemoteIP,
		r.seenText(now),
		strings.Join(caps, ","),
	}
}

func (v *pairedView) renderRow(r pairedRow, cells []string, widths []int, st *styles.Styles, rs rowStyles, isSel bool) string {
	stateStyle := st.Dim
	if r.hasInfo && r.info.Connected {
		stateStyle = st.Connected
	}
	return cellsLine(st, rs, isSel, pairedColumns, widths, v.width, cells, func(i int) styles.Style {
		if i == 1 {
			return stateStyle
		}
		return st.Pending
	})
}
