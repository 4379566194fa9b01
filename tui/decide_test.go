package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// countingBackend answers approvals once decisionsInFlight of them are
// waiting together (or after a while), and counts how many ran at once.
type countingBackend struct {
	Backend
	mu       sync.Mutex
	inFlight int
	most     int
	full     chan struct{}
	once     sync.Once
}

func (b *countingBackend) Approve(_ context.Context, id string) (protocol.ApproveResult, error) {
	b.mu.Lock()
	b.inFlight++
	b.most = max(b.most, b.inFlight)
	if b.inFlight == decisionsInFlight {
		b.once.Do(func() { close(b.full) })
	}
	b.mu.Unlock()
	select {
	case <-b.full:
	case <-time.After(2 * time.Second):
	}
	b.mu.Lock()
	b.inFlight--
	b.mu.Unlock()
	if id == "r3" {
		return protocol.ApproveResult{}, errors.New("refused")
	}
	return protocol.ApproveResult{RequestID: id, Node: protocol.PairedNode{NodeID: "node-" + id}}, nil
}

// A bulk decision runs a few calls at once, so the gateway can commit
// them together, and still reports in the order the operator saw.
func TestBulkDecisionRunsAFewAtOnceInOrder(t *testing.T) {
	b := &countingBackend{full: make(chan struct{})}
	var targets []decisionTarget
	for i := range 10 {
		id := fmt.Sprintf("r%d", i)
		targets = append(targets, decisionTarget{requestID: id, nodeID: "node-" + id, name: id})
	}
	msg := decideCmd(context.Background(), b, approve, "", "", targets)().(decidedMsg)
	if b.most != decisionsInFlight {
		t.Fatalf("at most %d calls ran at once, want %d", b.most, decisionsInFlight)
	}
	for i, res := range msg.results {
		if res.requestID != targets[i].requestID {
			t.Fatalf("result %d is for %s, want %s", i, res.requestID, targets[i].requestID)
		}
		if (res.err != nil) != (res.requestID == "r3") || (res.err == nil && res.approved.RequestID != res.requestID) {
			t.Fatalf("result %d: %+v", i, res)
		}
	}
}

// This console's own approvals put the node in the paired list from the
// answer: no re-list, whichever of the answer and the event comes first.
// A failure (the call may or may not have taken effect) re-lists.
func TestOwnApprovalNeedsNoRelist(t *testing.T) {
	approved := func(id, name string) decidedMsg {
		return decidedMsg{action: approve, results: []decisionResult{{
			decisionTarget: decisionTarget{requestID: id, nodeID: nodeID(name), name: name},
			approved: protocol.ApproveResult{RequestID: id, Delivered: true, Node: protocol.PairedNode{
				NodeID: nodeID(name), NodeMeta: protocol.NodeMeta{DisplayName: name}, Token: "secret-token", ApprovedAtMs: t0.UnixMilli(),
			}},
		}}}
	}
	resolved := func(id, name string) tea.Msg {
		return event(protocol.EventPairResolved, protocol.ResolvedEvent{
			RequestID: id, NodeID: nodeID(name), Decision: protocol.DecisionApproved, TS: t0.UnixMilli(), Actor: "console (operator)",
		})
	}
	old := protocol.PairedNode{NodeID: nodeID("build-box-07"), NodeMeta: protocol.NodeMeta{DisplayName: "build-box-07"}, ApprovedAtMs: t0.Add(-time.Hour).UnixMilli()}
	for _, eventFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("event first %v", eventFirst), func(t *testing.T) {
			m, _ := newModel(t, 80, 24)
			m = step(t, m, listed(threeRequests(), old))
			m = step(t, m, decideMsg{action: approve, targets: []decisionTarget{
				{requestID: "req-ipad", nodeID: nodeID("Living Room iPad"), name: "Living Room iPad"},
				{requestID: "req-build", nodeID: nodeID("build-box-07"), name: "build-box-07"},
			}})
			msgs := []tea.Msg{resolved("req-ipad", "Living Room iPad"), resolved("req-build", "build-box-07")}
			answer := approved("req-ipad", "Living Room iPad")
			answer.results = append(answer.results, approved("req-build", "build-box-07").results...)
			if eventFirst {
				msgs = append(msgs, answer)
			} else {
				msgs = append([]tea.Msg{answer}, msgs...)
			}
			for _, msg := range msgs {
				m = step(t, m, msg)
				if m.sync.listing {
					t.Fatalf("re-listed after %T", msg)
				}
			}
			if m.pending.list.Len() != 1 || m.paired.list.Len() != 2 {
				t.Fatalf("%d pending, %d paired; want 1 and 2", m.pending.list.Len(), m.paired.list.Len())
			}
			var order []string
			m.paired.list.Each(func(r pairedRow) {
				order = append(order, r.node.DisplayName)
				if r.node.Token != "" {
					t.Errorf("paired row keeps a token: %+v", r.node)
				}
			})
			if order[0] != "build-box-07" || order[1] != "Living Room iPad" {
				t.Fatalf("paired order %v: newest approval first", order)
			}
			if r, _ := m.paired.Get(nodeID("Living Room iPad")); !r.hasInfo || r.info.Connected {
				t.Fatalf("a newly approved node has no paired socket yet: %+v", r)
			}
		})
	}

	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()))
	m = step(t, m, decidedMsg{action: approve, results: []decisionResult{{
		decisionTarget: decisionTarget{requestID: "req-ipad", nodeID: nodeID("Living Room iPad"), name: "Living Room iPad"},
		err:            context.DeadlineExceeded,
	}}})
	if !m.sync.listing {
		t.Fatal("a failed approval should re-list: it may have taken effect")
	}
}
