package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

const (
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
	// Gaps are judged on what the gateway sent, before translation drops
	// events the consumer has no use for.
	gap := cn.seq.observe(f.Seq)
	out, relist := c.translate(cn.hello, ev)
	if out != nil {
		c.upd.emit(protocol.Update{Event: out}, c.snapshot)
	}
	if relist && !gap {
		c.upd.emit(protocol.Update{Relist: true}, c.snapshot)
	}
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
