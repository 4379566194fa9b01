package gateway

import (
	"context"
	"sync"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// Wrong tokens go to the audit log aggregated: one "token-refused" line
// per client (a node id, or the operator role) and network per flush
// (every accessFlushEvery and at shutdown), saying how many were refused
// and when the first and last were. A guesser so costs at most one
// durable write per flush, not one per guess. Lines for more than
// maxTokenAuditKeys clients in one flush are summed into one more line.

// maxTokenAuditKeys bounds the lines (and the memory) one flush can take.
const maxTokenAuditKeys = 256

type tokenAuditKey struct {
	role, nodeID, network string
}

type tokenAuditEntry struct {
	actor       store.Actor // the latest refused client's
	count       int64
	first, last time.Time
}

type tokenAudit struct {
	mu       sync.Mutex
	entries  map[tokenAuditKey]*tokenAuditEntry
	overflow int64
	oFirst   time.Time
	oLast    time.Time
}

func (a *tokenAudit) add(actor store.Actor, nodeID, network string, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.entries == nil {
		a.entries = map[tokenAuditKey]*tokenAuditEntry{}
	}
	k := tokenAuditKey{role: actor.Role, nodeID: nodeID, network: network}
	e, ok := a.entries[k]
	if !ok {
		if len(a.entries) >= maxTokenAuditKeys {
			if a.overflow == 0 {
				a.oFirst = now
			}
			a.overflow++
			a.oLast = now
			return
		}
		e = &tokenAuditEntry{first: now}
		a.entries[k] = e
	}
	e.actor = actor
	e.count++
	e.last = now
}

// flush writes what was counted since the last flush.
func (g *Gateway) flushTokenAudit(ctx context.Context) {
	a := &g.refusedTokens
	a.mu.Lock()
	entries, overflow, oFirst, oLast := a.entries, a.overflow, a.oFirst, a.oLast
	a.entries, a.overflow = nil, 0
	a.mu.Unlock()
	for k, e := range entries {
		fields := map[string]any{"attempts": e.count, "firstTs": e.first.UnixMilli(), "lastTs": e.last.UnixMilli(), "network": k.network}
		if k.nodeID != "" {
			fields["nodeId"] = k.nodeID
		}
		g.audit(ctx, e.actor, "token-refused", fields)
	}
	if overflow > 0 {
		g.audit(ctx, protocol.GatewayActor(""), "token-refused", map[string]any{
			"attempts": overflow, "firstTs": oFirst.UnixMilli(), "lastTs": oLast.UnixMilli(), "network": "other clients"})
	}
}
