package store

import (
	"context"
	"fmt"
	"time"
)

// Expiry on time. Every batch first sweeps the requests whose window has
// closed (now >= ts+TTL): each is removed durably with an "expired" audit
// line and queued for ExpireDue. So whichever call happens to sweep a
// request — ExpireDue itself, or an Approve, Reject or Request that came in
// after its deadline — the expiry is handed to the gateway exactly once, by
// ExpireDue, and the gateway emits node.pair.resolved(expired) from there
// only. NextExpiry returns a past time while such an expiry waits, so the
// gateway's timer fires at once.

// sweep expires every request that is due as of tx.nowMs.
func (tx *tx) sweep() {
	for {
		e := tx.s.pending.expiry.peek()
		if e == nil || tx.s.live(e, tx.nowMs) {
			return
		}
		view := tx.s.pendingView(e)
		tx.removePending(e)
		tx.resolve(e.rec.RequestID, e.rec.NodeID, decisionExpired)
		tx.expired = append(tx.expired, Expiry{Request: view, At: time.UnixMilli(view.ExpiresAtMs)})
		tx.log(auditEvent{
			Action:      actionExpired,
			RequestID:   e.rec.RequestID,
			NodeID:      e.rec.NodeID,
			Actor:       ttlActor,
			DisplayName: e.rec.DisplayName,
			IsRepair:    e.rec.IsRepair,
			Decision:    decisionExpired,
		})
	}
}

// NextExpiry is when the gateway should next call ExpireDue: the earliest
// deadline of a pending request, or a past time when an expiry is already
// waiting to be collected. false when there is nothing to wait for.
func (s *Store) NextExpiry() (time.Time, bool) {
	if s.isClosed.Load() || s.readOnly { // a read-only store expires nothing
		return time.Time{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.unreported) > 0 {
		return s.unreported[0].At, true
	}
	e := s.pending.expiry.peek()
	if e == nil {
		return time.Time{}, false
	}
	return time.UnixMilli(e.rec.TS + s.ttlMs), true
}

// ExpireDue removes every request whose time is up (now >= ts+TTL),
// durably, writes an audit line for each, and returns them — together with
// any that another call swept since the last ExpireDue — oldest deadline
// first, each exactly once, so the gateway can emit
// node.pair.resolved(expired). On a write error nothing is removed and the
// same requests are due again next time.
func (s *Store) ExpireDue(ctx context.Context) ([]Expiry, error) {
	return s.ExpireDueWith(ctx, nil)
}

// ExpireDueWith is ExpireDue with a hook (commit.go): then is handed the
// expiries once their removal is durable, in commit order, so they can be
// announced in order with the changes around them. It may be nil, and is
// not called when nothing is due.
func (s *Store) ExpireDueWith(ctx context.Context, then func([]Expiry)) ([]Expiry, error) {
	if s.isClosed.Load() {
		return nil, ErrClosed
	}
	if s.readOnly {
		return nil, fmt.Errorf("expire pending requests: %w", s.readOnlyError())
	}
	nowMs := s.now().UnixMilli()
	s.mu.RLock()
	e := s.pending.expiry.peek()
	due := len(s.unreported) > 0 || (e != nil && !s.live(e, nowMs))
	s.mu.RUnlock()
	if !due {
		return nil, nil
	}
	var out []Expiry
	err := s.submit(ctx, func(tx *tx) error {
		if len(tx.expired) > 0 {
			tx.touch() // this call waits on the sweep's write
		}
		return nil
	}, func() {
		out, s.unreported = s.unreported, nil
		if then != nil && len(out) > 0 {
			then(out)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("expire pending requests: %w", err)
	}
	return out, nil
}
