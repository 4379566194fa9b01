package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// nextUpdate reads one update or fails after waitLong.
func nextUpdate(t *testing.T, lo *LocalOperator) protocol.Update {
	t.Helper()
	select {
	case u, ok := <-lo.Updates():
		if !ok {
			t.Fatalf("updates closed")
		}
		return u
	case <-time.After(waitLong):
		t.Fatalf("no update")
	}
	return protocol.Update{}
}

func nextEvent(t *testing.T, lo *LocalOperator) *protocol.Event {
	t.Helper()
	u := nextUpdate(t, lo)
	if u.Event == nil {
		t.Fatalf("want an event, got %+v", u)
	}
	return u.Event
}

func asWireError(t *testing.T, err error) *protocol.Error {
	t.Helper()
	var e *protocol.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *protocol.Error", err, err)
	}
	return e
}

func TestLocalOperatorMatchesTheWire(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	lo := h.g.Local(store.Actor{ClientID: "console", User: "alice"})
	defer lo.Close()
	if u := nextUpdate(t, lo); !u.StateChanged || u.State != protocol.Connected {
		t.Fatalf("first update: %+v", u)
	}
	op := h.operator()

	// Errors: same code, reason and message either way.
	type failing struct {
		name   string
		local  func() error
		method string
		params any
	}
	cases := []failing{
		{"approve unknown", func() error { _, err := lo.Approve(ctx, "nope"); return err }, protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: "nope"}},
		{"approve blank", func() error { _, err := lo.Approve(ctx, " "); return err }, protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: " "}},
		{"reject unknown", func() error { _, err := lo.Reject(ctx, "nope"); return err }, protocol.MethodPairReject, protocol.RequestIDParams{RequestID: "nope"}},
		{"rename unknown", func() error { _, err := lo.Rename(ctx, "ghost", "X"); return err }, protocol.MethodNodeRename, protocol.RenameParams{NodeID: "ghost", DisplayName: "X"}},
		{"remove unknown", func() error { _, err := lo.Remove(ctx, "ghost"); return err }, protocol.MethodPairRemove, protocol.NodeIDParams{NodeID: "ghost"}},
		{"verify no token", func() error { _, err := lo.Verify(ctx, "n1", ""); return err }, protocol.MethodPairVerify, protocol.VerifyParams{NodeID: "n1"}},
		{"request blank", func() error { _, err := lo.Request(ctx, protocol.PairRequestParams{}); return err }, protocol.MethodPairRequest, protocol.PairRequestParams{}},
	}
	for _, c := range cases {
		local := asWireError(t, c.local())
		res := op.call(c.method, c.params)
		if res.OK {
			t.Fatalf("%s: succeeded over the wire", c.name)
		}
		if a, b := mustJSON(local), mustJSON(res.Error); a != b {
			t.Errorf("%s: local %s, wire %s", c.name, a, b)
		}
	}

	// Results and events: the same shapes either way.
	req, err := lo.Request(ctx, protocol.PairRequestParams{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "One", Commands: []string{"system.run"}}})
	if err != nil || !req.Created {
		t.Fatalf("local request: %+v, %v", req, err)
	}
	localEv := nextEvent(t, lo)
	wireEv := op.event(protocol.EventPairRequested)
	if localEv.Event != protocol.EventPairRequested || localEv.Seq != 1 || wireEv.Seq != 1 || string(localEv.Payload) != string(wireEv.Payload) {
		t.Fatalf("local event %+v vs wire %+v", localEv, wireEv)
	}
	list, err := lo.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wireList protocol.PairListResult
	op.ok(protocol.MethodPairList, nil, &wireList)
	if mustJSON(list) != mustJSON(wireList) {
		t.Fatalf("list: local %s, wire %s", mustJSON(list), mustJSON(wireList))
	}

	// Approval with the node waiting on its socket: token delivered.
	id := newIdentity(t, "node")
	n := h.node(id, "")
	var nreq protocol.PairRequestResult
	n.ok(protocol.MethodPairRequest, nil, &nreq)
	appr, err := lo.Approve(ctx, nreq.Request.RequestID)
	if err != nil || !appr.Delivered || appr.Node.Token == "" {
		t.Fatalf("local approve: %+v, %v", appr, err)
	}
	if ev := decodeAs[protocol.ResolvedEvent](t, n.event(protocol.EventPairResolved).Payload); ev.Token != appr.Node.Token {
		t.Fatalf("node got %+v", ev)
	}
	nextEvent(t, lo) // requested, filed at connect
	nextEvent(t, lo) // requested, the node's own ask
	resolved := decodeAs[protocol.ResolvedEvent](t, nextEvent(t, lo).Payload)
	if resolved.Actor != "console (operator)" || resolved.Token != "" {
		t.Fatalf("local operator's resolved event: %+v", resolved)
	}
	if audit := readAudit(t, h); !strings.Contains(audit, "alice") {
		t.Fatalf("audit lacks the local actor:\n%s", audit)
	}

	nodes, err := lo.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wireNodes protocol.NodeListResult
	op.ok(protocol.MethodNodeList, nil, &wireNodes)
	if mustJSON(nodes.Nodes) != mustJSON(wireNodes.Nodes) {
		t.Fatalf("nodes: local %s, wire %s", mustJSON(nodes.Nodes), mustJSON(wireNodes.Nodes))
	}
	ver, err := lo.Verify(ctx, id.nodeID(), appr.Node.Token)
	if err != nil || !ver.OK {
		t.Fatalf("verify: %+v %v", ver, err)
	}
	if _, err := lo.Rename(ctx, id.nodeID(), "Kitchen"); err != nil {
		t.Fatal(err)
	}
	if _, err := lo.Reject(ctx, req.Request.RequestID); err != nil {
		t.Fatal(err)
	}
	if _, err := lo.Remove(ctx, id.nodeID()); err != nil {
		t.Fatal(err)
	}

	lo.Close()
	lo.Close()
	if _, ok := <-lo.Updates(); ok {
		// Drain: events queued before Close may still be there.
		for range lo.Updates() {
		}
	}
	_, err = lo.List(ctx)
	if e := asWireError(t, err); e.Code != protocol.CodeUnavailable {
		t.Fatalf("call after Close: %+v", e)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestLocalOperatorThatFallsBehindIsToldToRelist(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.SendQueue = 4 })
	ctx := context.Background()
	lo := h.g.Local(store.Actor{ClientID: "console"})
	defer lo.Close()
	nextUpdate(t, lo) // Connected

	const n = 12
	for i := range n {
		if _, err := lo.Request(ctx, protocol.PairRequestParams{NodeID: fmt.Sprintf("n%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The announcements ride on the commits and may trail the answers:
	// wait until all n were offered (queued or dropped), so none lands in
	// the room the reads below make.
	offered := func() uint64 {
		lo.sub.mu.Lock()
		defer lo.sub.mu.Unlock()
		return lo.sub.seq
	}
	for deadline := time.Now().Add(waitLong); offered() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests were announced", offered(), n)
		}
		time.Sleep(time.Millisecond)
	}
	// Nothing was read while they were announced, so some were dropped.
	// Read the backlog; the next event then shows the gap.
	var last uint64
	for drained := false; !drained; {
		select {
		case u := <-lo.Updates():
			if u.Relist || u.Event == nil || u.Event.Seq != last+1 {
				t.Fatalf("backlog should be contiguous: %+v after seq %d", u, last)
			}
			last = u.Event.Seq
		case <-time.After(waitShort):
			drained = true
		}
	}
	if last >= n {
		t.Fatalf("all %d events were delivered through a queue of 4", last)
	}
	if _, err := lo.Request(ctx, protocol.PairRequestParams{NodeID: "last"}); err != nil {
		t.Fatal(err)
	}
	if u := nextUpdate(t, lo); !u.Relist {
		t.Fatalf("want a Relist before the event after the gap, got %+v", u)
	}
	if ev := nextEvent(t, lo); ev.Seq != n+1 {
		t.Fatalf("event after the gap has seq %d, want %d", ev.Seq, n+1)
	}
}
