package tui

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/client/openclawtest"
	"github.com/pairdeck/pairdeck/protocol"
)

// The console against OpenClaw gateways (protocol 4 and their pairing
// models), as a model: what the client hands it — kinds, reasons, approval
// states, approvals without a token, actions not offered — drawn and acted
// on.

// clientConsole is the client as cmd/pairdeck hands it to the console
// (cli's remoteConsole): it says which of the console's features its
// gateway offers, in the client's own words.
type clientConsole struct{ *client.Client }

var featureCapabilities = map[Feature]client.Capability{
	FeatureRenamePending: client.CapRenamePending,
	FeatureRemove:        client.CapRemove,
	FeatureBlockList:     client.CapBlockList,
	FeaturePairingSwitch: client.CapPairingSwitch,
	FeatureAutoApprove:   client.CapAutoApprove,
	FeatureReasons:       client.CapReasons,
	FeatureCodes:         client.CapCodes,
}

func (c clientConsole) Offered(f Feature) error { return c.Supports(featureCapabilities[f]) }

// dialOpenClaw connects the real client to a replay of version's
// recording, with the recording's own shared token.
func dialOpenClaw(t *testing.T, version, scenario string, labels ...string) (clientConsole, *openclawtest.Gateway) {
	t.Helper()
	g := openclawtest.New(t, version, scenario, labels...)
	id, err := client.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: g.URL, Token: "test-only-shared-token-" + version, Identity: id, Reconnect: true})
	if err != nil {
		t.Fatalf("%s: dial: %v", version, err)
	}
	t.Cleanup(func() { c.Close() })
	return clientConsole{c}, g
}

// openClawFeatures are what the release offers of the console's features,
// as the client tells them after a real (replayed) handshake.
func openClawFeatures(t *testing.T, version string) features {
	t.Helper()
	c, _ := dialOpenClaw(t, version, "handshake", "op-device-3to4")
	return featuresOf(c)
}

// openClawModel is newModel attached to version's gateway.
func openClawModel(t *testing.T, version string, w, h int) (Model, *clock) {
	t.Helper()
	m, clk := newModel(t, w, h)
	m.features = openClawFeatures(t, version)
	m.endpoint = "ws://127.0.0.1:18789"
	return step(t, m, windowSize(w, h)), clk
}

// capabilityRequest is a 2026.9 node capability request: no expiry, every
// field the release sends, and one pairdeck does not model.
func capabilityRequest(id, name string, age time.Duration, commands ...string) protocol.PendingRequest {
	return protocol.PendingRequest{
		RequestID: id, NodeID: nodeID(name), Kind: protocol.KindNode,
		NodeMeta: protocol.NodeMeta{DisplayName: name, Platform: "linux", Version: "2026.9.6", RemoteIP: "127.0.0.1",
			Caps: []string{"system"}, Commands: commands},
		Silent: true, TS: t0.Add(-age).UnixMilli(),
		RequiredApproveScopes: protocol.RequiredApproveScopes(commands),
		ClientID:              "node-host", ClientMode: "node",
		Permissions: protocol.Permissions{"camera": true, "microphone": false},
		Extra:       map[string]json.RawMessage{"sessionHost": json.RawMessage(`true`)},
	}
}

// deviceRequest is a device pairing request as the client lists it.
func deviceRequest(id, name, reason string, age time.Duration, roles, scopes []string) protocol.PendingRequest {
	d := protocol.PendingDevice{RequestID: id, DeviceID: nodeID(name), DisplayName: name, Platform: "linux",
		ClientID: "cli", ClientMode: "cli", Role: roles[0], Roles: roles, Scopes: scopes, RemoteIP: "127.0.0.1",
		IsRepair: reason != protocol.PairingReasonNotPaired}
	return protocol.PendingRequest{
		RequestID: id, NodeID: d.DeviceID, Kind: protocol.KindDevice, Reason: reason,
		NodeMeta: protocol.NodeMeta{DisplayName: name, Platform: "linux", RemoteIP: "127.0.0.1"},
		IsRepair: d.IsRepair, TS: t0.Add(-age).UnixMilli(), RequiredApproveScopes: protocol.DeviceApproveScopes(d),
		ClientID: "cli", ClientMode: "cli", Role: roles[0], Roles: roles, Scopes: scopes,
	}
}

