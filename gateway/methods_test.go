package gateway

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

func readAudit(t *testing.T, h *harness) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.stateDir, "nodes", "audit.jsonl"))
	if err != nil {
		t.Fatalf("read audit log: %v", err)
	}
	return string(data)
}

func TestPairingFlowOverWebSocket(t *testing.T) {
	h := newHarness(t)
	op := h.operator()

	first := op.request(protocol.PairRequestParams{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Test"}})
	if first.Status != "pending" || !first.Created || first.Request.RequestID == "" || first.Request.NodeID != "n1" {
		t.Fatalf("request result: %+v", first)
	}
	ev := decodeAs[protocol.PendingRequest](t, op.event(protocol.EventPairRequested).Payload)
	if ev.RequestID != first.Request.RequestID || ev.ExpiresAtMs != ev.TS+store.DefaultTTL.Milliseconds() ||
		!slices.Equal(ev.RequiredApproveScopes, []string{protocol.ScopePairing}) {
		t.Fatalf("requested event: %+v", ev)
	}

	again := op.request(protocol.PairRequestParams{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Test 2", Platform: "linux"}})
	if again.Created || again.Request.RequestID != first.Request.RequestID || again.Request.DisplayName != "Test 2" {
		t.Fatalf("refresh: %+v", again)
	}
	if ev := decodeAs[protocol.PendingRequest](t, op.event(protocol.EventPairRequested).Payload); ev.RequestID != first.Request.RequestID {
		t.Fatalf("refresh event has another id: %+v", ev)
	}

	cmd := op.request(protocol.PairRequestParams{NodeID: "n3", NodeMeta: protocol.NodeMeta{Commands: []string{"system.run", "system.notify"}}, Silent: boolPtr(true)})
	var list protocol.PairListResult
	op.ok(protocol.MethodPairList, map[string]any{}, &list)
	if len(list.Pending) != 2 || list.Pending[0].RequestID != cmd.Request.RequestID {
		t.Fatalf("pending newest first: %+v", list.Pending)
	}
	if !slices.Equal(list.Pending[0].RequiredApproveScopes, []string{protocol.ScopePairing, protocol.ScopeAdmin}) || list.Pending[0].ExpiresAtMs == 0 {
		t.Fatalf("pending entry lacks wire fields: %+v", list.Pending[0])
	}

	var appr protocol.ApproveResult
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: first.Request.RequestID}, &appr)
	if appr.RequestID != first.Request.RequestID || appr.Node.NodeID != "n1" || len(appr.Node.Token) != 43 || appr.Node.TokenSHA256 != "" {
		t.Fatalf("approve result: %+v", appr)
	}
	if appr.Delivered {
		t.Fatalf("delivered with no node socket")
	}
	res := decodeAs[protocol.ResolvedEvent](t, op.event(protocol.EventPairResolved).Payload)
	if res.Decision != protocol.DecisionApproved || res.NodeID != "n1" || res.Token != "" || res.Actor == "" || res.TS == 0 {
		t.Fatalf("operator's resolved event: %+v", res)
	}

	op.ok(protocol.MethodPairList, nil, &list)
	if len(list.Paired) != 1 || list.Paired[0].Token != "" || list.Paired[0].TokenSHA256 != "" {
		t.Fatalf("paired list must carry no secrets: %+v", list.Paired)
	}

	var ver protocol.VerifyResult
	op.ok(protocol.MethodPairVerify, protocol.VerifyParams{NodeID: "n1", Token: appr.Node.Token}, &ver)
	if !ver.OK || ver.Node == nil || ver.Node.Token != "" || ver.Node.TokenSHA256 != "" {
		t.Fatalf("verify good token: %+v", ver)
	}
	ver = protocol.VerifyResult{}
	op.ok(protocol.MethodPairVerify, protocol.VerifyParams{NodeID: "n1", Token: "wrong"}, &ver)
	if ver.OK || ver.Node != nil {
		t.Fatalf("verify wrong token: %+v", ver)
	}
	ver = protocol.VerifyResult{}
	op.ok(protocol.MethodPairVerify, protocol.VerifyParams{NodeID: "nope", Token: "x"}, &ver)
	if ver.OK {
		t.Fatalf("verify unknown node: %+v", ver)
	}
	op.fails(protocol.MethodPairVerify, protocol.VerifyParams{NodeID: "n1"}, "INVALID_REQUEST", "INVALID_PARAMS")

	var ren protocol.RenameResult
	op.ok(protocol.MethodNodeRename, protocol.RenameParams{NodeID: "n1", DisplayName: "  Living Room  "}, &ren)
	if ren.NodeID != "n1" || ren.DisplayName != "Living Room" {
		t.Fatalf("rename: %+v", ren)
	}
	if r := decodeAs[protocol.RenamedEvent](t, op.event(protocol.EventNodeRenamed).Payload); r.DisplayName != "Living Room" || r.NodeID != "n1" {
		t.Fatalf("renamed event: %+v", r)
	}
	// A node that only has a pending request can be renamed too.
	op.ok(protocol.MethodNodeRename, protocol.RenameParams{NodeID: "n3", DisplayName: "Build box"}, nil)
	op.fails(protocol.MethodNodeRename, protocol.RenameParams{NodeID: "ghost", DisplayName: "X"}, "INVALID_REQUEST", "UNKNOWN_NODE")
	op.fails(protocol.MethodNodeRename, protocol.RenameParams{NodeID: "n1", DisplayName: "  "}, "INVALID_REQUEST", "INVALID_PARAMS")

	var nodes protocol.NodeListResult
	op.ok(protocol.MethodNodeList, nil, &nodes)
	if len(nodes.Nodes) != 2 || nodes.TS == 0 {
		t.Fatalf("node.list: %+v", nodes)
	}
	if n := nodes.Nodes[0]; n.NodeID != "n1" || !n.Paired || n.Connected || n.DisplayName != "Living Room" || n.Caps == nil || n.Commands == nil || n.ApprovedAtMs == 0 {
		t.Fatalf("paired node entry: %+v", n)
	}
	if n := nodes.Nodes[1]; n.NodeID != "n3" || n.Paired || n.DisplayName != "Build box" {
		t.Fatalf("pending node entry: %+v", n)
	}

	e := op.fails(protocol.MethodPairRemove, protocol.NodeIDParams{NodeID: "n3"}, "INVALID_REQUEST", "UNKNOWN_NODE")
	if e.Details.CurrentRequestID != cmd.Request.RequestID || !strings.Contains(e.Message, "reject") {
		t.Fatalf("removing a node that is only pending should point at its request: %q %+v", e.Message, e.Details)
	}

	var rej protocol.RejectResult
	op.ok(protocol.MethodPairReject, protocol.RequestIDParams{RequestID: cmd.Request.RequestID}, &rej)
	if rej.NodeID != "n3" || rej.RequestID != cmd.Request.RequestID {
		t.Fatalf("reject: %+v", rej)
	}
	if r := decodeAs[protocol.ResolvedEvent](t, op.event(protocol.EventPairResolved).Payload); r.Decision != protocol.DecisionRejected {
		t.Fatalf("rejected event: %+v", r)
	}

	var rm protocol.RemoveResult
	op.ok(protocol.MethodPairRemove, protocol.NodeIDParams{NodeID: "n1"}, &rm)
	if rm.NodeID != "n1" {
		t.Fatalf("remove: %+v", rm)
	}
	if r := decodeAs[protocol.RemovedEvent](t, op.event(protocol.EventPairRemoved).Payload); r.NodeID != "n1" {
		t.Fatalf("removed event: %+v", r)
	}
	e = op.fails(protocol.MethodPairRemove, protocol.NodeIDParams{NodeID: "n1"}, "INVALID_REQUEST", "UNKNOWN_NODE")
	// OpenClaw's words exactly (its CLIs match them); the node is in details.
	if e.Message != "unknown nodeId" || e.Details.NodeID != "n1" {
		t.Fatalf("unknown node: %q, details %+v", e.Message, e.Details)
	}
	ver = protocol.VerifyResult{}
	op.ok(protocol.MethodPairVerify, protocol.VerifyParams{NodeID: "n1", Token: appr.Node.Token}, &ver)
	if ver.OK {
		t.Fatalf("a removed node's token still verifies")
	}
}

func TestStaleRequestIDsNameTheCurrentRequest(t *testing.T) {
	h := newHarness(t)
	op := h.operator()

	// An id never issued: OpenClaw's words exactly, which its 2026.9 CLI
	// matches to explain a stale id.
	e := op.fails(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: "does-not-exist"}, "INVALID_REQUEST", "UNKNOWN_REQUEST")
	if e.Message != "unknown requestId" {
		t.Fatalf("message %q, want exactly %q", e.Message, "unknown requestId")
	}
	op.fails(protocol.MethodPairReject, protocol.RequestIDParams{}, "INVALID_REQUEST", "INVALID_PARAMS")

	r1 := op.request(protocol.PairRequestParams{NodeID: "n1"})
	op.ok(protocol.MethodPairReject, protocol.RequestIDParams{RequestID: r1.Request.RequestID}, nil)
	r2 := op.request(protocol.PairRequestParams{NodeID: "n1"})
	if r2.Request.RequestID == r1.Request.RequestID {
		t.Fatalf("a new request after rejection reused the id")
	}
	for _, m := range []string{protocol.MethodPairApprove, protocol.MethodPairReject} {
		res := op.call(m, protocol.RequestIDParams{RequestID: r1.Request.RequestID})
		if res.OK {
			t.Fatalf("%s of a resolved id succeeded", m)
		}
		if r := res.Error.Reason(); r != protocol.ReasonAlreadyResolved && r != protocol.ReasonUnknownRequest {
			t.Fatalf("%s stale id: %v", m, res.Error)
		}
		if res.Error.Details.CurrentRequestID != r2.Request.RequestID || !strings.Contains(res.Error.Message, r2.Request.RequestID) {
			t.Fatalf("%s stale id should point at %s: %+v %+v", m, r2.Request.RequestID, res.Error, res.Error.Details)
		}
	}
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r2.Request.RequestID}, nil)
	e = op.fails(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r2.Request.RequestID}, "INVALID_REQUEST", "ALREADY_RESOLVED")
	if !strings.Contains(e.Message, "approved") {
		t.Fatalf("already-resolved message should say how: %q", e.Message)
	}
}

