package gateway

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

func TestNodePairsItselfGetsTokenAndReconnects(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	id := newIdentity(t, "ios-node")
	n := h.node(id, "")

	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{Caps: []string{"camera"}}}, &r)
	req := r.Request
	if req.NodeID != id.nodeID() || req.RemoteIP != "127.0.0.1" || req.DisplayName != "Kitchen iPad" || req.Platform != "Linux" {
		t.Fatalf("node's own request should be completed from its socket and connect params: %+v", req)
	}
	seen := decodeAs[protocol.PendingRequest](t, op.event(protocol.EventPairRequested).Payload)
	if seen.RequestID != req.RequestID {
		t.Fatalf("operator saw %+v", seen)
	}

	var appr protocol.ApproveResult
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: req.RequestID}, &appr)
	if !appr.Delivered {
		t.Fatalf("the node's socket was live: delivered should be true")
	}
	mine := decodeAs[protocol.ResolvedEvent](t, n.event(protocol.EventPairResolved).Payload)
	if mine.Decision != protocol.DecisionApproved || mine.Token != appr.Node.Token || mine.RequestID != req.RequestID {
		t.Fatalf("node's resolved event: %+v", mine)
	}
	theirs := decodeAs[protocol.ResolvedEvent](t, op.event(protocol.EventPairResolved).Payload)
	if theirs.Token != "" || theirs.Actor != "test-cli" {
		t.Fatalf("operator's resolved event must carry the actor and no token: %+v", theirs)
	}
	// An unpaired socket stays unpaired: the node reconnects with its token.
	n.c.Close(websocket.StatusNormalClosure, "")

	watcher := h.operator(protocol.ScopeRead)
	n2 := h.node(id, appr.Node.Token)
	p := decodeAs[protocol.PresenceEvent](t, watcher.event(protocol.EventNodePresence).Payload)
	if p.NodeID != id.nodeID() || !p.Connected {
		t.Fatalf("presence on connect: %+v", p)
	}
	var nodes protocol.NodeListResult
	watcher.ok(protocol.MethodNodeList, nil, &nodes)
	if len(nodes.Nodes) != 1 || !nodes.Nodes[0].Connected || !nodes.Nodes[0].Paired || nodes.Nodes[0].ConnectedAtMs == 0 {
		t.Fatalf("node.list with the node connected: %+v", nodes)
	}
	paired, _ := h.st.PairedNode(id.nodeID())
	if paired.LastConnectedAtMs == 0 {
		t.Fatalf("lastConnectedAtMs not stored: %+v", paired)
	}
	// A paired node still may only request for itself, and nothing else.
	n2.fails(protocol.MethodNodeList, nil, "INVALID_REQUEST", "UNAUTHORIZED_ROLE")
	n2.fails(protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: "other"}, "INVALID_REQUEST", "UNAUTHORIZED_ROLE")

	n2.c.Close(websocket.StatusNormalClosure, "")
	p = decodeAs[protocol.PresenceEvent](t, watcher.event(protocol.EventNodePresence).Payload)
	if p.Connected {
		t.Fatalf("presence on leave: %+v", p)
	}
	watcher.ok(protocol.MethodNodeList, nil, &nodes)
	if nodes.Nodes[0].Connected {
		t.Fatalf("node still listed as connected")
	}
}

func TestRepairingNodeSeesOnlyItsOwnEvents(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	id := newIdentity(t, "node")
	other := newIdentity(t, "other")
	n := h.node(id, "")
	o := h.node(other, "")

	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, nil, &r)
	o.ok(protocol.MethodPairRequest, nil, nil)
	op.ok(protocol.MethodPairReject, protocol.RequestIDParams{RequestID: r.Request.RequestID}, nil)
	if ev := decodeAs[protocol.ResolvedEvent](t, n.event(protocol.EventPairResolved).Payload); ev.Decision != protocol.DecisionRejected || ev.Token != "" {
		t.Fatalf("node's rejection: %+v", ev)
	}
	o.noEvent(protocol.EventPairResolved, waitShort)
	o.noEvent(protocol.EventPairRequested, 0)
}

