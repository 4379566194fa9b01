package gateway

import (
	"fmt"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// hello-ok's snapshot counts the queue and the paired nodes (from the
// store's counts, without building the lists).
func TestHelloSnapshotCounts(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	for i := range 5 {
		r := op.request(protocol.PairRequestParams{NodeID: fmt.Sprintf("n%d", i)})
		if i < 2 {
			op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, nil)
		}
	}
	w := h.dial()
	res := w.connect(w.connectParams(nil, h.now(), connectOpts{token: testToken, scopes: []string{protocol.ScopeRead}}))
	if !res.OK {
		t.Fatalf("connect: %v", res.Error)
	}
	health, _ := decodeAs[protocol.HelloOK](t, res.Payload).Snapshot["health"].(map[string]any)
	if health["pending"] != float64(3) || health["paired"] != float64(2) || health["blocked"] != float64(0) {
		t.Fatalf("snapshot health: %v", health)
	}
	// Without operator.read: no counts.
	w = h.dial()
	res = w.connect(w.connectParams(nil, h.now(), connectOpts{token: testToken, scopes: []string{protocol.ScopePairing}}))
	if health, _ := decodeAs[protocol.HelloOK](t, res.Payload).Snapshot["health"].(map[string]any); health["pending"] != nil {
		t.Fatalf("snapshot health without operator.read: %v", health)
	}
}
