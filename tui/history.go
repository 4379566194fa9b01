package tui

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// HistoryBackend is a Backend that can also read the gateway's history
// (pairdeck.history.list). Both of pairdeck's backends are one; with any
// other, Activity starts empty and logs what happens from then on.
type HistoryBackend interface {
	Backend
	History(ctx context.Context, q protocol.HistoryQuery) (protocol.HistoryPage, error)
}

// Activity reads history in three ways:
//
//   - at start, the newest page: what happened before the console opened;
//   - after the link to the gateway was lost and is back, what happened
//     since the newest event it read: what it missed meanwhile;
//   - when the cursor reaches the bottom, the page before the oldest.
//
// Nothing shows twice. An event read from history that this console saw
// happen live (by request id, or by kind, node and name for the others) is
// the entry already shown: that entry just learns its place in the log
// (each live entry stands for one event, so a node renamed to the same name
// twice is still two entries). Events already read are known by cursor.
//
// Entries are ordered by rank, newest first: a live entry's rank is its
// seq; the pages read at start and when paging back share rank 0, below
// every live entry, in the log's order; what a reload after a lost link
// finds gets a rank taken when the link came back, so it sits between what
// was seen before the loss and what was seen after.

// historyPageSize is how many events one page of Activity's history holds.
const historyPageSize = 100

// activityActions are the actions Activity shows: those it also logs live.
// (Refreshed requests and refused tokens are for `pairdeck nodes history`.)
var activityActions = []string{
	"requested", "approved", "rejected", "expired", "renamed", "removed",
	"blocked", "unblocked", "pairing-on", "pairing-off",
}

// historyState is how far Activity has read the gateway's history.
type historyState struct {
	unsupported bool // the gateway keeps none (not a pairdeck gateway)
	loading     bool // a load is in flight
	reload      bool // the link came back during a load: read again after it
	started     bool // the first page has been read
	lost        bool // the link went down since: read what was missed when it is back
	trimmed     bool // entries read from history were forgotten (activityLimit)
	older       string
	newestTS    int64           // the newest event read, for the next reload
	read        map[string]bool // cursors read
	// The other way round: an event read from history may reach the
	// console live afterwards (the read and the event race). Requests
	// and decisions read are known by request id; the others, when read
	// as recent and not matched with a live entry, wait here to be
	// claimed by their live echo.
	requests  map[string]bool
	unclaimed map[string][]time.Time
}

// echoWindow is how far apart a live entry and an event read from history
// may be and still be one happening (renames, blocks, the pairing switch;
// requests and decisions are matched by request id).
const echoWindow = time.Minute

func newHistoryState() historyState {
	return historyState{read: map[string]bool{}, requests: map[string]bool{}, unclaimed: map[string][]time.Time{}}
}

// claimed reports whether a live entry is the echo of an event already
// read from history.
func (h *historyState) claimed(e activityEntry) bool {
	id := e.ident()
	if e.requestKeyed() {
		return h.requests[id]
	}
	for i, at := range h.unclaimed[id] {
		if d := e.at.Sub(at); d < echoWindow && d > -echoWindow {
			h.unclaimed[id] = append(h.unclaimed[id][:i], h.unclaimed[id][i+1:]...)
			if len(h.unclaimed[id]) == 0 {
				delete(h.unclaimed, id)
			}
			return true
		}
	}
	return false
}

// historyLoad says which of the three reads a page answers.
type historyLoad int

const (
	loadFirst historyLoad = iota
	loadMissed
	loadOlder
)

// historyMsg carries a page of history.
type historyMsg struct {
	load historyLoad
	band uint64
	page protocol.HistoryPage
	err  error
}

// loadOlderMsg asks for the page before the oldest entry shown.
type loadOlderMsg struct{}

// historyCmd reads one page.
func historyCmd(ctx context.Context, hb HistoryBackend, load historyLoad, band uint64, q protocol.HistoryQuery) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		page, err := hb.History(ctx, q)
		return historyMsg{load: load, band: band, page: page, err: err}
	}
}

// startHistory is the first read, asked for as the console starts (New
// marks it in flight; Init sends it).
func (m *Model) startHistory() tea.Cmd {
	hb, ok := m.backend.(HistoryBackend)
	if !ok {
		return nil
	}
	return historyCmd(m.ctx, hb, loadFirst, 0, protocol.HistoryQuery{Actions: activityActions, Limit: historyPageSize})
}

