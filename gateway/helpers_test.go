package gateway

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

const (
	testToken = "operator-test-token"
	waitLong  = 5 * time.Second // upper bound for anything that should happen
	waitShort = 300 * time.Millisecond
)

// fakeClock is a settable clock shared by the store and the gateway.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.UnixMilli(1795262299117)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is a gateway on a real store in a temp dir, served on loopback.
type harness struct {
	t        testing.TB
	g        *Gateway
	st       *store.Store
	stateDir string
	srv      *httptest.Server
	url      string
	clock    *fakeClock // nil: real time
	stopOnce sync.Once
}

type harnessOpts struct {
	cfg      Config
	storeOpt store.Options
	clock    *fakeClock
	wrap     func(pairingStore) pairingStore
	noServer bool
	viaServe bool   // serve with Gateway.Serve on a real listener (connection caps apply)
	smallBuf bool   // tiny socket buffers, so a client that does not read stalls its writer fast
	stateDir string // "": a fresh one
}

func newHarness(t testing.TB, opts ...func(*harnessOpts)) *harness {
	t.Helper()
	o := harnessOpts{}
	o.cfg.TickInterval = -1 // ticks would disturb exact seq checks
	o.cfg.HandshakeTimeout = 3 * time.Second
	for _, f := range opts {
		f(&o)
	}
	h := &harness{t: t, stateDir: o.stateDir, clock: o.clock}
	if h.stateDir == "" {
		h.stateDir = t.TempDir()
	}
	o.storeOpt.StateDir = h.stateDir
	if o.clock != nil {
		o.storeOpt.Now = o.clock.Now
		o.cfg.Now = o.clock.Now
	}
	st, err := store.Open(o.storeOpt)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	h.st = st
	o.cfg.Store = st
	if o.cfg.OperatorToken == "" {
		o.cfg.OperatorToken = testToken
	}
	if o.cfg.Logger == nil {
		o.cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	o.cfg.Version = "test"
	cfg, err := o.cfg.withDefaults()
	if err != nil {
		t.Fatalf("gateway config: %v", err)
	}
	var ps pairingStore = st
	if o.wrap != nil {
		ps = o.wrap(ps)
	}
	g, err := newGateway(cfg, ps)
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	h.g = g
	if o.viaServe {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		served := make(chan error, 1)
		go func() { served <- g.Serve(ln) }()
		h.url = "ws://" + ln.Addr().String()
		t.Cleanup(func() {
			if err := <-served; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	} else if !o.noServer {
		h.srv = httptest.NewUnstartedServer(g.Handler())
		if o.smallBuf {
			h.srv.Listener = smallBufListener{h.srv.Listener}
		}
		h.srv.Start()
		h.url = "ws" + strings.TrimPrefix(h.srv.URL, "http")
	}
	t.Cleanup(h.stop)
	return h
}

// stop shuts the gateway down and closes its store (a restart opens a new
// harness on the same state dir).
func (h *harness) stop() {
	h.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		defer cancel()
		if err := h.g.Shutdown(ctx); err != nil {
			h.t.Errorf("shutdown: %v", err)
		}
		if h.srv != nil {
			h.srv.Close()
		}
		h.st.Close()
	})
}

// smallBufListener shrinks the server side's send buffer.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

func (h *harness) now() time.Time {
	if h.clock != nil {
		return h.clock.Now()
	}
	return time.Now()
}

// wsClient speaks raw frames, so tests can send anything.
type wsClient struct {
	t      testing.TB
	c      *websocket.Conn
	nonce  string
	frames chan rawIn
	events []*protocol.Event // read but not yet consumed
	ids    atomic.Int64
	ended  error // why the reader stopped, once it has
}

type rawIn struct {
	data []byte
	err  error
}

type dialOpts struct {
	noRead   bool // do not start reading: a client that never reads
	smallBuf bool
	from     string // source address (all of 127/8 is loopback on Linux)
	header   http.Header
}

// from dials from a source address.
func from(ip string) func(*dialOpts) { return func(o *dialOpts) { o.from = ip } }

// dial opens a socket and reads the challenge.
func (h *harness) dial(opts ...func(*dialOpts)) *wsClient {
	h.t.Helper()
	o := dialOpts{}
	for _, f := range opts {
		f(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	dopts := &websocket.DialOptions{HTTPHeader: o.header}
	if o.smallBuf || o.from != "" {
		var d net.Dialer
		if o.from != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(o.from)}
		}
		dopts.HTTPClient = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if tc, ok := c.(*net.TCPConn); ok && o.smallBuf {
					tc.SetReadBuffer(4096)
				}
				return c, err
			},
		}}
	}
	c, _, err := websocket.Dial(ctx, h.url, dopts)
	if err != nil {
		h.t.Fatalf("dial %s: %v", h.url, err)
	}
	c.SetReadLimit(16 << 20)
	w := &wsClient{t: h.t, c: c, frames: make(chan rawIn, 1<<16)}
	h.t.Cleanup(func() { c.CloseNow() })
	// The challenge is read synchronously so tests can sign its nonce.
	_, data, err := c.Read(ctx)
	if err != nil {
		h.t.Fatalf("read challenge: %v", err)
	}
	var ev struct {
		Type    string                  `json:"type"`
		Event   string                  `json:"event"`
		Payload protocol.ChallengeEvent `json:"payload"`
		Seq     *uint64                 `json:"seq"`
	}
	if err := json.Unmarshal(data, &ev); err != nil || ev.Type != "event" || ev.Event != protocol.EventChallenge {
		h.t.Fatalf("first frame is not connect.challenge: %s", data)
	}
	if ev.Seq != nil {
		h.t.Fatalf("challenge carries a seq: %s", data)
	}
	if ev.Payload.Nonce == "" || ev.Payload.TS == 0 {
		h.t.Fatalf("challenge lacks nonce or ts: %s", data)
	}
	w.nonce = ev.Payload.Nonce
	if !o.noRead {
		w.startReading()
	}
	return w
}

