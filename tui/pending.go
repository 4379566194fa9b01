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

// pendingRow is one request in the queue.
type pendingRow struct {
	req       protocol.PendingRequest
	expiresAt time.Time
}

func newPendingRow(req protocol.PendingRequest, ttl time.Duration) pendingRow {
	return pendingRow{req: req, expiresAt: expiresAt(req, ttl)}
}

// expiresAt works out when req expires: the gateway's own expiry, or,
// from a gateway that gives none, the request time plus the TTL.
func expiresAt(req protocol.PendingRequest, ttl time.Duration) time.Time {
	if exp, ok := req.ExpiresAt(); ok {
		return exp
	}
	return msTime(req.TS).Add(ttl)
}

// searchText is what the filter searches in a request.
func (r pendingRow) searchText() string {
	req := r.req
	return strings.Join([]string{req.DisplayName, req.NodeID, shortID(req.NodeID), req.RemoteIP, req.Platform}, "\x00")
}

func (r pendingRow) name() string { return nameOr(r.req.DisplayName, r.req.NodeID) }

// blockTarget is what blocking the row's node needs.
func (r pendingRow) blockTarget() blockTarget {
	return blockTarget{nodeID: r.req.NodeID, name: r.name(), requestID: r.req.RequestID}
}

func (r pendingRow) target() decisionTarget {
	return decisionTarget{requestID: r.req.RequestID, nodeID: r.req.NodeID, name: r.name()}
}

// gutterWidth is the cursor glyph, the mark glyph and a space.
const gutterWidth = 3

// Pending columns, most important kept longest: the name says who, the
// countdown says how long is left to decide.
var pendingColumns = []table.Column{
	{Title: "NAME", Min: 16, Grow: 4},
	{Title: "PLATFORM", Min: 8, Max: 12, Grow: 1, Priority: 3},
	{Title: "IP", Min: 12, Max: 15, Grow: 1, Priority: 4},
	{Title: "NODE", Min: 14, Max: 14, Priority: 2},
	{Title: "ASKED", Min: 7, Max: 7, Priority: 5, Right: true},
	{Title: "EXPIRES", Min: 10, Max: 10},
}

// pendingView is the queue of nodes asking to join: the home screen.
type pendingView struct {
	list  rowList[pendingRow]
	marks map[string]bool   // by request id
	busy  map[string]string // request id → "approving"/"rejecting"
	ttl   time.Duration

	width, height int
	widths        []int
}

func newPendingView(ttl time.Duration) pendingView {
	return pendingView{
		list: newRowList(
			func(r pendingRow) string { return r.req.RequestID },
			pendingRow.searchText,
		),
		marks: map[string]bool{},
		busy:  map[string]string{},
		ttl:   ttl,
	}
}

// SetSize gives the view its lines: one for the column titles, the rest
// for rows.
func (v *pendingView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.widths = table.Layout(pendingColumns, w-gutterWidth)
	v.list.cursor.SetHeight(h - 1)
}

// Replace installs a fresh list from the gateway.
func (v *pendingView) Replace(reqs []*protocol.PendingRequest) {
	v.list.SetFunc(len(reqs), func(i int, r *pendingRow) {
		r.req = *reqs[i]
		r.expiresAt = expiresAt(r.req, v.ttl)
	})
	for id := range v.marks {
		if _, ok := v.list.Get(id); !ok {
			delete(v.marks, id)
		}
	}
}

// Upsert adds a new request at the top or refreshes one in place.
func (v *pendingView) Upsert(req protocol.PendingRequest) bool {
	return v.list.Upsert(newPendingRow(req, v.ttl))
}

// Remove drops a request (resolved, or expired here).
func (v *pendingView) Remove(requestID string) (pendingRow, bool) {
	delete(v.marks, requestID)
	delete(v.busy, requestID)
	return v.list.Remove(requestID)
}

// Get finds a request by id.
func (v *pendingView) Get(requestID string) (pendingRow, bool) { return v.list.Get(requestID) }

// RenameNode shows a node's new name on its request.
func (v *pendingView) RenameNode(nodeID, name string) {
	v.list.UpdateAll(func(r *pendingRow) bool {
		if r.req.NodeID != nodeID {
			return false
		}
		req := r.req
		req.DisplayName = name
		*r = newPendingRow(req, v.ttl)
		return true
	})
}

// DropExpired removes rows that expired more than grace ago. Some gateways
// never announce expiry; without this their dead requests would stay on
// screen, greyed, forever.
func (v *pendingView) DropExpired(now time.Time, grace time.Duration) []pendingRow {
	dropped := v.list.RemoveWhere(func(r pendingRow) bool {
		return !now.Before(r.expiresAt.Add(grace)) && v.busy[r.req.RequestID] == ""
	})
	for _, r := range dropped {
		delete(v.marks, r.req.RequestID)
	}
	return dropped
}

