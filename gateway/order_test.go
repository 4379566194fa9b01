package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// Store changes are announced by the store's committer in the order it
// applied them, and what must hold for a change (the block list, the
// approver's scopes) is checked as the store applies it. No gateway-wide
// lock is held across a durable write, so concurrent requests share
// commits. These tests pin the guarantees that lock used to give.

// gateStore holds the first request in the store's apply step until n
// requests have reached the store: with a lock held across the write they
// never would.
type gateStore struct {
	pairingStore
	n       int32
	entered atomic.Int32
	all     chan struct{}
	first   atomic.Bool
}

func (g *gateStore) RequestWith(ctx context.Context, a store.Actor, in store.RequestInput, check func(string) error, then func(protocol.PendingRequest, bool)) (protocol.PendingRequest, bool, error) {
	if g.entered.Add(1) == g.n {
		close(g.all)
	}
	held := func(nodeID string) error {
		if g.first.CompareAndSwap(false, true) {
			select {
			case <-g.all:
			case <-time.After(waitLong):
				return errors.New("the other requests did not reach the store while the first was being committed")
			}
		}
		return check(nodeID)
	}
	return g.pairingStore.RequestWith(ctx, a, in, held, then)
}

func TestConcurrentRequestsReachTheStoreTogether(t *testing.T) {
	const n = 16
	gate := &gateStore{n: n, all: make(chan struct{})}
	h := newHarness(t, func(o *harnessOpts) {
		o.wrap = func(s pairingStore) pairingStore { gate.pairingStore = s; return gate }
	})
	watcher := h.operator(protocol.ScopePairing)
	lo := h.g.Local(store.Actor{ClientID: "load"})
	defer lo.Close()
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := lo.Request(context.Background(), protocol.PairRequestParams{NodeID: fmt.Sprintf("n%02d", i)})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("request: %v", err)
		}
	}
	seen := map[string]bool{}
	for range n {
		seen[decodeAs[protocol.PendingRequest](t, watcher.event(protocol.EventPairRequested).Payload).NodeID] = true
	}
	if len(seen) != n {
		t.Fatalf("watcher saw %d distinct requests, want %d", len(seen), n)
	}
}

