package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/styles"
	"github.com/pairdeck/pairdeck/tui/table"
)

// A decision acts on what the operator saw. These bound how quickly a key
// may act on a request that has just changed under it, and how long a
// request that left the queue elsewhere stays to say so.
const (
	// minOnScreen is how long a request must have been in view, reading
	// as it does — and, if the cursor came to it by itself, under the
	// cursor — before a key approves or rejects it: about the time a
	// person takes to see that something changed.
	minOnScreen = 500 * time.Millisecond
	// goneFor is how long a request decided elsewhere, or expired, stays
	// in the queue, greyed, saying what became of it.
	goneFor = 3 * time.Second
)

// pendingRow is one request in the queue.
type pendingRow struct {
	req protocol.PendingRequest
	// expiresAt is the gateway's expiry; zero when it gives none (then the
	// request has no countdown and never expires here).
	expiresAt time.Time
	shownAt   time.Time // when it appeared, or last changed how it reads
}

func newPendingRow(req protocol.PendingRequest, now time.Time) pendingRow {
	return pendingRow{req: req, expiresAt: expiresAt(req), shownAt: now}
}

// timeLeft is the countdown to r's expiry; without one, how long it has
// waited instead — there is nothing to count down to.
func (r pendingRow) timeLeft(now time.Time) (string, urgency) {
	if r.expiresAt.IsZero() {
		return "waited " + span(now.Sub(msTime(r.req.TS))), calm
	}
	return countdown(r.expiresAt.Sub(now))
}

// expired reports whether r's expiry has passed; a request without one
// never expires here.
func (r pendingRow) expired(now time.Time) bool {
	return !r.expiresAt.IsZero() && !now.Before(r.expiresAt)
}

// readsAs reports whether r shows the operator the same node, name and
// origin as req would.
func (r pendingRow) readsAs(req protocol.PendingRequest) bool {
	return r.req.NodeID == req.NodeID && r.req.DisplayName == req.DisplayName &&
		r.req.Platform == req.Platform && r.req.RemoteIP == req.RemoteIP
}

// goneRow is what became of a request that left the queue other than by
// this console's hand: it stays, greyed, until then.
type goneRow struct {
	glyph string // glyphApproved, glyphRejected, glyphExpired
	word  string // "approved elsewhere by cli (operator)", "expired"
	until time.Time
}

func (g goneRow) text() string { return g.glyph + " " + g.word }

// of says it in a sentence about the request's node.
func (g goneRow) of(name string) string {
	if g.glyph == glyphExpired {
		return name + " " + g.word
	}
	return name + " was " + g.word
}

// expiresAt is when req expires, as the gateway (or the client, where the
// gateway's rule is known) says: zero when nobody knows. Nothing is made
// up from the request time.
func expiresAt(req protocol.PendingRequest) time.Time {
	exp, _ := req.ExpiresAt()
	return exp
}

// searchText is what the filter searches in a request (its kind too,
// where the gateway names kinds: "device" finds the devices).
func (r pendingRow) searchText() string {
	req := r.req
	fields := []string{req.DisplayName, req.NodeID, shortID(req.NodeID), req.RemoteIP, req.Platform}
	if req.Kind != "" {
		fields = append(fields, kindText(req), req.ClientID)
	}
	return strings.Join(fields, "\x00")
}

// kindText says which kind of request req is — a node's, or a device's
// and why it waits — in the words of the KIND column: "" on pairdeck's
// gateway, whose requests are all a node's and have no kind.
func kindText(req protocol.PendingRequest) string {
	if req.Kind != protocol.KindDevice {
		return req.Kind
	}
	switch req.Reason {
	case "":
		return "device"
	case protocol.PairingReasonNotPaired:
		return "device new"
	case protocol.PairingReasonScopeUpgrade:
		return "device +scopes"
	case protocol.PairingReasonRoleUpgrade:
		return "device +role"
	case protocol.PairingReasonMetadataUpgrade:
		return "device metadata"
	}
	return "device " + req.Reason
}

