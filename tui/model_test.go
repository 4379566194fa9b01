package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// lineWith returns the first line of the frame that contains s.
func lineWith(t *testing.T, m Model, s string) string {
	t.Helper()
	for _, l := range strings.Split(frameOf(m), "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	t.Fatalf("no line contains %q in:\n%s", s, frameOf(m))
	return ""
}

func selectedID(m Model) string {
	r, _ := m.pending.Selected()
	return r.req.RequestID
}

func TestCountdownText(t *testing.T) {
	cases := []struct {
		left time.Duration
		text string
		urg  urgency
	}{
		{4*time.Minute + 20*time.Second, "  4:20", calm},
		{60 * time.Second, "  1:00", calm},
		{59*time.Second + 900*time.Millisecond, "⚠ 0:59", expiring},
		{10 * time.Second, "⚠ 0:10", expiring},
		{9*time.Second + 999*time.Millisecond, "‼ 0:09", critical},
		{400 * time.Millisecond, "‼ 0:00", critical},
		{0, "◷ expired", expired},
		{-3 * time.Second, "◷ expired", expired},
		{2*time.Hour + 5*time.Second, "  2:00:05", calm},
	}
	for _, c := range cases {
		text, urg := countdown(c.left)
		if text != c.text || urg != c.urg {
			t.Errorf("countdown(%v) = %q, %d; want %q, %d", c.left, text, urg, c.text, c.urg)
		}
	}
}

func TestCountdownEscalatesAsTheClockRuns(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	req := request("req-1", "Hallway Sensor", "linux", "10.0.0.9", 5*time.Minute-61*time.Second)
	m = step(t, m, listed([]protocol.PendingRequest{req}))

	if got := lineWith(t, m, "Hallway Sensor"); !strings.HasSuffix(strings.TrimRight(got, " "), "  1:01") {
		t.Fatalf("61 s left: %q", got)
	}
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{2 * time.Second, "⚠ 0:59"}, // under a minute: expiring
		{49 * time.Second, "⚠ 0:10"},
		{time.Second, "‼ 0:09"}, // under ten seconds: critical
		{9 * time.Second, "◷ expired"},
	}
	for _, s := range steps {
		clk.Advance(s.advance)
		m = step(t, m, tickMsg{})
		if got := lineWith(t, m, "Hallway Sensor"); !strings.Contains(got, s.want) {
			t.Fatalf("after +%v: row %q, want %q", s.advance, got, s.want)
		}
	}
}

// A request that carries no expiry (an OpenClaw 2026.9 capability
// request, a device request whose refresh time is not published) has no
// countdown: nothing is made up from its request time. It shows how long
// it has waited, is never expired here, and sorts after those that do
// expire, longest waiting first.
func TestARequestWithoutExpiryShowsHowLongItWaited(t *testing.T) {
	old := request("req-old", "Old Device", "ios", "10.0.0.2", 40*time.Minute)
	old.ExpiresAtMs = 0
	young := request("req-young", "Young Device", "ios", "10.0.0.3", time.Minute)
	young.ExpiresAtMs = 0
	reqs := append([]protocol.PendingRequest{young, old}, threeRequests()...)

	m, clk := newModel(t, 80, 24)
	m = step(t, m, listed(reqs))
	if got := queueIDs(m); !slices.Equal(got, []string{"req-kitchen", "req-build", "req-ipad", "req-old", "req-young"}) {
		t.Errorf("order %v", got)
	}
	if got := strings.TrimSpace(lineWith(t, m, "Old Device")); !strings.HasSuffix(got, "40m ago  waited 40m") {
		t.Errorf("row without expiry: %q", got)
	}
	if got := strings.TrimSpace(lineWith(t, m, "Young Device")); !strings.HasSuffix(got, "waited 1m") {
		t.Errorf("row without expiry: %q", got)
	}
	// An hour on, the rows that expire have gone; these still wait, and
	// can still be decided.
	clk.Advance(time.Hour)
	m = step(t, m, tickMsg{})
	clk.Advance(expiryGrace)
	m = step(t, m, tickMsg{})
	if got := queueIDs(m); !slices.Equal(got, []string{"req-old", "req-young"}) {
		t.Fatalf("after an hour: %v", got)
	}
	if got := strings.TrimSpace(lineWith(t, m, "Old Device")); !strings.HasSuffix(got, "waited 1h") {
		t.Errorf("after an hour: %q", got)
	}
	m = press(t, m, "g")
	if !m.keys.Approve.Enabled() {
		t.Error("a request without expiry cannot be approved")
	}
	m = press(t, m, "enter")
	if f := frameOf(m); !strings.Contains(f, "Expires        none given: the request waits until the gateway drops it") {
		t.Errorf("detail:\n%s", f)
	}
	// A list that still holds them keeps them.
	m = press(t, m, "esc")
	m = step(t, m, listed([]protocol.PendingRequest{young, old}))
	if m.pending.list.Len() != 2 {
		t.Errorf("a re-list dropped requests without expiry: %v", queueIDs(m))
	}
}

