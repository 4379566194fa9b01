package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Min: 250 * time.Millisecond, Max: 30 * time.Second}
	for attempt := range 40 {
		full := b.Max
		if attempt < 7 {
			full = b.Min << attempt
		}
		for range 20 {
			d := b.delay(attempt)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: delay %s outside [%s, %s]", attempt, d, full/2, full)
			}
		}
	}
}

func TestReconnectAfterShutdown(t *testing.T) {
	gw := newFakeGateway(t)
	gw.serve = func(ctx context.Context, s *fakeSession) {
		if s.n == 1 {
			s.event(protocol.EventShutdown, protocol.ShutdownEvent{Reason: "restart"}, 0)
			s.ws.Close(websocket.StatusServiceRestart, "gateway shutting down")
			return
		}
		s.serveRequests(ctx, nil)
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t", Identity: mustIdentity(t), Reconnect: true, Backoff: fastBackoff})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	waitFor(t, c, "shutdown event", isEvent(protocol.EventShutdown))
	down := waitFor(t, c, "Disconnected", isState(protocol.Disconnected))
	if down.Err == nil || !strings.Contains(down.Err.Error(), "shutting down") || !strings.Contains(down.Err.Error(), "restart") {
		t.Errorf("disconnect reason = %v, want the shutdown", down.Err)
	}
	waitFor(t, c, "Connecting", isState(protocol.Connecting))
	waitFor(t, c, "Connected", isState(protocol.Connected))
	if u := nextUpdate(t, c); !u.Relist {
		t.Errorf("update after reconnect = %+v, want Relist", u)
	}
	if err := c.Call(testCtx(t), "ping", nil, nil); err != nil {
		t.Errorf("call after reconnect: %v", err)
	}
	if n := gw.conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	if n := gw.seenNonces(); n[0] == n[1] {
		t.Errorf("both handshakes signed the same nonce")
	}
}

func TestReconnectRetriesWhileGatewayIsDown(t *testing.T) {
	gw := newFakeGateway(t)
	inner := http.HandlerFunc(gw.handle)
	var attempts atomic.Int32
	gw.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := attempts.Add(1); n >= 2 && n <= 4 {
			http.Error(w, "starting up", http.StatusServiceUnavailable)
			return
		}
		inner(w, r)
	})
	gw.serve = func(ctx context.Context, s *fakeSession) {
		if s.n == 1 {
			s.ws.CloseNow()
			return
		}
		s.serveRequests(ctx, nil)
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t", Reconnect: true, Backoff: fastBackoff})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	failed := 0
	waitFor(t, c, "Connected after failures", func(u protocol.Update) bool {
		if u.StateChanged && u.State == protocol.Disconnected && u.Err != nil && strings.Contains(u.Err.Error(), "503") {
			failed++
		}
		return u.StateChanged && u.State == protocol.Connected && failed > 0
	})
	if failed != 3 {
		t.Errorf("%d failed attempts reported, want 3", failed)
	}
}

func TestNodeRemovedIsTerminal(t *testing.T) {
	gw := newFakeGateway(t)
	gw.serve = func(ctx context.Context, s *fakeSession) {
		s.ws.Close(4001, "node removed")
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Role: protocol.RoleNode, Token: "tok", Identity: mustIdentity(t),
		Reconnect: true, Backoff: fastBackoff})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	last := waitFor(t, c, "Disconnected", isState(protocol.Disconnected))
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client kept going after 4001")
	}
	if !errors.Is(c.Err(), ErrNodeRemoved) || !errors.Is(last.Err, ErrNodeRemoved) {
		t.Fatalf("Err = %v (update: %v), want ErrNodeRemoved", c.Err(), last.Err)
	}
	if !strings.Contains(c.Err().Error(), "4001 node removed") {
		t.Errorf("Err = %v, want the close code and reason", c.Err())
	}
	time.Sleep(3 * fastBackoff.Max)
	if n := gw.conns.Load(); n != 1 {
		t.Errorf("%d connections after 4001, want no reconnect", n)
	}
}

