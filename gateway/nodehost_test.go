package gateway

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// hostConn is one recorded node-host connection of a release.
func hostConn(t *testing.T, version, label string) *recConn {
	t.Helper()
	for _, rc := range recordedConns(loadRecording(t, version, "node-host"), "node-host/") {
		if rc.Label == label {
			return rc
		}
	}
	t.Fatalf("%s: no %s in the recording", version, label)
	return nil
}

// hostConnect replays a recorded node-host connect signed with key, its
// recorded device tokens mapped to tokens, and returns the socket and the
// answer.
func (h *harness) hostConnect(t *testing.T, rc *recConn, version string, key ed25519.PrivateKey, tokens map[string]string) (*wsClient, *protocol.Response) {
	t.Helper()
	w := h.dial()
	return w, w.sendConnect(replayParams(t, rc, version, key, w.nonce, h.now(), tokens))
}

// The real node hosts of 2026.4.12, 2026.7.35 and 2026.9.6, as recorded
// against their own gateway, pair with pairdeck's: a request is filed when
// the host connects (it never asks itself), it waits connected, the
// approval closes its socket with 1012, its next connect is handed the
// token in hello-ok, and the connects after that present the token the
// way the release does (recorded), or the shared token again.
func TestOpenClawNodeHostsPairThroughTheQueue(t *testing.T) {
	for _, v := range openclawVersions {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t, func(o *harnessOpts) { o.cfg.UnpairedGrace = waitShort })
			op := h.operator()
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			nodeID := protocol.DeviceID(key.Public().(ed25519.PublicKey))
			first := hostConn(t, v, "node-host/Host A#1") // the shared token
			again := hostConn(t, v, "node-host/Host A#2") // the device token it was given
			recorded := decodeAs[protocol.HelloOK](t, first.Hello.Result)

			host, res := h.hostConnect(t, first, v, key, nil)
			if !res.OK {
				t.Fatalf("host connect: %v", res.Error)
			}
			hello := decodeAs[protocol.HelloOK](t, res.Payload)
			if hello.Protocol != recorded.Protocol {
				t.Fatalf("protocol %d, the release answered %d", hello.Protocol, recorded.Protocol)
			}
			keys, auth := helloAuth(t, res.Payload)
			switch {
			case hello.Protocol == 3 && keys != nil:
				t.Fatalf("v3 hello-ok with auth but no device token: %v", keys)
			case hello.Protocol == 4 && (auth == nil || auth.Role != protocol.RoleNode || auth.Scopes == nil || len(auth.Scopes) != 0 || auth.DeviceToken != ""):
				t.Fatalf("v4 hello-ok auth before approval: %s", keys)
			}

			// The request was filed at connect, with what the host declared.
			ev := decodeAs[protocol.PendingRequest](t, op.event(protocol.EventPairRequested).Payload)
			declared := first.params(t)
			if ev.NodeID != nodeID || ev.DisplayName != "Host A" || !slices.Equal(ev.Commands, declared.Commands) ||
				!slices.Equal(ev.Caps, declared.Caps) || !ev.Silent || ev.RemoteIP != "127.0.0.1" {
				t.Fatalf("requested: %+v", ev)
			}
			if !slices.Equal(ev.RequiredApproveScopes, protocol.RequiredApproveScopes(declared.Commands)) {
				t.Fatalf("approval scopes %v", ev.RequiredApproveScopes)
			}

			// A 2026.9 host reports after hello-ok; until it is approved it
			// is told to wait, as its own gateway tells it.
			for _, c := range first.Calls {
				if !slices.Contains(protocol.NodeHostMethods, c.Method) {
					continue
				}
				e := host.fails(c.Method, c.Params, protocol.CodeUnavailable, protocol.DetailPairingRequired)
				if !e.Retryable || !strings.Contains(e.Message, ev.RequestID) {
					t.Fatalf("%s before approval: %+v", c.Method, e)
				}
			}

			var appr protocol.ApproveResult
			op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: ev.RequestID}, &appr)
			if hello.Protocol >= 4 {
				if ce := host.closeError(); ce.Code != websocket.StatusServiceRestart {
					t.Fatalf("host socket after approval: close %d %q, want 1012", ce.Code, ce.Reason)
				}
			} else {
				// A 2026.4 host's process ends with its socket: it is kept
				// past its grace, and let in paired at its next connect.
				time.Sleep(3 * waitShort)
				host.fails(protocol.MethodNodeList, nil, protocol.CodeInvalidRequest, protocol.ReasonUnauthorizedRole)
				host.c.Close(websocket.StatusNormalClosure, "")
			}

			// It reconnects as it first did, and is handed its token.
			host, res = h.hostConnect(t, first, v, key, nil)
			if !res.OK {
				t.Fatalf("reconnect after approval: %v", res.Error)
			}
			if _, auth := helloAuth(t, res.Payload); auth == nil || auth.DeviceToken != appr.Node.Token || auth.Role != protocol.RoleNode ||
				auth.IssuedAtMs == 0 || auth.Method != protocol.AuthMethodApproved {
				t.Fatalf("hello-ok after approval: %+v", auth)
			}
			// Paired: its reports are answered as its own gateway answers them.
			for _, c := range first.Calls {
				if !slices.Contains(protocol.NodeHostMethods, c.Method) {
					continue
				}
				var got map[string]any
				host.ok(c.Method, c.Params, &got)
				if c.Method != protocol.MethodNodeEvent && got["nodeId"] != nodeID {
					t.Fatalf("%s: %v", c.Method, got)
				}
			}
			host.c.Close(websocket.StatusNormalClosure, "")

			// Later connects carry the token as the release sends it.
			tokens := map[string]string{"test-only-device-token-1": appr.Node.Token}
			host, res = h.hostConnect(t, again, v, key, tokens)
			if _, auth := helloAuth(t, res.Payload); !res.OK || (hello.Protocol == 4 && auth.Method != protocol.AuthMethodDeviceToken) {
				t.Fatalf("connect with the token: %v %+v", res.Error, auth)
			}
			var list protocol.NodeListResult
			op.ok(protocol.MethodNodeList, nil, &list)
			if len(list.Nodes) != 1 || !list.Nodes[0].Paired || !list.Nodes[0].Connected || list.Nodes[0].NodeID != nodeID {
				t.Fatalf("node.list: %+v", list.Nodes)
			}
			host.c.Close(websocket.StatusNormalClosure, "")

			// A host started with the shared token keeps sending it: it is
			// let in as the paired node it is, with no second request.
			_, res = h.hostConnect(t, first, v, key, nil)
			if _, auth := helloAuth(t, res.Payload); !res.OK || (hello.Protocol == 4 && auth.Method != protocol.AuthMethodToken) {
				t.Fatalf("connect with the shared token once paired: %v %+v", res.Error, auth)
			}
			if got := h.st.Pending(); len(got) != 0 {
				t.Fatalf("pending: %+v", got)
			}

			// A token it was never given is refused (and counted).
			w := h.dial()
			res = w.sendConnect(replayParams(t, again, v, key, w.nonce, h.now(), map[string]string{"test-only-device-token-1": "not-the-token"}))
			checkErr(t, "wrong device token", res, protocol.CodeNotPaired, protocol.ReasonTokenInvalid)
		})
	}
}