// mixedQueue is a 2026.9 queue: capability requests and device requests
// for every reason.
func mixedQueue() []protocol.PendingRequest {
	op := []string{protocol.RoleOperator}
	return []protocol.PendingRequest{
		capabilityRequest("cap-p", "Recorder P", 12*time.Minute, "system.notify"),
		capabilityRequest("cap-r", "Recorder R", 3*time.Minute, "system.notify", "system.run"),
		deviceRequest("dev-new", "Browser on laptop", protocol.PairingReasonNotPaired, 2*time.Minute, op, []string{protocol.ScopeRead}),
		deviceRequest("dev-scope", "ops console", protocol.PairingReasonScopeUpgrade, 90*time.Second, op, []string{protocol.ScopeRead, protocol.ScopeWrite}),
		deviceRequest("dev-role", "build agent", protocol.PairingReasonRoleUpgrade, time.Minute, []string{protocol.RoleOperator, "node"}, []string{protocol.ScopeAdmin}),
		deviceRequest("dev-meta", "Kitchen iPad", protocol.PairingReasonMetadataUpgrade, 30*time.Second, op, []string{protocol.ScopeRead}),
	}
}

// One queue for both pairing models: each row says its kind and, for a
// device, why it waits; nothing makes up an expiry; the filter finds kinds.
func TestOpenClawQueueSaysWhichKindEachRequestIs(t *testing.T) {
	m, _ := openClawModel(t, "2026.9.6", 100, 24)
	m = step(t, m, listed(mixedQueue()))
	for name, kind := range map[string]string{
		"Recorder P": "node", "Recorder R": "node", "Browser on laptop": "device new", "ops console": "device +scopes",
		"build agent": "device +role", "Kitchen iPad": "device metadata",
	} {
		line := lineWith(t, m, name)
		if !strings.Contains(line, "  "+kind+"  ") {
			t.Errorf("%s: %q lacks its kind %q", name, line, kind)
		}
		if !strings.Contains(line, "waited ") {
			t.Errorf("%s: %q: the gateway gives no expiry, so the row says how long it waited", name, line)
		}
	}
	if !strings.Contains(frameOf(m), "KIND") {
		t.Errorf("no KIND column:\n%s", frameOf(m))
	}
	m = press(t, m, "/")
	m = typeText(t, m, "device +")
	var shown []string
	m.pending.list.Each(func(r pendingRow) {
		if m.pending.list.Visible(r.req.RequestID) {
			shown = append(shown, r.req.RequestID)
		}
	})
	if got := shown; !slices.Equal(got, []string{"dev-scope", "dev-role"}) {
		t.Errorf("filter “device +” shows %v, want the two upgrades", got)
	}
}

func TestGoldenOpenClawQueue(t *testing.T) {
	m, _ := openClawModel(t, "2026.9.6", 80, 24)
	m = step(t, m, listed(mixedQueue()))
	requireGolden(t, "openclaw_queue", frameOf(m))
	m = step(t, m, windowSize(60, 15))
	requireGolden(t, "openclaw_queue_60x15", frameOf(m))
}

