package tui

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
)

// Both of pairdeck's backends read history.
var _ HistoryBackend = (*gateway.LocalOperator)(nil)

// fileAndReject has op file a request for a node and reject it: two
// events in the gateway's history.
func fileAndReject(t *testing.T, op *gateway.LocalOperator, name string) string {
	t.Helper()
	ctx := context.Background()
	r, err := op.Request(ctx, protocol.PairRequestParams{NodeID: nodeID(name), NodeMeta: protocol.NodeMeta{DisplayName: name}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Reject(ctx, r.Request.RequestID); err != nil {
		t.Fatal(err)
	}
	return r.Request.RequestID
}

// activityKeys are the entries' idents, newest first, and whether any
// shows twice.
func activityIdents(m Model) (idents []string, dup string) {
	seen := map[string]bool{}
	m.activity.list.Each(func(e activityEntry) {
		id := e.ident()
		if seen[id] && dup == "" {
			dup = fmt.Sprintf("%s %s %s", e.kind.label(), e.name, e.requestID)
		}
		seen[id] = true
		idents = append(idents, id)
	})
	return idents, dup
}

// The console opens on what happened before it started, newest first and
// with the actor as the live entries show it, and reads older pages when
// the cursor reaches the bottom.
func TestActivityReadsHistoryAtStartAndPagesBack(t *testing.T) {
	gw := startGateway(t)
	other := gw.g.Local(protocol.Actor{ClientID: "cli", Role: protocol.RoleOperator})
	t.Cleanup(other.Close)
	for i := range 60 {
		fileAndReject(t, other, fmt.Sprintf("node-%02d", i)) // 120 events
	}

	op := gw.g.Local(protocol.Actor{ClientID: "console", Role: protocol.RoleOperator})
	t.Cleanup(op.Close)
	s := console(t, op, Options{Endpoint: "embedded · test"})
	s.press("tab", "tab")
	// A page of 100: the position says more can be read.
	s.wait(t, "rejected", "node-59", "cli (operator)", "1–19 of 100+")

	// A live event goes on top of what was read.
	fileAndReject(t, other, "node-live")
	s.wait(t, "node-live")

	s.mark()
	s.press("G")
	s.wait(t, "of 122") // 100 + 20 older + the live two; no "+": nothing older
	s.press("G")
	m := s.final(t)
	idents, dup := activityIdents(m)
	if dup != "" || len(idents) != 122 {
		t.Fatalf("activity holds %d entries (a duplicate: %q), want 122", len(idents), dup)
	}
	var names []string
	m.activity.list.Each(func(e activityEntry) { names = append(names, e.kind.label()+" "+e.name) })
	if names[0] != "✗ rejected node-live" || names[2] != "✗ rejected node-59" || names[121] != glyphRequested+" requested node-00" {
		t.Errorf("order: %q … %q … %q", names[0], names[2], names[121])
	}
	first, _ := m.activity.list.Get(m.activity.list.rows[2].v.key())
	if first.actor != "cli (operator)" || first.cursor == "" || first.seq != 0 {
		t.Errorf("an entry read from history: %+v", first)
	}
	req := m.activity.list.rows[121].v
	if req.actor != "cli (operator)" {
		t.Errorf("a request an operator filed is by the operator: %+v", req)
	}
}

// flakyLink is the embedded backend behind a link the test can cut: while
// it is down, events are lost, as they are for a remote console whose
// connection dropped.
type flakyLink struct {
	*gateway.LocalOperator
	out  chan protocol.Update
	mu   sync.Mutex
	down bool
	// passed and lost count the events let through and dropped.
	passed, lost int
}

func newFlakyLink(lo *gateway.LocalOperator) *flakyLink {
	f := &flakyLink{LocalOperator: lo, out: make(chan protocol.Update, 64)}
	go func() {
		defer close(f.out)
		for u := range lo.Updates() {
			f.mu.Lock()
			down := f.down
			if u.Event != nil && down {
				f.lost++
			} else if u.Event != nil {
				f.passed++
			}
			f.mu.Unlock()
			if !down || u.StateChanged {
				f.out <- u
			}
		}
	}()
	return f
}

func (f *flakyLink) Updates() <-chan protocol.Update { return f.out }

// waitEvents waits until the link has let through and dropped that many
// events: they are then past it, shown or lost.
func (f *flakyLink) waitEvents(t *testing.T, passed, lost int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		p, l := f.passed, f.lost
		f.mu.Unlock()
		if p >= passed && l >= lost {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the link passed %d and dropped %d events, want %d and %d", p, l, passed, lost)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *flakyLink) set(up bool) {
	f.mu.Lock()
	f.down = !up
	f.mu.Unlock()
	state := protocol.Disconnected
	if up {
		state = protocol.Connected
	}
	f.out <- protocol.Update{StateChanged: true, State: state, Relist: up}
}

// After the link comes back, Activity reads what it missed, between what it
// saw before and after; nothing it saw live shows twice.
func TestActivityReadsWhatItMissedWhileTheLinkWasDown(t *testing.T) {
	gw := startGateway(t)
	other := gw.g.Local(protocol.Actor{ClientID: "cli", Role: protocol.RoleOperator})
	t.Cleanup(other.Close)
	fileAndReject(t, other, "before-start")

	lo := gw.g.Local(protocol.Actor{ClientID: "console", Role: protocol.RoleOperator})
	t.Cleanup(lo.Close)
	link := newFlakyLink(lo)
	s := console(t, link, Options{Endpoint: "embedded · test"})
	s.press("tab", "tab")
	s.wait(t, "before-start")

	fileAndReject(t, other, "seen-live")
	link.waitEvents(t, 2, 0)
	s.wait(t, "seen-live")
	link.set(false)
	fileAndReject(t, other, "missed")
	link.waitEvents(t, 2, 2)
	link.set(true)
	s.wait(t, "missed")
	fileAndReject(t, other, "after")
	s.waitRE(t, `rejected +after `)
	// A second loss with nothing missed reads nothing new.
	link.set(false)
	link.set(true)
	fileAndReject(t, other, "last")
	s.waitRE(t, `rejected +last `)

	m := s.final(t)
	idents, dup := activityIdents(m)
	if dup != "" || len(idents) != 10 {
		t.Fatalf("activity holds %d entries (a duplicate: %q), want 10", len(idents), dup)
	}
	var order []string
	m.activity.list.Each(func(e activityEntry) {
		if e.kind == actRejected {
			order = append(order, e.name)
		}
		if e.cursor == "" && e.name != "last" {
			t.Errorf("entry %s %s never matched with the log", e.kind.label(), e.name)
		}
	})
	if got := strings.Join(order, " "); got != "last after missed seen-live before-start" {
		t.Errorf("rejections newest first: %q", got)
	}
}

// A gateway that keeps no history (OpenClaw's) leaves Activity to what
// happens from now on, and says so when it is empty.
func TestActivityWithoutHistorySaysSo(t *testing.T) {
	m, _ := newModel(t, 100, 24)
	m.activity.history.loading = true
	m = step(t, m, historyMsg{load: loadFirst, err: protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownMethod, "unknown method: pairdeck.history.list")})
	m = press(t, m, "tab", "tab")
	if f := frameOf(m); !strings.Contains(f, "keeps no history") || strings.Contains(f, "Could not read") {
		t.Errorf("frame:\n%s", f)
	}
}

// waitRE waits until a frame since the last mark has a match for re.
func (s *screen) waitRE(t *testing.T, re string) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(10 * time.Second)
	for {
		seen, _ := s.frames.since(s.from)
		if rx.MatchString(seen) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console never showed /%s/; it drew:\n%s", re, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