func TestExpiredRowIsGreyedThenDroppedAndRelisted(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	if selectedID(m) != "req-kitchen" { // first by time left: 30 s
		t.Fatalf("cursor on %q", selectedID(m))
	}

	clk.Advance(30 * time.Second)
	m = step(t, m, tickMsg{})
	if got := lineWith(t, m, "Kitchen Display"); !strings.Contains(got, "◷ expired") {
		t.Fatalf("at zero the row says expired: %q", got)
	}
	if m.keys.Approve.Enabled() || m.keys.Reject.Enabled() {
		t.Error("an expired request cannot be approved or rejected")
	}
	if m.sync.listing {
		t.Error("no re-list before the grace runs out")
	}

	clk.Advance(expiryGrace)
	m = step(t, m, tickMsg{})
	if _, ok := m.pending.Get("req-kitchen"); ok {
		t.Fatal("the expired row is dropped after the grace")
	}
	if !m.sync.listing {
		t.Error("dropping an expired row re-lists")
	}
	e, _ := m.activity.list.Selected()
	if e.kind != actExpired || e.name != "Kitchen Display" {
		t.Errorf("activity: %+v", e)
	}

	// The gateway, expiring lazily, still lists it: it stays gone.
	m = step(t, m, listed(threeRequests()))
	if _, ok := m.pending.Get("req-kitchen"); ok {
		t.Error("a list that lags behind does not bring the expired row back")
	}
	if m.sync.listing {
		t.Error("and does not start a re-list loop")
	}

	// The gateway's expiry event, late, is not logged twice.
	before := m.activity.list.Len()
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-kitchen", NodeID: nodeID("Kitchen Display"), Decision: protocol.DecisionExpired, TS: clk.Now().UnixMilli(),
	}))
	if m.activity.list.Len() != before {
		t.Error("expiry logged twice")
	}
}

func TestRequestedEventUpsertsAndKeepsTheCursor(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = press(t, m, "j")
	if selectedID(m) != "req-build" {
		t.Fatalf("cursor on %q", selectedID(m))
	}

	// A new request appears at once where the order (time left) puts it:
	// last with the most time left, first with the least. The cursor stays
	// on its row.
	m = step(t, m, event(protocol.EventPairRequested, request("req-new", "Garage Pi", "linux", "10.0.4.30", 0)))
	if got := m.pending.list.Len(); got != 4 {
		t.Fatalf("rows: %d", got)
	}
	if last := m.pending.list.rows[3].v.req.RequestID; last != "req-new" {
		t.Errorf("new request at %q, want it last", last)
	}
	if selectedID(m) != "req-build" {
		t.Errorf("cursor moved to %q", selectedID(m))
	}
	m = step(t, m, event(protocol.EventPairRequested, request("req-soon", "Porch Light", "linux", "10.0.4.31", 4*time.Minute+50*time.Second)))
	if first := m.pending.list.rows[0].v.req.RequestID; first != "req-soon" {
		t.Errorf("a request with 10 s left at %q, want it first", first)
	}
	if selectedID(m) != "req-build" || m.pending.list.cursor.Index != 2 {
		t.Errorf("cursor moved to %q (row %d)", selectedID(m), m.pending.list.cursor.Index)
	}

	// A refresh of an existing request updates it; with its new expiry it
	// goes where the order puts it, and the cursor goes with it.
	refreshed := request("req-build", "bb-07 rack 3", "linux", "10.0.4.18", 0)
	refreshed.NodeID = nodeID("build-box-07")
	m = step(t, m, event(protocol.EventPairRequested, refreshed))
	if got := m.pending.list.Len(); got != 5 {
		t.Fatalf("refresh added a row: %d", got)
	}
	if m.pending.list.rows[3].v.req.RequestID != "req-build" {
		t.Error("the refreshed row is not where its new expiry puts it")
	}
	if selectedID(m) != "req-build" {
		t.Errorf("cursor moved to %q", selectedID(m))
	}
	if got := lineWith(t, m, "rack 3"); !strings.Contains(got, "  5:00") || !strings.HasPrefix(got, glyphCursor) {
		t.Errorf("refreshed row: %q", got)
	}

	requested := 0
	m.activity.list.Each(func(e activityEntry) {
		if e.kind == actRequested {
			requested++
		}
	})
	if requested != 2 {
		t.Errorf("activity has %d requested entries; want 2 (refreshes are not news)", requested)
	}
}

