package store

import (
	"cmp"
	"slices"

	"github.com/pairdeck/pairdeck/protocol"
)

// Lists. node.pair.list is the call a console makes on every attach and
// after every gap, and with thousands of nodes building it is the costliest
// thing the gateway does. So the store keeps, next to each record's disk
// text, its text as lists show it (wire: a pending request with
// requiredApproveScopes and expiresAtMs, a paired node without token or
// tokenSha256), made the first time the record is listed after a change;
// and each table keeps its records in list order until a change makes
// that stale. A list is then a join of cached bytes: no reflection and no
// sort unless something changed.
//
// The caches are filled by readers, which hold mu for reading, so they
// also hold listMu; writers hold mu for writing and only ever drop them
// (encode clears wire, the tables clear listed).

// listedPending returns the requests newest first (by ts; among equal ts
// the latest created or refreshed first), expired ones included. Call with
// mu held for reading and listMu held.
func (s *Store) listedPending() []*pendingEntry {
	t := s.pending
	if t.listed == nil {
		t.listed = make([]*pendingEntry, 0, len(t.byID))
		for _, e := range t.byID {
			t.listed = append(t.listed, e)
		}
		slices.SortFunc(t.listed, func(a, b *pendingEntry) int {
			if c := cmp.Compare(b.rec.TS, a.rec.TS); c != 0 {
				return c
			}
			return cmp.Compare(b.seq, a.seq)
		})
	}
	return t.listed
}

// listedPaired returns the paired nodes newest approval first (ties by
// nodeId). Call with mu held for reading and listMu held.
func (s *Store) listedPaired() []*pairedEntry {
	t := s.paired
	if t.listed == nil {
		t.listed = make([]*pairedEntry, 0, len(t.byNode))
		for _, e := range t.byNode {
			t.listed = append(t.listed, e)
		}
		slices.SortFunc(t.listed, func(a, b *pairedEntry) int {
			if c := cmp.Compare(b.rec.ApprovedAtMs, a.rec.ApprovedAtMs); c != 0 {
				return c
			}
			return cmp.Compare(a.rec.NodeID, b.rec.NodeID)
		})
	}
	return t.listed
}

// AppendListJSON appends node.pair.list's result as the wire carries it,
// {"pending":[...],"paired":[...]}, byte for byte what encoding
// protocol.PairListResult{Pending: Pending(), Paired: Paired()} with
// encoding/json gives, from one consistent view of both tables.
func (s *Store) AppendListJSON(b []byte) []byte {
	if s.isClosed.Load() {
		return append(b, `{"pending":[],"paired":[]}`...)
	}
	nowMs := s.now().UnixMilli()
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.listMu.Lock()
	defer s.listMu.Unlock()

	pending := s.listedPending()
	paired := s.listedPaired()
	size := len(`{"pending":[],"paired":[]}`)
	for _, e := range pending {
		if s.live(e, nowMs) {
			if e.wire == nil {
				e.wire = protocol.MustMarshal(s.pendingView(e))
			}
			size += len(e.wire) + 1
		}
	}
	for _, e := range paired {
		if e.wire == nil {
			e.wire = protocol.MustMarshal(e.rec.WithoutSecrets())
		}
		size += len(e.wire) + 1
	}
	b = slices.Grow(b, size)
	b = append(b, `{"pending":[`...)
	first := true
	for _, e := range pending {
		if !s.live(e, nowMs) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, e.wire...)
	}
	b = append(b, `],"paired":[`...)
	for i, e := range paired {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.wire...)
	}
	return append(b, "]}"...)
}
