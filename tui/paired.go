package tui

import (
	"slices"
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
	// unlisted: the gateway knows the node (node.list: its device is
	// paired) but holds no paired record of it (node.pair.list) — an
	// OpenClaw node whose commands wait for approval or were refused.
	unlisted bool
	// asking is the request of a node whose gateway does not say the
	// approval state (OpenClaw 2026.4): a paired node asking again is
	// waiting for re-approval, as the queue shows.
	asking string
}

func newPairedRow(n protocol.PairedNode, info protocol.NodeInfo, hasInfo bool) pairedRow {
	return pairedRow{node: n.WithoutSecrets(), info: info, hasInfo: hasInfo}
}

// unlistedRow is a node known only from node.list, as a row.
func unlistedRow(info protocol.NodeInfo) pairedRow {
	n := protocol.PairedNode{
		NodeID: info.NodeID,
		NodeMeta: protocol.NodeMeta{
			DisplayName: info.DisplayName, Platform: info.Platform, Version: info.Version,
			CoreVersion: info.CoreVersion, UIVersion: info.UIVersion, DeviceFamily: info.DeviceFamily,
			ModelIdentifier: info.ModelIdentifier, RemoteIP: info.RemoteIP,
		},
		ApprovedAtMs: info.ApprovedAtMs,
		ClientID:     info.ClientID, ClientMode: info.ClientMode,
	}
	return pairedRow{node: n, info: info, hasInfo: true, unlisted: true}
}

// approval is whether the node's commands are approved
// (protocol.Approval*), as its gateway says, or as the queue shows on a
// gateway that does not say; "" on pairdeck's gateway, where a paired
// node is an approved one.
func (r pairedRow) approval() string {
	if s := r.info.ApprovalState; s != "" {
		return s
	}
	if r.asking != "" {
		return protocol.ApprovalPendingReapproval
	}
	return ""
}

// pendingRequest is the request that waits for the node's approval.
func (r pairedRow) pendingRequest() string {
	if r.info.PendingRequestID != "" {
		return r.info.PendingRequestID
	}
	return r.asking
}

// approvalText is the approval state as glyph + word, for the column.
func approvalText(state string) string {
	switch state {
	case "":
		return ""
	case protocol.ApprovalApproved:
		return glyphApproved + " approved"
	case protocol.ApprovalPending:
		return glyphWaiting + " pending"
	case protocol.ApprovalPendingReapproval:
		return glyphRepair + " re-approval"
	case protocol.ApprovalUnapproved:
		return glyphRejected + " unapproved"
	}
	return glyphUnknown + " " + state
}

// approvalSentence says the approval state in full, for the detail pane.
func (r pairedRow) approvalSentence() string {
	req := ""
	if id := r.pendingRequest(); id != "" {
		req = " (request " + id + ", in Pending)"
	}
	switch state := r.approval(); state {
	case protocol.ApprovalApproved:
		return glyphApproved + " approved: its commands may run"
	case protocol.ApprovalPending:
		return glyphWaiting + " waiting for approval: its device is paired, its commands may not run yet" + req
	case protocol.ApprovalPendingReapproval:
		return glyphRepair + " waiting for re-approval: it asks for more than was approved" + req
	case protocol.ApprovalUnapproved:
		return glyphRejected + " not approved: its device is paired, but its commands were refused or never approved"
	default:
		return approvalText(state)
	}
}

// searchText is what the filter searches in a node.
func (r pairedRow) searchText() string {
	n := r.node
	return strings.Join([]string{n.DisplayName, n.NodeID, shortID(n.NodeID), n.RemoteIP, n.Platform}, "\x00")
}

func (r pairedRow) name() string { return nameOr(r.node.DisplayName, r.node.NodeID) }

