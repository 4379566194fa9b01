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
	widths        []int
}

func newPairedView() pairedView {
	return pairedView{list: newRowList(
		func(r pairedRow) string { return r.node.NodeID },
		pairedRow.searchText,
	)}
}

func (v *pairedView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.widths = table.Layout(pairedColumns, w-gutterWidth)
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

func (v pairedView) Update(msg tea.KeyPressMsg, keys KeyMap) (pairedView, tea.Cmd) {
	c := &v.list.cursor
	if moveCursor(c, msg, keys) {
		return v, nil
	}
	switch {
	case key.Matches(msg, keys.Rename):
		if r, ok := v.list.Selected(); ok {
			return v, emit(startRenameMsg{nodeID: r.node.NodeID, current: r.node.DisplayName})
		}
	case key.Matches(msg, keys.Remove):
		if r, ok := v.list.Selected(); ok {
			return v, emit(askRemoveMsg{nodeID: r.node.NodeID, name: r.name()})
		}
	case key.Matches(msg, keys.Detail):
		if _, ok := v.list.Selected(); ok {
			return v, emit(openDetailMsg{})
		}
	}
	return v, nil
}

func (v pairedView) View(now time.Time, st *styles.Styles, loaded bool) string {
	empty := ""
	switch {
	case !loaded:
		empty = "Loading paired nodes…"
	case v.list.Len() == 0:
		empty = "No paired nodes yet. Approve a request to pair one."
	case v.list.Shown() == 0:
		empty = noMatch("node", v.list.Filter())
	}
	return listFrame(st, pairedColumns, v.widths, v.height, &v.list, empty, func(r pairedRow, rs rowStyles, isSel bool) string {
		return v.renderRow(r, now, st, rs, isSel)
	})
}

func (v pairedView) renderRow(r pairedRow, now time.Time, st *styles.Styles, rs rowStyles, isSel bool) string {
	stateStyle := st.Dim
	if r.hasInfo && r.info.Connected {
		stateStyle = st.Connected
	}
	caps := r.node.Caps
	if len(caps) == 0 {
		caps = r.info.Caps
	}
	cells := []string{
		r.name(),
		r.stateText(),
		shortID(r.node.NodeID),
		r.node.Platform,
		r.node.RemoteIP,
		r.seenText(now),
		strings.Join(caps, ","),
	}
	return cellsLine(st, rs, isSel, pairedColumns, v.widths, v.width, cells, func(i int) styles.Style {
		if i == 1 {
			return stateStyle
		}
		return st.Pending
	})
}
