package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

const (
	// preHandshakeReadLimit bounds frames before hello-ok. It is well above
	// the 64 KiB the gateway accepts from clients because an OpenClaw
	// hello-ok carries a snapshot (presence, health) that can be large.
	preHandshakeReadLimit = 4 << 20
	// writeTimeout bounds one frame write; a peer that does not drain its
	// socket for this long is treated as gone.
	writeTimeout    = 10 * time.Second
	websocketNormal = websocket.StatusNormalClosure
)

// conn is one WebSocket after a successful handshake. Its read loop routes
// responses to waiting calls and events to the Client.
type conn struct {
	ws    *websocket.Conn
	hello protocol.HelloOK
	idle  time.Duration // read watchdog; 0 when the gateway sends no ticks

	ctx    context.Context // cancelled to force the socket shut
	cancel context.CancelFunc

	mu      sync.Mutex
	calls   map[string]chan frame
	closing bool  // we are closing it (Close), not the gateway
	err     error // why the read loop stopped; set before done closes
	done    chan struct{}

	// Owned by the read loop.
	seq            seqTracker
	shutdownReason string
}

// connect dials and performs the handshake within HandshakeTimeout.
func (c *Client) connect(parent context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(parent, c.cfg.HandshakeTimeout)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, c.cfg.URL, c.dialOptions())
	if err != nil {
		if parent.Err() == nil && ctx.Err() != nil {
			return nil, &NoGatewayError{URL: c.cfg.URL,
				Err: fmt.Errorf("no answer within %s", c.cfg.HandshakeTimeout)}
		}
		return nil, dialError(parent, c.cfg.URL, resp, err)
	}
	ws.SetReadLimit(preHandshakeReadLimit)
	hello, err := c.handshake(ctx, ws)
	if err != nil {
		ws.CloseNow()
		if parent.Err() != nil {
			return nil, fmt.Errorf("connect to %s: %w", c.cfg.URL, parent.Err())
		}
		return nil, err
	}
	if hello.Policy.MaxPayload > 0 {
		ws.SetReadLimit(hello.Policy.MaxPayload)
	}
	cn := &conn{
		ws:    ws,
		hello: hello,
		calls: make(map[string]chan frame),
		done:  make(chan struct{}),
	}
	if t := hello.Policy.TickIntervalMs; t > 0 {
		cn.idle = 2*time.Duration(t)*time.Millisecond + idleGrace
	}
	cn.ctx, cn.cancel = context.WithCancel(context.Background())
	return cn, nil
}

func (c *Client) dialOptions() *websocket.DialOptions {
	opts := &websocket.DialOptions{}
	if c.cfg.TLSConfig != nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = c.cfg.TLSConfig
		opts.HTTPClient = &http.Client{Transport: tr}
	}
	return opts
}

func (c *Client) nextID() string { return strconv.FormatUint(c.ids.Add(1), 10) }

// handshake answers the challenge with connect and waits for hello-ok.
func (c *Client) handshake(ctx context.Context, ws *websocket.Conn) (protocol.HelloOK, error) {
	var nonce string
	for nonce == "" {
		f, err := readFrame(ctx, ws)
		if err != nil {
			return protocol.HelloOK{}, c.handshakeReadError(ctx, "waiting for connect.challenge", err)
		}
		if f.Type != protocol.TypeEvent || f.Event != protocol.EventChallenge {
			continue // nothing else is meaningful before the challenge
		}
		var ch protocol.ChallengeEvent
		if err := json.Unmarshal(f.Payload, &ch); err != nil || ch.Nonce == "" {
			return protocol.HelloOK{}, fmt.Errorf("handshake with %s: connect.challenge without a nonce", c.cfg.URL)
		}
		nonce = ch.Nonce
	}

	id := c.nextID()
	req := protocol.NewRequest(id, protocol.MethodConnect, c.connectParams(nonce))
	if err := writeFrame(ctx, ws, req); err != nil {
		return protocol.HelloOK{}, c.handshakeReadError(ctx, "sending connect", err)
	}
	for {
		f, err := readFrame(ctx, ws)
		if err != nil {
			return protocol.HelloOK{}, c.handshakeReadError(ctx, "waiting for hello-ok", err)
		}
		if f.Type != protocol.TypeRes || f.ID != id {
			continue
		}
		if !f.OK {
			return protocol.HelloOK{}, c.refused(f.protocolError())
		}
		hello, err := decodeHello(f.Payload)
		if err != nil {
			return protocol.HelloOK{}, fmt.Errorf("handshake with %s: %w", c.cfg.URL, err)
		}
		return hello, nil
	}
}

