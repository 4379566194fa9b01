package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

func viaServe(o *harnessOpts) { o.viaServe = true }

// A stranger holding sockets open from the operator's own address cannot
// keep the operator out: each newcomer over the network's cap closes the
// oldest socket that has not authenticated, never an authenticated one.
func TestSocketsThatNeverAuthenticateCannotKeepTheOperatorOut(t *testing.T) {
	h := newHarness(t, viaServe, func(o *harnessOpts) { o.cfg.MaxConnsPerPrefix = 4 })
	var idle []*wsClient
	for range 4 {
		idle = append(idle, h.dial()) // read the challenge, then say nothing
	}
	op := h.operator()
	if got := idle[0].closed(); got == -1 {
		t.Logf("oldest idle socket dropped without a close frame")
	}
	for range 20 {
		h.dial()
	}
	waitFor(t, func() bool {
		h.g.adm.mu.Lock()
		defer h.g.adm.mu.Unlock()
		return h.g.adm.netSize("127.0.0.1") <= 4
	})
	// The operator's socket was never a candidate.
	op.ok(protocol.MethodPairList, nil, nil)
	h.operator().ok(protocol.MethodPairList, nil, nil)
	// Another network is not touched by this one's newcomers.
	other := h.dial(from("127.0.0.2"))
	for range 8 {
		h.dial()
	}
	res := other.connect(other.connectParams(nil, h.now(), connectOpts{token: testToken}))
	if !res.OK {
		t.Fatalf("socket from another network: %v", res.Error)
	}
}

// The total: unauthenticated sockets from many networks stay within their
// share, paired nodes within theirs, and an operator still connects.
func TestTotalCapKeepsRoomForOperators(t *testing.T) {
	h := newHarness(t, viaServe, noRateLimit, func(o *harnessOpts) {
		o.cfg.MaxConns = 24 // unauthenticated at most 8, paired nodes at most 8
		o.cfg.MaxPendingPerPrefix = -1
	})
	if h.g.adm.maxConns != 24 || h.g.adm.maxUnauth != 8 {
		t.Fatalf("caps %d/%d, want 24/8", h.g.adm.maxConns, h.g.adm.maxUnauth)
	}
	op := h.operator()
	var tokens []string
	var ids []identity
	for i := range 9 {
		id := newIdentity(t, "node")
		ids = append(ids, id)
		r := op.request(protocol.PairRequestParams{NodeID: id.nodeID()})
		var appr protocol.ApproveResult
		op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, &appr)
		tokens = append(tokens, appr.Node.Token)
		_ = i
	}
	for i := range 8 {
		h.node(ids[i], tokens[i])
	}
	w := h.dial()
	res := w.connect(w.connectParams(&ids[8], h.now(), connectOpts{role: protocol.RoleNode, token: tokens[8]}))
	if res.OK {
		t.Fatalf("a ninth paired node got in over the nodes' share")
	}
	e := checkErr(t, "ninth node", res, protocol.CodeUnavailable, protocol.ReasonRateLimited)
	if wait, ok := e.RetryAfter(); !ok || !e.Retryable || wait <= 0 {
		t.Fatalf("node cap refusal without a retry hint: %+v", e)
	}
	if got := w.closed(); got != websocket.StatusTryAgainLater {
		t.Fatalf("node cap close %d, want 1013", got)
	}
	// Strangers from 30 networks: their sockets stay within their share.
	for i := range 30 {
		h.dial(from(fmt.Sprintf("127.0.3.%d", i+1)))
	}
	waitFor(t, func() bool {
		total, unauth, paired := h.g.adm.counts()
		return unauth <= 8 && paired == 8 && total <= 24
	})
	h.operator().ok(protocol.MethodPairList, nil, nil)
	op.ok(protocol.MethodPairList, nil, nil)
}