// historyOnLink follows the link to the gateway: once it is back after a
// loss, Activity reads what it missed.
func (m *Model) historyOnLink(state protocol.ConnState) tea.Cmd {
	h := &m.activity.history
	if h.unsupported {
		return nil
	}
	if state != protocol.Connected {
		h.lost = h.lost || h.started
		return nil
	}
	switch {
	case h.loading:
		h.reload = h.lost || !h.started
		return nil
	case !h.started:
		return m.loadHistory(loadFirst)
	case h.lost:
		return m.loadHistory(loadMissed)
	}
	return nil
}

// loadHistory sends one read.
func (m *Model) loadHistory(load historyLoad) tea.Cmd {
	hb, ok := m.backend.(HistoryBackend)
	h := &m.activity.history
	if !ok || h.loading {
		return nil
	}
	q := protocol.HistoryQuery{Actions: activityActions, Limit: historyPageSize}
	var band uint64
	switch load {
	case loadMissed:
		// Up to the limit: a long outage's events, but never more than
		// Activity keeps.
		q.SinceMs, q.Limit = h.newestTS, protocol.HistoryMaxLimit
		// What was missed goes above everything seen before the link
		// came back, and below everything seen after.
		m.activity.next++
		band = m.activity.next
		h.lost = false
	case loadOlder:
		if h.older == "" {
			return nil
		}
		q.Before = h.older
	}
	h.loading = true
	return historyCmd(m.ctx, hb, load, band, q)
}

// atBottom asks for older history when the cursor rests on the last entry.
func (v *activityView) atBottom() tea.Cmd {
	h := &v.history
	if h.older == "" || h.loading || v.list.Shown() == 0 || v.list.cursor.Index < v.list.Shown()-1 {
		return nil
	}
	return func() tea.Msg { return loadOlderMsg{} }
}

// onHistory merges a page into Activity.
func (m *Model) onHistory(msg historyMsg) tea.Cmd {
	h := &m.activity.history
	h.loading = false
	if msg.err != nil {
		if errReason(msg.err) == protocol.ReasonUnknownMethod {
			h.unsupported = true // not a pairdeck gateway: nothing to read
			return nil
		}
		m.log.Warn("read history", "err", msg.err)
		if msg.load == loadMissed {
			h.lost = true // try again when the link next comes back
		}
		if errors.Is(msg.err, context.Canceled) || m.conn != protocol.Connected {
			return nil // the link went; it is read again when it is back
		}
		m.flash = errorFlash("Could not read the gateway's history: "+errText(msg.err), m.now())
		return nil
	}
	switch msg.load {
	case loadFirst:
		h.started = true
		h.older = msg.page.Next
	case loadOlder:
		h.older = msg.page.Next
	}
	m.activity.mergeHistory(msg.page.Events, msg.load != loadOlder, msg.band)
	if h.reload {
		h.reload = false
		return m.historyOnLink(m.conn)
	}
	return nil
}

// mergeHistory adds the events not shown yet, newest first. With match,
// an event this console logged live is the live entry (see above).
func (v *activityView) mergeHistory(events []protocol.HistoryEvent, match bool, band uint64) {
	h := &v.history
	var live map[string][]string
	if match {
		live = map[string][]string{}
		v.list.Each(func(e activityEntry) {
			if e.cursor == "" && e.seq > 0 {
				id := e.ident()
				live[id] = append(live[id], e.key())
			}
		})
	}
	// A cursor on the newest entry (or an empty list) stays on the newest;
	// one further down stays on the entry it is on.
	following := v.list.cursor.Index == 0
	// Live entries are matched oldest first: the log's oldest event is
	// the first one this console saw.
	for i := len(events) - 1; i >= 0; i-- {
		ev := events[i]
		if ev.Cursor == "" || h.read[ev.Cursor] {
			continue
		}
		h.read[ev.Cursor] = true
		h.newestTS = max(h.newestTS, ev.TS)
		e, ok := historyEntry(ev)
		if !ok {
			continue
		}
		e.rank = band
		id := e.ident()
		if e.requestKeyed() {
			h.requests[id] = true
		}
		if keys := live[id]; len(keys) > 0 {
			n := len(keys) - 1 // Each lists newest first: the oldest is last
			v.list.Update(keys[n], func(le *activityEntry) { le.cursor = ev.Cursor })
			live[id] = keys[:n]
			continue
		}
		if match && !e.requestKeyed() {
			h.unclaimed[id] = append(h.unclaimed[id], e.at)
		}
		v.list.Upsert(e)
	}
	if following {
		v.list.cursor.MoveTo(0)
	}
	v.trim()
}