// The detail pane shows everything the gateway sent, the fields pairdeck
// does not model too — escaped, as everything from the network.
func TestGoldenOpenClawDetail(t *testing.T) {
	node := capabilityRequest("cap-p", "Recorder P", 12*time.Minute, "system.notify", "system.run")
	node.IsRepair = true
	node.Extra["hostName"] = json.RawMessage(`"ci-07\u001b[2J"`)
	node.Extra["inventory"] = json.RawMessage(`{"apps": [ "a", "b" ],  "n": 2}`)
	m, _ := openClawModel(t, "2026.9.6", 80, 36)
	m = step(t, m, listed([]protocol.PendingRequest{node}))
	m = press(t, m, "enter")
	frame := frameOf(m)
	if strings.Contains(frame, "\x1b") {
		t.Errorf("a value from the gateway reached the terminal raw:\n%q", frame)
	}
	requireGolden(t, "openclaw_detail_node", frame)

	dev := deviceRequest("dev-role", "build agent", protocol.PairingReasonRoleUpgrade, time.Minute,
		[]string{protocol.RoleOperator, "node"}, []string{protocol.ScopeAdmin, protocol.ScopePairing})
	m, _ = openClawModel(t, "2026.9.6", 80, 36)
	m = step(t, m, listed([]protocol.PendingRequest{dev}))
	m = press(t, m, "enter")
	requireGolden(t, "openclaw_detail_device", frameOf(m))
}

// approved is a decidedMsg with one approval.
func approved(t decisionTarget, res protocol.ApproveResult) decidedMsg {
	res.RequestID = t.requestID
	return decidedMsg{action: approve, results: []decisionResult{{decisionTarget: t, approved: res}}}
}

// wrongForOpenClaw are what the console said after approving on OpenClaw
// gateways before it knew better (seen against the real releases).
var wrongForOpenClaw = []string{"hand it the token", "not connected", "did not receive its token", "Token for", "token handed over", "received its token"}

// After approving, the console says what happened on that gateway: no
// token to hand over on 2026.9 (node or device), and on 2026.4/2026.7 a
// node token the node never uses is neither shown nor asked to be passed
// on.
func TestOpenClawApprovalSaysWhatHappened(t *testing.T) {
	target := func(r protocol.PendingRequest) decisionTarget {
		return decisionTarget{requestID: r.RequestID, nodeID: r.NodeID, name: r.DisplayName, kind: r.Kind}
	}
	node := capabilityRequest("cap-p", "Recorder P", time.Minute, "system.notify")
	dev := deviceRequest("dev-new", "Browser on laptop", protocol.PairingReasonNotPaired, time.Minute,
		[]string{protocol.RoleOperator}, []string{protocol.ScopeRead})
	cases := []struct {
		version string
		req     protocol.PendingRequest
		res     protocol.ApproveResult
		flash   string
		note    string
	}{
		{"2026.9.6", node, protocol.ApproveResult{Kind: protocol.KindNode, NoToken: protocol.NoTokenNodeUsesDeviceToken,
			Node: protocol.PairedNode{NodeID: node.NodeID, NodeMeta: node.NodeMeta}},
			"✓ Approved Recorder P's commands; the node goes on with its device token.", "uses its device token"},
		{"2026.9.6", dev, protocol.ApproveResult{Kind: protocol.KindDevice, NoToken: protocol.NoTokenDeviceApproval,
			Node: protocol.PairedNode{NodeID: dev.NodeID}, Device: &protocol.PairedDevice{DeviceID: dev.NodeID}},
			"✓ Approved device Browser on laptop; it gets its token when it next connects.", "token at next connect"},
		// 2026.4.12 and 2026.7.35 issue a node token all the same.
		{"2026.4.12", node, protocol.ApproveResult{Kind: protocol.KindNode,
			Node: protocol.PairedNode{NodeID: node.NodeID, NodeMeta: node.NodeMeta, Token: "test-only-token-1"}},
			"✓ Approved Recorder P's commands; the node goes on with its device token.", "uses its device token"},
	}
	for _, tc := range cases {
		t.Run(tc.version+" "+tc.req.Kind, func(t *testing.T) {
			m, _ := openClawModel(t, tc.version, 100, 24)
			m = step(t, m, listed([]protocol.PendingRequest{tc.req}))
			m = step(t, m, approved(target(tc.req), tc.res))
			if m.flash.text != tc.flash {
				t.Errorf("flash %q, want %q", m.flash.text, tc.flash)
			}
			if len(m.tokens) > 0 {
				t.Errorf("a token dialog opened for %s", m.tokens[0].name)
			}
			frame := frameOf(m)
			m = press(t, m, "tab", "tab")
			activity := frameOf(m)
			for _, wrong := range append(wrongForOpenClaw, "test-only-token") {
				if strings.Contains(frame+activity, wrong) {
					t.Errorf("says %q:\n%s\n%s", wrong, frame, activity)
				}
			}
			if !strings.Contains(activity, tc.note) {
				t.Errorf("activity lacks %q:\n%s", tc.note, activity)
			}
		})
	}

	// Several at once: what was approved, and that nothing is handed over.
	m, _ := openClawModel(t, "2026.9.6", 100, 24)
	m = step(t, m, listed([]protocol.PendingRequest{node, dev}))
	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{
		{decisionTarget: target(node), approved: cases[0].res},
		{decisionTarget: target(dev), approved: cases[1].res},
	}})
	if want := "✓ Approved 1 node's commands and 1 device; nothing to hand over: each signs in with its own device token."; m.flash.text != want {
		t.Errorf("bulk flash %q, want %q", m.flash.text, want)
	}
	// A device pairing rejected says so.
	m = step(t, m, listed([]protocol.PendingRequest{dev}))
	m = step(t, m, decidedMsg{action: reject, results: []decisionResult{{decisionTarget: target(dev)}}})
	if want := "✗ Rejected device Browser on laptop's pairing request."; m.flash.text != want {
		t.Errorf("reject flash %q, want %q", m.flash.text, want)
	}
}