func (w *wsClient) startReading() {
	go func() {
		for {
			_, data, err := w.c.Read(context.Background())
			if err != nil {
				w.frames <- rawIn{err: err}
				return
			}
			w.frames <- rawIn{data: data}
		}
	}()
}

func (w *wsClient) sendRaw(s string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// next returns the next frame, or fails the test after d.
func (w *wsClient) next(d time.Duration) (protocol.Frame, error) {
	w.t.Helper()
	if w.ended != nil {
		return protocol.Frame{}, w.ended
	}
	select {
	case in := <-w.frames:
		if in.err != nil {
			w.ended = in.err
			return protocol.Frame{}, in.err
		}
		f, err := protocol.DecodeFrame(in.data)
		if err != nil {
			w.t.Fatalf("gateway sent an invalid frame %s: %v", in.data, err)
		}
		return f, nil
	case <-time.After(d):
		return protocol.Frame{}, errTimeout
	}
}

var errTimeout = errors.New("timed out")

// response waits for the response with id, keeping events for later.
func (w *wsClient) response(id string) *protocol.Response {
	w.t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		f, err := w.next(time.Until(deadline))
		if err != nil {
			w.t.Fatalf("waiting for response %s: %v", id, err)
		}
		switch {
		case f.Event != nil:
			w.events = append(w.events, f.Event)
		case f.Response != nil && f.Response.ID == id:
			return f.Response
		case f.Response != nil:
			w.t.Fatalf("response for %s while waiting for %s", f.Response.ID, id)
		}
	}
}

// call sends a request and waits for its response.
func (w *wsClient) call(method string, params any) *protocol.Response {
	w.t.Helper()
	id := fmt.Sprintf("r%d", w.ids.Add(1))
	data, _ := json.Marshal(protocol.NewRequest(id, method, params))
	w.sendRaw(string(data))
	return w.response(id)
}