// reasonSentence says in full why a device request waits, for the detail
// pane.
func reasonSentence(reason string) string {
	switch reason {
	case protocol.PairingReasonNotPaired:
		return "new device: it has never been paired"
	case protocol.PairingReasonScopeUpgrade:
		return "scope upgrade: a paired device asks for scopes it was not approved for"
	case protocol.PairingReasonRoleUpgrade:
		return "role upgrade: a paired device asks for a role it was not approved for"
	case protocol.PairingReasonMetadataUpgrade:
		return "metadata upgrade: a paired device says it is now another platform or device family"
	}
	return orDash(reason)
}

func (r pendingRow) name() string { return nameOr(r.req.DisplayName, r.req.NodeID) }

// label is the name as the queue shows it: a re-pair — a node already
// paired, whose token approving rotates — is marked before it, where a
// cut name cannot hide it.
func (r pendingRow) label() string {
	if r.req.IsRepair {
		return glyphRepair + " " + r.name()
	}
	return r.name()
}

// blockTarget is what blocking the row's node needs.
func (r pendingRow) blockTarget() blockTarget {
	return blockTarget{nodeID: r.req.NodeID, name: r.name(), requestID: r.req.RequestID}
}

func (r pendingRow) target() decisionTarget {
	return decisionTarget{requestID: r.req.RequestID, nodeID: r.req.NodeID, name: r.name(), kind: r.req.Kind}
}

// gutterWidth is the cursor glyph, the mark glyph and a space.
const gutterWidth = 3

// Pending columns, most important kept longest: the name says who, the
// countdown says how long is left to decide.
var pendingColumns = []table.Column{
	colName: {Title: "NAME", Min: 16, Grow: 4},
	// KIND shows only where the gateway names kinds (OpenClaw's): on
	// pairdeck's every request is a node's. It goes last but for NAME.
	colKind:     {Title: "KIND", Min: 15, Max: 15, Priority: 1},
	colPlatform: {Title: "PLATFORM", Min: 8, Max: 12, Grow: 1, Priority: 3},
	colIP:       {Title: "IP", Min: 12, Max: 15, Grow: 1, Priority: 4},
	colNode:     {Title: "NODE", Min: 14, Max: 14, Priority: 2},
	colAsked:    {Title: "ASKED", Min: 7, Max: 7, Priority: 5, Right: true},
	colExpires:  {Title: "EXPIRES", Min: 10, Max: 10},
}

// The pending columns, by index.
const (
	colName = iota
	colKind
	colPlatform
	colIP
	colNode
	colAsked
	colExpires
)

// glyphSorted marks the title of the column a list is sorted by.
const glyphSorted = "↑"

// sortedColumns are cols with column i marked as the one the list is
// sorted by: its title says so, and it is never hidden.
func sortedColumns(cols []table.Column, i int) []table.Column {
	out := slices.Clone(cols)
	out[i].Title += glyphSorted
	out[i].Priority = 0
	return out
}

// withKinds is cols with the KIND column shown or left out.
func withKinds(cols []table.Column, show bool) []table.Column {
	out := slices.Clone(cols)
	out[colKind].Off = !show
	return out
}

// queueOrder is how the queue is sorted; s cycles through them.
type queueOrder int

const (
	// byTimeLeft puts the requests about to expire first, where a small
	// pane shows them; requests without an expiry come after, longest
	// waiting first.
	byTimeLeft queueOrder = iota
	byNewest
	byName
	orderCount
)

// words name the order where it is shown.
func (o queueOrder) words() string {
	switch o {
	case byNewest:
		return "newest first"
	case byName:
		return "by name"
	}
	return "by time left"
}

// column is the column the queue is sorted by.
func (o queueOrder) column() int {
	switch o {
	case byNewest:
		return colAsked
	case byName:
		return colName
	}
	return colExpires
}