func TestRelistKeepsTheCursorOnItsRequest(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	reqs := threeRequests()
	m = step(t, m, listed(reqs))
	m = press(t, m, "j", "j")
	if selectedID(m) != "req-ipad" {
		t.Fatal(selectedID(m))
	}
	// Listed in another order, with a request that goes above it.
	soon := request("req-soon", "Porch Light", "linux", "10.0.4.31", 4*time.Minute+50*time.Second)
	reordered := []protocol.PendingRequest{reqs[2], reqs[0], soon, reqs[1]}
	m = step(t, m, listed(reordered))
	if selectedID(m) != "req-ipad" || m.pending.list.cursor.Index != 3 {
		t.Errorf("cursor on %q (row %d) after re-list", selectedID(m), m.pending.list.cursor.Index)
	}
}

func TestResolvedEventKeepsTheRowAMomentThenRemovesIt(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = press(t, m, "j") // on build-box

	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-build", NodeID: nodeID("build-box-07"), Decision: protocol.DecisionApproved,
		TS: t0.UnixMilli(), Actor: "cli (operator)",
	}))
	r, ok := m.pending.Get("req-build")
	if !ok || m.pending.live(r) || selectedID(m) != "req-build" {
		t.Fatalf("the resolved request stays, no longer live, under the cursor (cursor on %q)", selectedID(m))
	}
	if !strings.Contains(m.tabs(), "Pending 2") {
		t.Errorf("the tab counts what still waits: %q", m.tabs())
	}
	e, _ := m.activity.list.Selected()
	if e.kind != actApproved || e.actor != "cli (operator)" || e.name != "build-box-07" {
		t.Errorf("activity: %+v", e)
	}
	if !m.sync.listing {
		t.Error("an approval re-lists, for the paired view")
	}
	// The list that answers does not hold it; the row still says what
	// became of it, in its place.
	m = step(t, m, listed([]protocol.PendingRequest{threeRequests()[0], threeRequests()[2]}))
	if selectedID(m) != "req-build" || m.pending.list.rows[1].v.req.RequestID != "req-build" {
		t.Fatalf("a re-list took the resolved row away early (cursor on %q)", selectedID(m))
	}
	clk.Advance(goneFor)
	m = step(t, m, tickMsg{})
	if _, ok := m.pending.Get("req-build"); ok {
		t.Fatal("still there after its moment")
	}
	if selectedID(m) != "req-ipad" {
		t.Errorf("the next row takes the cursor; got %q", selectedID(m))
	}
}

