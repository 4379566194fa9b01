package tui

import (
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/styles"
	"github.com/pairdeck/pairdeck/tui/table"
)

// activityKind is what happened to a node.
type activityKind int

const (
	actRequested activityKind = iota
	actApproved
	actRejected
	actExpired
	actRenamed
	actRemoved
	actBlocked
	actUnblocked
	actPairingOn
	actPairingOff
	actHeld // a silent request left for the operator: the check failed
	// A setup code created or revoked (name is "code <id>").
	actCodeCreated
	actCodeRevoked
)

func (k activityKind) label() string {
	switch k {
	case actRequested:
		return glyphRequested + " requested"
	case actApproved:
		return glyphApproved + " approved"
	case actRejected:
		return glyphRejected + " rejected"
	case actExpired:
		return glyphExpired + " expired"
	case actRenamed:
		return glyphRenamed + " renamed"
	case actBlocked:
		return glyphBlocked + " blocked"
	case actUnblocked:
		return glyphUnblocked + " unblocked"
	case actPairingOn:
		return glyphPairingOn + " pair on"
	case actPairingOff:
		return glyphPairingOff + " pair off"
	case actHeld:
		return glyphHeld + " held"
	case actCodeCreated:
		return glyphRequested + " new code"
	case actCodeRevoked:
		return glyphRejected + " revoked"
	default:
		return glyphRemoved + " removed"
	}
}

func (k activityKind) style(st *styles.Styles) styles.Style {
	switch k {
	case actRequested:
		return st.Requested
	case actApproved:
		return st.Approved
	case actRejected:
		return st.Rejected
	case actExpired:
		return st.Expired
	case actRenamed:
		return st.Renamed
	case actBlocked, actPairingOff:
		return st.Blocked
	case actUnblocked, actPairingOn:
		return st.Approved
	case actHeld:
		return st.Expiring
	case actCodeCreated:
		return st.Requested
	default:
		return st.Removed
	}
}

// activityEntry is one line of the activity log.
type activityEntry struct {
	seq    uint64 // live entries: 1, 2, … as logged; 0 for one read from history
	at     time.Time
	kind   activityKind
	nodeID string
	name   string
	actor  string // who did it, when the gateway said
	note   string
	// requestID names the request a request or decision is about.
	requestID string
	// cursor is where the entry is in the gateway's history, once known
	// (read from it, or a live entry matched with it).
	cursor string
	// rank places the entry: a live one's seq; for those read from
	// history, the rank of the load that brought them (see history.go).
	rank uint64
}

// key is the entry's key in the list: its seq, or its history cursor.
func (e activityEntry) key() string {
	if e.seq == 0 {
		return "h" + e.cursor
	}
	return strconv.FormatUint(e.seq, 10)
}

// activityLimit bounds the log: a console left open for a month must not
// grow without end, nor one paged far back into its history.
const activityLimit = 2000

var activityColumns = []table.Column{
	{Title: "TIME", Min: 8, Max: 8},
	{Title: "EVENT", Min: 11, Max: 11},
	{Title: "NODE", Min: 14, Grow: 2},
	{Title: "BY", Min: 16, Max: 28, Grow: 2, Priority: 2},
	{Title: "ID", Min: 14, Max: 14, Priority: 4},
	{Title: "NOTE", Min: 14, Grow: 3, Priority: 3},
}

// activityView is the log of what happened, newest first: what this
// console saw happen, above what it read from the gateway's history.
type activityView struct {
	list          rowList[activityEntry]
	next          uint64
	history       historyState
	width, height int
}

func newActivityView() activityView {
	v := activityView{list: newRowList(
		func(e activityEntry) string { return e.key() },
		func(e activityEntry) string {
			return strings.Join([]string{e.name, e.nodeID, e.actor, e.kind.label(), e.note}, "\x00")
		},
	), history: newHistoryState()}
	v.list.SetOrder(compareActivity)
	return v
}

