package gateway

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/policy"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// noRateLimit lets one test file many node requests from 127.0.0.1.
func noRateLimit(o *harnessOpts) { o.cfg.RequestRate = Rate{Burst: -1} }

// setRules writes policy.json the way `pairdeck policy` does; the gateway
// picks it up without a restart.
func setRules(t *testing.T, h *harness, enabled bool, rules ...policy.Rule) {
	t.Helper()
	_, err := policy.Edit(context.Background(), h.g.cfg.PolicyDir, func(p *policy.Policy) error {
		p.AutoApprove = policy.AutoApprove{Enabled: enabled, Rules: []policy.Rule{}}
		for _, r := range rules {
			if _, err := p.AddRule(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("write policy: %v", err)
	}
}

// asks connects a fresh node and has it ask to pair for itself.
func asks(t *testing.T, h *harness, silent bool, commands ...string) (identity, *wsClient, protocol.PendingRequest) {
	t.Helper()
	id := newIdentity(t, "node")
	n := h.node(id, "")
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, protocol.PairRequestParams{Silent: &silent, NodeMeta: protocol.NodeMeta{Commands: commands}}, &r)
	return id, n, r.Request
}

// autoApproved checks that the node got its token (after the answer to its
// request) and that the operator saw the rule as the actor.
func autoApproved(t *testing.T, n, op *wsClient, req protocol.PendingRequest, rule string) {
	t.Helper()
	for _, ev := range n.events {
		if ev.Event == protocol.EventPairResolved {
			t.Fatalf("the decision reached the node before the answer to its request")
		}
	}
	mine := decodeAs[protocol.ResolvedEvent](t, n.event(protocol.EventPairResolved).Payload)
	if mine.RequestID != req.RequestID || mine.Decision != protocol.DecisionApproved || len(mine.Token) != 43 {
		t.Fatalf("node's resolved event: %+v", mine)
	}
	for {
		theirs := decodeAs[protocol.ResolvedEvent](t, op.event(protocol.EventPairResolved).Payload)
		if theirs.RequestID != req.RequestID {
			continue
		}
		if want := "auto (rule " + rule + ")"; theirs.Actor != want || theirs.Decision != protocol.DecisionApproved || theirs.Token != "" {
			t.Fatalf("operator's resolved event: %+v, want actor %q", theirs, want)
		}
		return
	}
}

// waits checks that a request is still pending, undecided.
func waits(t *testing.T, h *harness, n *wsClient, req protocol.PendingRequest) {
	t.Helper()
	n.noEvent(protocol.EventPairResolved, waitShort)
	if _, ok := h.st.PendingByID(req.RequestID); !ok {
		t.Fatalf("request %s is no longer pending", req.RequestID)
	}
}

func TestAutoApprovalRules(t *testing.T) {
	h := newHarness(t, noRateLimit)
	op := h.operator()

	// Off by default: nothing is approved however silent.
	_, n, req := asks(t, h, true)
	waits(t, h, n, req)
	_, quiet, quietReq := asks(t, h, false)

	lo := policy.Rule{Name: "lo", Loopback: true}
	setRules(t, h, false, lo)
	_, n, req = asks(t, h, true)
	waits(t, h, n, req)

	setRules(t, h, true, lo)
	_, n, req = asks(t, h, true)
	autoApproved(t, n, op, req, "lo")
	// Never a request that is not silent. (A node that connects without a
	// token is filed silent, as OpenClaw files node hosts, and asks for
	// itself next: one that says it is not silent stays so.)
	quiet.ok(protocol.MethodPairRequest, protocol.PairRequestParams{Silent: boolPtr(false)}, nil)
	waits(t, h, quiet, quietReq)

	// CIDR: the nodes here connect from 127.0.0.1.
	setRules(t, h, true, policy.Rule{Name: "lan", CIDRs: []string{"10.0.0.0/8"}})
	_, n, req = asks(t, h, true)
	waits(t, h, n, req)
	setRules(t, h, true, policy.Rule{Name: "lan", CIDRs: []string{"10.0.0.0/8", "127.0.0.0/8"}})
	_, n, req = asks(t, h, true)
	autoApproved(t, n, op, req, "lan")

	// Node allowlist.
	known := newIdentity(t, "known")
	setRules(t, h, true, policy.Rule{Name: "ids", NodeIDs: []string{known.nodeID()}})
	_, n, req = asks(t, h, true)
	waits(t, h, n, req)
	n = h.node(known, "")
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, protocol.PairRequestParams{Silent: boolPtr(true)}, &r)
	autoApproved(t, n, op, r.Request, "ids")

	// Platform: the test nodes say "Linux" when they connect.
	setRules(t, h, true, policy.Rule{Name: "ios", Platforms: []string{"ios"}})
	_, n, req = asks(t, h, true)
	waits(t, h, n, req)
	setRules(t, h, true, policy.Rule{Name: "ios", Platforms: []string{"ios"}}, policy.Rule{Name: "linux", Platforms: []string{"linux"}})
	_, n, req = asks(t, h, true)
	autoApproved(t, n, op, req, "linux")

	// Operators filing on a node's behalf are never approved by a rule: the
	// address they give is theirs to make up.
	res := op.request(protocol.PairRequestParams{NodeID: "filed", NodeMeta: protocol.NodeMeta{Platform: "linux", RemoteIP: "127.0.0.1"}, Silent: boolPtr(true)})
	time.Sleep(waitShort)
	if _, ok := h.st.PendingByID(res.Request.RequestID); !ok {
		t.Fatal("an operator's request was approved by a rule")
	}

	// Every automatic decision is in the audit log with its rule.
	approved := 0
	for _, line := range strings.Split(strings.TrimSpace(readAudit(t, h)), "\n") {
		var ev struct {
			Action string      `json:"action"`
			Actor  store.Actor `json:"actor"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if ev.Action == "approved" {
			approved++
			if !slices.Contains([]string{"lo", "lan", "ids", "linux"}, ev.Actor.Rule) {
				t.Errorf("approval without its rule: %s", line)
			}
		}
	}
	if approved != 4 {
		t.Fatalf("%d approvals in the audit log, want 4", approved)
	}
}

func TestExecClassRequestsNeedAllowExec(t *testing.T) {
	h := newHarness(t, noRateLimit)
	op := h.operator()
	setRules(t, h, true, policy.Rule{Name: "lo", Loopback: true})
	for _, cmd := range protocol.ExecCommands {
		_, n, req := asks(t, h, true, "camera.snap", cmd)
		waits(t, h, n, req)
	}
	// Commands declared only at connect count too.
	id := newIdentity(t, "declares")
	n := h.dial()
	if res := n.connect(n.connectParams(&id, h.now(), connectOpts{role: protocol.RoleNode, commands: []string{"system.run"}})); !res.OK {
		t.Fatal(res.Error)
	}
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, protocol.PairRequestParams{Silent: boolPtr(true)}, &r)
	waits(t, h, n, r.Request)

	setRules(t, h, true, policy.Rule{Name: "lo", Loopback: true}, policy.Rule{Name: "lo-exec", Loopback: true, AllowExec: true})
	_, n, req := asks(t, h, true, "system.run")
	autoApproved(t, n, op, req, "lo-exec")
	_, n, req = asks(t, h, true, "camera.snap")
	autoApproved(t, n, op, req, "lo")
}

func TestRefreshIsMatchedAgain(t *testing.T) {
	h := newHarness(t, noRateLimit)
	op := h.operator()
	// Pending from before the rule existed...
	_, n, req := asks(t, h, true)
	waits(t, h, n, req)
	setRules(t, h, true, policy.Rule{Name: "lo", Loopback: true})
	// ...is approved when the node asks again.
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, protocol.PairRequestParams{Silent: boolPtr(true)}, &r)
	if r.Created || r.Request.RequestID != req.RequestID {
		t.Fatalf("refresh: %+v", r)
	}
	autoApproved(t, n, op, req, "lo")
}

func TestCorruptPolicyFileStopsTheGateway(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(store.Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	path := policy.Path(policy.Dir(dir))
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte("{\"version\": 1, \"autoApprove\": {\"rules\": [{\"name\": \"all\"}]}}"), 0o600)
	_, err = New(Config{Store: st, OperatorToken: testToken})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "byte") || !strings.Contains(err.Error(), "no condition") {
		t.Fatalf("got %v", err)
	}
	// A file broken while the gateway runs turns auto-approval off.
	os.Remove(path)
	h := newHarness(t, noRateLimit)
	op := h.operator()
	setRules(t, h, true, policy.Rule{Name: "lo", Loopback: true})
	os.WriteFile(policy.Path(h.g.cfg.PolicyDir), []byte("{broken"), 0o600)
	_, n, req := asks(t, h, true)
	waits(t, h, n, req)
	op.noEvent(protocol.EventPairResolved, 0)
}

func TestPairingSwitchOverTheWire(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	watcher := h.operator(protocol.ScopeRead)
	pairingOnly := h.operator(protocol.ScopePairing)

	// A paired node to check that it keeps connecting.
	id := newIdentity(t, "paired")
	n := h.node(id, "")
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, nil, &r)
	var appr protocol.ApproveResult
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, &appr)

	var st protocol.PairingState
	watcher.ok(protocol.MethodPairingGet, nil, &st)
	if !st.Enabled {
		t.Fatalf("a new gateway pairs: %+v", st)
	}
	pairingOnly.fails(protocol.MethodPairingSet, map[string]any{"enabled": false}, "INVALID_REQUEST", "MISSING_SCOPE")
	op.fails(protocol.MethodPairingSet, map[string]any{}, "INVALID_REQUEST", "INVALID_PARAMS")
	op.ok(protocol.MethodPairingSet, map[string]any{"enabled": false}, &st)
	if st.Enabled || st.ChangedBy != "test-cli" || st.ChangedAtMs == 0 {
		t.Fatalf("switched off: %+v", st)
	}
	// Every operator hears of it, whatever its scopes.
	for _, w := range []*wsClient{op, watcher, pairingOnly} {
		ev := decodeAs[protocol.PairingChangedEvent](t, w.event(protocol.EventPairingChanged).Payload)
		if ev.Enabled || ev.Actor != "test-cli" {
			t.Fatalf("changed event: %+v", ev)
		}
	}
	// Nodes cannot ask, nothing is queued; paired nodes still connect.
	before := len(h.st.Pending())
	h.node(newIdentity(t, "new"), "").fails(protocol.MethodPairRequest, nil, "UNAVAILABLE", "PAIRING_DISABLED")
	if len(h.st.Pending()) != before {
		t.Fatal("a request entered the queue while pairing was off")
	}
	op.noEvent(protocol.EventPairRequested, waitShort)
	h.node(id, appr.Node.Token)

	w := h.dial()
	hello := decodeAs[protocol.HelloOK](t, w.connect(w.connectParams(nil, h.now(), connectOpts{token: testToken})).Payload)
	health, _ := hello.Snapshot["health"].(map[string]any)
	if health["pairingEnabled"] != false {
		t.Fatalf("snapshot: %v", hello.Snapshot)
	}
	if !slices.Contains(hello.Features.Methods, protocol.MethodPairingSet) || !slices.Contains(hello.Features.Events, protocol.EventPairingChanged) {
		t.Fatalf("features: %+v", hello.Features)
	}
	// Switching to the state it is in changes nothing and says nothing.
	op.ok(protocol.MethodPairingSet, map[string]any{"enabled": false}, &st)
	watcher.noEvent(protocol.EventPairingChanged, waitShort)

	op.ok(protocol.MethodPairingSet, map[string]any{"enabled": true}, &st)
	if ev := decodeAs[protocol.PairingChangedEvent](t, watcher.event(protocol.EventPairingChanged).Payload); !ev.Enabled {
		t.Fatalf("on again: %+v", ev)
	}
	h.node(newIdentity(t, "new"), "").ok(protocol.MethodPairRequest, nil, nil)

	audit := readAudit(t, h)
	if !strings.Contains(audit, `"action":"pairing-off"`) || !strings.Contains(audit, `"action":"pairing-on"`) {
		t.Fatalf("audit log:\n%s", audit)
	}
}

func TestPairingSwitchIsRemembered(t *testing.T) {
	dir := t.TempDir()
	start := func(mode PairingStart) (*Gateway, func()) {
		t.Helper()
		st, err := store.Open(store.Options{StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		g, err := New(Config{Store: st, OperatorToken: testToken, Pairing: mode, TickInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		return g, func() {
			g.Shutdown(context.Background())
			st.Close()
		}
	}
	g, stop := start(PairingRemembered)
	if !g.PairingEnabled() {
		t.Fatal("a new state dir pairs")
	}
	lo := g.Local(store.Actor{ClientID: "console"})
	if st, err := lo.SetPairing(context.Background(), false); err != nil || st.Enabled {
		t.Fatal(st, err)
	}
	lo.Close()
	stop()

	g, stop = start(PairingRemembered)
	if g.PairingEnabled() {
		t.Fatal("a restart forgot that pairing was switched off")
	}
	stop()
	g, stop = start(PairingOn)
	if !g.PairingEnabled() {
		t.Fatal("--pairing=on did not switch it on")
	}
	stop()
	g, stop = start(PairingRemembered)
	if !g.PairingEnabled() {
		t.Fatal("the start flag's state is remembered too")
	}
	stop()
}

func TestBlockListRoundTrip(t *testing.T) {
	h := newHarness(t, noRateLimit)
	op := h.operator()
	pairingOnly := h.operator(protocol.ScopePairing)
	ctx := context.Background()
	lo := h.g.Local(store.Actor{ClientID: "console"})
	defer lo.Close()

	id, n, req := asks(t, h, false)
	op.event(protocol.EventPairRequested)

	var res protocol.BlockResult
	pairingOnly.ok(protocol.MethodBlockAdd, protocol.BlockParams{NodeID: strings.ToUpper(id.nodeID())}, &res)
	if !res.Created || res.Node.NodeID != id.nodeID() || res.Node.DisplayName != "Kitchen iPad" || res.RejectedRequestID != req.RequestID {
		t.Fatalf("block: %+v", res)
	}
	// The pending request went with it, rejected by whoever blocked.
	if ev := decodeAs[protocol.ResolvedEvent](t, n.event(protocol.EventPairResolved).Payload); ev.Decision != protocol.DecisionRejected {
		t.Fatalf("node's event: %+v", ev)
	}
	if ev := decodeAs[protocol.ResolvedEvent](t, op.event(protocol.EventPairResolved).Payload); ev.Decision != protocol.DecisionRejected || ev.Actor != "test-cli" {
		t.Fatalf("operator's event: %+v", ev)
	}
	added := decodeAs[protocol.BlockEvent](t, op.event(protocol.EventBlockAdded).Payload)
	if added.Node.NodeID != id.nodeID() || added.Actor != "test-cli" {
		t.Fatalf("block.added: %+v", added)
	}
	if _, ok := h.st.PendingByID(req.RequestID); ok {
		t.Fatal("the blocked node's request is still pending")
	}

	// Refused at once, not queued, counted.
	for range 3 {
		e := n.fails(protocol.MethodPairRequest, nil, "INVALID_REQUEST", "BLOCKED")
		if !strings.Contains(e.Message, "unblock") {
			t.Fatalf("message: %q", e.Message)
		}
	}
	refused := decodeAs[protocol.BlockEvent](t, op.event(protocol.EventBlockRefused).Payload)
	if refused.Node.Attempts != 1 || refused.Node.LastRemoteIP != "127.0.0.1" {
		t.Fatalf("refused event: %+v", refused)
	}
	op.noEvent(protocol.EventPairRequested, waitShort)
	if len(h.st.Pending()) != 0 {
		t.Fatal("a blocked node's request entered the queue")
	}
	list, err := lo.Blocked(ctx)
	if err != nil || len(list.Blocked) != 1 || list.Blocked[0].Attempts != 3 || list.Blocked[0].LastAttemptMs == 0 {
		t.Fatalf("block list: %+v %v", list, err)
	}
	// An operator cannot slip it in either.
	op.fails(protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: id.nodeID()}, "INVALID_REQUEST", "BLOCKED")
	// Blocking again is no change.
	again, err := lo.Block(ctx, id.nodeID(), "")
	if err != nil || again.Created || again.RejectedRequestID != "" {
		t.Fatalf("block again: %+v %v", again, err)
	}

	// Kept in access.json, counters included once flushed.
	if err := h.g.access.Flush(); err != nil {
		t.Fatal(err)
	}
	disk, err := policy.OpenAccess(h.g.cfg.PolicyDir)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := disk.Blocked(id.nodeID()); !ok || b.Attempts != 4 {
		t.Fatalf("on disk: %+v %v", b, ok)
	}

	un, err := lo.Unblock(ctx, id.nodeID())
	if err != nil || un.Node.Attempts != 4 {
		t.Fatalf("unblock: %+v %v", un, err)
	}
	if ev := decodeAs[protocol.UnblockEvent](t, op.event(protocol.EventBlockRemoved).Payload); ev.NodeID != id.nodeID() || ev.Actor != "console (operator)" {
		t.Fatalf("block.removed: %+v", ev)
	}
	_, err = lo.Unblock(ctx, id.nodeID())
	if e := asWireError(t, err); e.Reason() != protocol.ReasonUnknownNode {
		t.Fatalf("unblock twice: %v", err)
	}
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, nil, &r)
	if !r.Created {
		t.Fatalf("after unblocking: %+v", r)
	}
	if ev := decodeAs[protocol.PendingRequest](t, op.event(protocol.EventPairRequested).Payload); ev.NodeID != id.nodeID() {
		t.Fatalf("requested: %+v", ev)
	}

	audit := readAudit(t, h)
	for _, want := range []string{`"action":"blocked"`, `"action":"unblocked"`, `"attempts":4`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %s:\n%s", want, audit)
		}
	}
	// Reading needs operator.pairing.
	h.operator(protocol.ScopeRead).fails(protocol.MethodBlockList, nil, "INVALID_REQUEST", "MISSING_SCOPE")
}

func TestConsoleCheckedApproval(t *testing.T) {
	h := newHarness(t, noRateLimit)
	op := h.operator()
	ctx := context.Background()
	lo := h.g.Local(store.Actor{ClientID: "pairdeck-console", DeviceID: "dev1"})
	defer lo.Close()

	_, n, req := asks(t, h, true)
	res, err := lo.AutoApprove(ctx, req.RequestID, "ssh-check")
	if err != nil || len(res.Node.Token) != 43 {
		t.Fatalf("approve: %+v %v", res, err)
	}
	autoApproved(t, n, op, req, "ssh-check")
	if audit := readAudit(t, h); !strings.Contains(audit, `"actor":{"clientId":"pairdeck-console","role":"operator","deviceId":"dev1","rule":"ssh-check"}`) {
		t.Fatalf("the audit line must name both the console and the check:\n%s", audit)
	}

	_, _, loud := asks(t, h, false)
	_, err = lo.AutoApprove(ctx, loud.RequestID, "ssh-check")
	if e := asWireError(t, err); e.Reason() != protocol.ReasonInvalidParams || !strings.Contains(e.Message, "not silent") {
		t.Fatalf("not silent: %v", err)
	}
	_, _, exec := asks(t, h, true, "system.run")
	_, err = lo.AutoApprove(ctx, exec.RequestID, "ssh-check")
	if e := asWireError(t, err); e.Reason() != protocol.ReasonInvalidParams || !strings.Contains(e.Message, "exec-class") {
		t.Fatalf("exec: %v", err)
	}
	op.fails(protocol.MethodPairAutoApprove, protocol.AutoApproveParams{RequestID: loud.RequestID, Rule: "has space"}, "INVALID_REQUEST", "INVALID_PARAMS")
	op.fails(protocol.MethodPairAutoApprove, protocol.AutoApproveParams{RequestID: "nope", Rule: "ssh-check"}, "INVALID_REQUEST", "UNKNOWN_REQUEST")
}