func TestWrongNodeTokenIsRefusedAndAudited(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	id := newIdentity(t, "node")
	r := op.request(protocol.PairRequestParams{NodeID: id.nodeID()})
	var appr protocol.ApproveResult
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, &appr)

	w := h.dial()
	e := w.refusedWith(t, w.connect(w.connectParams(&id, h.now(), connectOpts{role: protocol.RoleNode, token: appr.Node.Token + "x"})))
	if e.Code != protocol.CodeNotPaired || e.Reason() != protocol.ReasonTokenInvalid {
		t.Fatalf("wrong node token: %+v", e)
	}
	h.g.flushTokenAudit(context.Background()) // refusals are audited aggregated
	audit := readAudit(t, h)
	if !strings.Contains(audit, "token-refused") || !strings.Contains(audit, id.nodeID()) {
		t.Fatalf("audit lacks the refusal:\n%s", audit)
	}
	if strings.Contains(audit, appr.Node.Token) {
		t.Fatalf("audit log contains a token")
	}
	h.node(id, appr.Node.Token)
}

func TestRemoveClosesTheNodesSockets4001(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	id := newIdentity(t, "node")
	r := op.request(protocol.PairRequestParams{NodeID: id.nodeID()})
	var appr protocol.ApproveResult
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, &appr)
	a := h.node(id, appr.Node.Token)
	b := h.node(id, "")
	op.ok(protocol.MethodPairRemove, protocol.NodeIDParams{NodeID: id.nodeID()}, nil)
	for _, w := range []*wsClient{a, b} {
		if got := w.closed(); got != statusNodeRemoved {
			t.Fatalf("close status %d, want 4001", got)
		}
	}
	if p := decodeAs[protocol.PresenceEvent](t, op.event(protocol.EventNodePresence).Payload); !p.Connected {
		t.Fatalf("presence when the paired socket opened: %+v", p)
	}
	if p := decodeAs[protocol.PresenceEvent](t, op.event(protocol.EventNodePresence).Payload); p.Connected {
		t.Fatalf("presence after removal: %+v", p)
	}
	w := h.dial()
	if e := w.refusedWith(t, w.connect(w.connectParams(&id, h.now(), connectOpts{role: protocol.RoleNode, token: appr.Node.Token}))); e.Reason() != protocol.ReasonTokenInvalid {
		t.Fatalf("removed node's token: %+v", e)
	}
}

func TestSeqIsPerConnection(t *testing.T) {
	h := newHarness(t)
	a := h.operator()
	a.request(protocol.PairRequestParams{NodeID: "n1"}) // a: seq 1
	b := h.operator(protocol.ScopePairing)
	r := a.request(protocol.PairRequestParams{NodeID: "n2"}) // a: 2, b: 1
	a.ok(protocol.MethodPairReject, protocol.RequestIDParams{RequestID: r.Request.RequestID}, nil)
	reader := h.operator(protocol.ScopeRead)
	a.ok(protocol.MethodNodeRename, protocol.RenameParams{NodeID: "n1", DisplayName: "x"}, nil) // a: 4, b: 3, reader: 1

	want := func(w *wsClient, name string, seq uint64) {
		t.Helper()
		ev := w.event(name)
		if ev.Seq != seq {
			t.Fatalf("%s seq %d, want %d", name, ev.Seq, seq)
		}
	}
	want(a, protocol.EventPairRequested, 1)
	want(a, protocol.EventPairRequested, 2)
	want(a, protocol.EventPairResolved, 3)
	want(a, protocol.EventNodeRenamed, 4)
	want(b, protocol.EventPairRequested, 1)
	want(b, protocol.EventPairResolved, 2)
	want(b, protocol.EventNodeRenamed, 3)
	want(reader, protocol.EventNodeRenamed, 1)
	reader.noEvent(protocol.EventPairRequested, waitShort)
}

func TestTicksCarrySeq(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.TickInterval = 50 * time.Millisecond })
	id := newIdentity(t, "node")
	n := h.node(id, "")
	first, second := n.event(protocol.EventTick), n.event(protocol.EventTick)
	if first.Seq == 0 || second.Seq != first.Seq+1 {
		t.Fatalf("tick seqs %d, %d", first.Seq, second.Seq)
	}
	if decodeAs[protocol.TickEvent](t, first.Payload).TS == 0 {
		t.Fatalf("tick without ts: %s", first.Payload)
	}
}