// pairdeck's own gateway keeps its token story: delivered, or shown once to
// hand over.
func TestPairdeckApprovalStillHandsOverTheToken(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = step(t, m, approved(decisionTarget{requestID: "req-ipad", nodeID: nodeID("Living Room iPad"), name: "Living Room iPad"},
		protocol.ApproveResult{Node: protocol.PairedNode{NodeID: nodeID("Living Room iPad"), Token: "tok-1"}}))
	if want := "✓ Approved Living Room iPad — the node is not connected: hand it the token."; m.flash.text != want || len(m.tokens) != 1 {
		t.Errorf("flash %q tokens %d, want %q and the token dialog", m.flash.text, len(m.tokens), want)
	}
	m = press(t, m, "enter")
	m = step(t, m, approved(decisionTarget{requestID: "req-build", nodeID: nodeID("build-box-07"), name: "build-box-07"},
		protocol.ApproveResult{Delivered: true, Node: protocol.PairedNode{NodeID: nodeID("build-box-07"), Token: "tok-2"}}))
	if want := "✓ Approved build-box-07 — the node received its token."; m.flash.text != want || len(m.tokens) != 0 {
		t.Errorf("flash %q tokens %d, want %q and no dialog", m.flash.text, len(m.tokens), want)
	}
}

// nodeInfo is a node.list entry of a 2026.9 gateway.
func nodeInfo(name, state string, connected bool, pendingID string) protocol.NodeInfo {
	n := protocol.NodeInfo{NodeID: nodeID(name), DisplayName: name, Platform: "linux", Paired: true, Connected: connected,
		ApprovalState: state, PendingRequestID: pendingID, ClientID: "node-host", ClientMode: "node",
		ConnectedAtMs: t0.Add(-20 * time.Minute).UnixMilli(), LastSeenAtMs: t0.Add(-time.Minute).UnixMilli()}
	if pendingID != "" {
		n.PendingDeclaredCaps, n.PendingDeclaredCommands = []string{"system"}, []string{"system.notify"}
	}
	if state == protocol.ApprovalApproved || state == protocol.ApprovalPendingReapproval {
		n.Caps, n.Commands = []string{"system"}, []string{"system.notify"}
	}
	return n
}

