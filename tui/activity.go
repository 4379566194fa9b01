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
	default:
		return st.Removed
	}
}

// activityEntry is one line of the activity log.
type activityEntry struct {
	seq    uint64
	at     time.Time
	kind   activityKind
	nodeID string
	name   string
	actor  string // who did it, when the gateway said
	note   string
}

// activityLimit bounds the log: a console left open for a month must not
// grow without end.
const activityLimit = 500

var activityColumns = []table.Column{
	{Title: "TIME", Min: 8, Max: 8},
	{Title: "EVENT", Min: 11, Max: 11},
	{Title: "NODE", Min: 14, Grow: 2},
	{Title: "BY", Min: 16, Max: 28, Grow: 2, Priority: 2},
	{Title: "ID", Min: 14, Max: 14, Priority: 4},
	{Title: "NOTE", Min: 14, Grow: 3, Priority: 3},
}

// activityView is the log of what happened, newest first.
type activityView struct {
	list          rowList[activityEntry]
	next          uint64
	width, height int
}

func newActivityView() activityView {
	return activityView{list: newRowList(
		func(e activityEntry) string { return strconv.FormatUint(e.seq, 10) },
		func(e activityEntry) string {
			return strings.Join([]string{e.name, e.nodeID, e.actor, e.kind.label(), e.note}, "\x00")
		},
	)}
}

func (v *activityView) SetSize(w, h int) {
	v.width, v.height = w, h
	v.list.cursor.SetHeight(h - 1)
}

// Add logs an entry at the top and forgets the oldest beyond the limit. A
// cursor on the newest entry follows the log, like tail -f; one further
// down stays on the entry it is reading.
func (v *activityView) Add(e activityEntry) {
	following := v.list.cursor.Index == 0
	v.next++
	e.seq = v.next
	v.list.Upsert(e)
	if following {
		v.list.cursor.MoveTo(0)
	}
	if v.list.Len() > activityLimit {
		oldest := v.next - activityLimit
		v.list.RemoveWhere(func(e activityEntry) bool { return e.seq <= oldest })
	}
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
	return nil
}

func (v *activityView) View(c viewCtx, st *styles.Styles) string {
	empty := ""
	switch {
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