func TestExpiryIsAnnouncedOnTime(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.storeOpt.TTL = 400 * time.Millisecond })
	op := h.operator()
	id := newIdentity(t, "node")
	n := h.node(id, "")
	var r protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, nil, &r)

	start := time.Now()
	ev := decodeAs[protocol.ResolvedEvent](t, op.event(protocol.EventPairResolved).Payload)
	if ev.Decision != protocol.DecisionExpired || ev.RequestID != r.Request.RequestID || ev.Actor == "" {
		t.Fatalf("expiry event: %+v", ev)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("expiry announced late")
	}
	if mine := decodeAs[protocol.ResolvedEvent](t, n.event(protocol.EventPairResolved).Payload); mine.Decision != protocol.DecisionExpired {
		t.Fatalf("node's expiry event: %+v", mine)
	}
	var list protocol.PairListResult
	op.ok(protocol.MethodPairList, nil, &list)
	if len(list.Pending) != 0 {
		t.Fatalf("expired request still listed: %+v", list.Pending)
	}
	op.fails(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, "INVALID_REQUEST", "UNKNOWN_REQUEST")
}

func TestExpiryFollowsTheInjectedClock(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, func(o *harnessOpts) { o.clock = clock })
	op := h.operator()
	r := op.request(protocol.PairRequestParams{NodeID: "n1"})
	op.event(protocol.EventPairRequested)
	op.noEvent(protocol.EventPairResolved, waitShort)

	clock.Advance(store.DefaultTTL)
	h.g.pokeExpiry()
	ev := decodeAs[protocol.ResolvedEvent](t, op.event(protocol.EventPairResolved).Payload)
	if ev.Decision != protocol.DecisionExpired || ev.RequestID != r.Request.RequestID {
		t.Fatalf("expiry event: %+v", ev)
	}

	// An operator who acts on an overdue request before the timer does is
	// told it expired, and the expiry is still announced.
	r = op.request(protocol.PairRequestParams{NodeID: "n2"})
	clock.Advance(store.DefaultTTL + time.Second)
	e := op.fails(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, "INVALID_REQUEST", "UNKNOWN_REQUEST")
	if !strings.Contains(e.Message, "expired") {
		t.Fatalf("approving an overdue request: %q", e.Message)
	}
	ev = decodeAs[protocol.ResolvedEvent](t, op.event(protocol.EventPairResolved).Payload)
	if ev.Decision != protocol.DecisionExpired || ev.RequestID != r.Request.RequestID {
		t.Fatalf("expiry event after the refused approval: %+v", ev)
	}
}

func TestSlowConsumerDoesNotBlockOthers(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) {
		o.cfg.SendQueue = 8
		o.cfg.WriteTimeout = 20 * time.Second // the stalled socket must stay open for this test
		o.smallBuf = true
	})
	stalled := h.dial(func(o *dialOpts) { o.noRead, o.smallBuf = true, true })
	data := stalled.connectParams(nil, h.now(), connectOpts{token: testToken})
	stalled.sendRaw(string(protocol.MustMarshal(protocol.NewRequest("c1", protocol.MethodConnect, data))))
	reader := h.operator()
	waitFor(t, func() bool { return len(h.g.fan.all()) == 2 })

	// Each event is read by the healthy client before the next is sent, so
	// only the stalled one can fall behind.
	const n = 2000
	var slowest time.Duration
	for i := range n {
		start := time.Now()
		h.g.fan.broadcast(toOperators, protocol.EventTick, protocol.TickEvent{TS: int64(i)})
		slowest = max(slowest, time.Since(start))
		if ev := reader.event(protocol.EventTick); ev.Seq != uint64(i+1) {
			t.Fatalf("healthy client: event %d has seq %d", i, ev.Seq)
		}
	}
	if slowest > 200*time.Millisecond {
		t.Fatalf("a broadcast took %s: the stalled client held the gateway up", slowest)
	}
	if subscriberDrops(h.g) == 0 {
		t.Fatalf("the stalled client's queue never overflowed; the test did not test anything")
	}

	// Once it reads again it gets what was queued, then a seq gap.
	stalled.startReading()
	if res := stalled.response("c1"); !res.OK {
		t.Fatalf("stalled connect: %v", res.Error)
	}
	if !stalled.call(protocol.MethodPairList, nil).OK {
		t.Fatalf("stalled client's call failed")
	}
	received := len(stalled.events)
	stalled.events = nil
	h.g.fan.broadcast(toOperators, protocol.EventTick, protocol.TickEvent{TS: 1})
	ev := stalled.event(protocol.EventTick)
	if ev.Seq != n+1 || received >= n {
		t.Fatalf("stalled client: got %d of %d events, then seq %d", received, n, ev.Seq)
	}
}

