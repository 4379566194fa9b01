package tui

import (
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
	"github.com/pairdeck/pairdeck/tui/table"
)

// blockedRow is a node id the gateway refuses, and how often it tried.
type blockedRow struct {
	node protocol.BlockedNode
}

func newBlockedRow(b protocol.BlockedNode) blockedRow { return blockedRow{node: b} }

// searchText is what the filter searches in a blocked node.
func (r blockedRow) searchText() string {
	b := r.node
	return strings.Join([]string{b.DisplayName, b.NodeID, shortID(b.NodeID), b.LastRemoteIP, b.BlockedBy, b.Reason}, "\x00")
}

func (r blockedRow) name() string { return nameOr(r.node.DisplayName, r.node.NodeID) }

var blockedColumns = []table.Column{
	{Title: "NAME", Min: 14, Grow: 4},
	{Title: "NODE", Min: 14, Max: 14, Priority: 2},
	{Title: "TRIES", Min: 5, Max: 7, Right: true},
	{Title: "LAST TRY", Min: 8, Max: 8, Priority: 3, Right: true},
	{Title: "BLOCKED", Min: 8, Max: 8, Priority: 5, Right: true},
	{Title: "BY", Min: 12, Max: 28, Grow: 2, Priority: 4},
	{Title: "LAST IP", Min: 12, Max: 15, Priority: 6},
	{Title: "REASON", Min: 10, Grow: 3, Priority: 7},
}

// blockedView lists the blocked node ids: the pests the gateway ignores.
type blockedView struct {
	list rowList[blockedRow]
	// supported is false until a pairdeck gateway has listed its block
	// list (another gateway has none).
	supported     bool
	width, height int
}

func newBlockedView() blockedView {
	return blockedView{list: newRowList(
		func(r blockedRow) string { return r.node.NodeID },
		blockedRow.searchText,
	)}
}

func (v *blockedView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.list.cursor.SetHeight(h - 1)
}

// Replace installs the block list as listed.
func (v *blockedView) Replace(nodes []protocol.BlockedNode) {
	rows := make([]blockedRow, len(nodes))
	for i, b := range nodes {
		rows[i] = newBlockedRow(b)
	}
	v.list.Set(rows)
}

// Upsert shows a new block at the top, or new counters in place.
func (v *blockedView) Upsert(b protocol.BlockedNode) bool { return v.list.Upsert(newBlockedRow(b)) }

func (v *blockedView) Remove(nodeID string) (blockedRow, bool) { return v.list.Remove(nodeID) }
func (v *blockedView) Get(nodeID string) (blockedRow, bool)    { return v.list.Get(nodeID) }
func (v *blockedView) Selected() (blockedRow, bool)            { return v.list.Selected() }

// unblockMsg asks to take a node off the block list now.
type unblockMsg struct {
	nodeID string
	name   string
}

// actions are the keys that act on one blocked node.
func (v *blockedView) actions() []rowAction[blockedRow] {
	return []rowAction[blockedRow]{{
		binding: func(k *KeyMap) *key.Binding { return &k.Unblock },
		applies: func(blockedRow) bool { return true },
		do:      func(r blockedRow) tea.Cmd { return emit(unblockMsg{nodeID: r.node.NodeID, name: r.name()}) },
	}}
}

func (v *blockedView) Filter() string                  { return v.list.Filter() }
func (v *blockedView) SetFilter(q string)              { v.list.SetFilter(q) }
func (v *blockedView) Counts() (shown, total int)      { return v.list.Shown(), v.list.Len() }
func (v *blockedView) Position() (int, int, int, bool) { return v.list.Position() }

// The block list has no detail pane: its row says all there is.
func (v *blockedView) selectedKey() (string, bool)                     { return "", false }
func (v *blockedView) enableRowKeys(*KeyMap, string, viewCtx) bool     { return false }
func (v *blockedView) details(string, viewCtx) (string, []field, bool) { return "", nil, false }
func (v *blockedView) onRowKey(tea.KeyPressMsg, *KeyMap, string, viewCtx) (tea.Cmd, bool) {
	return nil, false
}

func (v *blockedView) enableKeys(k *KeyMap, _ viewCtx) {
	k.navigation(v.list.Shown() > 0)
	r, ok := v.list.Selected()
	enableActions(k, v.actions(), r, ok)
}

func (v *blockedView) onKey(msg tea.KeyPressMsg, k *KeyMap, _ viewCtx) tea.Cmd {
	if moveCursor(&v.list.cursor, msg, *k) {
		return nil
	}
	r, ok := v.list.Selected()
	cmd, _ := runAction(msg, k, v.actions(), r, ok)
	return cmd
}

func (v *blockedView) View(c viewCtx, st *styles.Styles) string {
	empty := ""
	switch {
	case !c.loaded:
		empty = "Loading the block list…"
	case !v.supported:
		empty = "This gateway keeps no block list (it is not a pairdeck gateway)."
	case v.list.Len() == 0:
		empty = "Nobody is blocked. Press b on a pending request to ignore its node for good."
	case v.list.Shown() == 0:
		empty = noMatch("blocked node", v.list.Filter())
	}
	return listFrame(st, blockedColumns, v.width, v.height, &v.list, hintLines(st, v.width, sayOnly(empty)),
		func(r blockedRow) []string { return r.cells(c.now) },
		func(r blockedRow, cells []string, widths []int, rs rowStyles, isSel bool) string {
			return v.renderRow(cells, widths, st, rs, isSel)
		})
}

// cells are the blocked node's columns, as text.
func (r blockedRow) cells(now time.Time) []string {
	b := r.node
	last := "never"
	if t := msTime(b.LastAttemptMs); !t.IsZero() {
		last = ago(now.Sub(t))
	}
	return []string{
		glyphBlocked + " " + r.name(),
		shortID(b.NodeID),
		strconv.FormatInt(b.Attempts, 10),
		last,
		ago(now.Sub(msTime(b.BlockedAtMs))),
		orDash(b.BlockedBy),
		orDash(b.LastRemoteIP),
		orDash(b.Reason),
	}
}

func (v *blockedView) renderRow(cells []string, widths []int, st *styles.Styles, rs rowStyles, isSel bool) string {
	return cellsLine(st, rs, isSel, blockedColumns, widths, v.width, cells, func(i int) styles.Style {
		switch i {
		case 0:
			return st.Blocked
		case 1, 4, 5, 6, 7:
			return st.Dim
		}
		return st.Pending
	})
}
