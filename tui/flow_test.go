package tui

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// Flows through a real gateway on a real store: the console in a Bubble
// Tea program (teatest), nodes over loopback WebSocket.

// Both backends the console runs on.
var (
	_ PolicyBackend = (*gateway.LocalOperator)(nil)
	_ PolicyBackend = (*client.Client)(nil)
)

const flowToken = "flow-operator-token"

// liveGateway is a gateway on a store in a temp dir, served on loopback.
type liveGateway struct {
	g        *gateway.Gateway
	url      string
	stateDir string
}

func startGateway(t *testing.T) *liveGateway {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(store.Options{StateDir: dir})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	g, err := gateway.New(gateway.Config{
		Store: st, OperatorToken: flowToken, TickInterval: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
		srv.Close()
		_ = st.Close()
	})
	return &liveGateway{g: g, url: "ws" + strings.TrimPrefix(srv.URL, "http"), stateDir: dir}
}

// screen is a console running in a test program, and every frame it has
// drawn so far. A string is looked for in all the frames since the last
// mark, not only in the latest: a flash may come and go between two looks.
type screen struct {
	tm     *teatest.TestModel
	frames *frames
	from   int
}

// frames is every frame a recorded console drew, as text.
type frames struct {
	mu  sync.Mutex
	all []string
}

func (f *frames) add(frame string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.all = append(f.all, frame)
}

func (f *frames) since(i int) (seen string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.all[min(i, len(f.all)):], "\n"), len(f.all)
}

// from is the frames since i, starting at the first that shows marker
// ("" when none does).
func (f *frames) from(i int, marker string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for j := min(i, len(f.all)); j < len(f.all); j++ {
		if strings.Contains(f.all[j], marker) {
			return strings.Join(f.all[j:], "\n")
		}
	}
	return ""
}

// recorded is the console as the program runs it, keeping each frame.
type recorded struct {
	Model
	frames *frames
}

func (r recorded) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	next, cmd := r.Model.Update(msg)
	return recorded{Model: next.(Model), frames: r.frames}, cmd
}

func (r recorded) View() tea.View {
	v := r.Model.View()
	r.frames.add(v.Content)
	return v
}

// console runs the console on b in a test program.
func console(t *testing.T, b Backend, opts Options) *screen {
	t.Helper()
	opts.Theme = "dark"
	opts.ColorProfile = plain
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	f := &frames{}
	tm := teatest.NewTestModel(t, recorded{Model: New(b, opts), frames: f}, teatest.WithInitialTermSize(100, 24))
	t.Cleanup(func() { _ = tm.Quit() })
	return &screen{tm: tm, frames: f}
}

// mark forgets the frames so far: later waits look only at what follows.
func (s *screen) mark() {
	_, s.from = s.frames.since(s.from)
}

