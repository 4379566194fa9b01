package tui

import (
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Golden frames, drawn without colour: what is on them is what a NO_COLOR
// terminal shows. Regenerate with: go test ./tui/ -run Golden -update

func pairedNodes() ([]protocol.PairedNode, []protocol.NodeInfo) {
	office := protocol.PairedNode{
		NodeID: nodeID("Office Mac"), NodeMeta: protocol.NodeMeta{DisplayName: "Office Mac", Platform: "macos", RemoteIP: "192.168.1.10", Caps: []string{"canvas", "camera"}}, CreatedAtMs: t0.Add(-49 * time.Hour).UnixMilli(),
		ApprovedAtMs: t0.Add(-48 * time.Hour).UnixMilli(),
	}
	shed := protocol.PairedNode{
		NodeID: nodeID("Shed Camera"), NodeMeta: protocol.NodeMeta{DisplayName: "Shed Camera", Platform: "linux", RemoteIP: "10.0.9.4", Caps: []string{"camera"}, Commands: []string{"camera.snap"}}, ApprovedAtMs: t0.Add(-3 * time.Hour).UnixMilli(), LastConnectedAtMs: t0.Add(-25 * time.Minute).UnixMilli(),
	}
	infos := []protocol.NodeInfo{
		{NodeID: office.NodeID, Paired: true, Connected: true, ConnectedAtMs: t0.Add(-time.Hour).UnixMilli()},
		{NodeID: shed.NodeID, Paired: true, LastConnectedAtMs: t0.Add(-25 * time.Minute).UnixMilli()},
	}
	return []protocol.PairedNode{office, shed}, infos
}

func withPaired(pending []protocol.PendingRequest) refreshedMsg {
	paired, infos := pairedNodes()
	return refreshedMsg{
		list:  protocol.PairListResult{Pending: pending, Paired: paired},
		nodes: protocol.NodeListResult{Nodes: infos},
	}
}

func TestGoldenEmpty(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(nil))
	requireGolden(t, "empty", frameOf(m))
}

func TestGoldenLoading(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	requireGolden(t, "loading", frameOf(m))
}

func TestGoldenThreePending(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	requireGolden(t, "three_pending", frameOf(m))
}

func TestGoldenExpiring(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	clk.Advance(2*time.Minute + 25*time.Second) // build-box under a minute, kitchen under ten seconds
	m = step(t, m, tickMsg{})
	requireGolden(t, "expiring", frameOf(m))
}

func TestGoldenExpired(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests())) // the cursor on the kitchen display, first by time left
	clk.Advance(31 * time.Second)
	m = step(t, m, tickMsg{})
	requireGolden(t, "expired", frameOf(m))
}

func TestGoldenMarkedAndFiltered(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "space", "j", "space", "/")
	m = typeText(t, m, "192.168")
	m = press(t, m, "enter")
	requireGolden(t, "marked_filtered", frameOf(m))
}

func TestGoldenDetail(t *testing.T) {
	req := request("req-ipad", "Living Room iPad", "ios", "192.168.1.42", 40*time.Second)
	req.Version = "2026.4.12"
	req.CoreVersion = "3.1.0"
	req.UIVersion = "3.1.2"
	req.DeviceFamily = "iPad"
	req.ModelIdentifier = "iPad13,16"
	req.Caps = []string{"canvas", "camera", "location"}
	req.Commands = []string{"canvas.present", "camera.snap", "system.run"}
	req.IsRepair = true
	req.RequiredApproveScopes = protocol.RequiredApproveScopes(req.Commands)

	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired([]protocol.PendingRequest{req}))
	m = press(t, m, "enter")
	requireGolden(t, "detail", frameOf(m))
}

func TestGoldenRenameInput(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "j", "n")
	m = typeText(t, m, " (rack 3)")
	requireGolden(t, "rename_input", frameOf(m))
}

func TestGoldenBulkConfirmation(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "j", "space", "space", "/") // mark build-box-07 and the iPad
	m = typeText(t, m, "kitchen")
	m = press(t, m, "enter", "A")
	requireGolden(t, "bulk_confirmation", frameOf(m))
}

