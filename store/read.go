package store

import (
	"maps"
	"slices"

	"github.com/pairdeck/pairdeck/protocol"
)

// Reads never show an expired request, whether or not it has been swept
// yet: a request is live while now < ts+TTL. Returned records are copies;
// callers may keep and modify them.

func (s *Store) live(e *pendingEntry, nowMs int64) bool {
	return nowMs < e.rec.TS+s.ttlMs
}

// pendingView is a request as callers see it: with expiresAtMs and the
// scopes an approver needs.
func (s *Store) pendingView(e *pendingEntry) protocol.PendingRequest {
	r := e.rec
	r.Caps = slices.Clone(r.Caps)
	r.Commands = slices.Clone(r.Commands)
	r.ExpiresAtMs = r.TS + s.ttlMs
	r.RequiredApproveScopes = protocol.RequiredApproveScopes(r.Commands)
	r.Permissions = maps.Clone(r.Permissions)
	if e.openclaw {
		// OpenClaw's records do not say; a request of a paired node is a
		// re-pair.
		_, r.IsRepair = s.paired.byNode[r.NodeID]
	}
	return r
}

func pairedView(e *pairedEntry) protocol.PairedNode {
	n := e.rec.WithoutSecrets()
	n.Caps = slices.Clone(n.Caps)
	n.Commands = slices.Clone(n.Commands)
	n.Permissions = maps.Clone(n.Permissions)
	return n
}

// Pending lists live requests newest first (by ts; among equal ts the
// latest created or refreshed first), with ExpiresAtMs and
// RequiredApproveScopes filled. Never nil.
func (s *Store) Pending() []protocol.PendingRequest {
	if s.isClosed.Load() {
		return []protocol.PendingRequest{}
	}
	nowMs := s.now().UnixMilli()
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.listMu.Lock()
	defer s.listMu.Unlock()
	listed := s.listedPending()
	out := make([]protocol.PendingRequest, 0, len(listed))
	for _, e := range listed {
		if s.live(e, nowMs) {
			out = append(out, s.pendingView(e))
		}
	}
	return out
}

// PendingByID returns one live request.
func (s *Store) PendingByID(requestID string) (protocol.PendingRequest, bool) {
	if s.isClosed.Load() {
		return protocol.PendingRequest{}, false
	}
	nowMs := s.now().UnixMilli()
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.pending.byID[requestID]
	if !ok || !s.live(e, nowMs) {
		return protocol.PendingRequest{}, false
	}
	return s.pendingView(e), true
}

// PendingForNode returns the node's live request, if any.
func (s *Store) PendingForNode(nodeID string) (protocol.PendingRequest, bool) {
	if s.isClosed.Load() {
		return protocol.PendingRequest{}, false
	}
	nowMs := s.now().UnixMilli()
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.pending.byNode[nodeID]
	if !ok || !s.live(e, nowMs) {
		return protocol.PendingRequest{}, false
	}
	return s.pendingView(e), true
}

// Paired lists paired nodes newest approval first (ties by nodeId), without
// secrets. Never nil.
func (s *Store) Paired() []protocol.PairedNode {
	if s.isClosed.Load() {
		return []protocol.PairedNode{}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.listMu.Lock()
	defer s.listMu.Unlock()
	listed := s.listedPaired()
	out := make([]protocol.PairedNode, len(listed))
	for i, e := range listed {
		out[i] = pairedView(e)
	}
	return out
}

// PairedNode returns one paired node without secrets.
func (s *Store) PairedNode(nodeID string) (protocol.PairedNode, bool) {
	if s.isClosed.Load() {
		return protocol.PairedNode{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.paired.byNode[nodeID]
	if !ok {
		return protocol.PairedNode{}, false
	}
	return pairedView(e), true
}

// Verify checks a node's token in constant time: the SHA-256 of the
// presented token is compared with the stored digest (a legacy plaintext
// token was hashed on load), and an unknown node is compared against a
// decoy so it costs the same. The returned node has no secrets.
func (s *Store) Verify(nodeID, token string) (protocol.PairedNode, bool) {
	if s.isClosed.Load() {
		return protocol.PairedNode{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.paired.byNode[nodeID]
	if !tokenMatches(e, token, &s.decoy) {
		return protocol.PairedNode{}, false
	}
	return pairedView(e), true
}

// Counts is how many requests Pending and nodes Paired would list, without
// building the lists: the queue minus the requests expired but not yet
// swept, which the expiry heap yields without visiting live ones (a live
// request's children in the heap are no older, so live too).
func (s *Store) Counts() (pending, paired int) {
	if s.isClosed.Load() {
		return 0, 0
	}
	nowMs := s.now().UnixMilli()
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := s.pending.expiry
	expired := 0
	var walk func(i int)
	walk = func(i int) {
		if i >= len(h) || s.live(h[i], nowMs) {
			return
		}
		expired++
		walk(2*i + 1)
		walk(2*i + 2)
	}
	walk(0)
	return len(s.pending.byID) - expired, len(s.paired.byNode)
}
