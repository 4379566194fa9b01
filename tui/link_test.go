package tui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

func linkState(s protocol.ConnState, err error, retryAt time.Time) updateMsg {
	return updateMsg{update: protocol.Update{StateChanged: true, State: s, Err: err, RetryAt: retryAt}}
}

// While the link is down the console says when it tries again, counting
// down on its clock, and does not claim to know the pairing switch: it may
// have changed meanwhile. Once the gateway says again, it is known again.
func TestDisconnectedConsoleCountsDownAndKnowsNotThePairing(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain, Remote: true, Endpoint: "ws://127.0.0.1:41020"})
	m = step(t, m, windowSize(80, 24))
	m = step(t, m, linkState(protocol.Connected, nil, time.Time{}))
	m = step(t, m, withPolicy(true))
	if h := m.header(); !strings.Contains(h, "● pairing on") || !strings.Contains(h, "● connected") {
		t.Fatalf("connected: %q", h)
	}

	refused := errors.New("connection refused")
	m = step(t, m, linkState(protocol.Disconnected, refused, t0.Add(4*time.Second+300*time.Millisecond)))
	h := m.header()
	for _, want := range []string{"? pairing unknown", "✗ disconnected (retry in 5s)"} {
		if !strings.Contains(h, want) {
			t.Errorf("disconnected: header %q lacks %q", h, want)
		}
	}
	// Why, where there is room; always in the messages.
	if wide := step(t, m, windowSize(120, 24)); !strings.Contains(wide.header(), "✗ disconnected (retry in 5s): connection refused") {
		t.Errorf("at 120 columns: %q", wide.header())
	}
	if last := m.messages[len(m.messages)-1]; last.text != "Gateway link: connection refused" {
		t.Errorf("messages: %+v", m.messages)
	}
	if strings.Contains(h, "pairing on") || m.keys.TogglePairing.Enabled() {
		t.Errorf("a stale switch is shown or offered: %q", h)
	}
	requireGolden(t, "remote_disconnected", frameOf(m))

	c.Advance(2 * time.Second)
	m = step(t, m, tickMsg{})
	if h := m.header(); !strings.Contains(h, "(retry in 3s)") {
		t.Errorf("2 s later: %q", h)
	}
	c.Advance(3 * time.Second)
	m = step(t, m, tickMsg{})
	if h := m.header(); !strings.Contains(h, "(retrying)") {
		t.Errorf("at the retry: %q", h)
	}
	m = step(t, m, linkState(protocol.Connecting, nil, time.Time{}))
	if h := m.header(); !strings.Contains(h, "◌ reconnecting…") || !strings.Contains(h, "? pairing unknown") {
		t.Errorf("reconnecting: %q", h)
	}
	// Back: the link is up, but the switch is known only once listed.
	m = step(t, m, linkState(protocol.Connected, nil, time.Time{}))
	if h := m.header(); !strings.Contains(h, "? pairing unknown") || !strings.Contains(h, "● connected") {
		t.Errorf("reconnected, before the list: %q", h)
	}
	m = step(t, m, withPolicy(false))
	if h := m.header(); !strings.Contains(h, "⊘ pairing off") || strings.Contains(h, "unknown") || !m.keys.TogglePairing.Enabled() {
		t.Errorf("listed again: %q", h)
	}

	// An empty queue does not say pairing is off while that is not known.
	m = step(t, m, emptyPolicy(false))
	m = step(t, m, linkState(protocol.Disconnected, refused, time.Time{}))
	if f := frameOf(m); strings.Contains(f, "pairing is off") {
		t.Errorf("an unknown switch is described:\n%s", f)
	}
}

// servedGateway is a gateway on the store in dir, served on a loopback
// port of its own; stop shuts it down and releases the store.
type servedGateway struct {
	url  string
	stop func()
}

func serveGateway(t *testing.T, dir string) *servedGateway {
	t.Helper()
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
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = g.Shutdown(ctx)
			srv.Close()
			_ = st.Close()
		})
	}
	t.Cleanup(stop)
	return &servedGateway{url: "ws" + strings.TrimPrefix(srv.URL, "http"), stop: stop}
}

