package store

import (
	"fmt"
	"testing"
	"time"
)

// Counts agrees with the lists, expired-but-unswept requests excluded.
func TestCountsMatchTheLists(t *testing.T) {
	s, clk := openTest(t, func(o *Options) { o.TTL = time.Minute })
	check := func(step string) {
		t.Helper()
		p, n := s.Counts()
		if p != len(s.Pending()) || n != len(s.Paired()) {
			t.Fatalf("%s: counts %d pending, %d paired; lists %d, %d", step, p, n, len(s.Pending()), len(s.Paired()))
		}
	}
	check("empty")
	for i := range 40 {
		mustRequest(t, s, RequestInput{NodeID: fmt.Sprintf("n%d", i)})
		clk.Add(time.Second)
	}
	check("requests")
	for i := range 5 {
		r, _ := s.PendingForNode(fmt.Sprintf("n%d", 10+i))
		mustApprove(t, s, r.RequestID)
	}
	check("approvals")
	for range 30 {
		clk.Add(time.Second) // one more request falls due each second, unswept
		check("expiring")
	}
}
