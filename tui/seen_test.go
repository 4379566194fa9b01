package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// A decision acts on what the operator saw (issue 10, item 10): the
// request under the cursor in the frame on screen, once it has been there
// a moment; rows that go away say why before they go; the cursor does not
// land on another request in time for a key press meant for the last one.

// expiringQueue is three requests; the one under the cursor — first, as
// the queue is sorted by time left — expires first, in 30 s, and the next
// one would slide under the cursor when it goes.
func expiringQueue(t *testing.T) (Model, *clock) {
	t.Helper()
	m, clk := newModel(t, 80, 24)
	reqs := []protocol.PendingRequest{
		request("req-a", "Office Mac mini", "macos", "10.0.0.5", time.Minute),
		request("req-b", "Kitchen Display", "android", "10.0.0.6", 4*time.Minute+30*time.Second),
		request("req-c", "Garage Pi", "linux", "10.0.0.7", 2*time.Minute),
	}
	m = step(t, m, listed(reqs))
	if selectedID(m) != "req-b" {
		t.Fatalf("cursor on %q", selectedID(m))
	}
	clk.Advance(2 * time.Second) // the operator has been looking for a while
	m = step(t, m, tickMsg{})
	return m, clk
}

// decisions lists the requests the messages ask to approve or reject.
func decisions(seen []tea.Msg) []string {
	var ids []string
	for _, msg := range seen {
		if c, ok := msg.(confirmedMsg); ok {
			msg = c.then
		}
		if d, ok := msg.(decideMsg); ok {
			for _, tg := range d.targets {
				ids = append(ids, d.action.verb()+" "+tg.requestID)
			}
		}
	}
	return ids
}

func resolvedEvent(id, name, decision, actor string, at time.Time) tea.Msg {
	return event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: id, NodeID: nodeID(name), Decision: decision, TS: at.UnixMilli(), Actor: actor,
	})
}

// The reproduction: the row under the cursor reaches 0:00, the gateway
// says it expired a few milliseconds later, and "a" pressed 50 ms after
// 0:00 must not approve the request that would have slid under the
// cursor.
func TestApproveJustAfterExpiryDoesNotApproveTheNextRow(t *testing.T) {
	m, clk := expiringQueue(t)
	clk.Advance(28 * time.Second) // 0:00 exactly
	m = step(t, m, tickMsg{})
	clk.Advance(20 * time.Millisecond)
	m = step(t, m, resolvedEvent("req-b", "Kitchen Display", protocol.DecisionExpired, "", clk.Now()))
	clk.Advance(30 * time.Millisecond)
	m, seen := stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 0 {
		t.Fatalf("a 50 ms after the row under the cursor expired decided %v", d)
	}
	if got := lineWith(t, m, "Kitchen Display"); !strings.Contains(got, "◷ expired") || !strings.HasPrefix(got, glyphCursor) {
		t.Errorf("the expired row stays under the cursor, saying so: %q", got)
	}
	if !strings.Contains(m.statusLine(), "Kitchen Display") || !strings.Contains(m.statusLine(), "expired") {
		t.Errorf("the refusal says why: %q", m.statusLine())
	}
}

// A request decided elsewhere stays a moment, greyed, saying who decided
// it; then it goes, and the request that slides under the cursor cannot
// be decided by a key pressed in that instant.
func TestARowDecidedElsewhereSaysWhoThenLeavesWithoutARace(t *testing.T) {
	m, clk := expiringQueue(t)
	m = step(t, m, resolvedEvent("req-b", "Kitchen Display", protocol.DecisionApproved, "cli (operator)", clk.Now()))
	row := lineWith(t, m, "Kitchen Display")
	if !strings.Contains(row, "approved elsewhere by cli (operator)") || !strings.HasPrefix(row, glyphCursor) {
		t.Fatalf("the row says who decided it, under the cursor: %q", row)
	}
	if m.keys.Approve.Enabled() || m.keys.Reject.Enabled() || m.keys.Mark.Enabled() {
		t.Error("a decided row offers approve, reject or mark")
	}
	if _, seen := stepMsgs(t, m, keyMsg("r")); len(decisions(seen)) != 0 {
		t.Fatalf("r on a row decided elsewhere decided %v", decisions(seen))
	}

	// It stays for a moment, then goes at a tick.
	clk.Advance(goneFor - time.Second)
	m = step(t, m, tickMsg{})
	if _, ok := m.pending.Get("req-b"); !ok {
		t.Fatal("gone before its moment was up")
	}
	clk.Advance(time.Second)
	m = step(t, m, tickMsg{})
	if _, ok := m.pending.Get("req-b"); ok {
		t.Fatal("still there after its moment")
	}
	// Garage Pi slid under the cursor by itself: a key pressed now was
	// meant for the row that went.
	clk.Advance(50 * time.Millisecond)
	m, seen := stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 0 {
		t.Fatalf("a 50 ms after the cursor moved by itself decided %v", d)
	}
	if !strings.Contains(m.statusLine(), "Garage Pi") {
		t.Errorf("the refusal names the row now under the cursor: %q", m.statusLine())
	}
	// Once it has been in view a moment, the key works.
	clk.Advance(minOnScreen)
	_, seen = stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 1 || d[0] != "approve req-c" {
		t.Fatalf("after a moment: %v", d)
	}
}

// The operator's own approval takes the row away; a second press of the
// key a moment later must not approve the next request.
func TestADoublePressDoesNotDecideTheNextRow(t *testing.T) {
	m, clk := expiringQueue(t)
	m, seen := stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 1 || d[0] != "approve req-b" {
		t.Fatalf("first press: %v", d)
	}
	clk.Advance(80 * time.Millisecond)
	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{{
		decisionTarget: decisionTarget{requestID: "req-b", nodeID: nodeID("Kitchen Display"), name: "Kitchen Display"},
		approved:       protocol.ApproveResult{RequestID: "req-b", Delivered: true},
	}}})
	clk.Advance(40 * time.Millisecond)
	_, seen = stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 0 {
		t.Fatalf("the second press decided %v", d)
	}
}

