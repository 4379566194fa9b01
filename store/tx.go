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

	seq uint64 // the commit sequence number this batch will have

	// Keys the batch touched, in order: the journal record carries each
	// one's state at the end of the batch (journal.go).
	pendingKeys []string
	pairedKeys  []string
	codeKeys    []string
	touched     map[string]bool // "p"+requestId, "n"+nodeId, "c"+code id
	audit       []byte
	// flushLazy: write the lazily kept lastConnectedAtMs changes now, even
	// if nothing else changed (writeLazy).
	flushLazy bool

	// Request ids resolved by this batch, remembered once it is durable;
	// resolvedNow also answers lookups from later ops of the same batch.
	resolvedNow   map[string]resolution
	resolvedOrder []string
	expired       []Expiry
}

func (s *Store) newTx() *tx {
	now := s.now()
	return &tx{s: s, now: now, nowMs: now.UnixMilli(), seq: s.commitSeq + 1}
}

// dirty reports whether the batch has anything to write.
func (tx *tx) dirty() bool {
	return len(tx.pendingKeys) > 0 || len(tx.pairedKeys) > 0 || len(tx.codeKeys) > 0 || len(tx.audit) > 0 ||
		(tx.flushLazy && len(tx.s.lazyDirty) > 0)
}

func (tx *tx) markPending(requestID string) {
	if tx.touched == nil {
		tx.touched = map[string]bool{}
	}
	if k := "p" + requestID; !tx.touched[k] {
		tx.touched[k] = true
		tx.pendingKeys = append(tx.pendingKeys, requestID)
	}
	tx.touch()
}

func (tx *tx) markPaired(nodeID string) {
	if tx.touched == nil {
		tx.touched = map[string]bool{}
	}
	if k := "n" + nodeID; !tx.touched[k] {
		tx.touched[k] = true
		tx.pairedKeys = append(tx.pairedKeys, nodeID)
	}
	tx.touch()
}

func (tx *tx) markCode(id string) {
	if tx.touched == nil {
		tx.touched = map[string]bool{}
	}
	if k := "c" + id; !tx.touched[k] {
		tx.touched[k] = true
		tx.codeKeys = append(tx.codeKeys, id)
	}
	tx.touch()
}

func (tx *tx) touch() {
	if tx.cur != nil {
		tx.cur.changed = true
	}
}

func (tx *tx) log(ev auditEvent) {
	ev.TS = tx.nowMs
	ev.Seq = tx.seq
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
	e := &pendingEntry{fileRecord: fileRecord{key: rec.RequestID, openclaw: tx.s.openclaw}, rec: rec}
	tx.s.seq++
	e.seq = tx.s.seq
	if err := e.encode(); err != nil {
		return nil, err
	}
	tx.s.pending.insert(e)
	tx.markPending(e.key)
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
	tx.markPending(e.key)
	return nil
}

func (tx *tx) removePending(e *pendingEntry) {
	tx.s.pending.remove(e)
	tx.markPending(e.key)
}

// putPaired stores rec for its node, replacing e (nil for a new node) in
// place so the node keeps its position in paired.json. keepOrder: the
// record is changed, not built afresh (an approval builds it afresh, which
// in OpenClaw's format puts its members in OpenClaw's order).
func (tx *tx) putPaired(e *pairedEntry, rec protocol.PairedNode, keepOrder bool) error {
	if e == nil {
		ne := &pairedEntry{fileRecord: fileRecord{key: rec.NodeID, openclaw: tx.s.openclaw}, rec: rec}
		if err := ne.encode(); err != nil {
			return err
		}
		ne.setDigest()
		tx.s.paired.insert(ne)
	} else {
		old := e.rec
		e.rec = rec
		encode := e.encode
		if !keepOrder {
			encode = e.encodeFresh
		}
		if err := encode(); err != nil {
			e.rec = old
			return err
		}
		e.setDigest()
		if rec.ApprovedAtMs != old.ApprovedAtMs {
			tx.s.paired.listed = nil
		}
	}
	tx.markPaired(rec.NodeID)
	return nil
}

// markConnected sets a paired node's lastConnectedAtMs in memory only; it
// goes into the journal with the next commit (Store.MarkConnected).
func (tx *tx) markConnected(e *pairedEntry) error {
	old := e.rec
	e.rec.LastConnectedAtMs = tx.nowMs
	if err := e.encode(); err != nil {
		e.rec = old
		return err
	}
	if tx.s.lazyDirty == nil {
		tx.s.lazyDirty = map[*pairedEntry]struct{}{}
	}
	tx.s.lazyDirty[e] = struct{}{}
	if tx.s.lazySince.IsZero() {
		tx.s.lazySince = time.Now()
	}
	return nil
}

func (tx *tx) removePaired(e *pairedEntry) {
	tx.s.paired.remove(e)
	tx.markPaired(e.key)
}