// An unpaired node may stay only while it has a reason to: to ask, while
// its own request waits, and a grace after the decision.
func TestUnpairedNodesLeaveWhenTheyHaveNoRequest(t *testing.T) {
	const grace = 300 * time.Millisecond
	clock := newFakeClock()
	h := newHarness(t, noRateLimit, func(o *harnessOpts) {
		o.clock = clock
		o.cfg.UnpairedGrace = grace
	})
	op := h.operator()
	// Every node gets a request filed at connect, unless one cannot be
	// filed: a blocked node has no reason to stay, and is told why.
	idleID := newIdentity(t, "idle")
	op.ok(protocol.MethodBlockAdd, protocol.BlockParams{NodeID: idleID.nodeID()}, nil)
	start := time.Now()
	idle := h.node(idleID, "")
	waitingID := newIdentity(t, "waiting")
	waiting := h.node(waitingID, "")
	var req protocol.PairRequestResult
	waiting.ok(protocol.MethodPairRequest, nil, &req)
	expiringID := newIdentity(t, "expiring")
	expiring := h.node(expiringID, "")
	expiring.ok(protocol.MethodPairRequest, nil, nil)

	if ce := idle.closeError(); ce.Code != websocket.StatusPolicyViolation || !strings.Contains(ce.Reason, "blocked") {
		t.Fatalf("idle unpaired node: close %d %q, want 1008 saying it is blocked", ce.Code, ce.Reason)
	}
	if took := time.Since(start); took < grace/2 {
		t.Fatalf("closed after %s, before its grace", took)
	}
	// Well past the grace the waiting nodes are still served.
	time.Sleep(2 * grace)
	waiting.ok(protocol.MethodPairRequest, nil, nil)
	expiring.ok(protocol.MethodPairRequest, nil, nil)

	// A decision: the node hears it, then the socket closes after the grace.
	op.ok(protocol.MethodPairReject, protocol.RequestIDParams{RequestID: req.Request.RequestID}, nil)
	if ev := decodeAs[protocol.ResolvedEvent](t, waiting.event(protocol.EventPairResolved).Payload); ev.Decision != protocol.DecisionRejected {
		t.Fatalf("resolved: %+v", ev)
	}
	if got := waiting.closed(); got != websocket.StatusPolicyViolation {
		t.Fatalf("decided node: close %d, want 1008", got)
	}
	// Expiry counts as a decision.
	clock.Advance(h.st.TTL() + time.Second)
	h.g.pokeExpiry()
	if ev := decodeAs[protocol.ResolvedEvent](t, expiring.event(protocol.EventPairResolved).Payload); ev.Decision != protocol.DecisionExpired {
		t.Fatalf("resolved: %+v", ev)
	}
	if got := expiring.closed(); got != websocket.StatusPolicyViolation {
		t.Fatalf("expired node: close %d, want 1008", got)
	}
	// Paired nodes and operators are not watched.
	op.ok(protocol.MethodPairList, nil, nil)
}

// A node needs a few KiB after its handshake; an operator keeps 1 MiB.
func TestFrameLimitsByRole(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	id := newIdentity(t, "node")
	w := h.dial()
	res := w.connect(w.connectParams(&id, h.now(), connectOpts{role: protocol.RoleNode}))
	if !res.OK {
		t.Fatalf("node connect: %v", res.Error)
	}
	hello := decodeAs[protocol.HelloOK](t, res.Payload)
	if hello.Policy.MaxPayload != DefaultNodeMaxPayload {
		t.Fatalf("node's hello-ok maxPayload %d, want %d", hello.Policy.MaxPayload, DefaultNodeMaxPayload)
	}
	// A full-size node request fits.
	var cmds []string
	for i := range 100 {
		cmds = append(cmds, fmt.Sprintf("device.command.%03d", i))
	}
	w.ok(protocol.MethodPairRequest, protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "Kitchen", Commands: cmds}}, nil)
	// A frame of 32 KiB does not.
	w.sendRaw(`{"type":"req","id":"big","method":"node.pair.request","params":{"displayName":"` + strings.Repeat("x", 32<<10) + `"}}`)
	if got := w.closed(); got != websocket.StatusMessageTooBig {
		t.Fatalf("node's 32 KiB frame: close %d, want 1009", got)
	}
	// An operator's 512 KiB frame is read and answered.
	op.sendRaw(`{"type":"req","id":"big","method":"node.pair.list","params":{"x":"` + strings.Repeat("x", 512<<10) + `"}}`)
	checkErr(t, "operator's big frame", op.response("big"), protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)
	op.ok(protocol.MethodPairList, nil, nil)
	var ohello protocol.HelloOK
	w2 := h.dial()
	r2 := w2.connect(w2.connectParams(nil, h.now(), connectOpts{token: testToken}))
	ohello = decodeAs[protocol.HelloOK](t, r2.Payload)
	if ohello.Policy.MaxPayload != DefaultMaxPayload {
		t.Fatalf("operator's maxPayload %d", ohello.Policy.MaxPayload)
	}
}