// Every operator sees the changes in the order the store applied them:
// requests (equal timestamps: the clock stands still) in the order of the
// queue, and each request's resolution after its creation.
func TestEventsFollowTheStoresOrder(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, func(o *harnessOpts) { o.clock = clock; o.cfg.SendQueue = 4096 })
	watchers := []*wsClient{h.operator(), h.operator(protocol.ScopePairing)}
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		lo := h.g.Local(store.Actor{ClientID: fmt.Sprintf("load-%d", w)})
		defer lo.Close()
		wg.Go(func() {
			for i := range each {
				r, err := lo.Request(context.Background(), protocol.PairRequestParams{NodeID: fmt.Sprintf("w%d-n%02d", w, i)})
				if err != nil {
					errs <- err
					return
				}
				if i%3 == 0 { // some are decided at once, racing other requests
					if _, err := lo.Reject(context.Background(), r.Request.RequestID); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	var queue []string // the store's order: oldest first
	for _, r := range h.st.Pending() {
		queue = append(queue, r.RequestID)
	}
	slices.Reverse(queue)
	rejects := workers * ((each + 2) / 3)
	for wi, w := range watchers {
		var requested []string
		requestedAt := map[string]bool{}
		resolved := map[string]bool{}
		for len(requested) < workers*each || len(resolved) < rejects {
			f, err := w.next(waitLong)
			if err != nil {
				t.Fatalf("watcher %d: %v after %d requests, %d rejections", wi, err, len(requested), len(resolved))
			}
			if f.Event == nil {
				continue
			}
			switch f.Event.Event {
			case protocol.EventPairRequested:
				id := decodeAs[protocol.PendingRequest](t, f.Event.Payload).RequestID
				if requestedAt[id] {
					t.Fatalf("watcher %d: %s requested twice", wi, id)
				}
				requestedAt[id] = true
				requested = append(requested, id)
			case protocol.EventPairResolved:
				id := decodeAs[protocol.ResolvedEvent](t, f.Event.Payload).RequestID
				if !requestedAt[id] || resolved[id] {
					t.Fatalf("watcher %d: %s resolved before it was requested, or twice", wi, id)
				}
				resolved[id] = true
			}
		}
		live := slices.DeleteFunc(requested, func(id string) bool { return resolved[id] })
		if !slices.Equal(live, queue) {
			t.Fatalf("watcher %d saw the live requests in the order\n%v\nthe store applied them in the order\n%v", wi, live, queue)
		}
	}
}

// raceStore runs before (once) just before the wrapped call reaches the
// store: a change that lands while the call is on its way.
type raceStore struct {
	pairingStore
	before func()
	once   sync.Once
}

func (r *raceStore) RequestWith(ctx context.Context, a store.Actor, in store.RequestInput, check func(string) error, then func(protocol.PendingRequest, bool)) (protocol.PendingRequest, bool, error) {
	r.once.Do(r.before)
	return r.pairingStore.RequestWith(ctx, a, in, check, then)
}

func (r *raceStore) ApproveWith(ctx context.Context, a store.Actor, id string, check func(protocol.PendingRequest) error, then func(protocol.PairedNode, protocol.PendingRequest)) (protocol.PairedNode, protocol.PendingRequest, error) {
	r.once.Do(r.before)
	return r.pairingStore.ApproveWith(ctx, a, id, check, then)
}

func (r *raceStore) ApproveWithReason(ctx context.Context, a store.Actor, id, reason string, check func(protocol.PendingRequest) error, then func(protocol.PairedNode, protocol.PendingRequest)) (protocol.PairedNode, protocol.PendingRequest, error) {
	r.once.Do(r.before)
	return r.pairingStore.ApproveWithReason(ctx, a, id, reason, check, then)
}

// A block that lands after a request passed the early check still keeps
// it out of the queue: the store checks the block list as it applies it.
func TestBlockLandingMidRequestKeepsItOut(t *testing.T) {
	for _, who := range []string{"node", "operator"} {
		t.Run(who, func(t *testing.T) {
			race := &raceStore{}
			h := newHarness(t, func(o *harnessOpts) {
				o.wrap = func(s pairingStore) pairingStore { race.pairingStore = s; return race }
			})
			watcher := h.operator(protocol.ScopePairing)
			id := newIdentity(t, "node")
			admin := h.g.Local(store.Actor{ClientID: "admin"})
			defer admin.Close()
			race.before = func() {
				if _, err := admin.Block(context.Background(), id.nodeID(), "late block"); err != nil {
					t.Errorf("block: %v", err)
				}
			}
			var res *protocol.Response
			if who == "node" {
				res = h.node(id, "").call(protocol.MethodPairRequest, nil)
			} else {
				res = h.operator().call(protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: id.nodeID()})
			}
			checkErr(t, "request from a node blocked on the way", res, "INVALID_REQUEST", "BLOCKED")
			if _, ok := h.st.PendingForNode(id.nodeID()); ok {
				t.Fatal("a blocked node's request entered the queue")
			}
			watcher.event(protocol.EventBlockAdded)
			watcher.noEvent(protocol.EventPairRequested, waitShort)
		})
	}
}

// A refresh that declares exec-class commands and lands between an
// approver's call and the approval cannot slip past the approver's scopes.
func TestExecRefreshCannotSlipPastAnApproval(t *testing.T) {
	race := &raceStore{}
	h := newHarness(t, func(o *harnessOpts) {
		o.wrap = func(s pairingStore) pairingStore { race.pairingStore = s; return race }
	})
	op := h.operator()
	race.before = func() {} // spent by the first request
	r := op.request(protocol.PairRequestParams{NodeID: "n1", NodeMeta: protocol.NodeMeta{Commands: []string{"camera.snap"}}})
	race.once = sync.Once{}
	race.before = func() {
		_, _, err := race.pairingStore.RequestWith(context.Background(), store.Actor{ClientID: "node"},
			store.RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{Commands: []string{"system.run"}}}, nil, nil)
		if err != nil {
			t.Errorf("refresh: %v", err)
		}
	}
	writer := h.operator(protocol.ScopePairing, protocol.ScopeWrite)
	e := writer.fails(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, "INVALID_REQUEST", "MISSING_SCOPE")
	if e.Message != "missing scope: "+protocol.ScopeAdmin {
		t.Fatalf("approval after an exec-class refresh: %q", e.Message)
	}
	cur, ok := h.st.PendingByID(r.Request.RequestID)
	if !ok || !slices.Contains(cur.Commands, "system.run") {
		t.Fatalf("the refreshed request should still wait: %+v", cur)
	}
	if _, ok := h.st.PairedNode("n1"); ok {
		t.Fatal("node paired by an approver without operator.admin")
	}
}

// An operator that connects while changes are being made gets hello-ok
// before any event, then every change either as an event or in the list
// it asks for after hello-ok, and no event twice.
func TestJoiningOperatorMissesNothing(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.SendQueue = 4096 })
	const workers, each = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		lo := h.g.Local(store.Actor{ClientID: fmt.Sprintf("load-%d", w)})
		defer lo.Close()
		wg.Go(func() {
			for i := range each {
				if _, err := lo.Request(context.Background(), protocol.PairRequestParams{NodeID: fmt.Sprintf("w%d-n%02d", w, i)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	type joined struct {
		w      *wsClient
		listed map[string]bool
	}
	var ops []joined
	for range 8 {
		w := h.operator()
		if len(w.events) != 0 {
			t.Fatalf("%d events before hello-ok", len(w.events))
		}
		var list protocol.PairListResult
		w.ok(protocol.MethodPairList, nil, &list)
		listed := map[string]bool{}
		for _, r := range list.Pending {
			listed[r.NodeID] = true
		}
		ops = append(ops, joined{w, listed})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, j := range ops {
		got := map[string]bool{}
		for k := range j.listed {
			got[k] = true
		}
		evented := map[string]bool{}
		for len(got) < workers*each {
			ev := j.w.eventWithin(protocol.EventPairRequested, waitLong)
			if ev == nil {
				t.Fatalf("operator %d: %d of %d requests seen (events and list)", i, len(got), workers*each)
			}
			id := decodeAs[protocol.PendingRequest](t, ev.Payload).NodeID
			if evented[id] {
				t.Fatalf("operator %d: %s announced twice", i, id)
			}
			evented[id] = true
			got[id] = true
		}
		// What is still queued is announcements of listed requests.
		for ev := j.w.eventWithin(protocol.EventPairRequested, waitShort); ev != nil; ev = j.w.eventWithin(protocol.EventPairRequested, waitShort) {
			id := decodeAs[protocol.PendingRequest](t, ev.Payload).NodeID
			if evented[id] || !j.listed[id] {
				t.Fatalf("operator %d: %s announced twice, or announced late and not listed", i, id)
			}
			evented[id] = true
		}
	}
}