// A request that has only just appeared cannot be decided by a key
// pressed in that instant: nobody has read it yet.
func TestARequestMustBeOnScreenAMomentBeforeAKeyDecidesIt(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, listed(nil))
	clk.Advance(10 * time.Second)
	m = step(t, m, event(protocol.EventPairRequested, request("req-new", "Garage Pi", "linux", "10.0.4.30", 0)))
	clk.Advance(50 * time.Millisecond)
	m, seen := stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 0 {
		t.Fatalf("a 50 ms after the request appeared decided %v", d)
	}
	clk.Advance(minOnScreen)
	_, seen = stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 1 {
		t.Fatalf("after a moment on screen: %v", d)
	}
	// The operator's own moves need no wait: the rows were on screen.
	m, clk = expiringQueue(t)
	m = press(t, m, "j")
	_, seen = stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 1 || d[0] != "approve req-c" {
		t.Fatalf("j then a: %v", d)
	}
	_ = clk
}

// The row the detail pane shows says what became of it, and offers
// nothing to do to it.
func TestTheDetailPaneSaysARequestWasDecidedElsewhere(t *testing.T) {
	m, _ := expiringQueue(t)
	m = press(t, m, "enter")
	m = step(t, m, resolvedEvent("req-b", "Kitchen Display", protocol.DecisionRejected, "console (alice)", t0))
	if !m.detail.open {
		t.Fatal("the detail closed at once: the operator never learns why")
	}
	if f := frameOf(m); !strings.Contains(f, "rejected elsewhere by console (alice)") {
		t.Errorf("the detail does not say:\n%s", f)
	}
	if m.keys.Approve.Enabled() || m.keys.Reject.Enabled() || m.keys.Block.Enabled() {
		t.Error("a decided request offers keys in the detail pane")
	}
}

// The bulk dialog acts on the requests it showed, only those still
// waiting, and says what changed since it opened.
func TestBulkDialogActsOnItsSnapshotAndSaysWhatChanged(t *testing.T) {
	m, clk := expiringQueue(t)
	m = press(t, m, "space", "j", "space", "A") // mark Kitchen Display and Office Mac mini
	if m.confirm == nil || !strings.Contains(frameOf(m), "Approve 2?") {
		t.Fatalf("dialog:\n%s", frameOf(m))
	}
	// While it is open: the kitchen display expires, a request arrives.
	clk.Advance(28 * time.Second)
	m = step(t, m, tickMsg{})
	m = step(t, m, resolvedEvent("req-b", "Kitchen Display", protocol.DecisionExpired, "", clk.Now()))
	m = step(t, m, event(protocol.EventPairRequested, request("req-new", "Porch Light", "linux", "10.0.0.9", -30*time.Second)))
	f := frameOf(m)
	if strings.Contains(f, "Approve 2?") || !strings.Contains(f, "Kitchen Display expired") {
		t.Errorf("the dialog does not say what changed:\n%s", f)
	}
	m, seen := stepMsgs(t, m, keyMsg("y"))
	if d := decisions(seen); len(d) != 1 || d[0] != "approve req-a" {
		t.Fatalf("confirm decided %v, want only the request still waiting", d)
	}

	// Everything it showed has gone: no "Approve 2?" over nothing, and
	// confirming decides nothing.
	m, clk = expiringQueue(t)
	m = press(t, m, "space", "R")
	clk.Advance(time.Second)
	m = step(t, m, resolvedEvent("req-b", "Kitchen Display", protocol.DecisionApproved, "cli (operator)", clk.Now()))
	f = frameOf(m)
	if strings.Contains(f, "Reject 1?") || !strings.Contains(f, "approved elsewhere by cli (operator)") {
		t.Errorf("dialog over nothing:\n%s", f)
	}
	m, seen = stepMsgs(t, m, keyMsg("y"))
	if d := decisions(seen); len(d) != 0 {
		t.Fatalf("confirming an emptied dialog decided %v", d)
	}
	if m.confirm != nil {
		t.Error("the dialog stays open")
	}
}

// Coming back to the queue from another view shows a screenful the
// operator has not seen for a while: a key pressed in that instant was
// not aimed at it.
func TestTheQueueMustBeBackInViewAMomentBeforeAKeyDecides(t *testing.T) {
	m, clk := expiringQueue(t)
	m = press(t, m, "tab")
	clk.Advance(10 * time.Second)
	m = step(t, m, tickMsg{})
	m = press(t, m, "shift+tab")
	clk.Advance(50 * time.Millisecond)
	m, seen := stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 0 {
		t.Fatalf("a 50 ms after the queue came back decided %v", d)
	}
	clk.Advance(minOnScreen)
	_, seen = stepMsgs(t, m, keyMsg("a"))
	if d := decisions(seen); len(d) != 1 || d[0] != "approve req-b" {
		t.Fatalf("after a moment: %v", d)
	}
	// The same when the detail pane or the help closes over it.
	for _, keys := range [][]string{{"enter", "esc"}, {"?", "?"}} {
		m, clk := expiringQueue(t)
		m = press(t, m, keys[0])
		clk.Advance(5 * time.Second)
		m = press(t, m, keys[1])
		if _, seen := stepMsgs(t, m, keyMsg("r")); len(decisions(seen)) != 0 {
			t.Errorf("%v then r at once decided %v", keys, decisions(seen))
		}
	}
}