// ok calls and decodes a successful result into out.
func (w *wsClient) ok(method string, params, out any) {
	w.t.Helper()
	res := w.call(method, params)
	if !res.OK {
		w.t.Fatalf("%s failed: %v", method, res.Error)
	}
	if out != nil {
		if err := json.Unmarshal(res.Payload, out); err != nil {
			w.t.Fatalf("%s result %s: %v", method, res.Payload, err)
		}
	}
}

// fails calls and checks the error's code and reason.
func (w *wsClient) fails(method string, params any, code, reason string) *protocol.Error {
	w.t.Helper()
	res := w.call(method, params)
	return checkErr(w.t, method, res, code, reason)
}

func checkErr(t testing.TB, what string, res *protocol.Response, code, reason string) *protocol.Error {
	t.Helper()
	if res.OK || res.Error == nil {
		t.Fatalf("%s succeeded (%s), want %s/%s", what, res.Payload, code, reason)
	}
	if res.Error.Code != code || res.Error.Reason() != reason {
		t.Fatalf("%s: got %s/%s (%q), want %s/%s", what, res.Error.Code, res.Error.Reason(), res.Error.Message, code, reason)
	}
	if res.Error.Message == "" {
		t.Fatalf("%s: error without a message", what)
	}
	return res.Error
}

// event waits for the next event named name, skipping ticks.
func (w *wsClient) event(name string) *protocol.Event {
	w.t.Helper()
	ev := w.eventWithin(name, waitLong)
	if ev == nil {
		w.t.Fatalf("no %s event", name)
	}
	return ev
}

// eventWithin returns the next event named name, or nil after d. Other
// events are discarded.
func (w *wsClient) eventWithin(name string, d time.Duration) *protocol.Event {
	w.t.Helper()
	for len(w.events) > 0 {
		ev := w.events[0]
		w.events = w.events[1:]
		if ev.Event == name {
			return ev
		}
	}
	deadline := time.Now().Add(d)
	for {
		f, err := w.next(time.Until(deadline))
		if errors.Is(err, errTimeout) {
			return nil
		}
		if err != nil {
			w.t.Fatalf("waiting for %s: %v", name, err)
		}
		if f.Event != nil && f.Event.Event == name {
			return f.Event
		}
	}
}

// noEvent checks that no event named name arrives within d.
func (w *wsClient) noEvent(name string, d time.Duration) {
	w.t.Helper()
	if ev := w.eventWithin(name, d); ev != nil {
		w.t.Fatalf("unexpected %s event: %s", name, ev.Payload)
	}
}

// closed waits for the socket to end and returns its close status.
func (w *wsClient) closed() websocket.StatusCode {
	w.t.Helper()
	deadline := time.Now().Add(waitLong + 5*time.Second)
	for {
		f, err := w.next(time.Until(deadline))
		if errors.Is(err, errTimeout) {
			w.t.Fatalf("socket still open")
		}
		if err != nil {
			return websocket.CloseStatus(err)
		}
		if f.Event != nil {
			w.events = append(w.events, f.Event)
		}
	}
}

// refused expects an error answer to the first frame and then a close.
func (w *wsClient) refused(code, reason string, status websocket.StatusCode) *protocol.Error {
	w.t.Helper()
	f, err := w.next(waitLong)
	if err != nil {
		w.t.Fatalf("expected an error answer, got %v", err)
	}
	if f.Response == nil {
		w.t.Fatalf("expected an error answer, got %+v", f)
	}
	e := checkErr(w.t, "connect", f.Response, code, reason)
	if got := w.closed(); got != status {
		w.t.Fatalf("close status %d, want %d", got, status)
	}
	return e
}

func decodeAs[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, raw, err)
	}
	return v
}

// connectParams builds connect params; a device is signed when priv is set.
type identity struct {
	priv   ed25519.PrivateKey
	client protocol.ClientInfo
}