func TestGoldenTokenDialog(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{{
		decisionTarget: decisionTarget{requestID: "req-ipad", nodeID: nodeID("Living Room iPad"), name: "Living Room iPad"},
		approved: protocol.ApproveResult{RequestID: "req-ipad", Node: protocol.PairedNode{
			NodeID: nodeID("Living Room iPad"), Token: "q5sW3cN0m9VYQeXQ1k0yJ1bq7b0dQ9o9dC6nVx2Zr8E",
		}},
	}}})
	requireGolden(t, "token_dialog", frameOf(m))
}

func TestGoldenHelp(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "?")
	requireGolden(t, "help", frameOf(m))
}

func TestGoldenHelpNarrow(t *testing.T) {
	m, _ := newModel(t, 60, 15)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "?")
	requireGolden(t, "help_60x15", frameOf(m))
}

func TestGoldenPaired(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "tab")
	requireGolden(t, "paired", frameOf(m))
}

func TestGoldenActivity(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	clk.Advance(5 * time.Second)
	m = step(t, m, event(protocol.EventPairRequested, request("req-new", "Garage Pi", "linux", "10.0.4.30", -5*time.Second)))
	clk.Advance(3 * time.Second)
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-build", NodeID: nodeID("build-box-07"), Decision: protocol.DecisionApproved,
		TS: clk.Now().UnixMilli(), Actor: "cli (operator)",
	}))
	clk.Advance(4 * time.Second)
	m = step(t, m, event(protocol.EventNodeRenamed, protocol.RenamedEvent{
		NodeID: nodeID("Office Mac"), DisplayName: "Studio Mac", TS: clk.Now().UnixMilli(), Actor: "console (operator)",
	}))
	clk.Advance(20 * time.Second) // the kitchen display expires; no event comes
	m = step(t, m, tickMsg{})
	m = press(t, m, "tab", "tab")
	requireGolden(t, "activity", frameOf(m))
}

func TestGoldenSmallTerminal(t *testing.T) {
	m, _ := newModel(t, 60, 15)
	m = step(t, m, withPaired(threeRequests()))
	requireGolden(t, "pending_60x15", frameOf(m))
}

func TestGoldenPairedSmallTerminal(t *testing.T) {
	m, _ := newModel(t, 60, 15)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "tab")
	requireGolden(t, "paired_60x15", frameOf(m))
}

func TestGoldenTooSmall(t *testing.T) {
	m, _ := newModel(t, 52, 12)
	m = step(t, m, withPaired(threeRequests()))
	requireGolden(t, "too_small", frameOf(m))
}

func TestGoldenRemoteDisconnected(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "light", ColorProfile: plain, Remote: true, Endpoint: "wss://gw.example.net:18789"})
	m = step(t, m, windowSize(80, 24))
	m = step(t, m, withPaired(threeRequests()))
	m = step(t, m, updateMsg{update: protocol.Update{StateChanged: true, State: protocol.Connected}})
	m = step(t, m, updateMsg{update: protocol.Update{StateChanged: true, State: protocol.Connecting}})
	requireGolden(t, "remote_reconnecting", frameOf(m))
}

func TestGoldenDecidedElsewhere(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "j")
	clk.Advance(time.Second)
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-build", NodeID: nodeID("build-box-07"), Decision: protocol.DecisionApproved,
		TS: clk.Now().UnixMilli(), Actor: "cli (operator)",
	}))
	m = press(t, m, "a") // says why nothing happens
	requireGolden(t, "decided_elsewhere", frameOf(m))
}

func TestGoldenBulkChangedSinceItOpened(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "space", "j", "j", "space", "A")
	clk.Advance(30 * time.Second) // the kitchen display expires
	m = step(t, m, tickMsg{})
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-kitchen", NodeID: nodeID("Kitchen Display"), Decision: protocol.DecisionExpired, TS: clk.Now().UnixMilli(),
	}))
	requireGolden(t, "bulk_changed", frameOf(m))
}