// wait waits until the frames since the last mark show all of want.
func (s *screen) wait(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		seen, _ := s.frames.since(s.from)
		missing := ""
		for _, w := range want {
			if !strings.Contains(seen, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the console never showed %q; it drew:\n%s", missing, seen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// decide presses a decision key on a request the frames already show,
// and waits until want shows. A key decides only a request that has been
// in view for minOnScreen; the request was drawn before this is called,
// so that much time from now is the condition itself, not a guess.
func (s *screen) decide(t *testing.T, key string, want ...string) {
	t.Helper()
	time.Sleep(minOnScreen)
	s.mark()
	s.press(key)
	s.wait(t, want...)
}

// press sends keys the way a terminal would.
func (s *screen) press(keys ...string) {
	for _, k := range keys {
		s.tm.Send(keyMsg(k))
	}
}

func (s *screen) final(t *testing.T) Model {
	t.Helper()
	s.press("ctrl+c") // q would not do: a dialog may hold the keys
	return s.tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(recorded).Model
}

// pairNode starts a node that asks to pair over WebSocket and waits for the
// decision; the outcome arrives on the returned channel.
func pairNode(t *testing.T, url, name string) (<-chan client.PairOutcome, <-chan error, *client.Identity) {
	t.Helper()
	id, err := client.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	outc, errc := make(chan client.PairOutcome, 1), make(chan error, 1)
	go func() {
		out, err := client.Pair(ctx, client.Config{URL: url, Identity: id},
			protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: name, Platform: "ios"}})
		if err != nil {
			errc <- err
			return
		}
		outc <- out
	}()
	return outc, errc, id
}

func TestFlowEmbeddedApproveDeliversTheTokenToTheWaitingNode(t *testing.T) {
	gw := startGateway(t)
	op := gw.g.Local(store.Actor{ClientID: "console", Role: "operator"})
	t.Cleanup(op.Close)
	tm := console(t, op, Options{Endpoint: "embedded · test"})
	tm.wait(t, "No pending requests")

	outc, errc, id := pairNode(t, gw.url, "Flow iPad")
	nodeID := id.DeviceID
	go func() {
		select {
		case err := <-errc:
			t.Errorf("node: %v", err)
		case <-time.After(3 * time.Second):
		}
	}()
	tm.wait(t, "Flow iPad", protocol.Fingerprint(nodeID))

	tm.decide(t, "a", "Approved Flow iPad — the node received its token.")

	var out client.PairOutcome
	select {
	case out = <-outc:
	case err := <-errc:
		t.Fatalf("node: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the node never heard of its approval")
	}
	if out.Decision != protocol.DecisionApproved || out.Token == "" {
		t.Fatalf("node outcome: %+v", out)
	}
	ok, err := op.Verify(context.Background(), nodeID, out.Token)
	if err != nil || !ok.OK {
		t.Fatalf("the token the node received does not verify: %+v %v", ok, err)
	}

	tm.wait(t, "Paired 1")
	m := tm.final(t)
	if m.pending.list.Len() != 0 || m.paired.list.Len() != 1 || len(m.tokens) != 0 {
		t.Errorf("after approval: %d pending, %d paired, %d tokens to show",
			m.pending.list.Len(), m.paired.list.Len(), len(m.tokens))
	}
	e, _ := m.activity.list.Get("2") // requested is 1, the decision 2
	if e.kind != actApproved {
		t.Errorf("activity: %+v", e)
	}
}

func TestFlowEmbeddedApproveWithoutASocketShowsTheTokenOnce(t *testing.T) {
	gw := startGateway(t)
	op := gw.g.Local(store.Actor{ClientID: "console", Role: "operator"})
	t.Cleanup(op.Close)
	tm := console(t, op, Options{Endpoint: "embedded · test"})
	tm.wait(t, "No pending requests")

	// An operator files the request on a node's behalf: nobody waits on a
	// socket for the token.
	nodeID := nodeID("Headless Box")
	if _, err := op.Request(context.Background(), protocol.PairRequestParams{
		NodeID: nodeID, NodeMeta: protocol.NodeMeta{DisplayName: "Headless Box", Platform: "linux", RemoteIP: "10.1.2.3"}}); err != nil {
		t.Fatal(err)
	}
	tm.wait(t, "Headless Box", "10.1.2.3")
	tm.decide(t, "a", "Token for Headless Box", "It will not be shown again.")

	m := tm.final(t)
	if len(m.tokens) != 1 {
		t.Fatalf("tokens to show: %d", len(m.tokens))
	}
	ok, err := op.Verify(context.Background(), nodeID, m.tokens[0].token)
	if err != nil || !ok.OK {
		t.Errorf("the token shown does not verify: %+v %v", ok, err)
	}
}

func TestFlowEmbeddedRejectAndRename(t *testing.T) {
	gw := startGateway(t)
	op := gw.g.Local(store.Actor{ClientID: "console", Role: "operator"})
	t.Cleanup(op.Close)
	tm := console(t, op, Options{Endpoint: "embedded · test"})
	tm.wait(t, "No pending requests")

	ctx := context.Background()
	for _, name := range []string{"Porch Light", "Attic Fan"} {
		if _, err := op.Request(ctx, protocol.PairRequestParams{NodeID: nodeID(name), NodeMeta: protocol.NodeMeta{DisplayName: name}}); err != nil {
			t.Fatal(err)
		}
	}
	tm.wait(t, "Porch Light", "Attic Fan", "Pending 2")

	// The first request took the cursor and kept it when the second
	// arrived above it.
	// The embedded gateway keeps a reason: the console asks for one.
	tm.decide(t, "r", "reject Porch Light, reason (optional) ›")
	tm.decide(t, "enter", "Rejected Porch Light.", "Pending 1")

	tm.mark()
	tm.press("n")
	tm.wait(t, "rename "+protocol.Fingerprint(nodeID("Attic Fan")))
	for range len("Attic Fan") {
		tm.press("backspace")
	}
	tm.tm.Type("Loft Fan")
	tm.press("enter")
	tm.wait(t, "Renamed to “Loft Fan”.")

	list, err := op.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Pending) != 1 || list.Pending[0].DisplayName != "Loft Fan" {
		t.Errorf("gateway's queue after reject and rename: %+v", list.Pending)
	}
	m := tm.final(t)
	if r, ok := m.pending.Selected(); !ok || r.req.DisplayName != "Loft Fan" {
		t.Errorf("console row: %+v", r.req)
	}
	var kinds []activityKind
	m.activity.list.Each(func(e activityEntry) { kinds = append(kinds, e.kind) })
	want := []activityKind{actRenamed, actRejected, actRequested, actRequested}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("activity %v, want %v", kinds, want)
	}
}

func TestFlowRemoteConsoleOverWebSocket(t *testing.T) {
	gw := startGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: gw.url, Token: flowToken, Reconnect: true})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	tm := console(t, c, Options{Remote: true, Endpoint: gw.url})
	tm.wait(t, "No pending requests", "● connected")

	outc, errc, id := pairNode(t, gw.url, "Remote Tablet")
	tm.wait(t, "Remote Tablet")
	tm.decide(t, "a", "Approved Remote Tablet — the node received its token.")
	var out client.PairOutcome
	select {
	case out = <-outc:
	case err := <-errc:
		t.Fatalf("node: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the node never heard of its approval")
	}
	tm.wait(t, "Paired 1")
	tm.mark()
	tm.press("tab")
	tm.wait(t, "[Paired 1]", "Remote Tablet", "○ offline") // Pair hung up once it had its token

	// The node comes back with its token: the console sees it arrive.
	tm.mark()
	nc, err := client.ConnectNode(ctx, client.Config{URL: gw.url, Identity: id}, out.State)
	if err != nil {
		t.Fatalf("node reconnect: %v", err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	tm.wait(t, "● online")
	tm.final(t)
}