func TestBulkConfirmationCountsMarkedRowsHiddenByTheFilter(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = press(t, m, "space", "j", "space") // mark the iPad and the kitchen display
	if m.pending.MarkCount() != 2 {
		t.Fatalf("marks: %d", m.pending.MarkCount())
	}
	m = press(t, m, "/")
	m = typeText(t, m, "kitchen")
	m = press(t, m, "enter")
	if m.pending.list.Shown() != 1 {
		t.Fatalf("filter shows %d", m.pending.list.Shown())
	}

	m = press(t, m, "A")
	if m.confirm == nil {
		t.Fatal("no confirmation")
	}
	view := frameOf(m)
	for _, want := range []string{"Approve 2?", "Approve 2 marked requests.", "1 of them is hidden by the filter “kitchen”."} {
		if !strings.Contains(view, want) {
			t.Errorf("confirmation lacks %q:\n%s", want, view)
		}
	}

	m, seen := stepMsgs(t, m, keyMsg("y"))
	decided, ok := sent[decideMsg](seen)
	if !ok || decided.action != approve || len(decided.targets) != 2 {
		t.Fatalf("confirm sent %+v", seen)
	}
	if m.confirm != nil {
		t.Error("dialog still open")
	}
	if m.pending.busy["req-ipad"] != "approving" || m.pending.busy["req-kitchen"] != "approving" {
		t.Errorf("busy: %v", m.pending.busy)
	}
	if m.pending.MarkCount() != 0 {
		t.Error("marks stay after the decision started")
	}
}

func TestBulkConfirmationCanBeCancelled(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = press(t, m, "space", "R")
	if m.confirm == nil || !strings.Contains(frameOf(m), "It is in view.") {
		t.Fatalf("confirmation:\n%s", frameOf(m))
	}
	m, seen := stepMsgs(t, m, keyMsg("esc"))
	if m.confirm != nil || len(m.pending.busy) != 0 {
		t.Errorf("cancel left dialog=%v busy=%v", m.confirm, m.pending.busy)
	}
	if _, ok := sent[decideMsg](seen); ok {
		t.Error("cancel decided anyway")
	}
}

func TestKeysGoToTheFocusedInput(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))

	m = press(t, m, "/")
	m, seen := stepMsgs(t, m, keyMsg("q"))
	if _, ok := sent[tea.QuitMsg](seen); ok {
		t.Fatal("q in the filter quit the console")
	}
	m = typeText(t, m, "ar") // neither approves nor rejects
	if len(m.pending.busy) != 0 {
		t.Fatalf("a key reached the queue: %v", m.pending.busy)
	}
	if got := m.prompt.Value(); got != "qar" {
		t.Errorf("filter input %q", got)
	}
	if m.pending.list.Filter() != "qar" || m.pending.list.Shown() != 0 {
		t.Errorf("filter %q shows %d", m.pending.list.Filter(), m.pending.list.Shown())
	}
	for _, b := range []string{"Approve", "Reject", "Quit", "Filter", "Help"} {
		if bindingByName(m.keys, b).Enabled() {
			t.Errorf("%s enabled while the input has focus", b)
		}
	}

	m = press(t, m, "esc")
	if m.prompt != nil || m.pending.list.Filter() != "" || m.pending.list.Shown() != 3 {
		t.Errorf("esc leaves prompting=%v filter=%q", (m.prompt != nil), m.pending.list.Filter())
	}

	// The same in the rename input.
	m = press(t, m, "G", "n")
	if m.prompt == nil || m.prompt.purpose != promptRename || m.prompt.Value() != "Living Room iPad" {
		t.Fatalf("rename input: %+v", m.prompt)
	}
	m = typeText(t, m, " qr")
	if len(m.pending.busy) != 0 || m.prompt.Value() != "Living Room iPad qr" {
		t.Errorf("busy %v, input %q", m.pending.busy, m.prompt.Value())
	}
}

func TestRenameSubmitsTheTypedName(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = press(t, m, "G", "n")
	for range len("Living Room iPad") {
		m = press(t, m, "backspace")
	}
	m = typeText(t, m, "  Den iPad ")
	m, seen := stepMsgs(t, m, keyMsg("enter"))
	rn, ok := sent[renameMsg](seen)
	if !ok || rn.nodeID != nodeID("Living Room iPad") || rn.name != "Den iPad" {
		t.Fatalf("rename sent %+v", seen)
	}
	if m.prompt != nil {
		t.Error("input still open")
	}

	// The result renames the row and says so.
	m = step(t, m, renamedMsg{nodeID: rn.nodeID, name: rn.name})
	if _, ok := m.pending.Get("req-ipad"); !ok || !strings.Contains(frameOf(m), "Den iPad") {
		t.Errorf("renamed row missing:\n%s", frameOf(m))
	}
	if !strings.Contains(frameOf(m), "Renamed to “Den iPad”.") {
		t.Error("no flash")
	}
}

