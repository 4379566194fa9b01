package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// reasonModel is a console on a gateway that keeps reasons (pairdeck's),
// with the three requests in view long enough to decide.
func reasonModel(t *testing.T, w, h int) (Model, *clock) {
	t.Helper()
	m, clk := newModel(t, w, h)
	m.features.not[FeatureReasons] = nil
	m = step(t, m, withPolicy(true))
	clk.Advance(minOnScreen)
	return m, clk
}

// footer is the frame's last line: the keys that act now.
func footer(m Model) string {
	lines := strings.Split(frameOf(m), "\n")
	return lines[len(lines)-1]
}

// r asks for an optional reason, which goes with the rejection of the
// request the key was pressed on; the footer says what enter does.
func TestRejectAsksForAReasonThatGoesWithTheDecision(t *testing.T) {
	m, _ := reasonModel(t, 120, 24)
	if selectedID(m) != "req-kitchen" {
		t.Fatalf("cursor on %s", selectedID(m))
	}
	m, seen := stepMsgs(t, m, keyMsg("r"))
	if m.prompt == nil || m.prompt.purpose != promptReason {
		t.Fatalf("r opened no reason input (sent %v)", seen)
	}
	if _, ok := sent[decideMsg](seen); !ok || m.pending.busy["req-kitchen"] != "" {
		t.Fatalf("r sent %v: the decision must wait for the reason", seen)
	}
	if got := lineWith(t, m, "reason"); !strings.HasPrefix(got, "reject Kitchen Display, reason (optional) › ") {
		t.Errorf("input line %q", got)
	}
	if f := footer(m); !strings.Contains(f, "enter reject without a reason") || !strings.Contains(f, "esc do not reject") {
		t.Errorf("footer %q", f)
	}
	m = typeText(t, m, "duplicate of build-box-07")
	if f := footer(m); !strings.Contains(f, "enter reject with this reason") {
		t.Errorf("footer while typing %q", f)
	}
	m, seen = stepMsgs(t, m, keyMsg("enter"))
	var got []decideMsg
	for _, msg := range seen {
		if d, ok := msg.(decideMsg); ok {
			got = append(got, d)
		}
	}
	if len(got) != 1 || got[0].reason != "duplicate of build-box-07" || len(got[0].targets) != 1 || got[0].targets[0].requestID != "req-kitchen" {
		t.Fatalf("enter sent %+v", got)
	}
	if m.prompt != nil || m.pending.busy["req-kitchen"] != "rejecting" {
		t.Fatalf("prompt %v busy %v", m.prompt, m.pending.busy)
	}
	// The answer logs the reason in Activity.
	m = step(t, m, decidedMsg{action: reject, reason: got[0].reason, results: []decisionResult{{decisionTarget: got[0].targets[0]}}})
	m = press(t, m, "tab", "tab")
	if line := lineWith(t, m, "Kitchen Display"); !strings.Contains(line, "reason: duplicate of build-box-07") {
		t.Errorf("activity: %q", line)
	}
}

// Enter on an empty input rejects without a reason; esc rejects nothing.
func TestReasonIsSkippedWithEnterAndEscCancels(t *testing.T) {
	m, _ := reasonModel(t, 80, 24)
	m = press(t, m, "r")
	m, seen := stepMsgs(t, m, keyMsg("enter"))
	if d, ok := sent[decideMsg](seen); !ok || d.reason != "" || !d.asked || m.pending.busy["req-kitchen"] != "rejecting" {
		t.Fatalf("enter on empty: %+v (sent %v)", d, seen)
	}

	m, _ = reasonModel(t, 80, 24)
	m = press(t, m, "r")
	m = typeText(t, m, "never mind")
	m, seen = stepMsgs(t, m, keyMsg("esc"))
	if _, ok := sent[decideMsg](seen); ok || m.prompt != nil || len(m.pending.busy) > 0 {
		t.Fatalf("esc: sent %v prompt %v busy %v", seen, m.prompt, m.pending.busy)
	}
	if m.flash.text != "Nothing rejected." {
		t.Errorf("flash %q", m.flash.text)
	}
	if _, ok := m.pending.Get("req-kitchen"); !ok {
		t.Error("the request left the queue")
	}
}

