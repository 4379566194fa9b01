package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func refusalLines(t *testing.T, s *Store) []protocol.HistoryEvent {
	t.Helper()
	page, err := s.History(protocol.HistoryQuery{Actions: []string{"token-refused"}})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

// Refusals cost no write each: one line per kind, node and address per
// window, with a count.
func TestRefusalsAreCountedNotWrittenOneByOne(t *testing.T) {
	setVar(t, &refusalWindow, 100*time.Millisecond)
	s, clk := openTest(t)
	pairNode(t, s, "n1")
	before := s.Stats()
	for i := range 500 {
		a := node
		a.RemoteAddr = fmt.Sprintf("10.0.0.1:%d", 40000+i)
		if err := s.AuditRefusal(a, "token-refused", "n1"); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			clk.Add(time.Second)
		}
	}
	other := node
	other.RemoteAddr = "[2001:db8::1]:5000"
	for range 3 {
		s.AuditRefusal(other, "token-refused", "n2")
	}
	if st := s.Stats(); st.Commits != before.Commits || st.Syncs != before.Syncs {
		t.Fatalf("refusals were written one by one: %+v -> %+v", before, st)
	}
	deadline := time.Now().Add(10 * time.Second)
	var lines []protocol.HistoryEvent
	for len(lines) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("refusal counts never written: %+v", lines)
		}
		time.Sleep(10 * time.Millisecond)
		lines = refusalLines(t, s)
	}
	if len(lines) != 2 {
		t.Fatalf("lines %+v", lines)
	}
	byNode := map[string]protocol.HistoryEvent{}
	for _, l := range lines {
		byNode[l.NodeID] = l
	}
	n1, n2 := byNode["n1"], byNode["n2"]
	if n1.Count != 500 || n1.Actor.RemoteAddr != "10.0.0.1" || n1.LastTS-n1.FirstTS != 1000 || n1.Actor.Role != "node" {
		t.Fatalf("n1's count: %+v", n1)
	}
	if n2.Count != 3 || n2.Actor.RemoteAddr != "2001:db8::1" {
		t.Fatalf("n2's count: %+v", n2)
	}
	if st := s.Stats(); st.Commits-before.Commits > 2 {
		t.Fatalf("%d commits for 503 refusals in two windows, want at most one per window", st.Commits-before.Commits)
	}
}

func TestRefusalCountsBeyondTheCapShareOne(t *testing.T) {
	setVar(t, &maxRefusalKeys, 2)
	setVar(t, &refusalWindow, time.Hour)
	s, clk := openTest(t)
	for i := range 10 {
		a := node
		a.RemoteAddr = fmt.Sprintf("10.0.0.%d:1", i)
		s.AuditRefusal(a, "token-refused", fmt.Sprintf("n%d", i))
	}
	// Close writes the open windows.
	s = reopen(t, s, clk)
	lines := refusalLines(t, s)
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 2 counts and one for the others: %+v", len(lines), lines)
	}
	var others protocol.HistoryEvent
	for _, l := range lines {
		if l.NodeID == "" {
			others = l
		}
	}
	if others.Count != 8 || string(others.Fields["others"]) != "true" || others.Actor.RemoteAddr != "" {
		t.Fatalf("the others' count: %+v", others)
	}
	if err := s.AuditRefusal(node, "has space", "n1"); err == nil {
		t.Fatal("a bad action was accepted")
	}
}