// openClawNodes is a 2026.9 gateway's nodes: approved, waiting,
// re-approval, refused — and the node.pair.list records of the approved.
func openClawNodes() refreshedMsg {
	infos := []protocol.NodeInfo{
		nodeInfo("Recorder R", protocol.ApprovalApproved, true, ""),
		nodeInfo("Recorder P", protocol.ApprovalPending, true, "cap-p"),
		nodeInfo("Mac mini", protocol.ApprovalPendingReapproval, true, "cap-mac"),
		nodeInfo("Recorder Q", protocol.ApprovalUnapproved, true, ""),
	}
	paired := []protocol.PairedNode{
		{NodeID: nodeID("Recorder R"), NodeMeta: protocol.NodeMeta{DisplayName: "Recorder R", Platform: "linux", Caps: []string{"system"}},
			ApprovedAtMs: t0.Add(-time.Hour).UnixMilli(), ClientID: "node-host", ClientMode: "node"},
		{NodeID: nodeID("Mac mini"), NodeMeta: protocol.NodeMeta{DisplayName: "Mac mini", Platform: "macos", Caps: []string{"system"}},
			ApprovedAtMs: t0.Add(-2 * time.Hour).UnixMilli(), ClientID: "node-host", ClientMode: "node"},
	}
	pending := []protocol.PendingRequest{
		capabilityRequest("cap-p", "Recorder P", 5*time.Minute, "system.notify"),
		capabilityRequest("cap-mac", "Mac mini", time.Minute, "system.notify", "camera.snap"),
	}
	return refreshedMsg{list: protocol.PairListResult{Pending: pending, Paired: paired}, nodes: protocol.NodeListResult{Nodes: infos}}
}

// The Paired view says whether each node's commands are approved: never
// "online" alone while its request waits or was refused.
func TestPairedViewShowsTheApprovalState(t *testing.T) {
	m, _ := openClawModel(t, "2026.9.6", 100, 24)
	m = step(t, m, openClawNodes())
	m = press(t, m, "tab")
	for name, want := range map[string]string{
		"Recorder R": "● online   ✓ approved",
		"Recorder P": "● online   ◌ pending",
		"Mac mini":   "● online   ↻ re-approval",
		"Recorder Q": "● online   ✗ unapproved",
	} {
		if line := lineWith(t, m, name); !strings.Contains(line, want) {
			t.Errorf("%s: %q, want %q", name, line, want)
		}
	}
	// Nodes the gateway holds no paired record of cannot be renamed or
	// removed here; the keys say why in one line.
	m = press(t, m, "/")
	m = typeText(t, m, "Recorder Q")
	m = press(t, m, "enter")
	if m.keys.Rename.Enabled() || m.keys.Remove.Enabled() {
		t.Errorf("rename %v remove %v offered on a node without a paired record", m.keys.Rename.Enabled(), m.keys.Remove.Enabled())
	}
	m, seen := stepMsgs(t, m, keyMsg("d"))
	if r, ok := sent[refusedMsg](seen); !ok || !strings.HasPrefix(r.why, "Nothing to remove: the gateway holds no paired record of Recorder Q") {
		t.Errorf("d on it: %v", seen)
	}
	m = press(t, m, "esc")

	// Approving P here makes it approved, online as node.list saw it.
	m = step(t, m, approved(decisionTarget{requestID: "cap-p", nodeID: nodeID("Recorder P"), name: "Recorder P", kind: protocol.KindNode},
		protocol.ApproveResult{Kind: protocol.KindNode, NoToken: protocol.NoTokenNodeUsesDeviceToken,
			Node: protocol.PairedNode{NodeID: nodeID("Recorder P"), NodeMeta: protocol.NodeMeta{DisplayName: "Recorder P"}}}))
	if line := lineWith(t, m, "Recorder P"); !strings.Contains(line, "● online   ✓ approved") || !strings.Contains(line, "system") {
		t.Errorf("after approving: %q", line)
	}
	if !m.paired.listed(nodeID("Recorder P")) {
		t.Error("an approved node has a paired record")
	}
	requireGolden(t, "openclaw_paired", frameOf(m))

	// Rejecting a waiting node's request leaves it unapproved; rejecting a
	// re-approval lists again: what stays approved is the gateway's to say.
	m = step(t, m, openClawNodes())
	next, cmd := m.Update(decidedMsg{action: reject, results: []decisionResult{{decisionTarget: decisionTarget{
		requestID: "cap-p", nodeID: nodeID("Recorder P"), name: "Recorder P", kind: protocol.KindNode}}}})
	m = next.(Model)
	if line := lineWith(t, m, "Recorder P"); !strings.Contains(line, "✗ unapproved") {
		t.Errorf("after rejecting: %q", line)
	}
	if cmd != nil && m.sync.listing {
		t.Error("rejecting a waiting node listed again; the outcome is known")
	}
	next, _ = m.Update(decidedMsg{action: reject, results: []decisionResult{{decisionTarget: decisionTarget{
		requestID: "cap-mac", nodeID: nodeID("Mac mini"), name: "Mac mini", kind: protocol.KindNode}}}})
	if m = next.(Model); !m.sync.listing {
		t.Error("rejecting a re-approval did not ask the gateway what stays approved")
	}
}

