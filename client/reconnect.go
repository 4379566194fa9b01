package client

import (
	"math/rand/v2"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// run supervises the Client: it waits for the current connection to end,
// then either stops (Close, a terminal cause, or no Reconnect) or
// reconnects with backoff.
func (c *Client) run(cn *conn) {
	defer c.finish()
	for {
		<-cn.done
		cause := cn.cause()
		c.mu.Lock()
		c.cur = nil
		closed := c.closed
		c.mu.Unlock()
		if closed {
			c.setState(protocol.Disconnected, nil)
			return
		}
		if !c.cfg.Reconnect || terminal(cause) {
			c.stop(cause)
			return
		}
		c.log.Warn("lost the gateway connection; reconnecting", "err", cause)
		if cn = c.reconnect(cause); cn == nil {
			return
		}
		if !c.adopt(cn, true) {
			c.setState(protocol.Disconnected, nil)
			return
		}
	}
}

// reconnect dials until it succeeds, the Client is closed (nil) or the
// gateway refuses for good (nil, after stop). Before each wait it says,
// with why the last connection or attempt failed, when the next attempt
// starts.
func (c *Client) reconnect(cause error) *conn {
	var hint time.Duration // the last refusal's "retry after"
	for attempt := 0; ; attempt++ {
		wait := max(c.cfg.Backoff.delay(attempt), hint)
		c.setRetry(protocol.Disconnected, cause, c.cfg.Now().Add(wait))
		t := time.NewTimer(wait)
		select {
		case <-c.ctx.Done():
			t.Stop()
			c.setState(protocol.Disconnected, nil)
			return nil
		case <-t.C:
		}
		c.follow()
		c.setState(protocol.Connecting, nil)
		cn, err := c.connect(c.ctx)
		if err == nil {
			return cn
		}
		if c.ctx.Err() != nil {
			c.setState(protocol.Disconnected, nil)
			return nil
		}
		if terminal(err) {
			c.stop(err)
			return nil
		}
		hint, _ = retryWait(err)
		c.log.Debug("reconnect attempt failed", "attempt", attempt+1, "err", err)
		cause = err
	}
}

// follow moves to the URL Config.FollowURL names, if it names another.
// Only the reconnect goroutine writes the URL, and the dial that reads it
// runs on it too; URL reads it under the lock.
func (c *Client) follow() {
	if c.cfg.FollowURL == nil {
		return
	}
	next := c.cfg.FollowURL()
	if next == "" || next == c.cfg.URL || checkURL(next) != nil {
		return
	}
	c.log.Info("the gateway moved; following it", "from", c.cfg.URL, "to", next)
	c.mu.Lock()
	c.cfg.URL = next
	c.mu.Unlock()
}

// stop ends the Client with a terminal error, surfaced by Err and in a
// last Disconnected update.
func (c *Client) stop(err error) {
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	c.log.Warn("gateway connection ended", "err", err)
	c.setState(protocol.Disconnected, err)
}

// finish releases everything once run returns.
func (c *Client) finish() {
	c.cancel()
	c.upd.close()
	close(c.done)
}

// delay is the wait before reconnect attempt n (from 0): Min doubling up to
// Max, with equal jitter so nodes cut off by one gateway restart do not all
// return in the same instant.
func (b Backoff) delay(attempt int) time.Duration {
	d := b.Max
	if attempt < 32 {
		if x := b.Min << attempt; x > 0 && x < b.Max {
			d = x
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}