func subscriberDrops(g *Gateway) uint64 {
	var d uint64
	for _, s := range g.fan.all() {
		s.mu.Lock()
		d += s.dropped
		s.mu.Unlock()
	}
	return d
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in %s", waitLong)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGracefulShutdown(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.noServer = true })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- h.g.Serve(ln) }()
	h.url = "ws://" + ln.Addr().String()

	op := h.operator()
	node := h.node(newIdentity(t, "node"), "")
	half := h.dial() // never finishes its handshake
	lo := h.g.Local(store.Actor{ClientID: "console"})
	<-lo.Updates() // Connected

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.g.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve after shutdown: %v", err)
	}
	for _, w := range []*wsClient{op, node} {
		ev := w.event(protocol.EventShutdown)
		if decodeAs[protocol.ShutdownEvent](t, ev.Payload).Reason == "" || ev.Seq == 0 {
			t.Fatalf("shutdown event: %+v", ev)
		}
		if got := w.closed(); got != websocket.StatusServiceRestart {
			t.Fatalf("close status %d, want 1012", got)
		}
	}
	if got := half.closed(); got != websocket.StatusServiceRestart {
		t.Fatalf("half-open socket: close status %d, want 1012", got)
	}

	var updates []protocol.Update
	for u := range lo.Updates() {
		updates = append(updates, u)
	}
	if len(updates) != 2 || updates[0].Event == nil || updates[0].Event.Event != protocol.EventShutdown ||
		!updates[1].StateChanged || updates[1].State != protocol.Disconnected {
		t.Fatalf("local operator updates at shutdown: %+v", updates)
	}
	_, err = lo.List(context.Background())
	if e, ok := err.(*protocol.Error); !ok || e.Code != protocol.CodeUnavailable {
		t.Fatalf("call after shutdown: %v", err)
	}
	lo.Close()

	dctx, dcancel := context.WithTimeout(context.Background(), time.Second)
	defer dcancel()
	if c, _, err := websocket.Dial(dctx, h.url, nil); err == nil {
		c.CloseNow()
		t.Fatalf("dial after shutdown succeeded")
	}
}

func TestShutdownLetsTheCallInFlightAnswer(t *testing.T) {
	slow := &slowStore{release: make(chan struct{}), entered: make(chan struct{})}
	h := newHarness(t, func(o *harnessOpts) {
		o.wrap = func(s pairingStore) pairingStore { slow.pairingStore = s; return slow }
	})
	op := h.operator()
	data := protocol.MustMarshal(protocol.NewRequest("slow", protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: "n1"}))
	op.sendRaw(string(data))
	<-slow.entered

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- h.g.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond)
	close(slow.release)
	if res := op.response("slow"); !res.OK {
		t.Fatalf("the call in flight should complete: %v", res.Error)
	}
	op.event(protocol.EventShutdown)
	if got := op.closed(); got != websocket.StatusServiceRestart {
		t.Fatalf("close status %d", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

type slowStore struct {
	pairingStore
	entered, release chan struct{}
}

func (s *slowStore) RequestWith(ctx context.Context, a store.Actor, in store.RequestInput, check func(string) error, then func(protocol.PendingRequest, bool)) (protocol.PendingRequest, bool, error) {
	close(s.entered)
	<-s.release
	return s.pairingStore.RequestWith(ctx, a, in, check, then)
}