// A host that connects with no token at all (2026.9's `node run` without
// OPENCLAW_GATEWAY_TOKEN) is filed too; a blocked one is told why it is
// closed; a removed one gets no token it had not taken.
func TestOpenClawNodeHostWithoutAnyToken(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	rc := hostConn(t, "2026.9.6", "node-host/Host C#1")
	if _, ok := rc.Connect["auth"]; ok {
		t.Fatal("the recorded host C sent auth")
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	nodeID := protocol.DeviceID(key.Public().(ed25519.PublicKey))
	host, res := h.hostConnect(t, rc, "2026.9.6", key, nil)
	if !res.OK {
		t.Fatalf("connect: %v", res.Error)
	}
	req, ok := h.st.PendingForNode(nodeID)
	if !ok || req.DisplayName != "Host C" {
		t.Fatalf("no request filed at connect: %+v", req)
	}
	// Approved, then removed before it came back: nothing to take.
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: req.RequestID}, nil)
	host.closeError()
	op.ok(protocol.MethodPairRemove, protocol.NodeIDParams{NodeID: nodeID}, nil)
	_, res = h.hostConnect(t, rc, "2026.9.6", key, nil)
	if _, auth := helloAuth(t, res.Payload); !res.OK || auth.DeviceToken != "" || auth.Method != protocol.AuthMethodNone {
		t.Fatalf("a removed node was handed a token: %v %+v", res.Error, auth)
	}
	if _, ok := h.st.PendingForNode(nodeID); !ok {
		t.Fatal("the removed node's new connect filed no request")
	}

	// Blocked: it is let in (pairdeck's nodes ask next, and are told), and
	// a host that never asks is closed with the reason once its grace ends.
	blocked := newHarness(t, func(o *harnessOpts) { o.cfg.UnpairedGrace = waitShort })
	blocked.operator().ok(protocol.MethodBlockAdd, protocol.BlockParams{NodeID: nodeID}, nil)
	host, res = blocked.hostConnect(t, rc, "2026.9.6", key, nil)
	if !res.OK {
		t.Fatalf("connect: %v", res.Error)
	}
	if ce := host.closeError(); ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "blocked") {
		t.Fatalf("blocked host: close %d %q", ce.Code, ce.Reason)
	}
	if got := blocked.st.Pending(); len(got) != 0 {
		t.Fatalf("a blocked node was filed: %+v", got)
	}
}