// A remote console attached to the gateway of a state dir finds it again
// when it restarts on another port (the CLI's FollowURL reads gateway.json;
// here the test says where it went): it counts down to each retry, does
// not claim to know the switch meanwhile, and carries on at the new
// address — a node asking there shows up.
func TestFlowRemoteConsoleFollowsAGatewayToItsNewPort(t *testing.T) {
	dir := t.TempDir()
	first := serveGateway(t, dir)
	var where atomic.Value
	where.Store(first.url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: first.url, Token: flowToken, Reconnect: true,
		Backoff:   client.Backoff{Min: 800 * time.Millisecond, Max: 2 * time.Second},
		FollowURL: func() string { return where.Load().(string) }})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	tm := console(t, c, Options{Remote: true, Endpoint: first.url})
	tm.wait(t, "No pending requests", "● pairing on", "● connected")

	tm.mark()
	first.stop()
	tm.wait(t, "? pairing unknown", "✗ disconnected (retry in")

	second := serveGateway(t, dir)
	where.Store(second.url)
	tm.mark()
	tm.wait(t, "pairdeck · "+second.url, "● pairing on", "● connected")

	tm.mark()
	_, _, _ = pairNode(t, second.url, "Moved Tablet")
	tm.wait(t, "Moved Tablet")
	if c.URL() != second.url {
		t.Errorf("client at %s, want %s", c.URL(), second.url)
	}
	tm.final(t)
}

// quitting is a console that embeds its gateway, with others attached to
// it as the test says.
func quitting(t *testing.T, others *[]string) Model {
	t.Helper()
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain, Endpoint: "embedded · 127.0.0.1:18789",
		Others: func() []string { return *others }})
	m = step(t, m, windowSize(80, 24))
	return step(t, m, withPolicy(true))
}

// quits reports whether cmd ends the program.
func quits(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

// Quitting a console whose gateway others use asks first: stop it for
// everyone, keep it serving them, or stay. Alone, q quits at once.
func TestQuittingAsksWhileOthersUseTheGateway(t *testing.T) {
	var others []string
	m := quitting(t, &others)
	if _, cmd := m.Update(keyMsg("q")); !quits(cmd) {
		t.Fatal("alone, q does not quit")
	}

	others = []string{"alice@laptop (ssh SHA256:qG3x)", "pairdeck-console from 10.0.0.8"}
	for _, k := range []string{"q", "ctrl+c"} {
		next, cmd := m.Update(keyMsg(k))
		asked := next.(Model)
		if quits(cmd) || asked.quit == nil {
			t.Fatalf("%s with others attached quit at once", k)
		}
		f := frameOf(asked)
		for _, want := range []string{"Quit? 2 other operators use this console's gateway", "alice@laptop (ssh SHA256:qG3x)",
			"pairdeck-console from 10.0.0.8", "s stop the gateway", "k keep it serving them", "n/esc stay"} {
			if !strings.Contains(f, want) {
				t.Errorf("%s: dialog lacks %q:\n%s", k, want, f)
			}
		}
	}
	asked := press(t, m, "q")
	requireGolden(t, "quit_others", frameOf(asked))

	// Stay: esc or n close the dialog, and nothing else happened.
	for _, k := range []string{"esc", "n"} {
		if stayed, cmd := asked.Update(keyMsg(k)); quits(cmd) || stayed.(Model).quit != nil {
			t.Errorf("%s does not close the dialog", k)
		}
	}
	// Other keys do nothing while it is open.
	if next, cmd := asked.Update(keyMsg("a")); cmd != nil || next.(Model).quit == nil {
		t.Error("a key went past the dialog")
	}
	// Stop for everyone: s, or a second ctrl+c.
	for _, k := range []string{"s", "ctrl+c"} {
		next, cmd := asked.Update(keyMsg(k))
		if !quits(cmd) || next.(Model).exit != ExitQuit {
			t.Errorf("%s: quits %v, exit %v", k, quits(cmd), next.(Model).exit)
		}
	}
	// Keep serving them.
	next, cmd := asked.Update(keyMsg("k"))
	if !quits(cmd) || next.(Model).exit != ExitKeepServing {
		t.Errorf("k: quits %v, exit %v", quits(cmd), next.(Model).exit)
	}
	// They left while it was open: it says so, and k has nobody to serve.
	others = nil
	if f := frameOf(asked); !strings.Contains(f, "Nobody else uses this console's gateway now") {
		t.Errorf("after they left:\n%s", f)
	}
	next, cmd = asked.Update(keyMsg("k"))
	if !quits(cmd) || next.(Model).exit != ExitQuit {
		t.Errorf("k with nobody left: exit %v", next.(Model).exit)
	}
	// A console attached elsewhere never asks.
	remote, _ := newModel(t, 80, 24)
	if _, cmd := remote.Update(keyMsg("q")); !quits(cmd) {
		t.Error("a console without Others does not quit on q")
	}
}
