package gateway

import (
	"time"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// Expiry timing. idleWait is how long to sleep with nothing pending (a new
// request pokes the loop anyway); retryWait spaces out sweeps that found
// nothing due or failed, so a clock that does not advance cannot spin.
const (
	idleWait  = time.Hour
	retryWait = time.Second
)

// expiryLoop sleeps until the store's next expiry, expires what is due and
// announces it, so requests end on time even when nobody is reading.
func (g *Gateway) expiryLoop() {
	defer g.loops.Done()
	timer := time.NewTimer(idleWait)
	defer timer.Stop()
	fruitless := false
	for {
		timer.Reset(g.untilNextExpiry(fruitless))
		select {
		case <-g.loopStop:
			return
		case <-g.expiryPoke:
			fruitless = false
		case <-timer.C:
			fruitless = g.sweepExpired() == 0
		}
	}
}

func (g *Gateway) untilNextExpiry(fruitless bool) time.Duration {
	next, ok := g.store.NextExpiry()
	if !ok {
		return idleWait
	}
	d := next.Sub(g.cfg.Now())
	if fruitless && d < retryWait {
		return retryWait
	}
	return max(d, 0)
}

// pokeExpiry makes the loop recompute its deadline (a request was created
// or refreshed, or a test moved the clock).
func (g *Gateway) pokeExpiry() {
	select {
	case g.expiryPoke <- struct{}{}:
	default:
	}
}

// sweepExpired expires due requests and emits node.pair.resolved
// (decision "expired") to pairing operators and the requesting nodes, in
// commit order with the changes around them.
func (g *Gateway) sweepExpired() int {
	expired, err := g.store.ExpireDueWith(g.ctx, func(expired []store.Expiry) {
		for _, e := range expired {
			at := e.At
			if at.IsZero() {
				at = g.cfg.Now()
			}
			ev := protocol.ResolvedEvent{
				RequestID: e.Request.RequestID, NodeID: e.Request.NodeID,
				Decision: protocol.DecisionExpired, TS: at.UnixMilli(), Actor: protocol.Actor{Rule: protocol.RuleTTL}.String(),
			}
			g.fan.broadcast(toPairing, protocol.EventPairResolved, ev)
			ev.Actor = ""
			g.fan.toNode(e.Request.NodeID, protocol.EventPairResolved, ev)
			g.nodeResolved(e.Request.NodeID)
		}
	})
	if err != nil {
		g.log.Warn("expire pending requests", "err", err, "expired", len(expired))
	}
	for _, e := range expired {
		g.log.Info("pairing expired", "node", e.Request.NodeID, "request", e.Request.RequestID)
	}
	return len(expired)
}