func TestMalformedFramesKeepTheSocketOpen(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	cases := []struct {
		frame, id, reason, msg string
	}{
		{`not json`, "invalid", "INVALID_PARAMS", "JSON"},
		{`{"type":"req","id":"k1","method":"node.pair.list","params":{},"extra":1}`, "k1", "INVALID_PARAMS", "extra"},
		{`{"type":"req","id":"k2","method":"node.pair.list","params":[1]}`, "k2", "INVALID_PARAMS", "object"},
		{`{"type":"res","id":"k3","ok":true}`, "k3", "INVALID_PARAMS", "req"},
		{`{"type":"event","event":"tick"}`, "invalid", "INVALID_PARAMS", "req"},
		{`{"type":"req","id":"k4","method":"connect","params":{}}`, "k4", "UNKNOWN_METHOD", "connect"},
		{`{"type":"req","id":"k5","method":"node.pair.request","params":{"nodeId":"n9","bogus":1}}`, "k5", "INVALID_PARAMS", "'bogus'"},
		{`{"type":"req","id":"k6","method":"node.pair.request","params":{"nodeId":"n9","caps":"x"}}`, "k6", "INVALID_PARAMS", "caps"},
		{`{"type":"req","id":"k7","method":"node.pair.request","params":{"displayName":"x"}}`, "k7", "INVALID_PARAMS", "nodeId"},
		{`{"type":"req","id":"k8","method":"node.pair.request","params":{"nodeId":"   "}}`, "k8", "INVALID_PARAMS", "nodeId"},
		{`{"type":"req","id":"k9","method":"node.teleport","params":{}}`, "k9", "UNKNOWN_METHOD", "unknown method: node.teleport"},
		{`{"type":"req","id":"k10","method":"node.list","params":{"x":1}}`, "k10", "INVALID_PARAMS", "'x'"},
	}
	for _, c := range cases {
		op.sendRaw(c.frame)
		res := op.response(c.id)
		checkErr(t, c.frame, res, "INVALID_REQUEST", c.reason)
		if !strings.Contains(res.Error.Message, c.msg) {
			t.Errorf("%s: message %q lacks %q", c.frame, res.Error.Message, c.msg)
		}
	}
	if err := op.c.Write(context.Background(), websocket.MessageBinary, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	checkErr(t, "binary", op.response("invalid"), "INVALID_REQUEST", "INVALID_PARAMS")
	op.ok(protocol.MethodPairList, nil, nil)
}

func TestRoleAndScopeMatrix(t *testing.T) {
	h := newHarness(t)
	admin := h.operator()
	plain := admin.request(protocol.PairRequestParams{NodeID: "plain"})
	exec := admin.request(protocol.PairRequestParams{NodeID: "exec", NodeMeta: protocol.NodeMeta{Commands: []string{"system.which"}}})
	write := admin.request(protocol.PairRequestParams{NodeID: "write", NodeMeta: protocol.NodeMeta{Commands: []string{"camera.snap"}}})

	t.Run("node", func(t *testing.T) {
		h.t = t
		id := newIdentity(t, "node")
		n := h.node(id, "")
		n.t = t
		for _, m := range []string{protocol.MethodPairList, protocol.MethodPairApprove, protocol.MethodPairReject,
			protocol.MethodPairVerify, protocol.MethodPairRemove, protocol.MethodNodeRename, protocol.MethodNodeList} {
			n.fails(m, protocol.RequestIDParams{RequestID: plain.Request.RequestID}, "INVALID_REQUEST", "UNAUTHORIZED_ROLE")
		}
		e := n.fails(protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: "plain"}, "INVALID_REQUEST", "UNAUTHORIZED_ROLE")
		if !strings.Contains(e.Message, id.nodeID()) {
			t.Errorf("message should tell the node its own id: %q", e.Message)
		}
		e = n.fails(protocol.MethodPairRequest, protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{RemoteIP: "10.0.0.1"}}, "INVALID_REQUEST", "INVALID_PARAMS")
		if !strings.Contains(e.Message, "remoteIp") {
			t.Errorf("message should name remoteIp: %q", e.Message)
		}
		n.fails("node.teleport", nil, "INVALID_REQUEST", "UNKNOWN_METHOD")
		// Its own id, spelled out or in upper case, is fine.
		var r protocol.PairRequestResult
		n.ok(protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: strings.ToUpper(id.nodeID())}, &r)
		if r.Request.NodeID != id.nodeID() {
			t.Errorf("request filed for %s, want %s", r.Request.NodeID, id.nodeID())
		}
	})

	t.Run("operator.read", func(t *testing.T) {
		h.t = t
		r := h.operator(protocol.ScopeRead)
		r.t = t
		r.ok(protocol.MethodNodeList, nil, nil)
		for _, m := range []string{protocol.MethodPairList, protocol.MethodPairApprove, protocol.MethodPairRequest} {
			e := r.fails(m, protocol.RequestIDParams{RequestID: plain.Request.RequestID}, "INVALID_REQUEST", "MISSING_SCOPE")
			if e.Message != "missing scope: operator.pairing" {
				t.Errorf("%s: %q", m, e.Message)
			}
		}
	})

	t.Run("operator.pairing", func(t *testing.T) {
		h.t = t
		p := h.operator(protocol.ScopePairing)
		p.t = t
		p.fails(protocol.MethodNodeList, nil, "INVALID_REQUEST", "MISSING_SCOPE")
		e := p.fails(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: exec.Request.RequestID}, "INVALID_REQUEST", "MISSING_SCOPE")
		if e.Message != "missing scope: operator.admin" {
			t.Errorf("exec approval: %q", e.Message)
		}
		e = p.fails(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: write.Request.RequestID}, "INVALID_REQUEST", "MISSING_SCOPE")
		if e.Message != "missing scope: operator.write" {
			t.Errorf("commands approval: %q", e.Message)
		}
		p.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: plain.Request.RequestID}, nil)
		// Rejecting needs no approval scopes.
		p.ok(protocol.MethodPairReject, protocol.RequestIDParams{RequestID: write.Request.RequestID}, nil)
	})

	t.Run("operator.pairing+write", func(t *testing.T) {
		h.t = t
		p := h.operator(protocol.ScopePairing, protocol.ScopeWrite)
		p.t = t
		p.fails(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: exec.Request.RequestID}, "INVALID_REQUEST", "MISSING_SCOPE")
	})

	t.Run("operator.admin", func(t *testing.T) {
		h.t = t
		a := h.operator(protocol.ScopeAdmin)
		a.t = t
		a.ok(protocol.MethodNodeList, nil, nil)
		a.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: exec.Request.RequestID}, nil)
	})
}

