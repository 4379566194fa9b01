package tui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// withPolicy is a list from a pairdeck gateway: the three requests, the
// paired nodes, the pairing switch and the block list.
func withPolicy(enabled bool, blocked ...protocol.BlockedNode) refreshedMsg {
	msg := withPaired(threeRequests())
	msg.policy = &policySnapshot{pairing: protocol.PairingState{Enabled: enabled}, blocked: blocked}
	return msg
}

func pests() []protocol.BlockedNode {
	return []protocol.BlockedNode{
		{NodeID: nodeID("Door Spammer"), DisplayName: "Door Spammer", BlockedAtMs: t0.Add(-10 * time.Minute).UnixMilli(),
			BlockedBy: "console (operator)", Attempts: 42, LastAttemptMs: t0.Add(-20 * time.Second).UnixMilli(), LastRemoteIP: "192.168.1.66"},
		{NodeID: nodeID("old-laptop"), BlockedAtMs: t0.Add(-26 * time.Hour).UnixMilli(), BlockedBy: "cli (operator)"},
	}
}

func TestPairingSwitchShowsInTheHeaderAndTheKeyFollowsIt(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, withPaired(threeRequests()))
	if strings.Contains(m.header(), "pairing") || m.keys.TogglePairing.Enabled() {
		t.Fatalf("a gateway without a switch shows none: %q", m.header())
	}
	m = step(t, m, withPolicy(true))
	if !strings.Contains(m.header(), "● pairing on") || !m.keys.TogglePairing.Enabled() || m.keys.TogglePairing.Help().Desc != "stop pairing" {
		t.Fatalf("on: %q, key %+v", m.header(), m.keys.TogglePairing.Help())
	}
	clk.Advance(time.Second)
	m = step(t, m, event(protocol.EventPairingChanged, protocol.PairingChangedEvent{Enabled: false, TS: clk.Now().UnixMilli(), Actor: "cli (operator)"}))
	if !strings.Contains(m.header(), "⊘ pairing off") || m.keys.TogglePairing.Help().Desc != "allow pairing" {
		t.Fatalf("off: %q", m.header())
	}
	if !strings.Contains(m.statusLine(), "Pairing is off") {
		t.Errorf("flash: %q", m.statusLine())
	}
	e, _ := m.activity.list.Selected()
	if e.kind != actPairingOff || e.actor != "cli (operator)" {
		t.Errorf("activity: %+v", e)
	}
	requireGolden(t, "pairing_off", frameOf(m))

	// The key asks the gateway (no backend here, so nothing is in flight);
	// its answer switches the header and says so.
	m = press(t, m, "P")
	if m.pairing.busy {
		t.Fatal("busy without a call")
	}
	m = step(t, m, pairingSetMsg{state: protocol.PairingState{Enabled: true}})
	if !strings.Contains(m.header(), "● pairing on") || !strings.Contains(m.statusLine(), "Pairing is on") {
		t.Fatalf("after the answer: %q / %q", m.header(), m.statusLine())
	}
	m = step(t, m, pairingSetMsg{err: protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonMissingScope, "missing scope: operator.admin")})
	if got := m.statusLine(); got != "Could not switch pairing off: missing scope: operator.admin" {
		t.Fatalf("refusal: %q", got)
	}
}

func TestAnotherGatewayHasNoSwitchOrBlockList(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	msg := withPaired(threeRequests())
	unknown := protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownMethod, "unknown method: pairdeck.pairing.get")
	msg.policy = &policySnapshot{pairingErr: unknown, blockedErr: unknown}
	m = step(t, m, msg)
	if m.keys.TogglePairing.Enabled() || m.keys.Block.Enabled() || strings.Contains(m.header(), "pairing") {
		t.Fatal("pairdeck-only keys offered to another gateway")
	}
	m = press(t, m, "shift+tab")
	if m.view != viewBlocked || !strings.Contains(frameOf(m), "keeps no block list") {
		t.Fatalf("blocked view:\n%s", frameOf(m))
	}
}