// Selected is the request under the cursor.
func (v *pendingView) Selected() (pendingRow, bool) { return v.list.Selected() }

// decidable is the one rule for whether a request can be approved or
// rejected now: it has not expired and no call for it is in flight.
func (v *pendingView) decidable(r pendingRow, now time.Time) bool {
	return now.Before(r.expiresAt) && v.busy[r.req.RequestID] == ""
}

// SetBusy shows that a call for the request is in flight ("" clears it).
func (v *pendingView) SetBusy(requestID, what string) {
	if what == "" {
		delete(v.busy, requestID)
		return
	}
	v.busy[requestID] = what
}

// MarkCount is how many requests are marked.
func (v *pendingView) MarkCount() int { return len(v.marks) }

// marked collects the marked requests for a bulk decision, in queue order:
// those that can be decided, how many of all marked the filter hides, and
// how many are skipped (expired or already being decided).
func (v *pendingView) marked(now time.Time) (targets []decisionTarget, hidden, skipped int) {
	v.list.Each(func(r pendingRow) {
		id := r.req.RequestID
		if !v.marks[id] {
			return
		}
		if !v.list.Visible(id) {
			hidden++
		}
		if !v.decidable(r, now) {
			skipped++
			return
		}
		targets = append(targets, r.target())
	})
	return targets, hidden, skipped
}

// actions are the keys that act on one request, under the cursor or in
// the detail pane.
func (v *pendingView) actions(c viewCtx) []rowAction[pendingRow] {
	decidable := func(r pendingRow) bool { return v.decidable(r, c.now) }
	decide := func(d decision) func(pendingRow) tea.Cmd {
		return func(r pendingRow) tea.Cmd {
			return emit(decideMsg{action: d, targets: []decisionTarget{r.target()}})
		}
	}
	return []rowAction[pendingRow]{
		{binding: func(k *KeyMap) *key.Binding { return &k.Approve }, applies: decidable, do: decide(approve)},
		{binding: func(k *KeyMap) *key.Binding { return &k.Reject }, applies: decidable, do: decide(reject)},
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Rename },
			applies: func(pendingRow) bool { return true },
			do: func(r pendingRow) tea.Cmd {
				return emit(startRenameMsg{nodeID: r.req.NodeID, current: r.req.DisplayName})
			},
		},
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Block },
			applies: func(r pendingRow) bool { return c.canBlock && v.busy[r.req.RequestID] == "" },
			do:      func(r pendingRow) tea.Cmd { return emit(askBlockMsg{target: r.blockTarget()}) },
		},
	}
}

// listActions are the keys that act on the request under the cursor and
// only there: marking it, opening its details.
func (v *pendingView) listActions() []rowAction[pendingRow] {
	return []rowAction[pendingRow]{
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Mark },
			applies: func(pendingRow) bool { return true },
			do: func(r pendingRow) tea.Cmd {
				id := r.req.RequestID
				if v.marks[id] {
					delete(v.marks, id)
				} else {
					v.marks[id] = true
				}
				v.list.cursor.Down()
				return nil
			},
		},
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Detail },
			applies: func(pendingRow) bool { return true },
			do:      func(pendingRow) tea.Cmd { return emit(openDetailMsg{}) },
		},
	}
}

func (v *pendingView) Filter() string             { return v.list.Filter() }
func (v *pendingView) SetFilter(q string)         { v.list.SetFilter(q) }
func (v *pendingView) Counts() (shown, total int) { return v.list.Shown(), v.list.Len() }
func (v *pendingView) selectedKey() (string, bool) {
	k := v.list.SelectedKey()
	return k, k != ""
}

func (v *pendingView) enableKeys(k *KeyMap, c viewCtx) {
	k.navigation(v.list.Shown() > 0)
	r, ok := v.list.Selected()
	enableActions(k, v.actions(c), r, ok)
	enableActions(k, v.listActions(), r, ok)
	marked := len(v.marks) > 0
	k.ApproveMarked.SetEnabled(marked)
	k.RejectMarked.SetEnabled(marked)
}