func TestGoldenOpenClawPairedDetail(t *testing.T) {
	m, _ := openClawModel(t, "2026.9.6", 80, 36)
	msg := openClawNodes()
	msg.nodes.Nodes[2].Extra = map[string]json.RawMessage{"sessionHost": json.RawMessage(`false`)}
	msg.nodes.Nodes[2].PendingDeclaredPermissions = protocol.Permissions{"camera": true}
	m = step(t, m, msg)
	m = press(t, m, "tab", "/")
	m = typeText(t, m, "Mac mini")
	m = press(t, m, "enter", "enter")
	requireGolden(t, "openclaw_paired_detail", frameOf(m))
}

// 2026.4.12 does not say the approval state: a paired node asking again
// waits for re-approval, as its request in the queue shows. pairdeck's
// re-pair (no kind) leaves a paired node as it is.
func TestApprovalStateWorkedOutWhereTheGatewayDoesNotSayIt(t *testing.T) {
	paired := protocol.PairedNode{NodeID: nodeID("Charlie"), NodeMeta: protocol.NodeMeta{DisplayName: "Charlie"}}
	again := request("req-c", "Charlie", "linux", "10.0.0.9", time.Minute)
	again.Kind, again.IsRepair = protocol.KindNode, true
	m, _ := openClawModel(t, "2026.4.12", 100, 24)
	m = step(t, m, listed([]protocol.PendingRequest{again}, paired))
	m = press(t, m, "tab")
	if line := lineWith(t, m, "Charlie"); !strings.Contains(line, "↻ re-approval") {
		t.Errorf("4.12, paired node asking again: %q", line)
	}
	m = step(t, m, decidedMsg{action: reject, results: []decisionResult{{decisionTarget: decisionTarget{
		requestID: "req-c", nodeID: paired.NodeID, name: "Charlie", kind: protocol.KindNode}}}})
	if line := lineWith(t, m, "Charlie"); strings.Contains(line, "re-approval") {
		t.Errorf("4.12, after rejecting its request: %q", line)
	}

	pd, _ := newModel(t, 100, 24)
	again.Kind = ""
	pd = step(t, pd, listed([]protocol.PendingRequest{again}, paired))
	pd = press(t, pd, "tab")
	if f := frameOf(pd); strings.Contains(f, "APPROVAL") || strings.Contains(f, "re-approval") {
		t.Errorf("pairdeck's re-pair shows an approval state:\n%s", f)
	}
}