// pairdeck's own nodes connect without a token too, then ask: they get the
// request filed at connect as their own, counted once against their
// network's request rate, and say themselves whether they are silent.
func TestNodeAskingAfterConnectGetsTheFiledRequest(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.RequestRate = Rate{Burst: 1, Every: time.Hour} })
	op := h.operator()
	id := newIdentity(t, "node")
	n := h.node(id, "")
	filed := decodeAs[protocol.PendingRequest](t, op.event(protocol.EventPairRequested).Payload)
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "Mine"}}, &r)
	if !r.Created || r.Request.RequestID != filed.RequestID || r.Request.DisplayName != "Mine" || r.Request.Silent {
		t.Fatalf("the node's own ask: %+v (filed %s)", r, filed.RequestID)
	}
	if ev := decodeAs[protocol.PendingRequest](t, op.event(protocol.EventPairRequested).Payload); ev.DisplayName != "Mine" {
		t.Fatalf("operators see the ask: %+v", ev)
	}
	// The next ask is a refresh, and counts.
	n.fails(protocol.MethodPairRequest, nil, protocol.CodeUnavailable, protocol.ReasonRateLimited)

	// pairdeck's own node client asks at once with its whole request:
	// nothing is filed for it at connect.
	own := newIdentity(t, "node-host")
	w := h.dial(from("127.0.0.2"))
	p := w.connectParams(&own, h.now(), connectOpts{role: protocol.RoleNode})
	p.UserAgent = "pairdeck-client/1.0.0"
	if res := w.connect(p); !res.OK {
		t.Fatalf("connect: %v", res.Error)
	}
	op.noEvent(protocol.EventPairRequested, waitShort)
	if _, ok := h.st.PendingForNode(own.nodeID()); ok {
		t.Fatal("a request was filed for pairdeck's own node client")
	}
	w.ok(protocol.MethodPairRequest, protocol.PairRequestParams{Silent: boolPtr(true)}, &r)
	if !r.Created || !r.Request.Silent {
		t.Fatalf("its own ask: %+v", r)
	}
}