func TestBlockAsksFirstThenShowsTheBlock(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPolicy(true))
	if !m.keys.Block.Enabled() {
		t.Fatal("b is off on a pending row")
	}
	m = press(t, m, "G", "b")
	if m.confirm == nil || m.confirm.title != "Block Living Room iPad?" {
		t.Fatalf("no confirmation: %+v", m.confirm)
	}
	requireGolden(t, "block_confirmation", frameOf(m))
	m = press(t, m, "n")
	if m.confirm != nil {
		t.Fatal("n did not cancel")
	}
	m, seen := stepMsgs(t, press(t, m, "b"), keyMsg("y"))
	got, ok := sent[blockMsg](seen)
	if !ok || got.target.nodeID != nodeID("Living Room iPad") || got.target.requestID != "req-ipad" {
		t.Fatalf("confirmed block: %+v %v", got, ok)
	}
	// The gateway's answer: blocked, and its request rejected.
	node := protocol.BlockedNode{NodeID: nodeID("Living Room iPad"), DisplayName: "Living Room iPad", BlockedAtMs: t0.UnixMilli(), BlockedBy: "console (operator)"}
	m = step(t, m, blockedMsg{target: got.target, res: protocol.BlockResult{Node: node, Created: true, RejectedRequestID: "req-ipad"}})
	if _, ok := m.pending.Get("req-ipad"); ok || m.blocked.list.Len() != 1 {
		t.Fatalf("after the block: pending has it %v, %d blocked", ok, m.blocked.list.Len())
	}
	if !strings.Contains(m.statusLine(), "Blocked Living Room iPad and rejected its request") {
		t.Errorf("flash: %q", m.statusLine())
	}
	var kinds []activityKind
	m.activity.list.Each(func(e activityEntry) { kinds = append(kinds, e.kind) })
	if len(kinds) != 2 || kinds[0] != actBlocked || kinds[1] != actRejected {
		t.Errorf("activity: %v", kinds)
	}
	// The gateway's events say the same: logged once.
	m = step(t, m, event(protocol.EventBlockAdded, protocol.BlockEvent{Node: node, TS: t0.UnixMilli(), Actor: "console (operator)"}))
	if m.activity.list.Len() != 2 {
		t.Errorf("the event's echo was logged again: %d entries", m.activity.list.Len())
	}
	// A failed block keeps the row.
	m = step(t, m, blockedMsg{target: blockTarget{nodeID: "x", name: "build-box-07", requestID: "req-build"}, err: errors.New("boom")})
	if _, ok := m.pending.Get("req-build"); !ok || m.statusLine() != "Could not block build-box-07: boom" {
		t.Errorf("failed block: %q", m.statusLine())
	}
}

func TestBlockedViewListsAndUnblocks(t *testing.T) {
	m, clk := newModel(t, 80, 24)
	m = step(t, m, withPolicy(true, pests()...))
	m = press(t, m, "tab", "tab", "tab")
	if m.view != viewBlocked || !m.keys.Unblock.Enabled() || m.keys.Block.Enabled() || m.keys.Approve.Enabled() {
		t.Fatalf("view %d, unblock %v", m.view, m.keys.Unblock.Enabled())
	}
	requireGolden(t, "blocked", frameOf(m))

	// Refusals update the counters in place.
	p := pests()[0]
	p.Attempts, p.LastAttemptMs = 43, clk.Now().UnixMilli()
	m = step(t, m, event(protocol.EventBlockRefused, protocol.BlockEvent{Node: p, TS: p.LastAttemptMs}))
	if r, _ := m.blocked.Get(p.NodeID); r.node.Attempts != 43 || m.activity.list.Len() != 0 {
		t.Fatalf("refused: %+v, %d activity", r.node, m.activity.list.Len())
	}

	m, seen := stepMsgs(t, m, keyMsg("u"))
	un, ok := sent[unblockMsg](seen)
	if !ok || un.nodeID != p.NodeID || un.name != "Door Spammer" {
		t.Fatalf("u sent %+v %v", un, ok)
	}
	m = step(t, m, unblockedMsg{nodeID: un.nodeID, name: un.name, res: protocol.UnblockResult{Node: p}})
	if _, ok := m.blocked.Get(p.NodeID); ok || !strings.Contains(m.statusLine(), "Unblocked Door Spammer (refused 43 times while blocked)") {
		t.Fatalf("after unblock: %q", m.statusLine())
	}
	e, _ := m.activity.list.Get("1")
	if e.kind != actUnblocked || e.actor != "this console" {
		t.Errorf("activity: %+v", e)
	}
	// Another operator unblocks the other one.
	m = step(t, m, event(protocol.EventBlockRemoved, protocol.UnblockEvent{NodeID: nodeID("old-laptop"), TS: t0.UnixMilli(), Actor: "cli (operator)"}))
	if m.blocked.list.Len() != 0 || !strings.Contains(frameOf(m), "Nobody is blocked") || m.keys.Unblock.Enabled() {
		t.Fatalf("empty block list:\n%s", frameOf(m))
	}
}