// Actions the gateway does not offer are hidden — from the footer, the
// help and the tabs — and a key pressed anyway says why in one line, in
// the client's words, never "unknown method".
func TestActionsTheGatewayDoesNotOfferAreHiddenAndExplained(t *testing.T) {
	for _, version := range []string{"2026.4.12", "2026.9.6"} {
		t.Run(version, func(t *testing.T) {
			m, _ := openClawModel(t, version, 100, 24)
			msg := openClawNodes()
			msg.policy = &policySnapshot{pairingErr: m.features.not[FeaturePairingSwitch], blockedErr: m.features.not[FeatureBlockList]}
			m = step(t, m, msg)
			frame := frameOf(m)
			if strings.Contains(frame, "Blocked") || strings.Contains(frame, "pairing") {
				t.Errorf("the Blocked view or the pairing switch is offered:\n%s", frame)
			}
			for _, tab := range []string{"[Paired", "[Activity", "[Pending"} {
				m = press(t, m, "tab")
				if !strings.Contains(frameOf(m), tab) {
					t.Errorf("tab went to\n%s\nwant %s", frameOf(m), tab)
				}
			}
			m = press(t, m, "shift+tab")
			if !strings.Contains(frameOf(m), "[Activity") {
				t.Errorf("shift+tab from Pending went to\n%s", frameOf(m))
			}
			m = press(t, m, "tab")

			explains := func(m Model, k, want string) {
				t.Helper()
				_, seen := stepMsgs(t, m, keyMsg(k))
				r, ok := sent[refusedMsg](seen)
				switch {
				case !ok:
					t.Errorf("%s: says nothing (%v)", k, seen)
				case !strings.Contains(strings.ToLower(r.why), strings.ToLower(want)) || strings.Contains(r.why, "unknown method") || strings.Contains(r.why, "\n"):
					t.Errorf("%s: %q, want one line with %q", k, r.why, want)
				}
			}
			// On the capability request of a node that is not paired yet.
			m = press(t, m, "/")
			m = typeText(t, m, "Recorder P")
			m = press(t, m, "enter")
			for _, k := range []string{"n", "b"} {
				if b := map[string]bool{"n": m.keys.Rename.Enabled(), "b": m.keys.Block.Enabled()}[k]; b {
					t.Errorf("%s offered", k)
				}
			}
			explains(m, "n", "renames paired nodes only")
			explains(m, "b", "block list is a pairdeck gateway feature")
			explains(m, "P", "switching pairing on and off is a pairdeck gateway feature")
			// The request of a paired node can be renamed: the node can.
			m = press(t, m, "esc", "/")
			m = typeText(t, m, "Mac mini")
			m = press(t, m, "enter")
			if !m.keys.Rename.Enabled() {
				t.Error("n not offered on a paired node's request")
			}
			m = press(t, m, "esc")

			help := strings.Join(helpLines(m.st, 100, m.features, false), "\n")
			for _, gone := range []string{"block its node", "Blocked:", "switch the gateway's pairing", ", Blocked"} {
				if strings.Contains(help, gone) {
					t.Errorf("help still offers %q", gone)
				}
			}
			for _, says := range []string{"Not offered by this gateway", "The block list is a pairdeck gateway feature", "Kinds of request"} {
				if !strings.Contains(help, says) {
					t.Errorf("help lacks %q", says)
				}
			}

			// Remove: 2026.4.12 has no node.pair.remove; 2026.9.6 has.
			m = press(t, m, "tab", "/")
			m = typeText(t, m, "Recorder R")
			m = press(t, m, "enter")
			if version == "2026.4.12" {
				if m.keys.Remove.Enabled() || strings.Contains(help, "remove it") {
					t.Error("d offered on 4.12")
				}
				explains(m, "d", "does not offer node.pair.remove")
			} else {
				if !m.keys.Remove.Enabled() || !strings.Contains(help, "remove it") {
					t.Error("d not offered on 9.6")
				}
				m = press(t, m, "d")
				if m.confirm == nil || !strings.Contains(strings.Join(m.confirm.body, " "), "The gateway forgets it") {
					t.Errorf("remove dialog: %+v", m.confirm)
				}
			}
		})
	}
}

