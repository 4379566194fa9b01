package tui

import (
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// How long things are remembered, and how soon a failed list is retried.
const (
	// decidedFor: a request decided (or expired) stays decided this long,
	// so a list or an event that lags behind cannot bring it back.
	decidedFor = 2 * time.Minute
	// echoFor: anything else logged is remembered this long, to log it
	// once when both the console's own answer and the gateway's event
	// report it.
	echoFor = 10 * time.Second
	// retryAfter is the wait before listing again after a failed list.
	retryAfter = 5 * time.Second
)

// syncState is how the console's lists stand against the gateway's.
// Events are hints the console applies at once; a list is the truth. It
// decides when to list (one list at a time, at most one more queued, a
// retry after a failure), what of a list's answer events have already
// overtaken (requests decided since, requests that arrived while it was in
// flight), and which reports of one happening are echoes of each other.
type syncState struct {
	loaded   bool      // the first list has arrived
	listing  bool      // a list is in flight
	again    bool      // another list was asked for meanwhile
	retryAt  time.Time // a failed list is retried then; zero when none is due
	nodesErr string    // the last node.list failure reported, to report it once

	arrived []protocol.PendingRequest // announced while a list was in flight
	seen    map[happening]time.Time   // logged or decided, and when
	// expiredHere holds requests this console dropped as expired without
	// the gateway saying so, with the expiry it knew: a list that shows
	// one with a later expiry means the node refreshed it.
	expiredHere map[string]time.Time
}

// happening names something that happened to a request or node, so that
// two reports of it are recognised as one.
type happening struct {
	kind   happeningKind
	id     string // request id (decided, held) or node id
	detail string // what distinguishes two happenings of a kind (a new name)
}

type happeningKind int

const (
	hapDecided happeningKind = iota // approved, rejected or expired: by request id
	hapHeld                         // a silent request left for the operator
	hapRenamed
	hapRemoved
	hapBlocked
	hapUnblocked
	hapPairing // detail "on" or "off"
	hapCode    // a setup code created or revoked: by code id, detail the action
)

func decided(requestID string) happening { return happening{kind: hapDecided, id: requestID} }

func newSyncState() syncState {
	return syncState{seen: map[happening]time.Time{}, expiredHere: map[string]time.Time{}}
}

// startList reports whether a list should be sent now. While one is in
// flight it only notes that another is wanted: a burst of reasons to list
// costs two lists, not a hundred.
func (s *syncState) startList() bool {
	if s.listing {
		s.again = true
		return false
	}
	s.listing, s.again = true, false
	s.arrived = s.arrived[:0]
	return true
}

// listAnswered records a list's answer (err: it failed, retry later) and
// reports whether another list was asked for meanwhile.
func (s *syncState) listAnswered(err error, now time.Time) (again bool) {
	s.listing = false
	if err != nil {
		s.retryAt = now.Add(retryAfter)
	} else {
		s.loaded = true
		s.retryAt = time.Time{}
	}
	return s.again
}

// retryDue reports, once, that a failed list is due again.
func (s *syncState) retryDue(now time.Time) bool {
	if s.retryAt.IsZero() || now.Before(s.retryAt) {
		return false
	}
	s.retryAt = time.Time{}
	return true
}

// announced notes a request the gateway announced: one that arrives while
// a list is in flight is missing from that list's answer.
func (s *syncState) announced(req protocol.PendingRequest) {
	if s.listing {
		s.arrived = append(s.arrived, req)
	}
}

// merge is the queue a list's answer stands for, newest first: the
// requests announced while it was in flight, then the listed ones, less
// those decided since and those past their expiry's grace.
func (s *syncState) merge(listed []protocol.PendingRequest, now time.Time) []*protocol.PendingRequest {
	seen := make(map[string]bool, len(listed)+len(s.arrived))
	queue := make([]*protocol.PendingRequest, 0, len(listed)+len(s.arrived))
	for i := range s.arrived {
		req := s.arrived[i]
		if s.isDecided(req.RequestID) || seen[req.RequestID] {
			continue
		}
		seen[req.RequestID] = true
		queue = append(queue, &req)
	}
	s.arrived = s.arrived[:0]
	for i := range listed {
		req := &listed[i]
		exp, hasExpiry := req.ExpiresAt()
		if was, ok := s.expiredHere[req.RequestID]; ok && exp.After(was) {
			// Refreshed by its node since this console expired it (a
			// gateway that sends no event for a refresh): live again.
			delete(s.expiredHere, req.RequestID)
			delete(s.seen, decided(req.RequestID))
		}
		// Already past its grace: the console dropped it, or would at
		// once. Showing it again would only start a re-list loop with a
		// gateway that expires lazily.
		if s.isDecided(req.RequestID) || seen[req.RequestID] || hasExpiry && !now.Before(exp.Add(expiryGrace)) {
			continue
		}
		seen[req.RequestID] = true
		queue = append(queue, req)
	}
	return queue
}

// decide records that a request was decided (or expired), as of now.
func (s *syncState) decide(requestID string, now time.Time) {
	s.seen[decided(requestID)] = now
}

// isDecided reports whether a request is known to be decided.
func (s *syncState) isDecided(requestID string) bool {
	_, ok := s.seen[decided(requestID)]
	return ok
}

// droppedAsExpired records a request this console dropped as expired by
// itself, with the expiry it knew (its decision is recorded with the entry
// that logs it).
func (s *syncState) droppedAsExpired(requestID string, expiry time.Time) {
	s.expiredHere[requestID] = expiry
}

// first reports whether h is new, and remembers it from now on.
func (s *syncState) first(h happening, now time.Time) bool {
	if _, ok := s.seen[h]; ok {
		return false
	}
	s.seen[h] = now
	return true
}

// recent reports whether h was seen, without recording it.
func (s *syncState) recent(h happening) bool {
	_, ok := s.seen[h]
	return ok
}

// nodesFailed reports whether a node.list failure is news (not the one
// reported last); err nil clears it.
func (s *syncState) nodesFailed(err error) bool {
	if err == nil {
		s.nodesErr = ""
		return false
	}
	text := errText(err)
	if text == s.nodesErr {
		return false
	}
	s.nodesErr = text
	return true
}

// prune forgets what is too old to be echoed again.
func (s *syncState) prune(now time.Time) {
	for h, at := range s.seen {
		keep := echoFor
		if h.kind == hapDecided {
			keep = decidedFor
		}
		if now.Sub(at) > keep {
			delete(s.seen, h)
		}
	}
	for id := range s.expiredHere {
		if !s.isDecided(id) {
			delete(s.expiredHere, id)
		}
	}
}
