package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

const liveToken = "client-test-operator-token"

// liveGateway is the real gateway on a real store in a temp dir, served on
// a fixed loopback address so it can be stopped and started again there.
type liveGateway struct {
	t     *testing.T
	dir   string
	addr  string
	URL   string
	sopts store.Options
	gcfg  gateway.Config

	gw     *gateway.Gateway
	st     *store.Store
	served chan struct{}
}

func startGateway(t *testing.T, tweak ...func(*store.Options, *gateway.Config)) *liveGateway {
	t.Helper()
	g := &liveGateway{t: t, dir: t.TempDir()}
	g.sopts = store.Options{StateDir: g.dir}
	g.gcfg = gateway.Config{OperatorToken: liveToken, TickInterval: -1,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}
	for _, f := range tweak {
		f(&g.sopts, &g.gcfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.addr = ln.Addr().String()
	g.URL = "ws://" + g.addr
	g.serve(ln)
	t.Cleanup(g.stop)
	return g
}

func (g *liveGateway) serve(ln net.Listener) {
	g.t.Helper()
	st, err := store.Open(g.sopts)
	if err != nil {
		g.t.Fatalf("open store: %v", err)
	}
	cfg := g.gcfg
	cfg.Store = st
	gw, err := gateway.New(cfg)
	if err != nil {
		g.t.Fatalf("new gateway: %v", err)
	}
	g.gw, g.st, g.served = gw, st, make(chan struct{})
	go func() {
		defer close(g.served)
		if err := gw.Serve(ln); err != nil {
			g.t.Errorf("serve: %v", err)
		}
	}()
}

// stop shuts the gateway down (shutdown event, close 1012) and closes its
// store.
func (g *liveGateway) stop() {
	if g.gw == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.gw.Shutdown(ctx); err != nil {
		g.t.Errorf("shutdown: %v", err)
	}
	<-g.served
	if err := g.st.Close(); err != nil {
		g.t.Errorf("close store: %v", err)
	}
	g.gw = nil
}

// restart starts a new gateway on the same address and state dir.
func (g *liveGateway) restart() {
	g.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the old socket may linger for a moment
		if ln, err = net.Listen("tcp", g.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		g.t.Fatalf("listen again on %s: %v", g.addr, err)
	}
	g.serve(ln)
}

func (g *liveGateway) operator(t *testing.T, reconnect bool) *Client {
	t.Helper()
	c, err := Dial(testCtx(t), Config{URL: g.URL, Token: liveToken, Identity: mustIdentity(t),
		Client: protocol.ClientInfo{ID: "cli", Version: "test"}, Reconnect: reconnect, Backoff: fastBackoff})
	if err != nil {
		t.Fatalf("operator dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pairInBackground runs Pair and reports its pending request on pending.
func pairInBackground(ctx context.Context, cfg Config, req protocol.PairRequestParams) (<-chan PairPending, <-chan pairResult) {
	pending := make(chan PairPending, 4)
	done := make(chan pairResult, 1)
	go func() {
		out, err := Pair(ctx, cfg, req, func(p PairPending) { pending <- p })
		done <- pairResult{out, err}
	}()
	return pending, done
}

type pairResult struct {
	out PairOutcome
	err error
}

func waitPending(t *testing.T, ch <-chan PairPending) PairPending {
	t.Helper()
	select {
	case p := <-ch:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("Pair reported no pending request")
	}
	return PairPending{}
}

func waitPair(t *testing.T, ch <-chan pairResult) pairResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(8 * time.Second):
		t.Fatal("Pair did not return")
	}
	return pairResult{}
}

func TestLiveOperatorCalls(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, false)
	ctx := testCtx(t)

	h := op.Hello()
	if h.Protocol != protocol.Version || h.Policy.MaxPayload <= 0 || h.Server.ConnID == "" {
		t.Errorf("hello = %+v", h)
	}

	req, err := op.PairRequest(ctx, protocol.PairRequestParams{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Test", Platform: "linux"}})
	if err != nil || !req.Created || req.Request.RequestID == "" {
		t.Fatalf("request = %+v, %v", req, err)
	}
	waitFor(t, op, "node.pair.requested", isEvent(protocol.EventPairRequested))

	list, err := op.List(ctx)
	if err != nil || len(list.Pending) != 1 || list.Pending[0].RequestID != req.Request.RequestID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if _, err := op.Rename(ctx, "n1", "Kitchen"); err != nil {
		t.Fatalf("rename pending: %v", err)
	}

	appr, err := op.Approve(ctx, req.Request.RequestID)
	if err != nil || len(appr.Node.Token) != 43 || appr.Node.NodeID != "n1" {
		t.Fatalf("approve = %+v, %v", appr, err)
	}
	resolved := waitFor(t, op, "node.pair.resolved", isEvent(protocol.EventPairResolved))
	var ev protocol.ResolvedEvent
	json.Unmarshal(resolved.Event.Payload, &ev)
	if ev.Decision != protocol.DecisionApproved || ev.Token != "" {
		t.Errorf("operator's resolved event = %+v, want approved without a token", ev)
	}

	v, err := op.Verify(ctx, "n1", appr.Node.Token)
	if err != nil || !v.OK || v.Node == nil || v.Node.Token != "" {
		t.Errorf("verify = %+v, %v", v, err)
	}
	if v, err := op.Verify(ctx, "n1", "wrong"); err != nil || v.OK {
		t.Errorf("verify wrong token = %+v, %v", v, err)
	}

	list, err = op.List(ctx)
	if err != nil || len(list.Pending) != 0 || len(list.Paired) != 1 {
		t.Fatalf("list after approve = %+v, %v", list, err)
	}
	if p := list.Paired[0]; p.Token != "" || p.TokenSHA256 != "" || p.DisplayName != "Kitchen" {
		t.Errorf("paired = %+v, want no secrets and the operator's name", p)
	}
	nodes, err := op.Nodes(ctx)
	if err != nil || len(nodes.Nodes) != 1 || !nodes.Nodes[0].Paired || nodes.Nodes[0].Connected {
		t.Errorf("nodes = %+v, %v", nodes, err)
	}

	req2, err := op.PairRequest(ctx, protocol.PairRequestParams{NodeID: "n2"})
	if err != nil {
		t.Fatal(err)
	}
	rej, err := op.Reject(ctx, req2.Request.RequestID)
	if err != nil || rej.NodeID != "n2" {
		t.Errorf("reject = %+v, %v", rej, err)
	}
	_, err = op.Approve(ctx, req2.Request.RequestID)
	var perr *protocol.Error
	if !errors.As(err, &perr) || (perr.Reason() != protocol.ReasonAlreadyResolved && perr.Reason() != protocol.ReasonUnknownRequest) {
		t.Errorf("approve a rejected request = %v, want ALREADY_RESOLVED or UNKNOWN_REQUEST", err)
	}

	rm, err := op.Remove(ctx, "n1")
	if err != nil || rm.NodeID != "n1" {
		t.Errorf("remove = %+v, %v", rm, err)
	}
	if _, err := op.Remove(ctx, "n1"); !errors.As(err, &perr) || perr.Reason() != protocol.ReasonUnknownNode {
		t.Errorf("remove again = %v, want UNKNOWN_NODE", err)
	}
}

func TestLiveWrongOperatorToken(t *testing.T) {
	g := startGateway(t)
	_, err := Dial(testCtx(t), Config{URL: g.URL, Token: "not-the-token"})
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Reason() != protocol.ReasonTokenInvalid {
		t.Fatalf("err = %v, want a TOKEN_INVALID refusal", err)
	}
	if !strings.Contains(err.Error(), "check the operator token") {
		t.Errorf("err = %v, want a hint", err)
	}
}

func TestLiveCallDeadline(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, false)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := op.List(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if _, err := op.List(testCtx(t)); err != nil {
		t.Fatalf("next call: %v", err)
	}
}

func TestLivePairApprovedThenConnect(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, false)
	id := mustIdentity(t)
	nodeCfg := Config{URL: g.URL, Identity: id, Backoff: fastBackoff}

	pending, done := pairInBackground(testCtx(t), nodeCfg, protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "Kitchen Pi", Platform: "linux"}})
	p := waitPending(t, pending)
	if p.NodeID != id.DeviceID || p.Fingerprint != protocol.Fingerprint(id.DeviceID) || !p.Created || p.RequestID == "" {
		t.Fatalf("pending = %+v", p)
	}
	appr, err := op.Approve(testCtx(t), p.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	r := waitPair(t, done)
	if r.err != nil {
		t.Fatalf("pair: %v", r.err)
	}
	if r.out.Decision != protocol.DecisionApproved || r.out.Token != appr.Node.Token || r.out.State.Token != appr.Node.Token ||
		r.out.State.NodeID != id.DeviceID || r.out.State.GatewayURL != g.URL || r.out.State.DisplayName != "Kitchen Pi" {
		t.Fatalf("outcome = %+v (approve gave %s)", r.out, appr.Node.Token)
	}
	if !appr.Delivered {
		t.Errorf("approve says the token was not delivered to the waiting node")
	}

	dir := t.TempDir()
	if err := SaveNodeState(dir, r.out.State); err != nil {
		t.Fatal(err)
	}
	st, err := LoadNodeState(dir)
	if err != nil {
		t.Fatal(err)
	}
	node, err := ConnectNode(testCtx(t), Config{Identity: id, Backoff: fastBackoff}, st)
	if err != nil {
		t.Fatalf("connect with the new token: %v", err)
	}
	defer node.Close()
	waitConnected(t, op, id.DeviceID)
}

func TestLivePairRejected(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, false)
	pending, done := pairInBackground(testCtx(t), Config{URL: g.URL, Identity: mustIdentity(t)}, protocol.PairRequestParams{})
	p := waitPending(t, pending)
	if _, err := op.Reject(testCtx(t), p.RequestID); err != nil {
		t.Fatal(err)
	}
	r := waitPair(t, done)
	if !errors.Is(r.err, ErrPairRejected) || r.out.Token != "" || r.out.Decision != protocol.DecisionRejected {
		t.Fatalf("pair = %+v, %v, want ErrPairRejected", r.out, r.err)
	}
}

func TestLivePairExpired(t *testing.T) {
	g := startGateway(t, func(so *store.Options, _ *gateway.Config) { so.TTL = 300 * time.Millisecond })
	pending, done := pairInBackground(testCtx(t), Config{URL: g.URL, Identity: mustIdentity(t)}, protocol.PairRequestParams{})
	p := waitPending(t, pending)
	if d := time.Until(p.ExpiresAt); p.ExpiresAt.IsZero() || d > time.Second {
		t.Errorf("expiresAt = %v (in %s), want within the short TTL", p.ExpiresAt, d)
	}
	r := waitPair(t, done)
	if !errors.Is(r.err, ErrPairExpired) || r.out.Decision != protocol.DecisionExpired {
		t.Fatalf("pair = %+v, %v, want ErrPairExpired", r.out, r.err)
	}
}

func TestLivePairTimesOut(t *testing.T) {
	g := startGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, done := pairInBackground(ctx, Config{URL: g.URL, Identity: mustIdentity(t)}, protocol.PairRequestParams{})
	r := waitPair(t, done)
	if !errors.Is(r.err, ErrPairTimedOut) || !errors.Is(r.err, context.DeadlineExceeded) || r.out.RequestID == "" {
		t.Fatalf("pair = %+v, %v, want ErrPairTimedOut naming the request", r.out, r.err)
	}
}

func TestLivePairingDisabled(t *testing.T) {
	g := startGateway(t, func(_ *store.Options, c *gateway.Config) { c.PairingDisabled = true })
	_, err := Pair(testCtx(t), Config{URL: g.URL, Identity: mustIdentity(t)}, protocol.PairRequestParams{})
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Reason() != protocol.ReasonPairingDisabled {
		t.Fatalf("err = %v, want PAIRING_DISABLED", err)
	}
}

func TestLivePairSurvivesGatewayRestart(t *testing.T) {
	g := startGateway(t)
	pending, done := pairInBackground(testCtx(t), Config{URL: g.URL, Identity: mustIdentity(t), Backoff: fastBackoff},
		protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "Patient"}})
	p := waitPending(t, pending)
	g.stop()
	g.restart()
	// The request survived on disk; the node re-requests it after
	// reconnecting and keeps waiting for the same id.
	op := g.operator(t, false)
	list, err := op.List(testCtx(t))
	if err != nil || len(list.Pending) != 1 || list.Pending[0].RequestID != p.RequestID {
		t.Fatalf("pending after restart = %+v, %v", list.Pending, err)
	}
	// Approve only once the node is back: its re-request refreshes the
	// request's expiry, so the approval (and the token) reach it live.
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := op.List(testCtx(t))
		if err == nil && len(list.Pending) == 1 && list.Pending[0].ExpiresAtMs > p.ExpiresAt.UnixMilli() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not re-request after the restart: %+v, %v", list.Pending, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := op.Approve(testCtx(t), p.RequestID); err != nil {
		t.Fatal(err)
	}
	r := waitPair(t, done)
	if r.err != nil || r.out.Token == "" || r.out.RequestID != p.RequestID {
		t.Fatalf("pair after restart = %+v, %v", r.out, r.err)
	}
	select {
	case p2 := <-pending:
		t.Errorf("a second pending report %+v for the same request", p2)
	default:
	}
}