// A silent request is not approved by a check the gateway cannot record:
// it waits for the operator, and Activity says why.
func TestSilentApprovalWaitsWhereTheGatewayCannotRecordTheCheck(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain,
		SilentCheck: &SilentCheck{Rule: "ssh-check", What: "ssh gw", Run: func(context.Context) error { return nil }}})
	m.features = openClawFeatures(t, "2026.9.6")
	m = step(t, m, windowSize(100, 24))
	m, seen := stepMsgs(t, m, listed([]protocol.PendingRequest{capabilityRequest("cap-p", "Recorder P", time.Minute, "system.notify")}))
	if m.silent.running || len(seen) > 0 || m.pending.busy["cap-p"] != "" {
		t.Fatalf("the check ran or approved: running %v, sent %v", m.silent.running, seen)
	}
	held := ""
	m.activity.list.Each(func(e activityEntry) {
		if e.kind == actHeld {
			held = e.note
		}
	})
	if !strings.Contains(held, "pairdeck gateway feature") {
		t.Errorf("Activity says %q, want why it waits", held)
	}
}

// The empty queue of an OpenClaw gateway names commands that work there:
// pairdeck's node with the gateway's shared secret, or OpenClaw's own node
// host.
func TestGoldenOpenClawEmptyQueue(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain, Endpoint: "ws://127.0.0.1:18789",
		TryCommand:  "pairdeck node pair --url ws://127.0.0.1:18789 --name test --gateway-token-file /home/ops/gw-token",
		TryNodeHost: "openclaw node run --host 127.0.0.1 --port 18789 --display-name test", TryNodeHostEnv: "OPENCLAW_GATEWAY_TOKEN"})
	m.features = openClawFeatures(t, "2026.9.6")
	m = step(t, m, windowSize(80, 24))
	m = step(t, m, listed(nil))
	frame := frameOf(m)
	for _, want := range []string{
		"\n    pairdeck node pair --url ws://127.0.0.1:18789 --name test \\\n      --gateway-token-file /home/ops/gw-token\n",
		"\n    openclaw node run --host 127.0.0.1 --port 18789 --display-name test",
		"with $OPENCLAW_GATEWAY_TOKEN set:",
	} {
		if !strings.Contains(frame, want) {
			t.Errorf("frame lacks %q:\n%s", want, frame)
		}
	}
	if strings.Contains(frame, "pairdeck demo") || strings.Contains(frame, "pairing is off") {
		t.Errorf("suggests what does not apply here:\n%s", frame)
	}
	requireGolden(t, "openclaw_empty", frame)
	m = step(t, m, windowSize(60, 15))
	requireGolden(t, "openclaw_empty_60x15", frameOf(m))
}

// The console on the real client against a replay of a 2026.9.6 gateway
// (recorded from the release): the queue shows both kinds live, and one
// key approves a node's capability request there, with nothing to hand
// over. Every call the console makes must have a recorded answer.
func TestFlowOpenClawNodeApprovedWithOneKey(t *testing.T) {
	c, g := dialOpenClaw(t, "2026.9.6", "node-connect", "op")
	s := console(t, c, Options{Remote: true, Endpoint: g.URL})
	s.wait(t, "Recorder P", "KIND", "node", "waited")
	s.press("/")
	for _, r := range "Recorder P" {
		s.tm.Send(runeKey(r))
	}
	s.press("enter")
	s.wait(t, "/Recorder P")
	s.decide(t, "a", "✓ Approved Recorder P's commands; the node goes on with its device token.")
	m := s.final(t)
	if len(m.tokens) > 0 {
		t.Errorf("a token to hand over: %+v", m.tokens)
	}
	if !slices.Contains(g.Answered(), "node.pair.approve") {
		t.Errorf("the gateway was not asked to approve: %v", g.Answered())
	}
}