// compare is the order as a total order: ties are broken by request id,
// so a list and the same rows one at a time always read the same.
func (o queueOrder) compare(a, b pendingRow) int {
	c := 0
	switch o {
	case byTimeLeft:
		// A zero expiry is a request that carries none.
		switch az, bz := a.expiresAt.IsZero(), b.expiresAt.IsZero(); {
		case az != bz && az:
			return 1
		case az != bz:
			return -1
		case az:
			c = cmp.Compare(a.req.TS, b.req.TS)
		default:
			c = a.expiresAt.Compare(b.expiresAt)
		}
	case byNewest:
		c = cmp.Compare(b.req.TS, a.req.TS)
	case byName:
		if c = compareFold(a.name(), b.name()); c == 0 {
			c = cmp.Compare(b.req.TS, a.req.TS)
		}
	}
	if c != 0 {
		return c
	}
	return strings.Compare(a.req.RequestID, b.req.RequestID)
}

// compareFold compares two names as a reader sorts them: case ignored,
// without building lower-cased copies.
func compareFold(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if c := cmp.Compare(unicode.ToLower(ra), unicode.ToLower(rb)); c != 0 {
			return c
		}
		a, b = a[na:], b[nb:]
	}
	return cmp.Compare(len(a), len(b))
}

// pendingView is the queue of nodes asking to join: the home screen.
type pendingView struct {
	list  rowList[pendingRow]
	order queueOrder
	// cols are the columns with the sorted one marked: its title says so
	// and it is never hidden; KIND only while kinds shows it.
	cols []table.Column
	// kinds: the gateway names the kinds of its requests (some request
	// had one).
	kinds bool
	marks map[string]bool    // by request id
	busy  map[string]string  // request id → "approving"/"rejecting"
	gone  map[string]goneRow // request id → what became of it
	// tryCommand makes a test node ask this gateway to pair; demo says
	// the queue fills by itself. An empty queue says which.
	tryCommand     string
	tryNodeHost    string
	tryNodeHostEnv string
	demo           bool
	// cursorMovedAt is when the request under the cursor last became news:
	// the cursor came to it by itself (its row left, the queue changed),
	// or the queue came back into view.
	cursorMovedAt time.Time

	width, height int
}

func newPendingView(opts Options) pendingView {
	v := pendingView{
		tryCommand:     opts.TryCommand,
		tryNodeHost:    opts.TryNodeHost,
		tryNodeHostEnv: opts.TryNodeHostEnv,
		demo:           opts.Demo,
		list: newRowList(
			func(r pendingRow) string { return r.req.RequestID },
			pendingRow.searchText,
		),
		marks: map[string]bool{},
		busy:  map[string]string{},
		gone:  map[string]goneRow{},
	}
	v.setOrder(byTimeLeft)
	return v
}

// setOrder sorts the queue by o; the cursor stays on its request.
func (v *pendingView) setOrder(o queueOrder) {
	v.order = o
	v.cols = withKinds(sortedColumns(pendingColumns, o.column()), v.kinds)
	v.list.SetOrder(o.compare)
	v.SetSize(v.width, v.height)
}

// sawKinds shows the KIND column once a request has a kind: the
// gateway names them (OpenClaw's) — for every request, from then on.
func (v *pendingView) sawKinds(req protocol.PendingRequest) {
	if req.Kind != "" && !v.kinds {
		v.kinds = true
		v.cols = withKinds(v.cols, true)
	}
}

// cycleOrder moves on to the next order.
func (v *pendingView) cycleOrder() { v.setOrder((v.order + 1) % orderCount) }

// SetSize gives the view its lines: one for the column titles, the rest
// for rows.
func (v *pendingView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.list.cursor.SetHeight(h - 1)
}