func TestNodeRequestsRateLimitedPerAddress(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.RequestRate = Rate{Burst: 2, Every: time.Hour} })
	n := h.node(newIdentity(t, "node"), "")
	n.ok(protocol.MethodPairRequest, nil, nil)
	n.ok(protocol.MethodPairRequest, nil, nil)
	e := n.fails(protocol.MethodPairRequest, nil, "UNAVAILABLE", "RATE_LIMITED")
	if !e.Retryable || !strings.Contains(e.Message, "retry in") {
		t.Fatalf("rate limit error: %+v", e)
	}
	// Another node from the same address shares the budget.
	h.node(newIdentity(t, "other"), "").fails(protocol.MethodPairRequest, nil, "UNAVAILABLE", "RATE_LIMITED")
	// Operators hold the token and are not limited.
	op := h.operator()
	for i := range 3 {
		op.request(protocol.PairRequestParams{NodeID: fmt.Sprintf("op-%d", i)})
	}
}

func TestPairingSwitchedOff(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.PairingDisabled = true })
	op := h.operator()
	id := newIdentity(t, "node")
	n := h.node(id, "")
	e := n.fails(protocol.MethodPairRequest, nil, "UNAVAILABLE", "PAIRING_DISABLED")
	if !strings.Contains(e.Message, "switched off") {
		t.Fatalf("message: %q", e.Message)
	}
	w := h.dial()
	hello := decodeAs[protocol.HelloOK](t, w.connect(w.connectParams(nil, h.now(), connectOpts{token: testToken})).Payload)
	if health, _ := hello.Snapshot["health"].(map[string]any); health["pairingEnabled"] != false {
		t.Fatalf("snapshot health.pairingEnabled: %v", hello.Snapshot["health"])
	}
	h.g.SetPairingEnabled(true)
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, nil, &r)
	var appr protocol.ApproveResult
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, &appr)
	// Off again: paired nodes still connect.
	h.g.SetPairingEnabled(false)
	h.node(id, appr.Node.Token)
}