func TestEmptyNameIsRefusedAndTheInputStays(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = press(t, m, "G", "n")
	for range len("Living Room iPad") {
		m = press(t, m, "backspace")
	}
	m, seen := stepMsgs(t, m, keyMsg("enter"))
	if _, ok := sent[renameMsg](seen); ok {
		t.Fatal("empty name sent")
	}
	if m.prompt == nil || !m.flash.isErr {
		t.Errorf("prompting=%v flash=%+v", (m.prompt != nil), m.flash)
	}
}

func bindingByName(k KeyMap, name string) interface{ Enabled() bool } {
	switch name {
	case "Approve":
		return k.Approve
	case "Reject":
		return k.Reject
	case "Quit":
		return k.Quit
	case "Filter":
		return k.Filter
	case "Help":
		return k.Help
	}
	panic(name)
}

func TestBindingsThatDoNotApplyAreDisabled(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(nil))
	k := m.keys
	for name, b := range map[string]bool{
		"approve": k.Approve.Enabled(), "reject": k.Reject.Enabled(), "mark": k.Mark.Enabled(),
		"approve marked": k.ApproveMarked.Enabled(), "details": k.Detail.Enabled(),
		"rename": k.Rename.Enabled(), "remove": k.Remove.Enabled(), "down": k.Down.Enabled(),
		"clear filter": k.ClearFilter.Enabled(),
	} {
		if b {
			t.Errorf("empty queue: %s enabled", name)
		}
	}
	if !k.Help.Enabled() || !k.Quit.Enabled() || !k.Filter.Enabled() || !k.NextView.Enabled() {
		t.Error("help, quit, filter and tab always apply on a list")
	}
	if strings.Contains(m.helpLine(), "approve") {
		t.Error("the help line offers approve on an empty queue")
	}

	m = step(t, m, listed(threeRequests()))
	k = m.keys
	if !k.Approve.Enabled() || !k.Mark.Enabled() || !k.Detail.Enabled() || k.ApproveMarked.Enabled() || k.Remove.Enabled() {
		t.Error("pending row: approve/mark/details on, approve-marked/remove off")
	}
	m = press(t, m, "space")
	if !m.keys.ApproveMarked.Enabled() || !m.keys.RejectMarked.Enabled() {
		t.Error("marks enable the bulk keys")
	}

	m = press(t, m, "tab") // paired, empty
	k = m.keys
	if k.Approve.Enabled() || k.Mark.Enabled() || k.Remove.Enabled() || k.ApproveMarked.Enabled() {
		t.Error("paired view: no approve, mark or bulk keys")
	}
	paired := protocol.PairedNode{NodeID: nodeID("Office Mac"), NodeMeta: protocol.NodeMeta{DisplayName: "Office Mac"}, ApprovedAtMs: t0.UnixMilli()}
	m = step(t, m, listed(threeRequests(), paired))
	if !m.keys.Remove.Enabled() || !m.keys.Rename.Enabled() {
		t.Error("paired row: remove and rename on")
	}
	if strings.Contains(m.helpLine(), "approve") || !strings.Contains(m.helpLine(), "remove") {
		t.Errorf("paired help line: %q", m.helpLine())
	}

	m = press(t, m, "tab") // activity
	if m.keys.Rename.Enabled() || m.keys.Detail.Enabled() {
		t.Error("activity view: nothing to rename or open")
	}
}