func TestHelpListsThePairdeckKeys(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPolicy(true))
	m = press(t, m, "?")
	requireGolden(t, "help_pairdeck", frameOf(m))
	view := helpText(t, m)
	for _, want := range []string{"  b                block its node", "  P                switch the gateway's pairing off or on"} {
		if !strings.Contains(view, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

// silentCheck is a SilentCheck whose outcome the test sets; it counts runs.
type silentCheck struct {
	err  error
	runs int
}

func (c *silentCheck) check() *SilentCheck {
	return &SilentCheck{Rule: "ssh-check", What: "ssh alice@gw", Run: func(context.Context) error {
		c.runs++
		return c.err
	}}
}

func silentModel(t *testing.T, c *silentCheck) (Model, *clock) {
	t.Helper()
	clk := &clock{t: t0}
	m := New(nil, Options{Now: clk.Now, Theme: "dark", ColorProfile: plain, SilentCheck: c.check()})
	m = step(t, m, windowSize(80, 24))
	return step(t, m, withPolicy(true)), clk
}

// silentRequest is a silent request made just now by clk.
func silentRequest(clk *clock, id, name string, commands ...string) protocol.PendingRequest {
	r := request(id, name, "ios", "10.0.0.5", t0.Sub(clk.Now()))
	r.Silent, r.Commands = true, commands
	return r
}

// arrive delivers a new request and runs the check it starts, if any.
func arrive(t *testing.T, m Model, req protocol.PendingRequest) Model {
	t.Helper()
	m, seen := stepMsgs(t, m, event(protocol.EventPairRequested, req))
	if res, ok := sent[silentCheckedMsg](seen); ok {
		m = step(t, m, res)
	}
	return m
}

func TestSilentApprovalAfterThePassedCheck(t *testing.T) {
	c := &silentCheck{}
	m, clk := silentModel(t, c)
	m = arrive(t, m, request("req-loud", "Loud Box", "linux", "10.0.0.9", 0))
	if c.runs != 0 {
		t.Fatal("a request that is not silent started the check")
	}
	m = arrive(t, m, silentRequest(clk, "req-s1", "Silent One"))
	if c.runs != 1 || m.pending.busy["req-s1"] != "approving" {
		t.Fatalf("runs %d, busy %v", c.runs, m.pending.busy)
	}
	m = step(t, m, decidedMsg{action: approve, rule: "ssh-check", results: []decisionResult{{
		decisionTarget: decisionTarget{requestID: "req-s1", nodeID: nodeID("Silent One"), name: "Silent One"},
		approved:       protocol.ApproveResult{RequestID: "req-s1", Delivered: true},
	}}})
	if got := m.statusLine(); got != "✓ Approved Silent One (ssh-check passed) — the node received its token." {
		t.Errorf("flash %q", got)
	}
	e, _ := m.activity.list.Selected()
	if e.kind != actApproved || e.actor != "auto (rule ssh-check)" {
		t.Errorf("activity %+v", e)
	}
	// Trusted for a while: the next one goes without running it again...
	clk.Advance(5 * time.Minute)
	m = arrive(t, m, silentRequest(clk, "req-s2", "Silent Two"))
	if c.runs != 1 || m.pending.busy["req-s2"] != "approving" {
		t.Fatalf("within trust: runs %d, busy %v", c.runs, m.pending.busy)
	}
	// ...and after that it runs again.
	clk.Advance(silentTrustFor)
	m = arrive(t, m, silentRequest(clk, "req-s3", "Silent Three"))
	if c.runs != 2 {
		t.Fatalf("after trust: runs %d", c.runs)
	}
	// Exec-class commands always wait for a person, check or no check.
	m = arrive(t, m, silentRequest(clk, "req-x", "Runner", "system.run"))
	if m.pending.busy["req-x"] != "" || c.runs != 2 {
		t.Fatalf("exec: busy %v runs %d", m.pending.busy, c.runs)
	}
	e, _ = m.activity.list.Selected()
	if e.kind != actHeld || !strings.Contains(e.note, "exec-class") {
		t.Errorf("exec activity %+v", e)
	}
}

func TestSilentApprovalFallsBackWhenTheCheckFails(t *testing.T) {
	c := &silentCheck{err: errors.New("ssh alice@gw failed (exit status 255: Permission denied (publickey).)")}
	m, clk := silentModel(t, c)
	m = arrive(t, m, silentRequest(clk, "req-s1", "Silent One"))
	if c.runs != 1 || m.pending.busy["req-s1"] != "" {
		t.Fatalf("runs %d busy %v", c.runs, m.pending.busy)
	}
	r, _ := m.pending.Get("req-s1")
	if !m.pending.decidable(r, clk.Now()) {
		t.Fatal("the request must wait for the operator")
	}
	if got := m.flash.text; got != "ssh-check failed (ssh alice@gw failed (exit status 255: Permission denied (publickey).)): Silent One waits for your decision." {
		t.Errorf("flash %q", got)
	}
	e, _ := m.activity.list.Selected()
	if e.kind != actHeld || e.actor != "ssh-check" || !strings.Contains(e.note, "Permission denied") {
		t.Errorf("activity %+v", e)
	}
	requireGolden(t, "silent_held", frameOf(m))
	// A burst does not run a failing check again and again.
	clk.Advance(10 * time.Second)
	m = arrive(t, m, silentRequest(clk, "req-s2", "Silent Two"))
	if c.runs != 1 {
		t.Fatalf("runs %d", c.runs)
	}
	// The operator still decides as usual, once the request has been in
	// view a moment.
	clk.Advance(minOnScreen)
	m = press(t, m, "G", "a") // the newest has the most time left: last
	if m.pending.busy["req-s2"] != "approving" {
		t.Fatalf("a on a held request: %v", m.pending.busy)
	}
	// Later, the check is tried again.
	clk.Advance(silentRetryAfter)
	c.err = nil
	m = arrive(t, m, silentRequest(clk, "req-s3", "Silent Three"))
	if c.runs != 2 || m.pending.busy["req-s3"] != "approving" {
		t.Fatalf("retry: runs %d busy %v", c.runs, m.pending.busy)
	}
}

func TestSilentCheckNeverBlocksTheUI(t *testing.T) {
	release := make(chan struct{})
	clk := &clock{t: t0}
	check := &SilentCheck{Rule: "ssh-check", What: "ssh alice@gw", Run: func(ctx context.Context) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	m := New(nil, Options{Now: clk.Now, Theme: "dark", ColorProfile: plain, SilentCheck: check})
	m = step(t, m, windowSize(80, 24))
	m = step(t, m, withPolicy(true))
	next, cmd := m.Update(event(protocol.EventPairRequested, silentRequest(clk, "req-s1", "Silent One")))
	m = next.(Model)
	// Bubble Tea runs commands off the UI loop; so does this test.
	results := make(chan tea.Msg, 16)
	var run func(tea.Cmd)
	run = func(c tea.Cmd) {
		if c == nil {
			return
		}
		go func() {
			switch msg := c().(type) {
			case tea.BatchMsg:
				for _, c := range msg {
					run(c)
				}
			case silentCheckedMsg:
				results <- msg
			}
		}()
	}
	run(cmd)
	// While the check hangs, keys still work.
	m = press(t, m, "j", "k", "tab", "shift+tab")
	if m.view != viewPending || !m.silent.running {
		t.Fatalf("view %d running %v", m.view, m.silent.running)
	}
	close(release)
	select {
	case msg := <-results:
		m = step(t, m, msg)
	case <-time.After(5 * time.Second):
		t.Fatal("the check never answered")
	}
	if m.silent.running || m.pending.busy["req-s1"] != "approving" {
		t.Fatalf("after the check: running %v busy %v", m.silent.running, m.pending.busy)
	}
}
