package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// At 200 columns nothing is cut: every column grows to its cells before
// any grows into blank space (issue 14 item 12: BY and NOTE in Activity,
// CAPS in Paired, long names were cut while the line had room).
func TestColumnsGrowToTheirContentWhileThereIsRoom(t *testing.T) {
	const sshActor = "alice@laptop (ssh SHA256:qG3xJ9fRk2mZ7wPq4sT8uVnYb1cD5eF6gH0iJkLmNoQ)"
	longName := "Conference Room Display, 3rd floor east wing"
	m, clk := newModel(t, 200, 24)
	paired, infos := pairedNodes()
	paired[0].Caps = []string{"canvas", "camera", "location", "screen", "system", "notifications", "microphone", "speaker"}
	paired[1].DisplayName = longName
	reqs := threeRequests()
	reqs[0].DisplayName = longName + " (spare)"
	m = step(t, m, refreshedMsg{list: protocol.PairListResult{Pending: reqs, Paired: paired}, nodes: protocol.NodeListResult{Nodes: infos}})
	clk.Advance(time.Second)
	m = step(t, m, event(protocol.EventPairResolved, protocol.ResolvedEvent{
		RequestID: "req-build", NodeID: nodeID("build-box-07"), Decision: protocol.DecisionApproved,
		TS: clk.Now().UnixMilli(), Actor: sshActor,
	}))
	m = step(t, m, event(protocol.EventNodeRenamed, protocol.RenamedEvent{
		NodeID: paired[0].NodeID, DisplayName: "Studio Mac", TS: clk.Now().UnixMilli(), Actor: sshActor,
	}))

	check := func(view string, want ...string) {
		t.Helper()
		f := frameOf(m)
		for _, w := range want {
			if !strings.Contains(f, w) {
				t.Errorf("%s at 200 columns cuts %q:\n%s", view, w, f)
			}
		}
	}
	check("Pending", longName+" (spare)")
	m = press(t, m, "tab")
	check("Paired", longName, strings.Join(paired[0].Caps, ","))
	m = press(t, m, "tab")
	check("Activity", sshActor, "was Office Mac")

	// At 80 the same columns share what there is: the line is full, and
	// never wider than the terminal.
	m = step(t, m, windowSize(80, 24))
	for _, l := range strings.Split(frameOf(m), "\n") {
		if w := len([]rune(l)); w > 80 {
			t.Errorf("a line of %d cells at 80 columns: %q", w, l)
		}
	}
	if !strings.Contains(frameOf(m), "…") {
		t.Errorf("at 80 columns nothing had to give:\n%s", frameOf(m))
	}
}

// The paired detail says what the records hold: when the node was first
// paired (createdAtMs), when it was last approved (approvedAtMs, moved by
// a re-pair) and, online, since when it is connected; offline, when it was
// last seen.
func TestPairedDetailSaysWhatTheRecordsHold(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	m = press(t, m, "tab", "enter") // Office Mac: paired 49 h ago, re-paired 48 h ago, online for an hour
	requireGolden(t, "paired_detail", frameOf(m))
	f := frameOf(m)
	for _, want := range []string{
		"First paired   2026-03-12 08:26:53 (2d ago)",
		"Last approved  2026-03-12 09:26:53 (2d ago)",
		"Online since   2026-03-14 08:26:53 (1h ago)",
	} {
		if !strings.Contains(f, want) {
			t.Errorf("lacks %q", want)
		}
	}
	if strings.Contains(f, "First request") {
		t.Error("no record holds when the node first asked")
	}
	m = press(t, m, "esc", "j", "enter") // Shed Camera: offline
	if f := frameOf(m); !strings.Contains(f, "Last seen      2026-03-14 09:01:53 (25m ago)") {
		t.Errorf("offline:\n%s", f)
	}
}