func TestFlashesClearThemselves(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = step(t, m, decidedMsg{action: reject, results: []decisionResult{
		{decisionTarget: decisionTarget{requestID: "req-ipad", nodeID: nodeID("Living Room iPad"), name: "Living Room iPad"}},
	}})
	if !strings.Contains(m.statusLine(), "Rejected Living Room iPad.") {
		t.Fatalf("status %q", m.statusLine())
	}
	clk.Advance(2 * time.Second)
	m = step(t, m, tickMsg{})
	if m.statusLine() == "" {
		t.Error("info flash gone after 2 s")
	}
	clk.Advance(time.Second)
	m = step(t, m, tickMsg{})
	if m.statusLine() != "" || m.flash.text != "" {
		t.Errorf("info flash still there after 3 s: %q", m.statusLine())
	}

	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{
		{decisionTarget: decisionTarget{requestID: "req-build", name: "build-box-07"}, err: errors.New("boom")},
	}})
	clk.Advance(5 * time.Second)
	m = step(t, m, tickMsg{})
	if !strings.Contains(m.statusLine(), "Could not approve build-box-07: boom") {
		t.Errorf("error flash gone before 6 s: %q", m.statusLine())
	}
	clk.Advance(time.Second)
	m = step(t, m, tickMsg{})
	if m.statusLine() != "" {
		t.Errorf("error flash after 6 s: %q", m.statusLine())
	}
}

func TestBackendErrorShowsTheGatewayMessage(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	clk.Advance(minOnScreen)
	m = press(t, m, "G", "a")
	if m.pending.busy["req-ipad"] != "approving" {
		t.Fatalf("busy: %v", m.pending.busy)
	}
	if got := lineWith(t, m, "Living Room iPad"); !strings.Contains(got, "approving…") {
		t.Errorf("busy row: %q", got)
	}
	if m.keys.Approve.Enabled() {
		t.Error("approve enabled on a row being approved")
	}
	scope := protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonMissingScope, "missing scope: operator.admin")
	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{
		{decisionTarget: decisionTarget{requestID: "req-ipad", name: "Living Room iPad"}, err: fmt.Errorf("approve: %w", scope)},
	}})
	if got := m.statusLine(); got != "Could not approve Living Room iPad: missing scope: operator.admin" {
		t.Errorf("flash %q", got)
	}
	if _, ok := m.pending.Get("req-ipad"); !ok || len(m.pending.busy) != 0 {
		t.Error("a failed approval keeps the row and clears busy")
	}
}

func TestUndeliveredTokenIsShownOnceInADialog(t *testing.T) {
	const token = "q5sW3cN0m9VYQeXQ1k0yJ1bq7b0dQ9o9dC6nVx2Zr8E"
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{{
		decisionTarget: decisionTarget{requestID: "req-ipad", nodeID: nodeID("Living Room iPad"), name: "Living Room iPad"},
		approved:       protocol.ApproveResult{RequestID: "req-ipad", Node: protocol.PairedNode{NodeID: nodeID("Living Room iPad"), Token: token}},
	}}})
	view := frameOf(m)
	if !strings.Contains(view, token) || !strings.Contains(view, "It will not be shown again.") {
		t.Fatalf("token dialog:\n%s", view)
	}
	if !strings.Contains(view, "hand it the token") {
		t.Error("flash does not say the token was not delivered")
	}
	if !m.keys.Dismiss.Enabled() || m.keys.Approve.Enabled() || m.keys.Quit.Enabled() {
		t.Error("only dismiss (and ctrl+c) while the token shows")
	}
	m = press(t, m, "a") // not dismissed by other keys
	if len(m.tokens) != 1 {
		t.Fatal("dialog closed by a stray key")
	}
	m = press(t, m, "enter")
	if len(m.tokens) != 0 || strings.Contains(frameOf(m), token) {
		t.Error("token still shown after dismissal")
	}
	e, _ := m.activity.list.Selected()
	if strings.Contains(fmt.Sprintf("%+v", e), token) {
		t.Error("token in the activity log")
	}
}

func TestDeliveredApprovalSaysSo(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{{
		decisionTarget: decisionTarget{requestID: "req-ipad", name: "Living Room iPad"},
		approved:       protocol.ApproveResult{Delivered: true, Node: protocol.PairedNode{Token: "secret"}},
	}}})
	if len(m.tokens) != 0 {
		t.Error("a delivered token is not shown")
	}
	if got := m.statusLine(); got != "✓ Approved Living Room iPad — the node received its token." {
		t.Errorf("flash %q", got)
	}
}