// What the operator saw is what is decided: the input names the request,
// the cursor moving under it changes nothing, and a request that left
// meanwhile is not rejected — nor is another one in its place. A second
// enter decides nothing more.
func TestReasonInputDecidesOnlyWhatItWasOpenedFor(t *testing.T) {
	m, clk := reasonModel(t, 80, 24)
	m = press(t, m, "r")
	// A request that expires sooner arrives on top, under the cursor.
	soon := request("req-new", "Doorbell", "linux", "10.0.0.5", protocol.DefaultTTL-10*time.Second)
	m = step(t, m, event(protocol.EventPairRequested, soon))
	m = typeText(t, m, "spam")
	next, cmd := m.Update(keyMsg("enter"))
	m = next.(Model)
	submitted := cmd()
	m, seen := stepMsgs(t, m, submitted)
	d, ok := sent[decideMsg](seen)
	if !ok || len(d.targets) != 1 || d.targets[0].requestID != "req-kitchen" {
		t.Fatalf("decided %+v, want req-kitchen only", d)
	}
	// The same submission again (a second enter already on its way).
	_, seen = stepMsgs(t, m, submitted)
	if _, ok := sent[decideMsg](seen); ok {
		t.Fatal("a second enter decided again")
	}

	// The request is decided elsewhere while the input is open.
	m, _ = reasonModel(t, 80, 24)
	m = press(t, m, "r")
	clk.Advance(time.Second)
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-kitchen", NodeID: nodeID("Kitchen Display"), Decision: protocol.DecisionApproved, Actor: "cli (operator)",
		TS: clk.Now().UnixMilli(),
	}))
	m, seen = stepMsgs(t, m, keyMsg("enter"))
	if _, ok := sent[decideMsg](seen); ok {
		t.Fatalf("rejected a request approved meanwhile: %v", seen)
	}
	if !strings.HasPrefix(m.flash.text, "Nothing rejected: Kitchen Display") {
		t.Errorf("flash %q", m.flash.text)
	}
}

// Block asks for its reason after the confirmation; bulk rejection asks
// once for every marked request.
func TestBlockAndBulkRejectAskForAReason(t *testing.T) {
	m, _ := reasonModel(t, 80, 24)
	m = press(t, m, "b", "y")
	if m.prompt == nil || m.prompt.ask == nil || m.prompt.ask.block == nil {
		t.Fatalf("no reason input after confirming the block")
	}
	if got := lineWith(t, m, "reason"); !strings.HasPrefix(got, "block Kitchen Display, reason (optional) › ") {
		t.Errorf("input line %q", got)
	}
	m = typeText(t, m, "scanner")
	m, seen := stepMsgs(t, m, keyMsg("enter"))
	if b, ok := sent[blockMsg](seen); !ok || b.target.reason != "scanner" || b.target.requestID != "req-kitchen" {
		t.Fatalf("block sent %+v", seen)
	}
	m = step(t, m, blockedMsg{target: blockTarget{nodeID: nodeID("Kitchen Display"), name: "Kitchen Display", reason: "scanner"},
		res: protocol.BlockResult{Node: protocol.BlockedNode{NodeID: nodeID("Kitchen Display"), DisplayName: "Kitchen Display", Reason: "scanner"}}})
	m = press(t, m, "tab", "tab")
	if line := lineWith(t, m, "blocked"); !strings.Contains(line, "reason: scanner") {
		t.Errorf("activity: %q", line)
	}

	m, _ = reasonModel(t, 80, 24)
	m = press(t, m, "space", "j", "space", "R", "y")
	if got := lineWith(t, m, "reason"); !strings.HasPrefix(got, "reject 2 requests, reason (optional) › ") {
		t.Errorf("bulk input line %q", got)
	}
	m, seen = stepMsgs(t, m, keyMsg("enter"))
	if d, ok := sent[decideMsg](seen); !ok || len(d.targets) != 2 {
		t.Fatalf("bulk sent %+v", seen)
	}
}

// A reason the gateway would refuse is said in the input, which stays.
func TestAReasonTooLongIsSaidInTheInput(t *testing.T) {
	m, _ := reasonModel(t, 80, 24)
	m = press(t, m, "r")
	m = typeText(t, m, strings.Repeat("é", protocol.MaxReasonLen/2+1))
	m, seen := stepMsgs(t, m, keyMsg("enter"))
	if _, ok := sent[decideMsg](seen); ok || m.prompt == nil {
		t.Fatalf("sent %v prompt %v", seen, m.prompt)
	}
	if !strings.Contains(m.prompt.input.Prompt, "longer than 512 bytes") {
		t.Errorf("input label %q", m.prompt.input.Prompt)
	}
}