// Replace installs a fresh list from the gateway. Rows that read as they
// did keep the time they were first shown. Requests that left the queue
// elsewhere and are still saying so keep their place; so do requests the
// list no longer holds without anyone having said why (events missed while
// the link was down), saying that they left.
func (v *pendingView) Replace(reqs []*protocol.PendingRequest, now time.Time) {
	oldRows, oldPos := v.list.snapshot()
	selected := v.list.SelectedKey()
	for _, req := range reqs {
		v.sawKinds(*req)
	}
	v.list.SetFunc(len(reqs), func(i int, r *pendingRow) {
		req := reqs[i]
		r.req = *req
		r.expiresAt = expiresAt(r.req)
		r.shownAt = now
		if o, ok := oldPos[req.RequestID]; ok && o.v.readsAs(*req) {
			r.shownAt = o.v.shownAt
		}
	})
	// The requests the list no longer holds: most were taken away by this
	// console or said why already; the rest left without a word.
	var keptAt []int
	var kept []pendingRow
	for i, it := range oldRows {
		id := it.v.req.RequestID
		if _, listed := v.list.pos[id]; listed {
			delete(v.gone, id) // listed again: live after all
			continue
		}
		if v.busy[id] != "" {
			continue // this console's own call: its answer says what happened
		}
		if _, gone := v.gone[id]; !gone {
			g := goneRow{glyph: glyphRemoved, word: "left the queue", until: now.Add(goneFor)}
			if it.v.expired(now) {
				g.glyph, g.word = glyphExpired, "expired"
			}
			v.gone[id] = g
		}
		keptAt, kept = append(keptAt, i), append(kept, it.v)
	}
	if len(kept) > 0 {
		// Put them back where they were, so nothing moves under the
		// cursor while they say so.
		v.list.Restore(keptAt, kept, selected)
	}
	for id := range v.marks {
		if _, gone := v.gone[id]; gone {
			delete(v.marks, id)
		} else if _, ok := v.list.Get(id); !ok {
			delete(v.marks, id)
		}
	}
}

// Upsert adds a new request at the top or refreshes one in place.
func (v *pendingView) Upsert(req protocol.PendingRequest, now time.Time) bool {
	v.sawKinds(req)
	r := newPendingRow(req, now)
	if old, ok := v.list.Get(req.RequestID); ok && old.readsAs(req) {
		r.shownAt = old.shownAt
	}
	return v.list.Upsert(r)
}

// Remove drops a request (decided here, or gone for good).
func (v *pendingView) Remove(requestID string) (pendingRow, bool) {
	delete(v.marks, requestID)
	delete(v.busy, requestID)
	delete(v.gone, requestID)
	return v.list.Remove(requestID)
}

// Gone keeps a request that left the queue elsewhere on screen, greyed,
// saying what became of it, for goneFor. It reports false for a request
// not in the queue.
func (v *pendingView) Gone(requestID string, g goneRow, now time.Time) bool {
	if _, ok := v.list.Get(requestID); !ok {
		return false
	}
	g.until = now.Add(goneFor)
	v.gone[requestID] = g
	delete(v.marks, requestID)
	delete(v.busy, requestID)
	return true
}

// Live is how many requests still wait for a decision.
func (v *pendingView) Live() int { return v.list.Len() - len(v.gone) }

// Get finds a request by id.
func (v *pendingView) Get(requestID string) (pendingRow, bool) { return v.list.Get(requestID) }

// RenameNode shows a node's new name on its request.
func (v *pendingView) RenameNode(nodeID, name string, now time.Time) {
	v.list.UpdateAll(func(r *pendingRow) bool {
		if r.req.NodeID != nodeID {
			return false
		}
		req := r.req
		req.DisplayName = name
		*r = newPendingRow(req, now)
		return true
	})
}

// DropExpired removes the requests that have said long enough what became
// of them, and those that expired more than grace ago without a word from
// the gateway (returned: some gateways never announce expiry; without this
// their dead requests would stay on screen, greyed, forever).
func (v *pendingView) DropExpired(now time.Time, grace time.Duration) (expired []pendingRow) {
	dropped := v.list.RemoveWhere(func(r pendingRow) bool {
		if g, ok := v.gone[r.req.RequestID]; ok {
			return !now.Before(g.until)
		}
		return !r.expiresAt.IsZero() && !now.Before(r.expiresAt.Add(grace)) && v.busy[r.req.RequestID] == ""
	})
	for _, r := range dropped {
		id := r.req.RequestID
		delete(v.marks, id)
		if _, ok := v.gone[id]; ok {
			delete(v.gone, id)
			continue
		}
		expired = append(expired, r)
	}
	return expired
}

