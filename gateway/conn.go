package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"

	"github.com/pairdeck/pairdeck/protocol"
)

// Close statuses beyond the standard ones.
const statusNodeRemoved websocket.StatusCode = 4001

// nodeSendQueue is the send queue of a socket until it proves to be an
// operator's: a node is sent its challenge, hello-ok, the decision on its
// request, ticks and the shutdown, never a stream of events. Thousands of
// strangers' sockets so cost a few hundred bytes of queue each, not
// Config.SendQueue's frames (growQueue).
const nodeSendQueue = 8

// maxKeptWriteBuffer bounds the encoding buffers kept for reuse; a larger
// frame (a list) gets a buffer of its own.
const maxKeptWriteBuffer = 64 << 10

// wsConn is one WebSocket client. Its reader goroutine (run) handles
// requests one at a time; a writer goroutine owns every write, so a slow
// client only ever delays itself. The writer runs only while something is
// queued (wakeWriter): an idle socket — most of thousands of nodes — has
// one goroutine, not two.
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
	logOnce    sync.Once
	log        *slog.Logger // made when first used: most sockets never log

	// dispatchMu is held while a frame is handled and its answer queued, so
	// shutdown can wait for the call in flight and then refuse new ones.
	dispatchMu sync.Mutex
	stopping   bool // shutdown began: no more calls are served
	greeted    bool // hello-ok queued; the socket is in the fan-out

	closeOnce  sync.Once
	closeReq   chan closeRequest
	writerDone chan struct{}
	// writing is set while a writer goroutine runs, and for good once one
	// has closed the socket. Only the writer that set it touches wq, the
	// queue it reads (the subscriber's, or one it was handed over to).
	writing atomic.Bool
	wq      chan *outFrame
	// jobs and jobDone hand frames to the worker (work) and wait for it.
	jobs    chan func()
	jobDone chan struct{}
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
		closeReq:   make(chan closeRequest, 1),
		writerDone: make(chan struct{}),
		jobs:       make(chan func()),
		jobDone:    make(chan struct{}),
	}
	// The session is filled in by the handshake; until then the subscriber
	// is only a queue and is not in the fan-out.
	c.sub = newSubscriber(&session{}, min(g.cfg.SendQueue, nodeSendQueue))
	c.sub.kick = func(code int, reason string) {
		c.requestClose(websocket.StatusCode(code), reason, true)
	}
	c.sub.wake = c.wakeWriter
	c.wq = c.sub.queue
	return c
}

// logger is the gateway's logger with the connection's id and address.
func (c *wsConn) logger() *slog.Logger {
	c.logOnce.Do(func() { c.log = c.g.log.With("conn", c.connID, "addr", c.remoteAddr) })
	return c.log
}

// run serves the connection until it closes.
func (c *wsConn) run() {
	c.logger().Debug("connection opened")
	sess := c.g.handshake(c)
	if sess != nil {
		c.readLoop(sess)
		c.unpaired.stop()
		c.g.leave(c.sub)
	}
	c.requestClose(websocket.StatusNormalClosure, "", false)
	<-c.writerDone
	c.logger().Debug("connection closed")
}

// readLoop answers requests until the socket fails or closes.
func (c *wsConn) readLoop(sess *session) {
	for {
		typ, data, err := c.ws.Read(c.g.ctx)
		if err != nil {
			c.readFailed(err)
			return
		}
		c.work(func() { c.serveFrame(sess, typ, data) })
	}
}

// linger is how long a connection's writer, or its worker, waits for more
// before its goroutine ends: long enough that a burst (a client's calls, a
// run of events) is served by one goroutine (starting one per frame cost
// a tenth more CPU per request), short enough that idle sockets soon have
// none.
const linger = 50 * time.Millisecond

// work runs f on the connection's worker and waits for it. What a frame
// sets off (JSON, signatures, the store) needs a deep stack; grown on the
// socket's long-lived reader it would stay grown for the socket's life,
// which thousands of idle sockets would pay for. The worker lingers
// (linger) for the next frame, so a busy socket does not start a goroutine
// per frame.
func (c *wsConn) work(f func()) {
	select {
	case c.jobs <- f: // a worker waits for it
	default:
		go c.worker(f)
	}
	<-c.jobDone
}

func (c *wsConn) worker(f func()) {
	idle := time.NewTimer(linger)
	defer idle.Stop()
	for {
		f()
		c.jobDone <- struct{}{}
		idle.Reset(linger)
		select {
		case f = <-c.jobs:
		case <-idle.C:
			return
		}
	}
}