// A gateway that keeps no reason is not asked for one: r rejects at once.
func TestNoReasonAskedWhereTheGatewayKeepsNone(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	clk.Advance(minOnScreen)
	m, seen := stepMsgs(t, m, keyMsg("r"))
	if m.prompt != nil || m.pending.busy["req-kitchen"] != "rejecting" {
		t.Fatalf("prompt %v sent %v", m.prompt, seen)
	}
}

// reasonBackend records what reached the gateway.
type reasonBackend struct {
	Backend
	rejected []protocol.RequestIDParams
}

func (b *reasonBackend) Reject(_ context.Context, id string) (protocol.RejectResult, error) {
	b.rejected = append(b.rejected, protocol.RequestIDParams{RequestID: id})
	return protocol.RejectResult{RequestID: id}, nil
}

func (b *reasonBackend) RejectWith(_ context.Context, p protocol.RequestIDParams) (protocol.RejectResult, error) {
	b.rejected = append(b.rejected, p)
	return protocol.RejectResult{RequestID: p.RequestID}, nil
}

func (b *reasonBackend) BlockWith(context.Context, protocol.BlockParams) (protocol.BlockResult, error) {
	return protocol.BlockResult{}, nil
}

// The reason goes in the call (RequestIDParams.Reason); none, the plain
// call.
func TestTheReasonGoesToTheGateway(t *testing.T) {
	b := &reasonBackend{}
	targets := []decisionTarget{{requestID: "r1"}}
	decideCmd(context.Background(), b, reject, "", "spam", targets)()
	decideCmd(context.Background(), b, reject, "", "", targets)()
	if len(b.rejected) != 2 || b.rejected[0].Reason != "spam" || b.rejected[1].Reason != "" {
		t.Fatalf("the gateway got %+v", b.rejected)
	}
	if fs := featuresOf(b); !fs.offers(FeatureReasons) || fs.offers(FeatureCodes) {
		t.Errorf("features of a backend with reasons and no codes: %+v", fs)
	}
}

// Activity shows the reasons others gave, and who a code approved for.
func TestActivityShowsReasonsAndCodes(t *testing.T) {
	m, clk := newModel(t, 120, 24)
	m = step(t, m, withPolicy(true))
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-ipad", NodeID: nodeID("Living Room iPad"), Decision: protocol.DecisionRejected,
		Actor: "cli (operator)", Reason: "not ours\x1b[2J", TS: clk.Now().UnixMilli(),
	}))
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-build", NodeID: nodeID("build-box-07"), Decision: protocol.DecisionApproved,
		Actor: protocol.CodeActor("c7k2m9q4r", "cli (operator)").String(), TS: clk.Now().UnixMilli(),
	}))
	m = step(t, m, event(protocol.EventBlockAdded, protocol.BlockEvent{
		Node:  protocol.BlockedNode{NodeID: nodeID("Door Spammer"), DisplayName: "Door Spammer", Reason: "scanner"},
		Actor: "cli (operator)", TS: clk.Now().UnixMilli(),
	}))
	m = press(t, m, "tab", "tab")
	if line := lineWith(t, m, "Living Room iPad"); !strings.Contains(line, `reason: not ours\x1b[2J`) {
		t.Errorf("rejection: %q", line)
	}
	if line := lineWith(t, m, "build-box-07"); !strings.Contains(line, "code c7k2m9q4r") {
		t.Errorf("approval by a code: %q", line)
	}
	if line := lineWith(t, m, "Door Spammer"); !strings.Contains(line, "reason: scanner") {
		t.Errorf("block: %q", line)
	}
	// History says the same (history.go reads Reason and Actor).
	e, ok := historyEntry(protocol.HistoryEvent{Action: "approved", NodeID: nodeID("x"), TS: t0.UnixMilli(),
		Actor: protocol.CodeActor("c7k2m9q4r", "cli (operator)"), Reason: "by code"})
	if !ok || e.actor != "code c7k2m9q4r" || e.note != "reason: by code" {
		t.Errorf("history entry %+v", e)
	}
}

func TestGoldenReasonPrompt(t *testing.T) {
	m, _ := reasonModel(t, 60, 15)
	m = press(t, m, "r")
	m = typeText(t, m, "duplicate")
	requireGolden(t, "reason_prompt_60x15", frameOf(m))
}
