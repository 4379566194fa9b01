package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// fortyRequests is a queue longer than any pane: forty requests made over
// the last five minutes, listed newest first as a gateway lists them.
func fortyRequests() []protocol.PendingRequest {
	kinds := []string{"Kitchen Display", "build-box", "Porch Light", "Pixel", "Garage Pi"}
	platforms := []string{"android", "linux", "linux", "android", "linux"}
	reqs := make([]protocol.PendingRequest, 40)
	for i := range reqs {
		age := time.Duration(i)*7*time.Second + 3*time.Second
		reqs[i] = request(fmt.Sprintf("req-%02d", i), fmt.Sprintf("%s %02d", kinds[i%5], i), platforms[i%5],
			fmt.Sprintf("10.0.%d.%d", i%3, 10+i), age)
	}
	return reqs
}

// queueIDs lists the queue's request ids in display order.
func queueIDs(m Model) []string {
	var ids []string
	m.pending.list.Each(func(r pendingRow) { ids = append(ids, r.req.RequestID) })
	return ids
}

// The queue shows the requests about to expire first, whatever order the
// gateway lists them in; s cycles through time left, newest and name, and
// the header and the column titles say which is in force. The cursor stays
// on its request through every change of order.
func TestQueueIsSortedByTimeLeftAndSCyclesTheOrder(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests())) // newest first, as listed
	if got := queueIDs(m); !slices.Equal(got, []string{"req-kitchen", "req-build", "req-ipad"}) {
		t.Fatalf("default order %v, want soonest expiry first", got)
	}
	if !strings.Contains(m.tabs(), "by time left") || !strings.Contains(frameOf(m), "EXPIRES↑") {
		t.Errorf("the order is not shown:\n%s", frameOf(m))
	}
	if !m.keys.Sort.Enabled() {
		t.Error("s is not offered")
	}

	m = press(t, m, "j") // build-box-07
	steps := []struct {
		words, title string
		ids          []string
	}{
		{"newest first", "ASKED↑", []string{"req-ipad", "req-build", "req-kitchen"}},
		{"by name", "NAME↑", []string{"req-build", "req-kitchen", "req-ipad"}}, // case ignored: b, K, L
		{"by time left", "EXPIRES↑", []string{"req-kitchen", "req-build", "req-ipad"}},
	}
	for _, s := range steps {
		m = press(t, m, "s")
		if got := queueIDs(m); !slices.Equal(got, s.ids) {
			t.Errorf("%s: %v, want %v", s.words, got, s.ids)
		}
		if !strings.Contains(m.tabs(), s.words) || !strings.Contains(frameOf(m), s.title) {
			t.Errorf("%s: not shown:\n%s", s.words, frameOf(m))
		}
		if selectedID(m) != "req-build" {
			t.Errorf("%s: cursor on %q", s.words, selectedID(m))
		}
	}

	// The sorted column is never the one a narrow pane hides.
	m, _ = newModel(t, 60, 15)
	m = step(t, m, listed(threeRequests()))
	if strings.Contains(frameOf(m), "ASKED") {
		t.Fatalf("ASKED shows at 60 columns:\n%s", frameOf(m))
	}
	m = press(t, m, "s")
	if !strings.Contains(frameOf(m), "ASKED↑") {
		t.Errorf("sorted by newest, ASKED is hidden:\n%s", frameOf(m))
	}

	// One request (or none) has no order to show or change.
	m, _ = newModel(t, 80, 24)
	m = step(t, m, listed(threeRequests()[:1]))
	if m.keys.Sort.Enabled() || strings.Contains(m.tabs(), "by time left") {
		t.Errorf("a queue of one offers an order: %q", m.tabs())
	}
}

// Requests that carry no expiry come after those that do, the one waiting
// longest first; ties never depend on the order rows arrived in.
func TestTimeLeftOrderPutsRequestsWithoutExpiryLast(t *testing.T) {
	row := func(id string, age time.Duration, expiresIn time.Duration) pendingRow {
		r := pendingRow{req: protocol.PendingRequest{RequestID: id, TS: t0.Add(-age).UnixMilli()}}
		if expiresIn != 0 {
			r.expiresAt = t0.Add(expiresIn)
		}
		return r
	}
	rows := []pendingRow{
		row("none-new", time.Minute, 0),
		row("late", time.Minute, 4*time.Minute),
		row("none-old", 10*time.Minute, 0),
		row("soon-b", 3*time.Minute, time.Minute),
		row("soon-a", 3*time.Minute, time.Minute),
	}
	want := []string{"soon-a", "soon-b", "late", "none-old", "none-new"}
	for range 5 {
		slices.SortFunc(rows, byTimeLeft.compare)
		var got []string
		for _, r := range rows {
			got = append(got, r.req.RequestID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("by time left: %v, want %v", got, want)
		}
		rows = append(rows[1:], rows[0]) // another arrival order, the same result
	}
}

// A list longer than the pane says which part of it is in view.
func TestPositionShowsWhenTheListScrolls(t *testing.T) {
	m, _ := newModel(t, 60, 15)
	m = step(t, m, listed(fortyRequests()))
	if !strings.Contains(m.tabs(), "1–10 of 40") {
		t.Errorf("top: %q", m.tabs())
	}
	for range 11 {
		m = press(t, m, "j")
	}
	if !strings.Contains(m.tabs(), "3–12 of 40") {
		t.Errorf("after 11 rows down: %q", m.tabs())
	}
	m = press(t, m, "G")
	if !strings.Contains(m.tabs(), "31–40 of 40") {
		t.Errorf("bottom: %q", m.tabs())
	}
	// Filtered, it counts what the filter lets through (and the filter
	// comes first where there is not room for both).
	m = step(t, m, windowSize(80, 15))
	m = press(t, m, "/")
	m = typeText(t, m, "linux")
	m = press(t, m, "enter")
	if !strings.Contains(m.tabs(), "/linux 24 of 40 · 15–24 of 24") {
		t.Errorf("filtered: %q", m.tabs())
	}
	m = step(t, m, windowSize(60, 15))
	if !strings.HasSuffix(m.tabs(), "/linux 24 of 40") {
		t.Errorf("filtered, narrow: %q", m.tabs())
	}
	// A list that fits says nothing.
	m, _ = newModel(t, 60, 15)
	m = step(t, m, listed(threeRequests()))
	if strings.Contains(m.tabs(), " of ") {
		t.Errorf("a list that fits: %q", m.tabs())
	}
}

func TestGoldenLongQueue(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, withPaired(fortyRequests()))
	for range 20 {
		m = press(t, m, "j")
	}
	requireGolden(t, "long_queue", frameOf(m))
}

func TestGoldenLongQueueNarrow(t *testing.T) {
	m, _ := newModel(t, 60, 15)
	m = step(t, m, withPaired(fortyRequests()))
	for range 11 {
		m = press(t, m, "j")
	}
	requireGolden(t, "long_queue_60x15", frameOf(m))
}

func TestGoldenRequestsWithoutExpiry(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	old := request("req-old", "Office Printer", "linux", "10.0.0.2", 40*time.Minute)
	old.ExpiresAtMs = 0
	young := request("req-young", "Lobby Screen", "android", "10.0.0.3", time.Minute)
	young.ExpiresAtMs = 0
	m = step(t, m, withPaired(append([]protocol.PendingRequest{young, old}, threeRequests()...)))
	requireGolden(t, "no_expiry", frameOf(m))
}
