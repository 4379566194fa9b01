package gateway

import (
	"net"
	"testing"
)

// pipeConn is one end of an in-memory connection; closing it is what
// eviction does.
func pipeConn(t *testing.T) net.Conn {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	return a
}

// Who is closed to make room: the oldest socket still handshaking, then
// the oldest unpaired node, of the newcomer's network for its cap and of
// all for the total; never an operator's or a paired node's.
func TestAdmissionClosesTheOldestUnauthenticated(t *testing.T) {
	a := newAdmission(6, 4, 3)
	admit := func(net string) *slot {
		t.Helper()
		s := a.admit(pipeConn(t), net)
		if s == nil {
			t.Fatalf("newcomer from %s refused", net)
		}
		return s
	}
	evicted := func(s *slot) bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return s.state == slotEvicted
	}

	op := admit("a")
	if err := a.settle(op, slotOperator); err != nil {
		t.Fatal(err)
	}
	node := admit("a")
	if err := a.settle(node, slotUnpaired); err != nil {
		t.Fatal(err)
	}
	h1 := admit("a")
	h2 := admit("a") // network a: node, h1, h2 unauthenticated = its cap
	if evicted(h1) || evicted(node) {
		t.Fatal("evicted within the caps")
	}
	h3 := admit("a") // over a's cap: its oldest handshaking socket goes
	if !evicted(h1) || evicted(node) || evicted(h2) || evicted(op) {
		t.Fatalf("per-network eviction: h1 %v node %v h2 %v", evicted(h1), evicted(node), evicted(h2))
	}
	b1 := admit("b") // unauthenticated: node, h2, h3, b1 = the total share
	b2 := admit("b") // over it: the oldest handshaking socket of all
	if !evicted(h2) || evicted(node) || evicted(b1) {
		t.Fatalf("total share eviction: h2 %v node %v b1 %v", evicted(h2), evicted(node), evicted(b1))
	}
	for _, s := range []*slot{h3, b1, b2} {
		a.settle(s, slotUnpaired)
	}
	// Only unpaired nodes left: the oldest of them makes room.
	admit("c")
	if !evicted(node) || evicted(op) {
		t.Fatalf("unpaired eviction: node %v", evicted(node))
	}
	total, unauth, _ := a.counts()
	if unauth > 4 || total > 6 {
		t.Fatalf("counts: total %d unauthenticated %d", total, unauth)
	}

	// Every socket authenticated and the total reached: the newcomer is
	// turned away, no one is closed.
	full := newAdmission(2, 1, 1)
	for range 2 {
		s := full.admit(pipeConn(t), "x")
		if err := full.settle(s, slotOperator); err != nil {
			t.Fatal(err)
		}
	}
	if s := full.admit(pipeConn(t), "x"); s != nil {
		t.Fatal("a newcomer got in over a total of authenticated sockets")
	}
}