func (v *activityView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.list.cursor.SetHeight(h - 1)
}

// Add logs an entry at the top and forgets the oldest beyond the limit. A
// cursor on the newest entry follows the log, like tail -f; one further
// down stays on the entry it is reading.
func (v *activityView) Add(e activityEntry) {
	if v.history.claimed(e) {
		return // already shown, as read from the gateway's history
	}
	following := v.list.cursor.Index == 0
	v.next++
	e.seq, e.rank = v.next, v.next
	v.list.Upsert(e)
	if following {
		v.list.cursor.MoveTo(0)
	}
	v.trim()
}

// trim forgets the oldest entries beyond the limit. Once entries read
// from history go, paging back stops: what is older is for `pairdeck
// nodes history`.
func (v *activityView) trim() {
	if v.list.Len() <= activityLimit {
		return
	}
	drop := map[string]bool{}
	i := 0
	v.list.Each(func(e activityEntry) {
		if i >= activityLimit {
			drop[e.key()] = true
			if e.cursor != "" {
				v.history.older, v.history.trimmed = "", true
			}
		}
		i++
	})
	v.list.RemoveWhere(func(e activityEntry) bool { return drop[e.key()] })
}

func (v *activityView) Filter() string                  { return v.list.Filter() }
func (v *activityView) SetFilter(q string)              { v.list.SetFilter(q) }
func (v *activityView) Counts() (shown, total int)      { return v.list.Shown(), v.list.Len() }
func (v *activityView) Position() (int, int, int, bool) { return v.list.Position() }

// The log has nothing to act on and no detail pane: a line says it all.
func (v *activityView) selectedKey() (string, bool)                     { return "", false }
func (v *activityView) enableRowKeys(*KeyMap, string, viewCtx) bool     { return false }
func (v *activityView) details(string, viewCtx) (string, []field, bool) { return "", nil, false }
func (v *activityView) onRowKey(tea.KeyPressMsg, *KeyMap, string, viewCtx) (tea.Cmd, bool) {
	return nil, false
}

func (v *activityView) enableKeys(k *KeyMap, _ viewCtx) { k.navigation(v.list.Shown() > 0) }

func (v *activityView) onKey(msg tea.KeyPressMsg, k *KeyMap, _ viewCtx) tea.Cmd {
	moveCursor(&v.list.cursor, msg, *k)
	return v.atBottom()
}

func (v *activityView) View(c viewCtx, st *styles.Styles) string {
	empty := ""
	switch {
	case v.list.Len() == 0 && v.history.unsupported:
		empty = "Nothing has happened yet. Requests and decisions are logged here (this gateway keeps no history the console can read)."
	case v.list.Len() == 0:
		empty = "Nothing has happened yet. Requests and decisions are logged here."
	case v.list.Shown() == 0:
		empty = noMatch("entry", v.list.Filter())
	}
	loc := c.now.Location()
	return listFrame(st, activityColumns, v.width, v.height, &v.list, hintLines(st, v.width, sayOnly(empty)),
		func(e activityEntry) []string { return e.cells(loc) },
		func(e activityEntry, cells []string, widths []int, rs rowStyles, isSel bool) string {
			return v.renderRow(e, cells, widths, st, rs, isSel)
		})
}

// cells are the entry's columns, as text.
func (e activityEntry) cells(loc *time.Location) []string {
	return []string{
		e.at.In(loc).Format("15:04:05"),
		e.kind.label(),
		e.name,
		orDash(e.actor),
		shortID(e.nodeID),
		e.note,
	}
}

func (v *activityView) renderRow(e activityEntry, cells []string, widths []int, st *styles.Styles, rs rowStyles, isSel bool) string {
	return cellsLine(st, rs, isSel, activityColumns, widths, v.width, cells, func(i int) styles.Style {
		switch i {
		case 0, 3, 4:
			return st.Dim
		case 1:
			return e.kind.style(st)
		}
		return st.Pending
	})
}
