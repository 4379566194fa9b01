package client

import (
	"context"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestSeqTracker(t *testing.T) {
	steps := []struct {
		seq uint64
		gap bool
	}{
		{0, false}, // an event without seq (a tick) is not counted
		{7, false}, // the first seq is the baseline, whatever it is
		{8, false},
		{0, false},
		{9, false},
		{11, true}, // 10 was missed
		{12, false},
		{12, true}, // a repeat is as suspicious as a gap
	}
	var s seqTracker
	for i, st := range steps {
		if got := s.observe(st.seq); got != st.gap {
			t.Errorf("step %d: observe(%d) = %v, want %v", i, st.seq, got, st.gap)
		}
	}
}

func TestSeqGapAsksForRelist(t *testing.T) {
	gw := newFakeGateway(t)
	gw.serve = func(ctx context.Context, s *fakeSession) {
		s.event(protocol.EventPairRequested, protocol.PendingRequest{RequestID: "r1"}, 1)
		s.event(protocol.EventTick, protocol.TickEvent{TS: 1}, 0)
		s.event(protocol.EventPairRequested, protocol.PendingRequest{RequestID: "r2"}, 2)
		s.event(protocol.EventPairResolved, protocol.ResolvedEvent{RequestID: "r4"}, 4) // 3 is lost
		s.event(protocol.EventNodeRenamed, protocol.RenamedEvent{NodeID: "n"}, 5)
		s.serveRequests(ctx, nil)
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var got []string
	for len(got) < 7 {
		u := nextUpdate(t, c)
		switch {
		case u.StateChanged:
			got = append(got, "state:"+u.State.String())
		case u.Relist:
			got = append(got, "relist")
		case u.Event != nil:
			got = append(got, u.Event.Event)
		}
	}
	want := []string{"state:connected", protocol.EventPairRequested, protocol.EventTick, protocol.EventPairRequested,
		protocol.EventPairResolved, "relist", protocol.EventNodeRenamed}
	if len(got) != len(want) {
		t.Fatalf("updates = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("updates = %v, want %v", got, want)
		}
	}
}

func TestSlowConsumerGetsRelistInsteadOfBlocking(t *testing.T) {
	const n = 3 * updateBuffer
	sent := make(chan struct{})
	gw := newFakeGateway(t)
	gw.serve = func(ctx context.Context, s *fakeSession) {
		for i := 1; i <= n; i++ {
			s.event(protocol.EventNodePresence, protocol.PresenceEvent{NodeID: "n"}, uint64(i))
		}
		close(sent)
		s.serveRequests(ctx, nil)
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-sent
	// The read loop was never blocked: a call still gets through while
	// nobody drains Updates.
	if err := c.Call(testCtx(t), "ping", nil, nil); err != nil {
		t.Fatalf("call while updates are backed up: %v", err)
	}
	relist, count := false, 0
	for {
		select {
		case u := <-c.Updates():
			count++
			relist = relist || u.Relist
			continue
		case <-time.After(100 * time.Millisecond):
		}
		break
	}
	if !relist {
		t.Errorf("no Relist after overflowing the buffer")
	}
	if count > updateBuffer {
		t.Errorf("drained %d updates from a buffer of %d", count, updateBuffer)
	}
}
