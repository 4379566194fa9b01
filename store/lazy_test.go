package store

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lastConnectedAtMs is not a decision: a node connecting does not rewrite
// paired.json. It shows at once, and reaches the disk with the next write
// of paired.json, after the delay, or at Close.
func TestMarkConnectedIsWrittenLazily(t *testing.T) {
	s, clk := openTest(t)
	s.lazyDelay = time.Hour // only the other two ways, here
	for i := range 3 {
		pairNode(t, s, fmt.Sprintf("n%d", i))
	}
	paired := filepath.Join(s.Dir(), pairedFile)
	before, commits := string(readFile(t, paired)), s.Stats().Commits

	clk.Add(time.Minute)
	for i := range 3 {
		if err := s.MarkConnected(ctx, fmt.Sprintf("n%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := string(readFile(t, paired)); got != before || s.Stats().Commits != commits {
		t.Fatal("a node connecting rewrote paired.json")
	}
	for _, n := range s.Paired() {
		if n.LastConnectedAtMs != clk.Ms() {
			t.Fatalf("memory: %s lastConnectedAtMs %d, want %d", n.NodeID, n.LastConnectedAtMs, clk.Ms())
		}
	}
	if got := string(s.AppendListJSON(nil)); strings.Count(got, fmt.Sprintf(`"lastConnectedAtMs":%d`, clk.Ms())) != 3 {
		t.Fatalf("list without the connections: %s", got)
	}
	// A pending-only change leaves it waiting; a write of paired.json
	// takes it along.
	mustRequest(t, s, RequestInput{NodeID: "other"})
	if got := string(readFile(t, paired)); got != before {
		t.Fatal("a pending-only change rewrote paired.json")
	}
	if err := s.Rename(ctx, operator, "n0", "renamed"); err != nil {
		t.Fatal(err)
	}
	for id, rec := range diskJSON(t, s, pairedFile) {
		if rec["lastConnectedAtMs"] != float64(clk.Ms()) {
			t.Fatalf("after a write of paired.json, %s on disk: %v", id, rec)
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
	for diskJSON(t, s, pairedFile)["n1"]["lastConnectedAtMs"] != float64(clk.Ms()) {
		if time.Now().After(deadline) {
			t.Fatal("lastConnectedAtMs never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