func TestLiveOperatorReconnectsAfterRestart(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, true)
	waitFor(t, op, "Connected", isState(protocol.Connected))
	g.stop()
	down := waitFor(t, op, "Disconnected", isState(protocol.Disconnected))
	if down.Err == nil || !strings.Contains(down.Err.Error(), "1012") {
		t.Errorf("disconnect reason = %v, want the gateway's 1012", down.Err)
	}
	if _, err := op.List(testCtx(t)); !errors.Is(err, ErrNotConnected) {
		t.Errorf("call while the gateway is down = %v, want ErrNotConnected", err)
	}
	time.Sleep(100 * time.Millisecond) // a few refused attempts
	g.restart()
	waitFor(t, op, "Connected", isState(protocol.Connected))
	if u := nextUpdate(t, op); !u.Relist {
		t.Errorf("after reconnect: %+v, want Relist", u)
	}
	if _, err := op.List(testCtx(t)); err != nil {
		t.Errorf("list after reconnect: %v", err)
	}
}

// pairedNode pairs a fresh node through the operator and returns its state.
func pairedNode(t *testing.T, g *liveGateway, op *Client) (*Identity, NodeState) {
	t.Helper()
	id := mustIdentity(t)
	pending, done := pairInBackground(testCtx(t), Config{URL: g.URL, Identity: id}, protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "n"}})
	p := waitPending(t, pending)
	if _, err := op.Approve(testCtx(t), p.RequestID); err != nil {
		t.Fatal(err)
	}
	r := waitPair(t, done)
	if r.err != nil {
		t.Fatal(r.err)
	}
	return id, r.out.State
}