// connectParams builds connect's params, signing the device block over
// exactly the values sent.
func (c *Client) connectParams(nonce string) protocol.ConnectParams {
	cfg := c.cfg
	p := protocol.ConnectParams{
		MinProtocol: protocol.Version,
		MaxProtocol: protocol.Version,
		Client:      cfg.Client,
		Role:        cfg.Role,
		Scopes:      cfg.Scopes,
		Caps:        cfg.Caps,
		Commands:    cfg.Commands,
		UserAgent:   "pairdeck-client/" + cfg.Client.Version,
	}
	if cfg.Token != "" {
		p.Auth = &protocol.ConnectAuth{Token: cfg.Token}
	}
	if cfg.Identity != nil {
		d := protocol.SignDevice(cfg.Identity.PrivateKey, protocol.SignedPayload{
			ClientID:     cfg.Client.ID,
			ClientMode:   cfg.Client.Mode,
			Role:         cfg.Role,
			Scopes:       cfg.Scopes,
			SignedAtMs:   cfg.Now().UnixMilli(),
			Token:        cfg.Token,
			Nonce:        nonce,
			Platform:     cfg.Client.Platform,
			DeviceFamily: cfg.Client.DeviceFamily,
		})
		p.Device = &d
	}
	return p
}

// decodeHello reads hello-ok leniently: an OpenClaw gateway adds keys
// (canvasHostUrl, auth.deviceToken) that pairdeck does not model, and only
// the protocol version is essential.
func decodeHello(payload json.RawMessage) (protocol.HelloOK, error) {
	var head struct {
		Type     string          `json:"type"`
		Protocol int             `json:"protocol"`
		Server   json.RawMessage `json:"server"`
		Features json.RawMessage `json:"features"`
		Snapshot json.RawMessage `json:"snapshot"`
		Auth     json.RawMessage `json:"auth"`
		Policy   json.RawMessage `json:"policy"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return protocol.HelloOK{}, fmt.Errorf("hello-ok is not a JSON object: %v", err)
	}
	if head.Type != "" && head.Type != "hello-ok" {
		return protocol.HelloOK{}, fmt.Errorf("expected hello-ok, got %q", head.Type)
	}
	if head.Protocol != protocol.Version {
		return protocol.HelloOK{}, fmt.Errorf("%w: the gateway chose protocol %d, this client speaks %d",
			errProtocolVersion, head.Protocol, protocol.Version)
	}
	h := protocol.HelloOK{Type: "hello-ok", Protocol: head.Protocol}
	// Best effort for the rest: a shape we do not expect is not worth
	// refusing a working connection over.
	_ = json.Unmarshal(head.Server, &h.Server)
	_ = json.Unmarshal(head.Features, &h.Features)
	_ = json.Unmarshal(head.Snapshot, &h.Snapshot)
	_ = json.Unmarshal(head.Policy, &h.Policy)
	var auth protocol.HelloAuth
	if json.Unmarshal(head.Auth, &auth) == nil && (auth.Role != "" || auth.Scopes != nil) {
		h.Auth = &auth
	}
	return h, nil
}

// handshakeReadError explains a failed read or write during the handshake.
func (c *Client) handshakeReadError(ctx context.Context, step string, err error) error {
	if ce, ok := closeReason(err); ok {
		e := fmt.Errorf("gateway at %s closed the connection during the handshake (%d %s): %w",
			c.cfg.URL, int(ce.Code), ce.Reason, ce)
		if ce.Code == websocket.StatusProtocolError {
			return fmt.Errorf("%w: %w", errProtocolVersion, e)
		}
		return e
	}
	if ctx.Err() != nil {
		return fmt.Errorf("handshake with %s: no answer %s within %s", c.cfg.URL, step, c.cfg.HandshakeTimeout)
	}
	return fmt.Errorf("handshake with %s: %s: %w", c.cfg.URL, step, err)
}

// refusalError is a handshake refusal with a hint for the user. It unwraps
// to the *protocol.Error (and to ErrNotPaired for a refused node token).
type refusalError struct {
	url  string
	perr *protocol.Error
	hint string
	also error
}

func (e *refusalError) Error() string {
	msg := fmt.Sprintf("gateway at %s refused the connection: %s", e.url, e.perr.Error())
	if e.hint != "" {
		msg += ": " + e.hint
	}
	return msg
}

func (e *refusalError) Unwrap() []error {
	if e.also != nil {
		return []error{e.perr, e.also}
	}
	return []error{e.perr}
}

func (c *Client) refused(perr *protocol.Error) error {
	e := &refusalError{url: c.cfg.URL, perr: perr}
	tokenProblem := perr.Reason() == protocol.ReasonTokenInvalid || perr.Code == protocol.CodeNotPaired ||
		strings.Contains(strings.ToLower(perr.Message), "token")
	switch {
	case c.cfg.Role == protocol.RoleNode && tokenProblem:
		e.hint = "this node's pairing is no longer valid; pair it again (pairdeck node pair)"
		e.also = ErrNotPaired
	case tokenProblem || perr.Reason() == protocol.ReasonUnauthorizedRole:
		e.hint = "check the operator token"
	case strings.Contains(strings.ToLower(perr.Message), "protocol mismatch"):
		e.hint = fmt.Sprintf("this client speaks protocol %d only", protocol.Version)
	}
	return e
}

// frame is an incoming frame, decoded leniently: the client accepts keys it
// does not know (an OpenClaw gateway adds some) rather than drop the link.
type frame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	OK      bool            `json:"ok"`
	Payload json.RawMessage `json:"payload"`
	Error   json.RawMessage `json:"error"`
	Event   string          `json:"event"`
	Seq     uint64          `json:"seq"`
}

// protocolError returns the error of a failed response, tolerating details
// that are not pairdeck's shape.
func (f frame) protocolError() *protocol.Error {
	var raw struct {
		Code      string          `json:"code"`
		Message   string          `json:"message"`
		Details   json.RawMessage `json:"details"`
		Retryable bool            `json:"retryable"`
	}
	if json.Unmarshal(f.Error, &raw) != nil || (raw.Code == "" && raw.Message == "") {
		return &protocol.Error{Code: protocol.CodeUnavailable, Message: "the gateway refused without saying why"}
	}
	perr := &protocol.Error{Code: raw.Code, Message: raw.Message, Retryable: raw.Retryable}
	var d protocol.ErrorDetails
	if json.Unmarshal(raw.Details, &d) == nil && d.Code != "" {
		perr.Details = &d
	}
	return perr
}

var errNotJSON = errors.New("frame is not a JSON object")

// readFrame reads the next text frame. Binary frames are skipped; they are
// not part of the protocol.
func readFrame(ctx context.Context, ws *websocket.Conn) (frame, error) {
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return frame{}, err
		}
		if typ != websocket.MessageText {
			continue
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			return frame{}, errNotJSON
		}
		return f, nil
	}
}

func writeFrame(ctx context.Context, ws *websocket.Conn, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ws.Write(ctx, websocket.MessageText, data)
}

// start runs the read loop.
func (cn *conn) start(c *Client) { go cn.readLoop(c) }

func (cn *conn) readLoop(c *Client) {
	var err error
	for {
		var f frame
		f, err = cn.read()
		if errors.Is(err, errNotJSON) {
			c.log.Warn("ignoring a frame that is not JSON")
			continue
		}
		if err != nil {
			break
		}
		switch f.Type {
		case protocol.TypeRes:
			cn.deliver(c, f)
		case protocol.TypeEvent:
			c.handleEvent(cn, f)
		}
	}
	cn.finish(cn.describeDrop(err))
}

// read reads one frame, giving up if the gateway has been silent for longer
// than two ticks: a dead network path can otherwise look open forever.
func (cn *conn) read() (frame, error) {
	ctx := cn.ctx
	if cn.idle > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, cn.idle, errIdle)
		defer cancel()
	}
	f, err := readFrame(ctx, cn.ws)
	if err != nil && errors.Is(context.Cause(ctx), errIdle) {
		return f, errIdle
	}
	return f, err
}

var errIdle = errors.New("the gateway went silent")

// idleGrace is added to two tick intervals before a silent connection is
// presumed dead (a variable so tests can shorten it).
var idleGrace = 5 * time.Second

func (c *Client) handleEvent(cn *conn, f frame) {
	switch f.Event {
	case protocol.EventChallenge:
		return // only meaningful during the handshake
	case protocol.EventShutdown:
		var ev protocol.ShutdownEvent
		_ = json.Unmarshal(f.Payload, &ev)
		cn.shutdownReason = ev.Reason
		if cn.shutdownReason == "" {
			cn.shutdownReason = "shutdown"
		}
	}
	ev := &protocol.Event{Type: protocol.TypeEvent, Event: f.Event, Payload: f.Payload, Seq: f.Seq}
	gap := cn.seq.observe(f.Seq)
	c.upd.emit(protocol.Update{Event: ev}, c.snapshot)
	if gap {
		c.log.Info("missed gateway events (seq gap); asking for a re-list", "seq", f.Seq)
		c.upd.emit(protocol.Update{Relist: true}, c.snapshot)
	}
}

// describeDrop says why the read loop ended, in terms a user can act on.
func (cn *conn) describeDrop(err error) error {
	cn.mu.Lock()
	closing := cn.closing
	cn.mu.Unlock()
	if closing {
		return ErrClosed
	}
	if errors.Is(err, errIdle) {
		return fmt.Errorf("%w: no frames from the gateway for %s although it ticks every %dms",
			ErrConnectionLost, cn.idle, cn.hello.Policy.TickIntervalMs)
	}
	ce, ok := closeReason(err)
	if !ok {
		return fmt.Errorf("%w: %v", ErrConnectionLost, err)
	}
	switch ce.Code {
	case closeNodeRemoved:
		return fmt.Errorf("%w: the gateway closed the connection (%d %s); pair this node again (pairdeck node pair)",
			ErrNodeRemoved, int(ce.Code), ce.Reason)
	case closeServiceReset:
		reason := ce.Reason
		if cn.shutdownReason != "" {
			reason = cn.shutdownReason
		}
		return fmt.Errorf("gateway is shutting down (%d %s): %w", int(ce.Code), reason, ce)
	}
	return fmt.Errorf("gateway closed the connection (%d %s): %w", int(ce.Code), ce.Reason, ce)
}

// register reserves a slot for the response to id; false if the
// connection is already gone.
func (cn *conn) register(id string) (chan frame, bool) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.calls == nil {
		return nil, false
	}
	ch := make(chan frame, 1)
	cn.calls[id] = ch
	return ch, true
}

// unregister forgets id; a response that arrives later is dropped.
func (cn *conn) unregister(id string) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	delete(cn.calls, id)
}

func (cn *conn) deliver(c *Client, f frame) {
	cn.mu.Lock()
	ch := cn.calls[f.ID]
	delete(cn.calls, f.ID)
	cn.mu.Unlock()
	if ch == nil {
		c.log.Debug("dropping a response nobody waits for (cancelled call?)", "id", f.ID)
		return
	}
	ch <- f // buffered, and each id is delivered at most once
}

// send writes one frame. It deliberately ignores the caller's context: a
// write cut short by cancellation would tear down the whole socket.
func (cn *conn) send(data []byte) error {
	ctx, cancel := context.WithTimeout(cn.ctx, writeTimeout)
	defer cancel()
	return cn.ws.Write(ctx, websocket.MessageText, data)
}

// finish records why the connection ended and wakes its waiters.
func (cn *conn) finish(err error) {
	cn.mu.Lock()
	cn.err = err
	cn.calls = nil
	cn.mu.Unlock()
	cn.cancel()
	cn.ws.CloseNow()
	close(cn.done)
}

// cause is why the connection ended (valid after done is closed).
func (cn *conn) cause() error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err
}

// close performs a clean close, forcing it after a second: a gateway that
// does not answer the close handshake must not hold up the caller.
func (cn *conn) close(code websocket.StatusCode, reason string) {
	cn.mu.Lock()
	cn.closing = true
	cn.mu.Unlock()
	go cn.ws.Close(code, reason)
	select {
	case <-cn.done:
	case <-time.After(time.Second):
		cn.cancel()
		<-cn.done
	}
}

// abort drops a connection whose read loop never started.
func (cn *conn) abort() {
	cn.cancel()
	cn.ws.CloseNow()
}