// onKey handles the keys of the queue. Decisions and dialogs are the
// root's business: the view only says what the operator asked for.
func (v *pendingView) onKey(msg tea.KeyPressMsg, k *KeyMap, c viewCtx) tea.Cmd {
	if moveCursor(&v.list.cursor, msg, *k) {
		return nil
	}
	r, ok := v.list.Selected()
	if cmd, handled := runAction(msg, k, v.actions(c), r, ok); handled {
		return cmd
	}
	if cmd, handled := runAction(msg, k, v.listActions(), r, ok); handled {
		return cmd
	}
	if key.Matches(msg, k.ApproveMarked, k.RejectMarked) {
		action := approve
		if key.Matches(msg, k.RejectMarked) {
			action = reject
		}
		targets, hidden, skipped := v.marked(c.now)
		return emit(askBulkMsg{action: action, targets: targets, hidden: hidden, skipped: skipped})
	}
	return nil
}

func (v *pendingView) enableRowKeys(k *KeyMap, rowKey string, c viewCtx) bool {
	r, ok := v.list.Get(rowKey)
	enableActions(k, v.actions(c), r, ok)
	return ok
}

func (v *pendingView) onRowKey(msg tea.KeyPressMsg, k *KeyMap, rowKey string, c viewCtx) (tea.Cmd, bool) {
	r, ok := v.list.Get(rowKey)
	return runAction(msg, k, v.actions(c), r, ok)
}

func (v *pendingView) details(rowKey string, c viewCtx) (string, []field, bool) {
	r, ok := v.list.Get(rowKey)
	if !ok {
		return "", nil, false
	}
	return "Request from " + r.name(), pendingFields(r, c.now), true
}

// View draws the column titles and the rows in the cursor's window: never
// more, whatever the length of the queue.
func (v *pendingView) View(c viewCtx, st *styles.Styles) string {
	empty := ""
	switch {
	case !c.loaded:
		empty = "Loading the queue…"
	case v.list.Len() == 0:
		empty = "No pending requests. Nodes asking to join appear here."
	case v.list.Shown() == 0:
		empty = noMatch("request", v.list.Filter())
	}
	return listFrame(st, pendingColumns, v.widths, v.height, &v.list, empty, func(r pendingRow, rs rowStyles, isSel bool) string {
		return v.renderRow(r, c.now, st, rs, isSel)
	})
}

// rowStyles are the styles of one row, plain or under the cursor.
type rowStyles struct {
	base   styles.Style
	mark   styles.Style
	cursor bool // the row under the cursor: every cell wears its style
}

func (rs rowStyles) selected() rowStyles {
	return rowStyles{base: rs.base.OnCursor(), mark: rs.mark.OnCursor(), cursor: true}
}

// paint applies a cell style, merged with the cursor's on its row.
func (rs rowStyles) paint(style styles.Style, text string) string {
	if rs.cursor {
		style = style.OnCursor()
	}
	return style.Render(text)
}

// gutter draws the cursor and mark glyphs.
func (rs rowStyles) gutter(isSel, marked bool) string {
	cur, mark := " ", " "
	if isSel {
		cur = glyphCursor
	}
	if marked {
		mark = glyphMark
	}
	return rs.mark.Render(cur+mark) + rs.base.Render(" ")
}

func (v *pendingView) renderRow(r pendingRow, now time.Time, st *styles.Styles, rs rowStyles, isSel bool) string {
	req := r.req
	id := req.RequestID
	left := r.expiresAt.Sub(now)
	cd, urg := countdown(left)

	rowStyle, cdStyle := st.Pending, urgencyStyle(st, urg)
	if urg == expired {
		rowStyle = st.Expired
	}
	if b := v.busy[id]; b != "" {
		rowStyle, cdStyle = st.Busy, st.Busy
		cd = b + glyphBusy
	}

	cells := []string{
		r.name(),
		req.Platform,
		req.RemoteIP,
		shortID(req.NodeID),
		ago(now.Sub(msTime(req.TS))),
	}
	var b strings.Builder
	for i, text := range cells {
		if v.widths[i] == 0 {
			continue
		}
		b.WriteString(table.Fit(text, v.widths[i], pendingColumns[i].Right))
		b.WriteString(strings.Repeat(" ", table.Gap))
	}
	last := len(pendingColumns) - 1
	used := gutterWidth + table.WidthOf(v.widths)
	tail := strings.Repeat(" ", max(v.width-used, 0))

	return rs.gutter(isSel, v.marks[id]) +
		rs.paint(rowStyle, b.String()) +
		rs.paint(cdStyle, table.Fit(cd, v.widths[last], false)) +
		rs.paint(rowStyle, tail)
}

func urgencyStyle(st *styles.Styles, u urgency) styles.Style {
	switch u {
	case expiring:
		return st.Expiring
	case critical:
		return st.Critical
	case expired:
		return st.Expired
	default:
		return st.Pending
	}
}