func TestLiveNodeRemovedEndsConnection(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, false)
	id, st := pairedNode(t, g, op)
	node, err := ConnectNode(testCtx(t), Config{Identity: id, Backoff: fastBackoff}, st)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	// hello-ok can reach the node a moment before the gateway counts its
	// socket as connected, and a socket not yet counted escapes the 4001;
	// remove the node once the gateway says it is there.
	waitConnected(t, op, id.DeviceID)
	if _, err := op.Remove(testCtx(t), id.DeviceID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-node.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("node still running after removal")
	}
	if !errors.Is(node.Err(), ErrNodeRemoved) || !strings.Contains(node.Err().Error(), "4001") {
		t.Fatalf("Err = %v, want ErrNodeRemoved with the close code", node.Err())
	}
}

func TestLiveNodeTokenRefused(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, false)
	id, st := pairedNode(t, g, op)
	st.Token = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	_, err := ConnectNode(testCtx(t), Config{Identity: id}, st)
	var perr *protocol.Error
	if !errors.Is(err, ErrNotPaired) || !errors.As(err, &perr) || perr.Reason() != protocol.ReasonTokenInvalid {
		t.Fatalf("err = %v, want ErrNotPaired and TOKEN_INVALID", err)
	}
}

func TestLiveNodeReconnectsAfterRestart(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, false)
	id, st := pairedNode(t, g, op)
	node, err := ConnectNode(testCtx(t), Config{Identity: id, Backoff: fastBackoff}, st)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	g.stop()
	waitFor(t, node, "Disconnected", isState(protocol.Disconnected))
	g.restart()
	waitFor(t, node, "Connected", isState(protocol.Connected))
	op2 := g.operator(t, false)
	deadline := time.Now().Add(5 * time.Second)
	for {
		nodes, err := op2.Nodes(testCtx(t))
		if err == nil && len(nodes.Nodes) == 1 && nodes.Nodes[0].Connected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nodes after the node reconnected = %+v, %v", nodes, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitConnected waits for the gateway to announce nodeID's presence.
func waitConnected(t *testing.T, op *Client, nodeID string) {
	t.Helper()
	waitFor(t, op, "presence of "+nodeID, func(u protocol.Update) bool {
		if u.Event == nil || u.Event.Event != protocol.EventNodePresence {
			return false
		}
		var ev protocol.PresenceEvent
		json.Unmarshal(u.Event.Payload, &ev)
		return ev.NodeID == nodeID && ev.Connected
	})
}

// seedStateFiles writes pending.json and paired.json in the store's format
// before the gateway opens them.
func seedStateFiles(t *testing.T, stateDir string, pending, paired int) {
	t.Helper()
	dir := filepath.Join(stateDir, "nodes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	reqs := make(map[string]protocol.PendingRequest, pending)
	for i := range pending {
		id := fmt.Sprintf("req-%06d", i)
		reqs[id] = protocol.PendingRequest{RequestID: id, NodeID: fmt.Sprintf("pending-node-%06d-%s", i, strings.Repeat("p", 64)),
			NodeMeta: protocol.NodeMeta{DisplayName: fmt.Sprintf("Rack %d node", i), Platform: "linux", Version: "2026.4.12", DeviceFamily: "server", ModelIdentifier: "x86_64", RemoteIP: "10.1.2.3", Caps: []string{"system"}, Commands: []string{"system.info"}}, TS: now}
	}
	nodes := make(map[string]protocol.PairedNode, paired)
	for i := range paired {
		id := fmt.Sprintf("paired-node-%06d-%s", i, strings.Repeat("q", 64))
		nodes[id] = protocol.PairedNode{NodeID: id, TokenSHA256: strings.Repeat("ab", 32),
			NodeMeta: protocol.NodeMeta{DisplayName: fmt.Sprintf("Rack %d node", i), Platform: "linux", Version: "2026.4.12", RemoteIP: "10.1.2.3", Caps: []string{"system"}, Commands: []string{"system.info"}}, CreatedAtMs: now, ApprovedAtMs: now + int64(i)}
	}
	for name, v := range map[string]any{"pending.json": reqs, "paired.json": nodes} {
		data, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// policy.maxPayload limits what the gateway accepts, not what it sends: a
// list of thousands of nodes is several MiB and the client must read it.
func TestLiveListLargerThanMaxPayload(t *testing.T) {
	const pending, paired = 2500, 3000
	g := startGateway(t, func(o *store.Options, _ *gateway.Config) {
		o.MaxPending = pending + 10
		seedStateFiles(t, o.StateDir, pending, paired)
	})
	op := g.operator(t, false)
	// Thousands of records under -race on a busy machine take longer than
	// testCtx's 10 s safety net; nothing here is a timing target.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	maxPayload := op.Hello().Policy.MaxPayload

	list, err := op.List(ctx)
	if err != nil {
		t.Fatalf("list of %d pending and %d paired: %v", pending, paired, err)
	}
	if len(list.Pending) != pending || len(list.Paired) != paired {
		t.Fatalf("listed %d pending and %d paired, want %d and %d", len(list.Pending), len(list.Paired), pending, paired)
	}
	if size := len(protocol.MustMarshal(list)); int64(size) <= maxPayload {
		t.Fatalf("the list is %d bytes, not over policy.maxPayload (%d): the test tests nothing", size, maxPayload)
	}
	// The connection survives the large frame.
	if _, err := op.PairRequest(ctx, protocol.PairRequestParams{NodeID: "after-the-list"}); err != nil {
		t.Fatalf("call after the large list: %v", err)
	}
	nodes, err := op.Nodes(ctx)
	if err != nil || len(nodes.Nodes) != pending+paired+1 {
		t.Fatalf("node.list: %d nodes, %v", len(nodes.Nodes), err)
	}
}