// lastSeen is when the node was last connected, as far as anyone knows.
func (r pairedRow) lastSeen() time.Time {
	ms := max(r.node.LastConnectedAtMs, r.info.LastConnectedAtMs, r.node.LastSeenAtMs, r.info.LastSeenAtMs)
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

// pairedColumns are the Paired view's columns. APPROVAL shows only for a
// gateway that tells a paired device from an approved node (OpenClaw's).
var pairedColumns = []table.Column{
	{Title: "NAME", Min: 14, Grow: 4},
	{Title: "STATE", Min: 9, Max: 9},
	pcApproval: {Title: "APPROVAL", Min: 13, Max: 13, Priority: 1},
	{Title: "NODE", Min: 14, Max: 14, Priority: 2},
	{Title: "PLATFORM", Min: 8, Max: 12, Grow: 1, Priority: 4},
	{Title: "IP", Min: 12, Max: 15, Grow: 1, Priority: 6},
	{Title: "SEEN", Min: 8, Max: 9, Priority: 3, Right: true},
	{Title: "CAPS", Min: 8, Grow: 3, Priority: 5},
}

// The paired columns whose index matters.
const (
	pcState    = 1
	pcApproval = 2
)

// pairedColumnsOff are the columns without APPROVAL.
var pairedColumnsOff = func() []table.Column {
	cols := slices.Clone(pairedColumns)
	cols[pcApproval].Off = true
	return cols
}()

// pairedView lists approved nodes with their live presence — and, from a
// gateway that tells them apart, the nodes whose device is paired while
// their commands wait for approval or were refused, each saying which.
type pairedView struct {
	list rowList[pairedRow]
	// infos are the gateway's nodes as node.list last gave them.
	infos map[string]protocol.NodeInfo
	// approvals: some row has an approval state to show.
	approvals     bool
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
// node.list when it answered (nodes nil: keep what we knew). Nodes that
// node.list gives an approval state but node.pair.list does not hold
// (OpenClaw's waiting and refused nodes) follow, in node.list's order.
func (v *pairedView) Replace(paired []protocol.PairedNode, nodes []protocol.NodeInfo, infos map[string]protocol.NodeInfo) {
	rows := make([]pairedRow, 0, len(paired))
	listed := make(map[string]bool, len(paired))
	v.approvals = false
	add := func(r pairedRow) {
		rows = append(rows, r)
		v.approvals = v.approvals || r.approval() != ""
	}
	for _, n := range paired {
		listed[n.NodeID] = true
		info, ok := infos[n.NodeID]
		if infos == nil {
			if old, had := v.list.Get(n.NodeID); had {
				info, ok = old.info, old.hasInfo
			}
		}
		add(newPairedRow(n, info, ok))
	}
	if infos == nil {
		// node.list did not answer: the nodes known only from it stay.
		v.list.Each(func(r pairedRow) {
			if r.unlisted && !listed[r.node.NodeID] {
				add(r)
			}
		})
	} else {
		v.infos = infos
		for _, n := range nodes {
			if n.ApprovalState != "" && !listed[n.NodeID] {
				listed[n.NodeID] = true
				add(unlistedRow(n))
			}
		}
	}
	v.list.Set(rows)
}

// Approved puts a node this console just approved at the top of the list
// (newest approval first), as a re-list would. A node that was paired
// before keeps what node.list said of it; on pairdeck's gateway a new one
// has no paired socket yet, so it is offline until its presence says
// otherwise. On a gateway whose nodes are connected while they wait
// (asConnected: OpenClaw's, which sends no presence pairdeck reads), a new
// one is as node.list last saw it, its commands now approved.
func (v *pairedView) Approved(n protocol.PairedNode, asConnected bool) {
	info, hasInfo := protocol.NodeInfo{NodeID: n.NodeID, Paired: true}, true
	// The answer may name the node only (OpenClaw's): what was known of
	// it fills the rest.
	known := protocol.NodeMeta{}
	if old, ok := v.list.Remove(n.NodeID); ok {
		info, hasInfo, known = old.info, old.hasInfo, old.node.NodeMeta
	} else if listed, ok := v.infos[n.NodeID]; ok && asConnected {
		info, known = listed, unlistedRow(listed).node.NodeMeta
	}
	if asConnected {
		known.Merge(n.NodeMeta)
		n.NodeMeta = known
	}
	if info.ApprovalState != "" {
		info.ApprovalState = protocol.ApprovalApproved
		info.PendingRequestID = ""
		if len(n.Caps) == 0 && len(n.Commands) == 0 {
			n.Caps, n.Commands = info.PendingDeclaredCaps, info.PendingDeclaredCommands
		}
	}
	r := newPairedRow(n, info, hasInfo)
	v.approvals = v.approvals || r.approval() != ""
	v.list.Upsert(r)
}

// Asking notes that a paired node whose gateway does not say its approval
// state asks again (requestID, a node request in the queue): it waits for
// re-approval.
func (v *pairedView) Asking(nodeID, requestID string) {
	v.list.Update(nodeID, func(r *pairedRow) {
		if r.info.ApprovalState == "" && !r.unlisted {
			r.asking = requestID
			v.approvals = true
		}
	})
}

// Rejected applies this console's rejection of a node's request
// (requestID) to its row. known is false when what remains approved is
// the gateway's to say (a re-approval refused): the caller lists again.
func (v *pairedView) Rejected(nodeID, requestID string) (known bool) {
	known = true
	v.list.Update(nodeID, func(r *pairedRow) {
		switch {
		case r.asking == requestID:
			r.asking = "" // it stays paired as it was
		case r.info.ApprovalState == "":
		case r.unlisted:
			r.info.ApprovalState, r.info.PendingRequestID = protocol.ApprovalUnapproved, ""
		default:
			known = false
		}
	})
	return known
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

// listed reports whether nodeID has a paired record (node.pair.list).
func (v *pairedView) listed(nodeID string) bool {
	r, ok := v.list.Get(nodeID)
	return ok && !r.unlisted
}

// actions are the keys that act on one node, under the cursor or in the
// detail pane. A node known only from node.list has no paired record to
// rename or remove.
func (v *pairedView) actions(c viewCtx) []rowAction[pairedRow] {
	renamable := func(r pairedRow) bool { return !r.unlisted || c.features.offers(FeatureRenamePending) }
	removable := func(r pairedRow) bool { return !r.unlisted && c.features.offers(FeatureRemove) }
	return []rowAction[pairedRow]{
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Rename },
			applies: renamable,
			do: func(r pairedRow) tea.Cmd {
				return emit(startRenameMsg{nodeID: r.node.NodeID, current: r.node.DisplayName})
			},
			refused: func(pairedRow) string { return c.features.why(FeatureRenamePending) },
		},
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Remove },
			applies: removable,
			do:      func(r pairedRow) tea.Cmd { return emit(askRemoveMsg{nodeID: r.node.NodeID, name: r.name()}) },
			refused: func(r pairedRow) string {
				if why := c.features.why(FeatureRemove); why != "" {
					return why
				}
				return "Nothing to remove: the gateway holds no paired record of " + r.name() +
					", only its device (its commands are not approved)."
			},
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

func (v *pairedView) enableKeys(k *KeyMap, c viewCtx) {
	k.navigation(v.list.Shown() > 0)
	r, ok := v.list.Selected()
	enableActions(k, v.actions(c), r, ok)
	enableActions(k, v.listActions(), r, ok)
}

func (v *pairedView) onKey(msg tea.KeyPressMsg, k *KeyMap, c viewCtx) tea.Cmd {
	if moveCursor(&v.list.cursor, msg, *k) {
		return nil
	}
	r, ok := v.list.Selected()
	if cmd, handled := runAction(msg, k, v.actions(c), r, ok); handled {
		return cmd
	}
	cmd, _ := runAction(msg, k, v.listActions(), r, ok)
	return cmd
}

func (v *pairedView) enableRowKeys(k *KeyMap, rowKey string, c viewCtx) bool {
	r, ok := v.list.Get(rowKey)
	enableActions(k, v.actions(c), r, ok)
	return ok
}

func (v *pairedView) onRowKey(msg tea.KeyPressMsg, k *KeyMap, rowKey string, c viewCtx) (tea.Cmd, bool) {
	r, ok := v.list.Get(rowKey)
	return runAction(msg, k, v.actions(c), r, ok)
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
	cols := pairedColumnsOff
	if v.approvals {
		cols = pairedColumns
	}
	return listFrame(st, cols, v.width, v.height, &v.list, hintLines(st, v.width, sayOnly(empty)),
		func(r pairedRow) []string { return r.cells(c.now) },
		func(r pairedRow, cells []string, widths []int, rs rowStyles, isSel bool) string {
			return v.renderRow(r, cols, cells, widths, st, rs, isSel)
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
		approvalText(r.approval()),
		shortID(r.node.NodeID),
		r.node.Platform,
		r.node.RemoteIP,
		r.seenText(now),
		strings.Join(caps, ","),
	}
}

func (v *pairedView) renderRow(r pairedRow, cols []table.Column, cells []string, widths []int, st *styles.Styles, rs rowStyles, isSel bool) string {
	stateStyle := st.Dim
	if r.hasInfo && r.info.Connected {
		stateStyle = st.Connected
	}
	return cellsLine(st, rs, isSel, cols, widths, v.width, cells, func(i int) styles.Style {
		switch i {
		case pcState:
			return stateStyle
		case pcApproval:
			return approvalStyle(st, r.approval())
		}
		return st.Pending
	})
}

// approvalStyle paints an approval state: approved as approved, waiting
// as something to look at, refused as rejected.
func approvalStyle(st *styles.Styles, state string) styles.Style {
	switch state {
	case protocol.ApprovalApproved:
		return st.Approved
	case protocol.ApprovalUnapproved:
		return st.Rejected
	case "":
		return st.Pending
	}
	return st.Expiring
}