func TestRelistUpdateListsAgain(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	if m.sync.listing {
		t.Fatal("refreshing before asked")
	}
	m = step(t, m, updateMsg{update: protocol.Update{Relist: true}})
	if !m.sync.listing {
		t.Fatal("Relist did not list")
	}
	m = step(t, m, updateMsg{update: protocol.Update{Relist: true}})
	if !m.sync.again {
		t.Error("a second Relist while listing is queued")
	}
	m = step(t, m, listed(threeRequests()[:1]))
	if !m.sync.listing || m.sync.again {
		t.Error("the queued list starts when the first returns")
	}
	if m.pending.Live() != 1 {
		t.Errorf("live rows %d", m.pending.Live())
	}
	if !strings.Contains(lineWith(t, m, "build-box-07"), "left the queue") {
		t.Error("a request the list no longer holds does not say it left")
	}
}

func TestListFailureFlashesAndRetries(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m.sync.startList()
	m = step(t, m, refreshedMsg{listErr: errors.New("connection refused")})
	if !strings.Contains(m.statusLine(), "Could not list requests: connection refused") {
		t.Fatalf("status %q", m.statusLine())
	}
	clk.Advance(retryAfter)
	m = step(t, m, tickMsg{})
	if !m.sync.listing {
		t.Error("no retry after the wait")
	}
}

func TestEventsDuringAListAreNotLost(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	reqs := threeRequests()
	m = step(t, m, listed(reqs))
	m = step(t, m, updateMsg{update: protocol.Update{Relist: true}})

	// While the list is in flight a request arrives and another is
	// decided; the list, taken before both, must not undo them.
	m = step(t, m, event(protocol.EventPairRequested, request("req-new", "Garage Pi", "linux", "10.0.4.30", 0)))
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-build", NodeID: nodeID("build-box-07"), Decision: protocol.DecisionRejected, TS: t0.UnixMilli(),
	}))
	m = step(t, m, listed(reqs))
	if _, ok := m.pending.Get("req-new"); !ok {
		t.Error("request from during the list was dropped")
	}
	if r, ok := m.pending.Get("req-build"); ok && m.pending.live(r) {
		t.Error("request decided during the list came back")
	}
}

func TestConnectionStateInTheHeader(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain, Remote: true, Endpoint: "wss://gw.example.net:18789"})
	m = step(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	state := func(s protocol.ConnState, err error) {
		m = step(t, m, updateMsg{update: protocol.Update{StateChanged: true, State: s, Err: err}})
	}
	if !strings.Contains(m.header(), "◌ connecting…") {
		t.Errorf("initial: %q", m.header())
	}
	state(protocol.Connected, nil)
	if !strings.Contains(m.header(), "● connected") || !strings.Contains(m.header(), "wss://gw.example.net:18789") {
		t.Errorf("connected: %q", m.header())
	}
	state(protocol.Connecting, nil)
	if !strings.Contains(m.header(), "◌ reconnecting…") {
		t.Errorf("reconnecting: %q", m.header())
	}
	state(protocol.Disconnected, errors.New("operator token refused"))
	if !strings.Contains(m.header(), "✗ disconnected: operator token refused") {
		t.Errorf("disconnected: %q", m.header())
	}

	embedded, _ := newModel(t, 80, 24)
	if strings.Contains(embedded.header(), "connect") {
		t.Errorf("embedded mode shows no link state: %q", embedded.header())
	}
}

