package store

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// Refusals. A refused attempt (a node presenting a wrong token, …) is not a
// decision, and an attacker can make thousands a second, so it costs no
// write of its own: AuditRefusal counts it in memory, one count per kind,
// node and address (without the port), and each count goes to the audit log
// as one line when its window closes (refusalWindow after its first
// refusal): with the next commit, or on its own then, and at Close. The
// line has "count", "firstTs" and "lastTs"; its "ts" is when it was
// written. A crash loses the counts of the windows still open. Beyond
// maxRefusalKeys pairs at once, refusals of a kind share one count whose
// line has "nodeId" and "actor.remoteAddr" left out and "others": true.

// Variables so that tests can close windows sooner.
var (
	refusalWindow  = time.Minute
	maxRefusalKeys = 4096
)

type refusalKey struct{ action, nodeID, addr string }

type refusalCount struct {
	actor           Actor // the first refusal's, with the address alone
	firstMs, lastMs int64
	count           int
	opened          time.Time // wall clock, for the window
	others          bool
}

type refusalLog struct {
	mu     sync.Mutex
	counts map[refusalKey]*refusalCount
	next   time.Time // earliest window end; zero when none
}

// AuditRefusal counts a refused attempt for the audit log without writing
// anything now (see refusals.go for when the count is written). action
// names the kind ("token-refused"); actor is who tried, with the address
// it came from.
func (s *Store) AuditRefusal(actor Actor, action, nodeID string) error {
	if err := validAction(action); err != nil {
		return fmt.Errorf("audit refusal: %w", err)
	}
	if s.isClosed.Load() {
		return ErrClosed
	}
	nowMs := s.now().UnixMilli()
	addr := actor.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	actor.RemoteAddr = addr
	key := refusalKey{action, nodeID, addr}
	r := &s.refusals
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.counts == nil {
		r.counts = map[refusalKey]*refusalCount{}
	}
	c := r.counts[key]
	if c == nil && len(r.counts) >= maxRefusalKeys {
		key = refusalKey{action: action}
		c = r.counts[key]
		if c == nil {
			c = &refusalCount{actor: Actor{Role: actor.Role}, firstMs: nowMs, opened: time.Now(), others: true}
			r.counts[key] = c
		}
	}
	if c == nil {
		c = &refusalCount{actor: actor, firstMs: nowMs, opened: time.Now()}
		r.counts[key] = c
	}
	c.count++
	c.lastMs = nowMs
	if end := c.opened.Add(refusalWindow); r.next.IsZero() || end.Before(r.next) {
		r.next = end
		select { // the committer sets its timer again
		case s.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// due is when the earliest window closes (zero: none open).
func (r *refusalLog) due() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// hasDue reports whether a count is due at now (any count, with all).
func (r *refusalLog) hasDue(now time.Time, all bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.counts) > 0 && (all || !now.Before(r.next))
}

// takeDue moves the counts whose window has closed (all of them, with all)
// into the batch as audit lines.
func (r *refusalLog) takeDue(tx *tx, now time.Time, all bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.counts) == 0 || (!all && now.Before(r.next)) {
		return
	}
	r.next = time.Time{}
	var due []refusalKey
	for key, c := range r.counts {
		end := c.opened.Add(refusalWindow)
		if !all && now.Before(end) {
			if r.next.IsZero() || end.Before(r.next) {
				r.next = end
			}
			continue
		}
		due = append(due, key)
	}
	slices.SortFunc(due, func(a, b refusalKey) int {
		return cmp.Or(cmp.Compare(r.counts[a].firstMs, r.counts[b].firstMs),
			cmp.Compare(a.action, b.action), cmp.Compare(a.nodeID, b.nodeID), cmp.Compare(a.addr, b.addr))
	})
	for _, key := range due {
		c := r.counts[key]
		delete(r.counts, key)
		ev := auditEvent{Action: key.action, NodeID: key.nodeID, Actor: c.actor, Count: c.count, FirstTS: c.firstMs, LastTS: c.lastMs}
		if c.others {
			ev.setFields(map[string]any{"others": true})
		}
		tx.log(ev)
	}
}