func TestStoreErrorsMapToWireErrors(t *testing.T) {
	fail := &failingStore{}
	h := newHarness(t,
		func(o *harnessOpts) { o.storeOpt.MaxPending = 1 },
		func(o *harnessOpts) {
			o.wrap = func(s pairingStore) pairingStore { fail.pairingStore = s; return fail }
		})
	op := h.operator()
	op.request(protocol.PairRequestParams{NodeID: "n1"})
	op.event(protocol.EventPairRequested)
	e := op.fails(protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: "n2"}, "UNAVAILABLE", "QUEUE_FULL")
	if !e.Retryable {
		t.Errorf("queue full should be retryable: %+v", e)
	}

	fail.err.Store(&store.ErrWrite)
	e = op.fails(protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: "n1"}, "UNAVAILABLE", "STORE_FAILED")
	if !e.Retryable || !strings.Contains(e.Message, "retry") {
		t.Errorf("write failure: %+v", e)
	}
	op.noEvent(protocol.EventPairRequested, waitShort)
}

// failingStore makes Request fail with a wrapped err while one is set.
type failingStore struct {
	pairingStore
	err atomic.Pointer[error]
}

func (f *failingStore) RequestWith(ctx context.Context, a store.Actor, in store.RequestInput, check func(string) error, then func(protocol.PendingRequest, bool)) (protocol.PendingRequest, bool, error) {
	if e := f.err.Load(); e != nil {
		return protocol.PendingRequest{}, false, fmt.Errorf("save pending.json: %w", *e)
	}
	return f.pairingStore.RequestWith(ctx, a, in, check, then)
}

