package store

import (
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// tx is one batch being applied. Every change to the tables goes through
// it so the batch knows which files to rewrite and what to log. One clock
// reading serves the whole batch: after sweep, nothing in the tables is
// expired as of tx.nowMs.
type tx struct {
	s     *Store
	now   time.Time
	nowMs int64
	cur   *op

	pendingDirty bool
	pairedDirty  bool
	audit        []byte

	// Request ids resolved by this batch, remembered once it is durable;
	// resolvedNow also answers lookups from later ops of the same batch.
	resolvedNow   map[string]resolution
	resolvedOrder []string
	expired       []Expiry
}

func (s *Store) newTx() *tx {
	now := s.now()
	return &tx{s: s, now: now, nowMs: now.UnixMilli()}
}

func (tx *tx) dirty() bool {
	return tx.pendingDirty || tx.pairedDirty || len(tx.audit) > 0
}

func (tx *tx) touch() {
	if tx.cur != nil {
		tx.cur.changed = true
	}
}

func (tx *tx) log(ev auditEvent) {
	ev.TS = tx.nowMs
	tx.audit = append(tx.audit, ev.line()...)
	tx.touch()
}

func (tx *tx) resolve(requestID, nodeID, decision string) {
	if tx.resolvedNow == nil {
		tx.resolvedNow = map[string]resolution{}
	}
	tx.resolvedNow[requestID] = resolution{nodeID: nodeID, decision: decision}
	tx.resolvedOrder = append(tx.resolvedOrder, requestID)
}

func (tx *tx) lookupResolved(requestID string) (resolution, bool) {
	if r, ok := tx.resolvedNow[requestID]; ok {
		return r, true
	}
	return tx.s.resolved.get(requestID)
}

func (tx *tx) insertPending(rec protocol.PendingRequest) (*pendingEntry, error) {
	e := &pendingEntry{fileRecord: fileRecord{key: rec.RequestID}, rec: rec}
	tx.s.seq++
	e.seq = tx.s.seq
	if err := e.encode(); err != nil {
		return nil, err
	}
	tx.s.pending.insert(e)
	tx.pendingDirty = true
	tx.touch()
	return e, nil
}

func (tx *tx) updatePending(e *pendingEntry, rec protocol.PendingRequest) error {
	old := e.rec
	e.rec = rec
	if err := e.encode(); err != nil {
		e.rec = old
		return err
	}
	if rec.TS != old.TS {
		tx.s.seq++
		e.seq = tx.s.seq
		tx.s.pending.retimed(e)
	}
	tx.pendingDirty = true
	tx.touch()
	return nil
}

func (tx *tx) removePending(e *pendingEntry) {
	tx.s.pending.remove(e)
	tx.pendingDirty = true
	tx.touch()
}

// putPaired stores rec for its node, replacing e (nil for a new node) in
// place so the node keeps its position in paired.json.
func (tx *tx) putPaired(e *pairedEntry, rec protocol.PairedNode) error {
	if e == nil {
		ne := &pairedEntry{fileRecord: fileRecord{key: rec.NodeID}, rec: rec}
		if err := ne.encode(); err != nil {
			return err
		}
		ne.setDigest()
		tx.s.paired.insert(ne)
	} else {
		old := e.rec
		e.rec = rec
		if err := e.encode(); err != nil {
			e.rec = old
			return err
		}
		e.setDigest()
		if rec.ApprovedAtMs != old.ApprovedAtMs {
			tx.s.paired.listed = nil
		}
	}
	tx.pairedDirty = true
	tx.touch()
	return nil
}

// markConnected sets a paired node's lastConnectedAtMs in memory only; the
// committer writes it later (Store.MarkConnected).
func (tx *tx) markConnected(e *pairedEntry) error {
	old := e.rec
	e.rec.LastConnectedAtMs = tx.nowMs
	if err := e.encode(); err != nil {
		e.rec = old
		return err
	}
	if tx.s.lazySince.IsZero() {
		tx.s.lazySince = time.Now()
	}
	return nil
}

func (tx *tx) removePaired(e *pairedEntry) {
	tx.s.paired.remove(e)
	tx.pairedDirty = true
	tx.touch()
}