// serveFrame answers one frame and runs the work that follows its answer.
func (c *wsConn) serveFrame(sess *session, typ websocket.MessageType, data []byte) {
	c.dispatchMu.Lock()
	defer c.dispatchMu.Unlock()
	var out outFrame
	ctx, then := withFollowUps(c.g.ctx)
	if c.stopping {
		out.res = protocol.ErrorResponse(frameID(data), shuttingDownError())
	} else {
		out = c.g.answer(ctx, sess, typ, data)
	}
	c.push(out)
	then.run()
}

// readFailed closes after a failed read with the status that explains it.
func (c *wsConn) readFailed(err error) {
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		// The library has already sent 1009; this waits for the peer's reply.
		c.logger().Info("frame over the read limit", "err", err)
		c.requestClose(websocket.StatusMessageTooBig, "frame too big", false)
	case websocket.CloseStatus(err) != -1:
		c.logger().Debug("client closed", "status", websocket.CloseStatus(err))
	default:
		c.logger().Debug("read failed", "err", err)
	}
	c.requestClose(websocket.StatusNormalClosure, "", false)
}

// push queues a frame that must not be dropped (a response). It waits for
// room, which only ever holds up this connection's own reader.
func (c *wsConn) push(f outFrame) bool {
	select {
	case c.sub.queue <- &f:
		c.wakeWriter()
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
		c.wakeWriter()
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

// growQueue gives an operator's socket its full send queue
// (Config.SendQueue). The new queue is announced on the old one, so the
// writer takes it up after the frames queued before it.
func (c *wsConn) growQueue() {
	n := c.g.cfg.SendQueue
	if n <= cap(c.sub.queue) {
		return
	}
	q := make(chan *outFrame, n)
	c.sub.mu.Lock()
	old := c.sub.queue
	c.sub.queue = q
	c.sub.mu.Unlock()
	select {
	case old <- &outFrame{next: q}:
		c.wakeWriter()
	case <-c.writerDone:
	}
}

// wakeWriter starts a writer unless one runs; call it after queueing.
func (c *wsConn) wakeWriter() {
	if c.writing.CompareAndSwap(false, true) {
		go c.writeLoop()
	}
}

// writeLoop writes what is queued, following the queue to the one it hands
// over to (growQueue), and returns once nothing has come for linger.
// Whoever queues after it looked wakes a new one: the queue is checked
// again after writing is cleared, so nothing queued is left without a
// writer.
func (c *wsConn) writeLoop() {
	idle := time.NewTimer(linger)
	defer idle.Stop()
	for {
		select {
		case f := <-c.wq:
			idle.Reset(linger)
			if f.next != nil {
				c.wq = f.next
				continue
			}
			if !c.write(f) {
				c.sub.stop()
				c.ws.CloseNow()
				close(c.writerDone)
				return // writing stays set: no writer again
			}
		case req := <-c.closeReq:
			c.sub.stop()
			if req.drain && !c.drain() {
				c.ws.CloseNow()
			} else if err := c.ws.Close(req.code, req.reason); err != nil {
				c.logger().Debug("close handshake", "err", err)
			}
			close(c.writerDone)
			return
		case <-idle.C:
			q := c.wq // not to be read once writing is cleared
			c.writing.Store(false)
			if len(q) == 0 && len(c.closeReq) == 0 {
				return
			}
			if !c.writing.CompareAndSwap(false, true) {
				return // another writer took over
			}
			idle.Reset(linger)
		}
	}
}

// drain writes whatever is queued; false if a write failed.
func (c *wsConn) drain() bool {
	for {
		select {
		case f := <-c.wq:
			if f.next != nil {
				c.wq = f.next
				continue
			}
			if !c.write(f) {
				return false
			}
		default:
			return true
		}
	}
}

// writeBuffers are the encoding buffers every connection's writer
// borrows for a frame, so that an idle socket holds none of its own.
var writeBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, 4<<10)
	return &b
}}

func (c *wsConn) write(f *outFrame) bool {
	// The payload is JSON already: only the envelope is written around it
	// (protocol.AppendEvent), in a borrowed buffer that goes back unless a
	// large frame grew it.
	data := f.raw
	if data == nil {
		pooled := writeBuffers.Get().(*[]byte)
		var err error
		if f.event != nil {
			data = protocol.AppendEvent((*pooled)[:0], f.event)
		} else {
			data, err = protocol.AppendResponse((*pooled)[:0], f.res)
		}
		defer func() {
			if cap(data) <= maxKeptWriteBuffer {
				*pooled = data[:0]
				writeBuffers.Put(pooled)
			}
		}()
		if err != nil {
			c.logger().Error("encode frame", "err", err)
			return true
		}
	}
	ctx, cancel := context.WithTimeout(c.g.ctx, c.g.cfg.WriteTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		c.logger().Info("write failed; closing", "err", err)
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
