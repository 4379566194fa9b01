package store

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// lastConnectedAtMs is not a decision: a node connecting commits nothing
// of its own. It shows at once, and reaches the journal with the next
// commit of any change, after the delay, or at Close.
func TestMarkConnectedIsWrittenLazily(t *testing.T) {
	s, clk := openTest(t)
	s.lazyDelay = time.Hour // only the other two ways, here
	for i := range 3 {
		pairNode(t, s, fmt.Sprintf("n%d", i))
	}
	commits, journal := s.Stats().Commits, s.Stats().JournalBytes

	clk.Add(time.Minute)
	for i := range 3 {
		if err := s.MarkConnected(ctx, fmt.Sprintf("n%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Commits != commits || st.JournalBytes != journal {
		t.Fatal("a node connecting made a commit of its own")
	}
	for _, n := range s.Paired() {
		if n.LastConnectedAtMs != clk.Ms() {
			t.Fatalf("memory: %s lastConnectedAtMs %d, want %d", n.NodeID, n.LastConnectedAtMs, clk.Ms())
		}
	}
	if got := string(s.AppendListJSON(nil)); strings.Count(got, fmt.Sprintf(`"lastConnectedAtMs":%d`, clk.Ms())) != 3 {
		t.Fatalf("list without the connections: %s", got)
	}
	for id, e := range durable(t, s).paired.byNode {
		if e.rec.LastConnectedAtMs == clk.Ms() {
			t.Fatalf("%s's connection is durable before any commit", id)
		}
	}
	// Any change takes them along.
	mustRequest(t, s, RequestInput{NodeID: "other"})
	for id, e := range durable(t, s).paired.byNode {
		if e.rec.LastConnectedAtMs != clk.Ms() {
			t.Fatalf("after the next commit, %s is durable with lastConnectedAtMs %d", id, e.rec.LastConnectedAtMs)
		}
	}

	// Close writes what waits.
	clk.Add(time.Minute)
	if err := s.MarkConnected(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, clk)
	if n, _ := s.PairedNode("n1"); n.LastConnectedAtMs != clk.Ms() {
		t.Fatalf("after Close and Open: %+v", n)
	}
}

func TestMarkConnectedIsWrittenWithinTheDelay(t *testing.T) {
	s, clk := openTest(t)
	s.lazyDelay = 20 * time.Millisecond
	pairNode(t, s, "n1")
	clk.Add(time.Minute)
	if err := s.MarkConnected(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for durable(t, s).paired.byNode["n1"].rec.LastConnectedAtMs != clk.Ms() {
		if time.Now().After(deadline) {
			t.Fatal("lastConnectedAtMs never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