// historyEntry is how Activity shows an event read from history: as it
// would have logged it live.
func historyEntry(ev protocol.HistoryEvent) (activityEntry, bool) {
	e := activityEntry{
		at: msTime(ev.TS), nodeID: ev.NodeID, requestID: ev.RequestID, cursor: ev.Cursor,
		name: nameOr(ev.DisplayName, ev.NodeID), actor: ev.Actor.String(),
	}
	switch ev.Action {
	case "requested":
		e.kind = actRequested
		if ev.Actor.Role == protocol.RoleNode {
			// A node asks for itself, from the address it connected from
			// (the request's own address is not in the log).
			e.actor = "the node"
			if host, _, err := net.SplitHostPort(ev.Actor.RemoteAddr); err == nil {
				e.note = host
			}
		}
		if ev.IsRepair {
			e.note = "re-pair: token will rotate"
		}
	case "approved":
		e.kind = actApproved
	case "rejected":
		e.kind = actRejected
	case "expired":
		e.kind = actExpired
	case "renamed":
		e.kind = actRenamed
	case "removed":
		e.kind = actRemoved
	case "blocked":
		e.kind = actBlocked
	case "unblocked":
		e.kind = actUnblocked
		e.note = fmt.Sprintf("refused %s while blocked", plural(int(ev.Attempts), "time", "times"))
	case "code.created", "code.revoked":
		// The code's public part, as the store logs it.
		var c protocol.SetupCode
		if raw, ok := ev.Fields["code"]; !ok || json.Unmarshal(raw, &c) != nil || c.ID == "" {
			return e, false
		}
		e = codeEntry(ev.Action == "code.revoked", c, ev.Actor.String(), msTime(ev.TS))
		e.cursor = ev.Cursor
	case "pairing-on", "pairing-off":
		on := ev.Action == "pairing-on"
		e.kind, e.nodeID, e.name = actPairingOff, "", ""
		e.note = "nodes' requests are refused"
		if on {
			e.kind, e.note = actPairingOn, "nodes may ask to join"
		}
	default:
		return e, false
	}
	e.note = withReason(e.note, ev.Reason)
	return e, true
}

// ident is what an entry is about, for telling an event read from history
// apart from one this console logged live: the request for requests and
// decisions, else the kind, node and (for a rename) name.
func (e activityEntry) ident() string {
	switch {
	case e.requestKeyed():
		return strconv.Itoa(int(e.kind)) + "\x00" + e.requestID
	case e.kind == actRenamed, e.kind == actCodeCreated, e.kind == actCodeRevoked:
		return strconv.Itoa(int(e.kind)) + "\x00" + e.nodeID + "\x00" + e.name
	}
	return strconv.Itoa(int(e.kind)) + "\x00" + e.nodeID
}

// requestKeyed reports whether the entry is known by its request id.
func (e activityEntry) requestKeyed() bool {
	switch e.kind {
	case actRequested, actApproved, actRejected, actExpired:
		return e.requestID != ""
	}
	return false
}

// compareActivity orders entries newest first: by rank, then by place in
// the log, then as logged.
func compareActivity(a, b activityEntry) int {
	if c := cmp.Compare(b.rank, a.rank); c != 0 {
		return c
	}
	af, ao := cursorPlace(a.cursor)
	bf, bo := cursorPlace(b.cursor)
	if c := cmp.Compare(bf, af); c != 0 {
		return c
	}
	if c := cmp.Compare(bo, ao); c != 0 {
		return c
	}
	if c := cmp.Compare(b.seq, a.seq); c != 0 {
		return c
	}
	return strings.Compare(b.key(), a.key())
}

// cursorPlace reads a history cursor ("<file>.<offset>") as a place in the
// log; anything else is (0, 0).
func cursorPlace(c string) (file uint64, off int64) {
	f, o, ok := strings.Cut(c, ".")
	if !ok {
		return 0, 0
	}
	file, err1 := strconv.ParseUint(f, 10, 64)
	off, err2 := strconv.ParseInt(o, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	return file, off
}

// moreOlder marks the position note ("1–20 of 100+") while older history
// can still be read.
func (v *activityView) moreOlder() string {
	switch {
	case v.history.loading && v.history.started:
		return " · reading older…"
	case v.history.older != "":
		return "+"
	}
	return ""
}
