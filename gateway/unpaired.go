package gateway

import (
	"sync"
	"time"

	"github.com/coder/websocket"
)

// An unpaired node's socket costs the gateway memory and a file
// descriptor on the word of a key anyone can make, so it stays only while
// it has a reason to: Config.UnpairedGrace to ask to pair, then for as
// long as its own request waits for a decision, then UnpairedGrace again
// once the request is decided or expires (time to read the answer, or to
// ask again). It is then closed with 1008 "no pairing request".

// unpairedWatch is the timer that ends an unpaired node's socket.
type unpairedWatch struct {
	mu    sync.Mutex
	timer *time.Timer
	done  bool
}

// watchUnpaired starts the watch; call before the socket joins the fan-out
// so that a decision on its request finds it.
func (c *wsConn) watchUnpaired() {
	grace := c.g.cfg.UnpairedGrace
	c.unpaired.timer = time.AfterFunc(grace, c.checkUnpaired)
	c.sub.resolved = func() { c.unpaired.reset(grace) }
}

func (w *unpairedWatch) reset(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil && !w.done {
		w.timer.Reset(d)
	}
}

func (w *unpairedWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
}

// checkUnpaired keeps the socket while its node's request waits, and
// closes it otherwise.
func (c *wsConn) checkUnpaired() {
	g := c.g
	grace := g.cfg.UnpairedGrace
	if req, ok := g.store.PendingForNode(c.sub.sess.nodeID); ok {
		wait := grace
		if at, ok := g.decorate(req).ExpiresAt(); ok {
			wait += max(at.Sub(g.cfg.Now()), 0)
		}
		c.unpaired.reset(wait)
		return
	}
	if s := c.sub.sess; s.protocol < 4 && !s.asked.Load() {
		if _, ok := g.store.PairedNode(s.nodeID); ok {
			// A 2026.4 host approved while connected: closing its socket
			// would end its process; it is let in paired when it next
			// connects (handOver).
			c.unpaired.stop()
			return
		}
	}
	c.logger().Info("closing an unpaired node's socket: it has no pending request of its own", "node", c.sub.sess.nodeID, "grace", grace)
	reason := "no pairing request"
	if e := c.sub.sess.fileErr; e != nil && !c.sub.sess.asked.Load() {
		reason = closeReason(e.Message) // why none was filed at connect
	}
	c.requestClose(websocket.StatusPolicyViolation, reason, true)
}

// nodeResolved tells nodeID's unpaired sockets that its request was
// decided or expired. Called from store hooks: it only resets timers.
func (g *Gateway) nodeResolved(nodeID string) {
	for _, sub := range g.fan.nodeSockets(nodeID) {
		if sub.resolved != nil {
			sub.resolved()
		}
	}
}