func TestPresenceAndRemovalInThePairedView(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	office := protocol.PairedNode{NodeID: nodeID("Office Mac"), NodeMeta: protocol.NodeMeta{DisplayName: "Office Mac", Platform: "macos"}, ApprovedAtMs: t0.Add(-time.Hour).UnixMilli()}
	m = step(t, m, refreshedMsg{
		list:  protocol.PairListResult{Paired: []protocol.PairedNode{office}},
		nodes: protocol.NodeListResult{Nodes: []protocol.NodeInfo{{NodeID: office.NodeID, Paired: true, Connected: false, LastConnectedAtMs: t0.Add(-10 * time.Minute).UnixMilli()}}},
	})
	m = press(t, m, "tab")
	if got := lineWith(t, m, "Office Mac"); !strings.Contains(got, "○ offline") || !strings.Contains(got, "10m ago") {
		t.Errorf("offline row: %q", got)
	}
	m = step(t, m, event(protocol.EventNodePresence, protocol.PresenceEvent{NodeID: office.NodeID, Connected: true, TS: t0.UnixMilli()}))
	if got := lineWith(t, m, "Office Mac"); !strings.Contains(got, "● online") || !strings.Contains(got, "now") {
		t.Errorf("online row: %q", got)
	}

	m = press(t, m, "d")
	if m.confirm == nil || !strings.Contains(frameOf(m), "Remove Office Mac?") {
		t.Fatalf("remove asks first:\n%s", frameOf(m))
	}
	m, seen := stepMsgs(t, m, keyMsg("y"))
	rm, ok := sent[removeMsg](seen)
	if !ok || rm.nodeID != office.NodeID {
		t.Fatalf("remove sent %+v", seen)
	}
	m = step(t, m, removedMsg{nodeID: office.NodeID, name: "Office Mac"})
	if m.paired.list.Len() != 0 || !strings.Contains(m.statusLine(), "Removed Office Mac.") {
		t.Errorf("after removal: %d rows, status %q", m.paired.list.Len(), m.statusLine())
	}
	// The gateway's event for the same removal is not logged twice.
	m = step(t, m, event(protocol.EventPairRemoved, protocol.RemovedEvent{NodeID: office.NodeID, TS: t0.UnixMilli()}))
	removed := 0
	m.activity.list.Each(func(e activityEntry) {
		if e.kind == actRemoved {
			removed++
		}
	})
	if removed != 1 {
		t.Errorf("%d removal entries", removed)
	}
}

func TestActivityIsBounded(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	for i := range activityLimit + 100 {
		m.activity.Add(activityEntry{at: t0, kind: actRequested, name: fmt.Sprintf("node %d", i)})
	}
	if got := m.activity.list.Len(); got != activityLimit {
		t.Fatalf("activity holds %d", got)
	}
	if newest := m.activity.list.rows[0].v.name; newest != fmt.Sprintf("node %d", activityLimit+99) {
		t.Errorf("newest first: %q", newest)
	}
}

func TestBellRingsForNewRequestsAtMostOncePerSecond(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain, Bell: true})
	m = step(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = step(t, m, listed(nil))
	var bell strings.Builder
	arrive := func(id, name string) {
		var seen []tea.Msg
		m, seen = stepMsgs(t, m, event(protocol.EventPairRequested, request(id, name, "", "", 0)))
		for _, msg := range seen {
			if raw, ok := msg.(tea.RawMsg); ok {
				bell.WriteString(fmt.Sprint(raw.Msg))
			}
		}
	}
	arrive("r1", "A")
	arrive("r2", "B")
	arrive("r1", "A") // a refresh
	if bell.String() != "\a" {
		t.Errorf("bell wrote %q", bell.String())
	}
	c.Advance(time.Second)
	arrive("r3", "C")
	if bell.String() != "\a\a" {
		t.Errorf("bell wrote %q", bell.String())
	}
}

func TestQuitKeys(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	for _, k := range []string{"q", "ctrl+c"} {
		_, seen := stepMsgs(t, m, keyMsg(k))
		if len(seen) != 1 {
			t.Errorf("%s: %v", k, seen)
			continue
		}
		if _, ok := seen[0].(tea.QuitMsg); !ok {
			t.Errorf("%s sent %T", k, seen[0])
		}
	}
}

func TestDetailFollowsItsRequestAndClosesWhenItGoes(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = press(t, m, "j", "enter")
	if !m.detail.open || m.detail.key != "req-build" {
		t.Fatalf("detail %+v", m.detail)
	}
	clk.Advance(time.Second)
	m = step(t, m, tickMsg{})
	if !strings.Contains(frameOf(m), "Expires       2:59") && !strings.Contains(frameOf(m), "2:59 ·") {
		t.Errorf("live countdown in the detail:\n%s", frameOf(m))
	}
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{RequestID: "req-build", Decision: protocol.DecisionRejected}))
	if !m.detail.open || !strings.Contains(frameOf(m), "rejected elsewhere") {
		t.Errorf("the detail of a resolved request says what became of it:\n%s", frameOf(m))
	}
	clk.Advance(goneFor)
	m = step(t, m, tickMsg{})
	if m.detail.open {
		t.Error("detail of a resolved request stays open once it has gone")
	}
}