func newIdentity(t *testing.T, clientID string) identity {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return identity{priv: priv, client: protocol.ClientInfo{
		ID: clientID, Version: "1.2.3", Platform: "Linux", Mode: "node",
		DisplayName: "Kitchen iPad", DeviceFamily: "iPad", ModelIdentifier: "iPad13,1",
	}}
}

func (id identity) nodeID() string { return protocol.DeviceID(id.priv.Public().(ed25519.PublicKey)) }

type connectOpts struct {
	role      string
	scopes    []string
	token     string
	signedAt  time.Time
	nonce     string // default: the challenge's
	tamper    bool   // sign something else than what is sent
	noDevice  bool
	min, max  int
	commands  []string
	clientMod func(*protocol.ClientInfo)
}

func (w *wsClient) connectParams(id *identity, now time.Time, o connectOpts) protocol.ConnectParams {
	if o.min == 0 && o.max == 0 {
		o.min, o.max = 3, 3
	}
	client := protocol.ClientInfo{ID: "test-cli", Version: "0.0.1", Platform: "linux", Mode: "cli"}
	if id != nil {
		client = id.client
	}
	if o.clientMod != nil {
		o.clientMod(&client)
	}
	if o.scopes == nil && (o.role == "" || o.role == protocol.RoleOperator) {
		o.scopes = protocol.AllOperatorScopes // nil: all; []string{}: none
	}
	p := protocol.ConnectParams{
		MinProtocol: o.min, MaxProtocol: o.max, Client: client, Role: o.role, Scopes: o.scopes, Commands: o.commands,
	}
	if o.token != "" {
		p.Auth = &protocol.ConnectAuth{Token: o.token}
	}
	if id != nil && !o.noDevice {
		nonce := w.nonce
		if o.nonce != "" {
			nonce = o.nonce
		}
		signedAt := now
		if !o.signedAt.IsZero() {
			signedAt = o.signedAt
		}
		role := o.role
		if role == "" {
			role = protocol.RoleOperator
		}
		sp := protocol.SignedPayload{
			ClientID: client.ID, ClientMode: client.Mode, Role: role, Scopes: o.scopes,
			SignedAtMs: signedAt.UnixMilli(), Token: o.token, Nonce: nonce,
			Platform: client.Platform, DeviceFamily: client.DeviceFamily,
		}
		if o.tamper {
			sp.ClientID += "-other"
		}
		d := protocol.SignDevice(id.priv, sp)
		p.Device = &d
	}
	return p
}

// connect sends connect and returns the raw response.
func (w *wsClient) connect(p protocol.ConnectParams) *protocol.Response {
	w.t.Helper()
	data, _ := json.Marshal(protocol.NewRequest("c1", protocol.MethodConnect, p))
	w.sendRaw(string(data))
	return w.response("c1")
}

// operator connects an operator with the given scopes (none: all).
func (h *harness) operator(scopes ...string) *wsClient {
	h.t.Helper()
	w := h.dial()
	res := w.connect(w.connectParams(nil, h.now(), connectOpts{token: testToken, scopes: scopes}))
	if !res.OK {
		h.t.Fatalf("operator connect: %v", res.Error)
	}
	return w
}

// node connects a node identity, paired when token is set.
func (h *harness) node(id identity, token string, opts ...func(*dialOpts)) *wsClient {
	h.t.Helper()
	w := h.dial(opts...)
	res := w.connect(w.connectParams(&id, h.now(), connectOpts{role: protocol.RoleNode, token: token}))
	if !res.OK {
		h.t.Fatalf("node connect: %v", res.Error)
	}
	return w
}

// request files a pairing request for nodeID as an operator.
func (w *wsClient) request(p protocol.PairRequestParams) protocol.PairRequestResult {
	w.t.Helper()
	var r protocol.PairRequestResult
	w.ok(protocol.MethodPairRequest, p, &r)
	return r
}

func boolPtr(b bool) *bool { return &b }
