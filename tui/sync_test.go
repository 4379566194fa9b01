package tui

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func ids(queue []*protocol.PendingRequest) []string {
	out := make([]string, len(queue))
	for i, r := range queue {
		out[i] = r.RequestID
	}
	return out
}

func gatewayExpiry(req protocol.PendingRequest) time.Time { return expiresAt(req) }

func TestSyncListsOneAtATimeAndQueuesOneMore(t *testing.T) {
	s := newSyncState()
	if !s.startList() {
		t.Fatal("the first list does not start")
	}
	for range 5 {
		if s.startList() {
			t.Fatal("a second list started while one is in flight")
		}
	}
	if again := s.listAnswered(nil, t0); !again || !s.loaded || s.listing {
		t.Fatalf("answer: again=%v loaded=%v listing=%v", again, s.loaded, s.listing)
	}
	if !s.startList() || s.again {
		t.Fatal("the queued list starts once the first answered, and only one")
	}
	if again := s.listAnswered(nil, t0); again {
		t.Fatal("nothing more was asked for")
	}
}

func TestSyncRetriesAFailedListOnce(t *testing.T) {
	s := newSyncState()
	s.startList()
	s.listAnswered(errors.New("connection refused"), t0)
	if s.loaded {
		t.Error("a failed list is not a loaded queue")
	}
	if s.retryDue(t0.Add(retryAfter - time.Millisecond)) {
		t.Error("retry before its time")
	}
	if !s.retryDue(t0.Add(retryAfter)) || s.retryDue(t0.Add(2*retryAfter)) {
		t.Error("the retry is due once, at its time")
	}
	s.startList()
	s.listAnswered(errors.New("again"), t0)
	s.startList()
	s.listAnswered(nil, t0.Add(time.Second))
	if s.retryDue(t0.Add(time.Hour)) {
		t.Error("a list that worked cancels the retry")
	}
}

func TestSyncMergeKeepsWhatEventsOvertook(t *testing.T) {
	reqs := threeRequests()
	s := newSyncState()
	s.startList()
	// While the list is in flight: a request arrives, one is decided.
	late := request("req-new", "Garage Pi", "linux", "10.0.4.30", 0)
	s.announced(late)
	s.decide("req-build", t0)
	s.listAnswered(nil, t0)
	got := ids(s.merge(reqs, t0))
	if want := []string{"req-new", "req-ipad", "req-kitchen"}; !slices.Equal(got, want) {
		t.Fatalf("merged %v, want %v", got, want)
	}
	// Announced and also listed: once.
	s.startList()
	s.announced(reqs[0])
	s.listAnswered(nil, t0)
	if got := ids(s.merge(reqs, t0)); !slices.Equal(got, []string{"req-ipad", "req-kitchen"}) {
		t.Errorf("merged %v", got)
	}
	// Announced outside a list: not carried into the next one.
	s.announced(late)
	s.startList()
	s.listAnswered(nil, t0)
	if got := ids(s.merge(nil, t0)); len(got) != 0 {
		t.Errorf("merged %v from an empty list", got)
	}
}

func TestSyncMergeDropsRequestsPastTheirGrace(t *testing.T) {
	s := newSyncState()
	reqs := threeRequests() // the kitchen display expires at t0+30s
	at := t0.Add(30*time.Second + expiryGrace)
	if got := ids(s.merge(reqs, at.Add(-time.Millisecond))); len(got) != 3 {
		t.Errorf("within the grace: %v", got)
	}
	if got := ids(s.merge(reqs, at)); slices.Contains(got, "req-kitchen") {
		t.Errorf("past the grace: %v", got)
	}
}

func TestSyncARequestRefreshedAfterLocalExpiryIsLiveAgain(t *testing.T) {
	s := newSyncState()
	kitchen := threeRequests()[2]
	exp := gatewayExpiry(kitchen)
	s.droppedAsExpired(kitchen.RequestID, exp)
	s.decide(kitchen.RequestID, exp)
	if got := ids(s.merge([]protocol.PendingRequest{kitchen}, exp)); len(got) != 0 {
		t.Fatalf("the same request, same expiry, came back: %v", got)
	}
	refreshed := kitchen
	refreshed.ExpiresAtMs = exp.Add(protocol.DefaultTTL).UnixMilli()
	if got := ids(s.merge([]protocol.PendingRequest{refreshed}, exp)); !slices.Equal(got, []string{kitchen.RequestID}) {
		t.Fatalf("refreshed by its node: %v", got)
	}
	if s.isDecided(kitchen.RequestID) {
		t.Error("a live request is not decided")
	}
}

func TestSyncEchoesAreRecognisedThenForgotten(t *testing.T) {
	s := newSyncState()
	renamed := happening{kind: hapRenamed, id: "node-1", detail: "Den iPad"}
	if !s.first(renamed, t0) || s.first(renamed, t0) {
		t.Fatal("a rename is news once")
	}
	if !s.first(happening{kind: hapRenamed, id: "node-1", detail: "Hall iPad"}, t0) {
		t.Error("another name is another rename")
	}
	if !s.first(happening{kind: hapRemoved, id: "node-1"}, t0) {
		t.Error("kinds do not collide")
	}
	s.decide("req-1", t0)
	s.droppedAsExpired("req-2", t0)
	s.decide("req-2", t0)

	s.prune(t0.Add(echoFor))
	if !s.recent(renamed) {
		t.Error("forgotten too soon")
	}
	s.prune(t0.Add(echoFor + time.Millisecond))
	if s.recent(renamed) || !s.isDecided("req-1") {
		t.Error("echoes last echoFor, decisions longer")
	}
	s.prune(t0.Add(decidedFor + time.Millisecond))
	if s.isDecided("req-1") || len(s.expiredHere) != 0 || len(s.seen) != 0 {
		t.Errorf("after decidedFor: seen %v, expired here %v", s.seen, s.expiredHere)
	}
}

func TestSyncReportsANodeListFailureOnce(t *testing.T) {
	s := newSyncState()
	boom := errors.New("boom")
	if !s.nodesFailed(boom) || s.nodesFailed(boom) {
		t.Error("the same failure twice is news once")
	}
	if !s.nodesFailed(errors.New("other")) {
		t.Error("a new failure is news")
	}
	if s.nodesFailed(nil) || !s.nodesFailed(boom) {
		t.Error("after a success, the old failure is news again")
	}
}
