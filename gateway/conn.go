package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/pairdeck/pairdeck/protocol"
)

// Close statuses beyond the standard ones.
const statusNodeRemoved websocket.StatusCode = 4001

// maxKeptWriteBuffer bounds the encoding buffer a connection keeps between
// frames; a larger frame (a list) gets a buffer of its own.
const maxKeptWriteBuffer = 64 << 10

// wsConn is one WebSocket client. Its reader goroutine (run) handles
// requests one at a time; its writer goroutine owns every write, so a slow
// client only ever delays itself.
type wsConn struct {
	g          *Gateway
	ws         *websocket.Conn
	sub        *subscriber // the send queue, shared by responses and events
	connID     string
	remoteAddr string
	remoteIP   string
	prefix     string // the network limits are kept per (prefixKey)
	slot       *slot  // its place under the connection caps; nil outside Serve
	unpaired   unpairedWatch
	log        *slog.Logger

	// dispatchMu is held while a frame is handled and its answer queued, so
	// shutdown can wait for the call in flight and then refuse new ones.
	dispatchMu sync.Mutex
	stopping   bool // shutdown began: no more calls are served
	greeted    bool // hello-ok queued; the socket is in the fan-out

	closeOnce  sync.Once
	closeReq   chan closeRequest
	writerDone chan struct{}
	buf        []byte // the writer's encoding buffer
}

type closeRequest struct {
	code   websocket.StatusCode
	reason string
	drain  bool // write what is queued before closing
}

func newConn(g *Gateway, ws *websocket.Conn, remoteAddr string, s *slot) *wsConn {
	ip := hostOf(remoteAddr)
	connID := uuid.NewString()
	c := &wsConn{
		g:          g,
		ws:         ws,
		connID:     connID,
		remoteAddr: remoteAddr,
		remoteIP:   ip,
		prefix:     g.prefixKey(ip),
		slot:       s,
		log:        g.log.With("conn", connID, "addr", remoteAddr),
		closeReq:   make(chan closeRequest, 1),
		writerDone: make(chan struct{}),
	}
	// The session is filled in by the handshake; until then the subscriber
	// is only a queue and is not in the fan-out.
	c.sub = newSubscriber(&session{}, g.cfg.SendQueue)
	c.sub.kick = func(code int, reason string) {
		c.requestClose(websocket.StatusCode(code), reason, true)
	}
	return c
}

// run serves the connection until it closes.
func (c *wsConn) run() {
	go c.writeLoop()
	c.log.Debug("connection opened")
	sess := c.g.handshake(c)
	if sess != nil {
		c.readLoop(sess)
		c.unpaired.stop()
		c.g.leave(c.sub)
	}
	c.requestClose(websocket.StatusNormalClosure, "", false)
	<-c.writerDone
	c.log.Debug("connection closed")
}

// readLoop answers requests until the socket fails or closes.
func (c *wsConn) readLoop(sess *session) {
	for {
		typ, data, err := c.ws.Read(c.g.ctx)
		if err != nil {
			c.readFailed(err)
			return
		}
		c.dispatchMu.Lock()
		var out outFrame
		ctx, then := withFollowUps(c.g.ctx)
		if c.stopping {
			out.res = protocol.ErrorResponse(frameID(data), shuttingDownError())
		} else {
			out = c.g.answer(ctx, sess, typ, data)
		}
		c.push(out)
		then.run()
		c.dispatchMu.Unlock()
	}
}

// readFailed closes after a failed read with the status that explains it.
func (c *wsConn) readFailed(err error) {
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		// The library has already sent 1009; this waits for the peer's reply.
		c.log.Info("frame over the read limit", "err", err)
		c.requestClose(websocket.StatusMessageTooBig, "frame too big", false)
	case websocket.CloseStatus(err) != -1:
		c.log.Debug("client closed", "status", websocket.CloseStatus(err))
	default:
		c.log.Debug("read failed", "err", err)
	}
	c.requestClose(websocket.StatusNormalClosure, "", false)
}

// push queues a frame that must not be dropped (a response). It waits for
// room, which only ever holds up this connection's own reader.
func (c *wsConn) push(f outFrame) bool {
	select {
	case c.sub.queue <- f:
		return true
	case <-c.writerDone:
		return false
	}
}

// requestClose asks the writer to close the socket; only the first request
// counts.
func (c *wsConn) requestClose(code websocket.StatusCode, reason string, drain bool) {
	c.closeOnce.Do(func() {
		c.closeReq <- closeRequest{code: code, reason: reason, drain: drain}
	})
}

// shutdown lets the call in flight answer, sends the shutdown event and
// closes with 1012.
func (c *wsConn) shutdown(ev protocol.ShutdownEvent) {
	c.dispatchMu.Lock()
	c.stopping = true
	greeted := c.greeted
	c.dispatchMu.Unlock()
	if greeted {
		c.sub.offer(protocol.EventShutdown, protocol.MustMarshal(ev), nil)
	}
	c.requestClose(websocket.StatusServiceRestart, "gateway shutting down", true)
}

func (c *wsConn) writeLoop() {
	defer close(c.writerDone)
	for {
		select {
		case f := <-c.sub.queue:
			if !c.write(f) {
				c.sub.stop()
				c.ws.CloseNow()
				return
			}
		case req := <-c.closeReq:
			c.sub.stop()
			if req.drain && !c.drain() {
				c.ws.CloseNow()
				return
			}
			if err := c.ws.Close(req.code, req.reason); err != nil {
				c.log.Debug("close handshake", "err", err)
			}
			return
		}
	}
}

// drain writes whatever is queued; false if a write failed.
func (c *wsConn) drain() bool {
	for {
		select {
		case f := <-c.sub.queue:
			if !c.write(f) {
				return false
			}
		default:
			return true
		}
	}
}

func (c *wsConn) write(f outFrame) bool {
	// The payload is JSON already: only the envelope is written around it
	// (protocol.AppendEvent). The buffer is kept for the next frame unless
	// a large one (a list) grew it.
	buf := c.buf[:0]
	var err error
	switch {
	case f.raw != nil:
		buf = f.raw
	case f.event != nil:
		buf = protocol.AppendEvent(buf, f.event)
	default:
		buf, err = protocol.AppendResponse(buf, f.res)
	}
	if cap(buf) <= maxKeptWriteBuffer {
		c.buf = buf
	}
	if err != nil {
		c.log.Error("encode frame", "err", err)
		return true
	}
	data := buf
	ctx, cancel := context.WithTimeout(c.g.ctx, c.g.cfg.WriteTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		c.log.Info("write failed; closing", "err", err)
		return false
	}
	if f.written != nil {
		select {
		case f.written <- struct{}{}:
		default:
		}
	}
	return true
}

// frameID recovers a frame's id for an answer, or "invalid".
func frameID(data []byte) string {
	var f struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(data, &f) == nil && f.ID != "" {
		return f.ID
	}
	return "invalid"
}

func shuttingDownError() *protocol.Error {
	e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonStoreFailed,
		"the gateway is shutting down; reconnect and retry once it is back")
	e.Retryable = true
	return e
}