// node.describe answers one node with what node.list shows of it, in the
// shape OpenClaw's CLIs read (recorded).
func TestNodeDescribe(t *testing.T) {
	h := newHarness(t)
	op := h.operator(protocol.ScopeRead)
	admin := h.operator()
	id := newIdentity(t, "node")
	n := h.node(id, "")
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "Host A", Commands: []string{"system.which"}}}, &r)
	admin.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, nil)

	res := op.call(protocol.MethodNodeDescribe, protocol.NodeIDParams{NodeID: id.nodeID()})
	if !res.OK {
		t.Fatalf("describe: %v", res.Error)
	}
	var got map[string]any
	json.Unmarshal(res.Payload, &got)
	for _, v := range openclawVersions {
		for _, c := range recordedConns(loadRecording(t, v, "cli"), "cli/") {
			for _, call := range c.Calls {
				if call.Method != protocol.MethodNodeDescribe || !call.OK {
					continue
				}
				var want map[string]any
				json.Unmarshal(call.Result, &want)
				for _, k := range []string{"ts", "nodeId", "displayName", "platform", "version", "caps", "commands", "approvedAtMs", "paired", "connected"} {
					if _, ok := want[k]; !ok {
						t.Fatalf("%s's answer has no %s: %s", v, k, call.Result)
					}
					if _, ok := got[k]; !ok {
						t.Errorf("describe lacks %s, which %s's CLI reads: %s", k, v, res.Payload)
					}
				}
			}
		}
	}
	if got["displayName"] != "Host A" || got["paired"] != true {
		t.Fatalf("describe: %s", res.Payload)
	}
	e := op.fails(protocol.MethodNodeDescribe, protocol.NodeIDParams{NodeID: "nope"}, protocol.CodeInvalidRequest, protocol.ReasonUnknownNode)
	if e.Message != "unknown nodeId" {
		t.Fatalf("unknown node: %q", e.Message)
	}
	op.fails(protocol.MethodNodeEvent, map[string]any{"event": "x"}, protocol.CodeInvalidRequest, protocol.ReasonUnauthorizedRole)
}

// permissions, as the 2026.7.35 CLI sends them with node.pair.request
// (recorded) or a node declares them at connect, are kept on the request,
// listed, and carried through its approval.
func TestPermissionsAreKeptAndCarriedThroughApproval(t *testing.T) {
	h := newHarness(t, noRateLimit)
	op := h.operator()
	var call *recCall
	for _, c := range recordedConns(loadRecording(t, "2026.7.35", "cli"), "cli/") {
		for i := range c.Calls {
			if c.Calls[i].Method == protocol.MethodPairRequest {
				call = &c.Calls[i]
			}
		}
	}
	if call == nil || !strings.Contains(string(call.Params), "permissions") {
		t.Fatal("no recorded node.pair.request with permissions")
	}
	res := op.call(protocol.MethodPairRequest, call.Params)
	if !res.OK {
		t.Fatalf("the 7.35 CLI's request: %v", res.Error)
	}
	r := decodeAs[protocol.PairRequestResult](t, res.Payload)
	want := protocol.Permissions{"camera": true, "screen": false}
	if !maps.Equal(r.Request.Permissions, want) {
		t.Fatalf("request permissions %v, want %v", r.Request.Permissions, want)
	}
	var list protocol.PairListResult
	op.ok(protocol.MethodPairList, nil, &list)
	if len(list.Pending) != 1 || !maps.Equal(list.Pending[0].Permissions, want) {
		t.Fatalf("listed: %+v", list.Pending)
	}
	var appr protocol.ApproveResult
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, &appr)
	if !maps.Equal(appr.Node.Permissions, want) {
		t.Fatalf("approved node permissions %v", appr.Node.Permissions)
	}

	// Declared at connect: the request filed for the node has them.
	id := newIdentity(t, "node-host")
	w := h.dial()
	p := w.connectParams(&id, h.now(), connectOpts{role: protocol.RoleNode})
	p.Permissions = rawJSON(map[string]bool{"location": true})
	if res := w.connect(p); !res.OK {
		t.Fatalf("connect: %v", res.Error)
	}
	if req, ok := h.st.PendingForNode(id.nodeID()); !ok || !maps.Equal(req.Permissions, protocol.Permissions{"location": true}) {
		t.Fatalf("filed at connect: %+v", req)
	}

	// Too many is refused, naming the field.
	many := map[string]bool{}
	for i := range protocol.MaxPermissions + 1 {
		many["p"+strconv.Itoa(i)] = true
	}
	refusedField(t, "too many permissions", op.call(protocol.MethodPairRequest, map[string]any{"nodeId": "n2", "permissions": many}), "permissions")
}
