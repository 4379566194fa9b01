package client

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/pairdeck/pairdeck/protocol"
)

// fakeGateway is a tiny real WebSocket server speaking just enough of the
// protocol to inject failures a real gateway will not produce on demand:
// seq gaps, dropped connections, odd close codes, late answers.
type fakeGateway struct {
	t   *testing.T
	srv *httptest.Server
	URL string

	conns atomic.Int32

	// answer decides connect's outcome (default: hello-ok, no ticks).
	answer func(p protocol.ConnectParams) (hello any, refuse *protocol.Error)
	// refuseRaw, when set and returning non-nil, refuses connect with that
	// error object verbatim (OpenClaw's details carry keys pairdeck's
	// ErrorDetails does not model).
	refuseRaw func(p protocol.ConnectParams) json.RawMessage
	// serve runs after the handshake (default: serveRequests(nil)).
	serve func(ctx context.Context, s *fakeSession)

	mu      sync.Mutex
	connect []protocol.ConnectParams
	nonces  []string
}

// fakeSession is one accepted connection.
type fakeSession struct {
	ws *websocket.Conn
	n  int // 1 for the first connection, 2 after a reconnect, ...
}

func newFakeGateway(t *testing.T) *fakeGateway {
	t.Helper()
	f := &fakeGateway{t: t}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	f.URL = "ws" + strings.TrimPrefix(f.srv.URL, "http")
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGateway) handle(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	n := int(f.conns.Add(1))
	ctx := r.Context()
	s := &fakeSession{ws: ws, n: n}
	nonce := uuid.NewString()
	s.send(protocol.NewEvent(protocol.EventChallenge, protocol.ChallengeEvent{Nonce: nonce, TS: time.Now().UnixMilli()}))
	req, err := s.read(ctx)
	if err != nil || req.Method != protocol.MethodConnect {
		return
	}
	var p protocol.ConnectParams
	if err := json.Unmarshal(req.Params, &p); err != nil {
		return
	}
	f.mu.Lock()
	f.connect = append(f.connect, p)
	f.nonces = append(f.nonces, nonce)
	f.mu.Unlock()
	if p.Device != nil {
		sp := protocol.SignedPayload{ClientID: p.Client.ID, ClientMode: p.Client.Mode, Role: p.Role, Scopes: p.Scopes,
			Platform: p.Client.Platform, DeviceFamily: p.Client.DeviceFamily}
		if p.Auth != nil {
			// OpenClaw's order: token ?? deviceToken ?? bootstrapToken.
			sp.Token = cmp.Or(p.Auth.Token, p.Auth.DeviceToken, p.Auth.BootstrapToken)
		}
		if err := protocol.VerifyDevice(*p.Device, nonce, time.Now(), sp); err != nil {
			s.send(protocol.ErrorResponse(req.ID, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams, "%v", err)))
			ws.Close(websocket.StatusPolicyViolation, "bad device")
			return
		}
	}
	if f.refuseRaw != nil {
		if raw := f.refuseRaw(p); raw != nil {
			s.send(map[string]any{"type": "res", "id": req.ID, "ok": false, "error": raw})
			ws.Close(websocket.StatusPolicyViolation, "connect failed")
			return
		}
	}
	hello, refuse := any(helloOK(0)), (*protocol.Error)(nil)
	if f.answer != nil {
		hello, refuse = f.answer(p)
	}
	if refuse != nil {
		s.send(protocol.ErrorResponse(req.ID, refuse))
		ws.Close(websocket.StatusPolicyViolation, "connect refused")
		return
	}
	s.send(protocol.OKResponse(req.ID, hello))
	serve := f.serve
	if serve == nil {
		serve = func(ctx context.Context, s *fakeSession) { s.serveRequests(ctx, nil) }
	}
	serve(ctx, s)
}

// connects returns the connect params seen so far.
func (f *fakeGateway) connects() []protocol.ConnectParams {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]protocol.ConnectParams(nil), f.connect...)
}

// seenNonces returns the challenge nonces of completed connects.
func (f *fakeGateway) seenNonces() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.nonces...)
}

func helloOK(tickMs int64) protocol.HelloOK {
	return protocol.HelloOK{Type: "hello-ok", Protocol: 3, Server: protocol.ServerInfo{Version: "fake", ConnID: uuid.NewString()},
		Features: protocol.Features{Methods: append(slices.Clone(protocol.Methods), "ping", "slow", "fast"), Events: protocol.Events},
		Policy:   protocol.Policy{MaxPayload: 1 << 20, MaxBufferedBytes: 1 << 21, TickIntervalMs: tickMs}}
}

func (s *fakeSession) send(v any) {
	data, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.ws.Write(ctx, websocket.MessageText, data)
}

func (s *fakeSession) event(name string, payload any, seq uint64) {
	ev := protocol.NewEvent(name, payload)
	ev.Seq = seq
	s.send(ev)
}

func (s *fakeSession) read(ctx context.Context) (protocol.Request, error) {
	_, data, err := s.ws.Read(ctx)
	if err != nil {
		return protocol.Request{}, err
	}
	var req protocol.Request
	err = json.Unmarshal(data, &req)
	return req, err
}

// serveRequests answers each request with handle's result (an empty object
// when handle is nil or returns nil, nil), until the socket closes.
func (s *fakeSession) serveRequests(ctx context.Context, handle func(req protocol.Request) (any, *protocol.Error)) {
	for {
		req, err := s.read(ctx)
		if err != nil {
			return
		}
		var res any = struct{}{}
		var perr *protocol.Error
		if handle != nil {
			if r, e := handle(req); r != nil || e != nil {
				res, perr = r, e
			}
		}
		if perr != nil {
			s.send(protocol.ErrorResponse(req.ID, perr))
		} else {
			s.send(protocol.OKResponse(req.ID, res))
		}
	}
}

// nextUpdate waits for the next update or fails the test.
func nextUpdate(t *testing.T, c *Client) protocol.Update {
	t.Helper()
	select {
	case u, ok := <-c.Updates():
		if !ok {
			t.Fatalf("updates closed (err: %v)", c.Err())
		}
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no update within 5s")
	}
	return protocol.Update{}
}

// waitFor skips updates until match returns true.
func waitFor(t *testing.T, c *Client, what string, match func(protocol.Update) bool) protocol.Update {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case u, ok := <-c.Updates():
			if !ok {
				t.Fatalf("updates closed while waiting for %s (err: %v)", what, c.Err())
			}
			if match(u) {
				return u
			}
		case <-deadline:
			t.Fatalf("no %s within 5s", what)
		}
	}
}

func isState(s protocol.ConnState) func(protocol.Update) bool {
	return func(u protocol.Update) bool { return u.StateChanged && u.State == s }
}

func isEvent(name string) func(protocol.Update) bool {
	return func(u protocol.Update) bool { return u.Event != nil && u.Event.Event == name }
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustIdentity(t *testing.T) *Identity {
	t.Helper()
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// fastBackoff keeps reconnect tests quick.
var fastBackoff = Backoff{Min: 10 * time.Millisecond, Max: 50 * time.Millisecond}

// rawJSON is a payload sent verbatim.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// closeAfterConnect is a handler that reads connect and closes with code.
func closeAfterConnect(f *fakeGateway, code websocket.StatusCode, reason string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		f.conns.Add(1)
		s := &fakeSession{ws: ws}
		s.send(protocol.NewEvent(protocol.EventChallenge, protocol.ChallengeEvent{Nonce: "n", TS: 1}))
		if _, err := s.read(r.Context()); err != nil {
			return
		}
		ws.Close(code, reason)
	})
}