// Selected is the request under the cursor.
func (v *pendingView) Selected() (pendingRow, bool) { return v.list.Selected() }

// decidable is the one rule for whether a request can be approved or
// rejected now: it is still in the queue, has not expired, and no call for
// it is in flight.
func (v *pendingView) decidable(r pendingRow, now time.Time) bool {
	return v.live(r) && !r.expired(now) && v.busy[r.req.RequestID] == ""
}

// still reports whether t, as a dialog showed it, can still be decided,
// and if not, what became of it ("Kitchen Display expired").
func (v *pendingView) still(t decisionTarget, now time.Time) (ok bool, what string) {
	r, listed := v.list.Get(t.requestID)
	g, gone := v.gone[t.requestID]
	switch {
	case !listed:
		return false, t.name + " left the queue"
	case gone:
		return false, g.of(t.name)
	case r.expired(now):
		return false, t.name + " expired"
	case v.busy[t.requestID] != "":
		return false, t.name + " is being decided already"
	}
	return true, ""
}

// live reports whether r still waits for a decision somewhere.
func (v *pendingView) live(r pendingRow) bool {
	_, gone := v.gone[r.req.RequestID]
	return !gone
}

// seen reports whether the operator has had r in view long enough for a
// key to act on it: a moment since it appeared or last changed how it
// reads, and, under the cursor, a moment since the cursor came to it by
// itself.
func (v *pendingView) seen(r pendingRow, now time.Time, underCursor bool) bool {
	if now.Before(r.shownAt.Add(minOnScreen)) {
		return false
	}
	return !underCursor || !now.Before(v.cursorMovedAt.Add(minOnScreen))
}

// whyNot says why a decision key did nothing to r.
func (v *pendingView) whyNot(d decision, r pendingRow, now time.Time) string {
	name := r.name()
	switch g, gone := v.gone[r.req.RequestID]; {
	case gone:
		return fmt.Sprintf("Nothing %s: %s.", d.past(), g.of(name))
	case r.expired(now):
		return fmt.Sprintf("Nothing %s: %s expired. It may ask again.", d.past(), name)
	case v.busy[r.req.RequestID] != "":
		return ""
	}
	return fmt.Sprintf("Nothing %s: %s only just came into view. Press %s again to %s it.",
		d.past(), name, d.key(), d.verb())
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
// the detail pane (underCursor false). A decision acts only on a request
// the operator has seen.
func (v *pendingView) actions(c viewCtx, underCursor bool) []rowAction[pendingRow] {
	decidable := func(r pendingRow) bool { return v.decidable(r, c.now) }
	seen := func(r pendingRow) bool { return v.seen(r, c.now, underCursor) }
	decide := func(d decision) rowAction[pendingRow] {
		return rowAction[pendingRow]{
			binding: d.binding,
			applies: decidable,
			ready:   seen,
			do: func(r pendingRow) tea.Cmd {
				return emit(decideMsg{action: d, targets: []decisionTarget{r.target()}})
			},
			refused: func(r pendingRow) string { return v.whyNot(d, r, c.now) },
		}
	}
	return []rowAction[pendingRow]{
		decide(approve),
		decide(reject),
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Rename },
			applies: func(r pendingRow) bool { return v.live(r) && v.renamable(r, c) },
			do: func(r pendingRow) tea.Cmd {
				return emit(startRenameMsg{nodeID: r.req.NodeID, current: r.req.DisplayName})
			},
			refused: func(r pendingRow) string {
				if v.live(r) && !v.renamable(r, c) {
					return c.features.why(FeatureRenamePending)
				}
				return ""
			},
		},
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Block },
			applies: func(r pendingRow) bool { return c.canBlock && v.live(r) && v.busy[r.req.RequestID] == "" },
			do:      func(r pendingRow) tea.Cmd { return emit(askBlockMsg{target: r.blockTarget()}) },
			refused: func(pendingRow) string { return c.features.why(FeatureBlockList) },
		},
	}
}