// A node is told that the gateway could not record its request, and
// nothing of why: the paths and the system's error go to the log (and to
// operators, who hold the token).
func TestStoreFailuresTellNodesNothingInternal(t *testing.T) {
	fail := &failingStore{}
	logs := &logBuffer{}
	h := newHarness(t, func(o *harnessOpts) {
		o.cfg.Logger = logs.logger()
		o.wrap = func(s pairingStore) pairingStore { fail.pairingStore = s; return fail }
	})
	path := filepath.Join(h.stateDir, "nodes", "pending.json")
	cause := fmt.Errorf("write %s: %w: %w", path, syscall.ENOSPC, store.ErrWrite)
	fail.err.Store(&cause)

	n := h.node(newIdentity(t, "node"), "")
	e := n.fails(protocol.MethodPairRequest, nil, protocol.CodeUnavailable, protocol.ReasonStoreFailed)
	if e.Message != "the gateway could not record the request; retry later" || !e.Retryable {
		t.Fatalf("node's answer: %+v", e)
	}
	op := h.operator()
	oe := op.fails(protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: "n1"}, protocol.CodeUnavailable, protocol.ReasonStoreFailed)
	if !strings.Contains(oe.Message, "no space left") {
		t.Fatalf("operator's answer lost the cause: %+v", oe)
	}
	if log := logs.String(); !strings.Contains(log, path) || !strings.Contains(log, "no space left") {
		t.Fatalf("the log lacks the cause:\n%s", log)
	}
}
