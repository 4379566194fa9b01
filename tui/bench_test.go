package tui

import (
	"fmt"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"

	"github.com/pairdeck/pairdeck/protocol"
)

// manyRequests builds n pending requests, newest first.
func manyRequests(n int) []protocol.PendingRequest {
	reqs := make([]protocol.PendingRequest, n)
	for i := range reqs {
		reqs[i] = request(fmt.Sprintf("req-%05d", i), fmt.Sprintf("node %05d", i), "linux",
			fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), time.Duration(i)*10*time.Millisecond)
	}
	return reqs
}

// A frame costs the same for ten rows or ten thousand: only the rows in
// the window are drawn. Colour is on (true colour), the costlier case.
func BenchmarkViewPending10k(b *testing.B) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: colorprofile.TrueColor})
	m = step(b, m, windowSize(80, 24))
	m = step(b, m, listed(manyRequests(10000)))
	m = press(b, m, "pgdown", "pgdown", "space")
	if m.pending.list.Len() != 10000 {
		b.Fatalf("rows %d", m.pending.list.Len())
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = frameOf(m)
	}
}

func TestViewDoesNotScaleWithTheQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	frame := func(n int) time.Duration {
		m, _ := newModel(t, 80, 24)
		m = step(t, m, listed(manyRequests(n)))
		best := time.Hour
		for range 20 {
			start := time.Now()
			_ = frameOf(m)
			best = min(best, time.Since(start))
		}
		return best
	}
	small, large := frame(20), frame(10000)
	// Generous: the race detector and a busy machine add noise, but a
	// frame that walked every row would be hundreds of times slower.
	if large > 10*small+time.Millisecond {
		t.Errorf("frame with 10000 rows took %v; with 20, %v", large, small)
	}
}