func TestRefusalOnReconnectIsTerminal(t *testing.T) {
	gw := newFakeGateway(t)
	gw.answer = func(protocol.ConnectParams) (any, *protocol.Error) {
		if gw.conns.Load() > 1 {
			return nil, protocol.NewError(protocol.CodeNotPaired, protocol.ReasonTokenInvalid, "token no longer valid")
		}
		return helloOK(0), nil
	}
	gw.serve = func(ctx context.Context, s *fakeSession) { s.ws.CloseNow() }
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Role: protocol.RoleNode, Token: "tok", Identity: mustIdentity(t),
		Reconnect: true, Backoff: fastBackoff})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("client kept reconnecting after its token was refused")
	}
	var perr *protocol.Error
	if !errors.As(c.Err(), &perr) || perr.Reason() != protocol.ReasonTokenInvalid || !errors.Is(c.Err(), ErrNotPaired) {
		t.Fatalf("Err = %v, want the TOKEN_INVALID refusal", c.Err())
	}
	if n := gw.conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestSilentGatewayIsPresumedLost(t *testing.T) {
	old := idleGrace
	idleGrace = 0
	t.Cleanup(func() { idleGrace = old })
	gw := newFakeGateway(t)
	gw.answer = func(protocol.ConnectParams) (any, *protocol.Error) { return helloOK(25), nil }
	gw.serve = func(ctx context.Context, s *fakeSession) {
		if s.n == 1 {
			for { // never ticks; reading returns once the client hangs up
				if _, err := s.read(ctx); err != nil {
					return
				}
			}
		}
		gone := s.ws.CloseRead(ctx)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-gone.Done():
				return
			case <-tick.C:
				s.event(protocol.EventTick, protocol.TickEvent{TS: time.Now().UnixMilli()}, 0)
			}
		}
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t", Reconnect: true, Backoff: fastBackoff})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	down := waitFor(t, c, "Disconnected", isState(protocol.Disconnected))
	if !errors.Is(down.Err, ErrConnectionLost) || !strings.Contains(down.Err.Error(), "no frames") {
		t.Errorf("reason = %v, want a silent-gateway loss", down.Err)
	}
	waitFor(t, c, "Connected", isState(protocol.Connected))
	// Ticking keeps the second connection up.
	time.Sleep(150 * time.Millisecond)
	if c.State() != protocol.Connected {
		t.Errorf("state %v while the gateway ticks", c.State())
	}
}

// A gateway restarted on another port is found on the next attempt: the
// client asks FollowURL where it is before each one. While it waits, the
// Disconnected state says when it tries again.
func TestReconnectFollowsTheGatewayToItsNewURL(t *testing.T) {
	first, second := newFakeGateway(t), newFakeGateway(t)
	first.serve = func(ctx context.Context, s *fakeSession) {
		s.event(protocol.EventShutdown, protocol.ShutdownEvent{Reason: "restart"}, 0)
		s.ws.Close(websocket.StatusServiceRestart, "gateway shutting down")
	}
	second.serve = func(ctx context.Context, s *fakeSession) { s.serveRequests(ctx, nil) }
	var where atomic.Value
	where.Store("")
	c, err := Dial(testCtx(t), Config{URL: first.URL, Token: "t", Identity: mustIdentity(t), Reconnect: true,
		Backoff:   Backoff{Min: 200 * time.Millisecond, Max: 400 * time.Millisecond},
		FollowURL: func() string { return where.Load().(string) }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	before := time.Now()
	down := waitFor(t, c, "Disconnected", isState(protocol.Disconnected))
	if down.RetryAt.Before(before.Add(100*time.Millisecond)) || down.RetryAt.After(time.Now().Add(400*time.Millisecond)) {
		t.Errorf("retry at %v, %v after the drop; want within the backoff (100–400 ms)", down.RetryAt, down.RetryAt.Sub(before))
	}
	first.srv.Close() // the old port answers no more
	where.Store(second.URL)
	waitFor(t, c, "Connected", isState(protocol.Connected))
	if c.URL() != second.URL {
		t.Errorf("URL = %s, want %s", c.URL(), second.URL)
	}
	if n := second.conns.Load(); n != 1 {
		t.Errorf("%d connections to the new gateway, want 1", n)
	}
	if err := c.Call(testCtx(t), "ping", nil, nil); err != nil {
		t.Errorf("call after following: %v", err)
	}
}