// renamable reports whether the gateway renames r's node: any node on a
// gateway that renames pending ones, else only a node already paired.
func (v *pendingView) renamable(r pendingRow, c viewCtx) bool {
	return c.features.offers(FeatureRenamePending) || (c.paired != nil && c.paired(r.req.NodeID))
}

// listActions are the keys that act on the request under the cursor and
// only there: marking it, opening its details.
func (v *pendingView) listActions() []rowAction[pendingRow] {
	return []rowAction[pendingRow]{
		{
			binding: func(k *KeyMap) *key.Binding { return &k.Mark },
			applies: v.live,
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

func (v *pendingView) Filter() string                  { return v.list.Filter() }
func (v *pendingView) SetFilter(q string)              { v.list.SetFilter(q) }
func (v *pendingView) Counts() (shown, total int)      { return v.list.Shown(), v.list.Len() }
func (v *pendingView) Position() (int, int, int, bool) { return v.list.Position() }
func (v *pendingView) selectedKey() (string, bool) {
	k := v.list.SelectedKey()
	return k, k != ""
}

func (v *pendingView) enableKeys(k *KeyMap, c viewCtx) {
	k.navigation(v.list.Shown() > 0)
	r, ok := v.list.Selected()
	enableActions(k, v.actions(c, true), r, ok)
	enableActions(k, v.listActions(), r, ok)
	marked := len(v.marks) > 0
	k.ApproveMarked.SetEnabled(marked)
	k.RejectMarked.SetEnabled(marked)
	// An order shows only with two requests to put in it.
	k.Sort.SetEnabled(v.list.Len() > 1)
}

// onKey handles the keys of the queue. Decisions and dialogs are the
// root's business: the view only says what the operator asked for.
func (v *pendingView) onKey(msg tea.KeyPressMsg, k *KeyMap, c viewCtx) tea.Cmd {
	if moveCursor(&v.list.cursor, msg, *k) {
		return nil
	}
	if key.Matches(msg, k.Sort) {
		v.cycleOrder()
		return nil
	}
	r, ok := v.list.Selected()
	if cmd, handled := runAction(msg, k, v.actions(c, true), r, ok); handled {
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
	enableActions(k, v.actions(c, false), r, ok)
	return ok
}

func (v *pendingView) onRowKey(msg tea.KeyPressMsg, k *KeyMap, rowKey string, c viewCtx) (tea.Cmd, bool) {
	r, ok := v.list.Get(rowKey)
	return runAction(msg, k, v.actions(c, false), r, ok)
}

func (v *pendingView) details(rowKey string, c viewCtx) (string, []field, bool) {
	r, ok := v.list.Get(rowKey)
	if !ok {
		return "", nil, false
	}
	fields := pendingFields(r, c.now)
	if g, ok := v.gone[rowKey]; ok {
		fields = append([]field{{"Outcome", g.text()}}, fields...)
	}
	title := "Request from " + r.name()
	if r.req.Kind == protocol.KindDevice {
		title = "Device pairing request from " + r.name()
	}
	return title, fields, true
}

// View draws the column titles and the rows in the cursor's window: never
// more, whatever the length of the queue.
func (v *pendingView) View(c viewCtx, st *styles.Styles) string {
	var empty []hint
	switch {
	case !c.loaded:
		empty = sayOnly("Loading the queue…")
	case v.list.Len() == 0:
		empty = v.emptyQueue(c)
	case v.list.Shown() == 0:
		empty = sayOnly(noMatch("request", v.list.Filter()))
	}
	return listFrame(st, v.cols, v.width, v.height, &v.list, hintLines(st, v.width, empty),
		func(r pendingRow) []string { return v.cells(r, c.now) },
		func(r pendingRow, cells []string, widths []int, rs rowStyles, isSel bool) string {
			return v.renderRow(r, cells, widths, c.now, st, rs, isSel)
		})
}

// emptyQueue is what an empty queue says: where requests come from and how
// to make one — or, with pairing off, that none can come and how to let
// them.
func (v *pendingView) emptyQueue(c viewCtx) []hint {
	switch {
	case c.pairing.sure() && !c.pairing.enabled:
		return []hint{
			say("No pending requests, and none can arrive: pairing is off, so the gateway refuses nodes that ask to join."),
			blankLine(),
			say("Press P to switch pairing on."),
		}
	case v.demo:
		return []hint{
			say("No pending requests yet. Simulated nodes ask to join every few seconds: approve one with a, reject with r."),
		}
	case v.tryNodeHost != "":
		// An OpenClaw gateway lets a node in with its shared secret only:
		// the commands carry it (a file, or the variable named). Kept to
		// 11 lines at 60 columns, so both commands show on the smallest
		// screen.
		host := "or OpenClaw's own node host:"
		if v.tryNodeHostEnv != "" {
			host = "or OpenClaw's node host, with $" + v.tryNodeHostEnv + " set:"
		}
		return []hint{
			say("No pending requests. Nodes and devices asking to join appear here."),
			blankLine(),
			say("To try it, run this in another pane:"),
			cmd(v.tryCommand),
			say(host),
			cmd(v.tryNodeHost),
			say("and approve its request here with a."),
		}
	}
	return []hint{
		say("No pending requests. Nodes asking to join appear here."),
		blankLine(),
		say("To try it, run this in another pane:"),
		cmd(v.tryCommand),
		say("and approve its request here with a. Or quit and run `pairdeck demo` to watch simulated nodes ask to join."),
	}
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

// cells are the request's columns, as text: the last is its countdown,
// or what is being done to it. A request that left the queue says so
// across the columns after its name.
func (v *pendingView) cells(r pendingRow, now time.Time) []string {
	req := r.req
	if _, ok := v.gone[req.RequestID]; ok {
		return []string{r.label(), "", "", "", "", "", ""}
	}
	cd, _ := r.timeLeft(now)
	if b := v.busy[req.RequestID]; b != "" {
		cd = b + glyphBusy
	}
	return []string{
		colName:     r.label(),
		colKind:     kindText(req),
		colPlatform: req.Platform,
		colIP:       req.RemoteIP,
		colNode:     shortID(req.NodeID),
		colAsked:    ago(now.Sub(msTime(req.TS))),
		colExpires:  cd,
	}
}

func (v *pendingView) renderRow(r pendingRow, cells []string, widths []int, now time.Time, st *styles.Styles, rs rowStyles, isSel bool) string {
	id := r.req.RequestID
	if g, ok := v.gone[id]; ok {
		return v.renderGone(r, g, widths, st, rs, isSel)
	}
	_, urg := r.timeLeft(now)
	rowStyle, cdStyle := st.Pending, urgencyStyle(st, urg)
	if urg == expired {
		rowStyle = st.Expired
	}
	if v.busy[id] != "" {
		rowStyle, cdStyle = st.Busy, st.Busy
	}

	var b strings.Builder
	for i, text := range cells[:colExpires] {
		if widths[i] == 0 {
			continue
		}
		b.WriteString(table.Fit(text, widths[i], v.cols[i].Right))
		b.WriteString(strings.Repeat(" ", table.Gap))
	}
	used := gutterWidth + table.WidthOf(widths)
	tail := strings.Repeat(" ", max(v.width-used, 0))

	return rs.gutter(isSel, v.marks[id]) +
		rs.paint(rowStyle, b.String()) +
		rs.paint(cdStyle, table.Fit(cells[colExpires], widths[colExpires], false)) +
		rs.paint(rowStyle, tail)
}

// renderGone draws a request that left the queue elsewhere: its name, then
// what became of it across the other columns, all greyed.
func (v *pendingView) renderGone(r pendingRow, g goneRow, widths []int, st *styles.Styles, rs rowStyles, isSel bool) string {
	nameW := widths[colName]
	rest := max(v.width-gutterWidth-nameW-table.Gap, 0)
	return rs.gutter(isSel, false) +
		rs.paint(st.Expired, table.Fit(r.label(), nameW, false)+strings.Repeat(" ", table.Gap)+table.Fit(g.text(), rest, false))
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
