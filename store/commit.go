package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Group commit. Every mutation is an op sent to one committer goroutine.
// The committer takes whatever ops are queued, applies them in order to the
// in-memory tables under the write lock, appends one journal record for the
// whole batch and fsyncs it (journal.go), writes the batch's audit lines,
// and only then answers the callers. While it writes, new ops queue up and
// form the next batch, so N concurrent callers cost about one fsync, not N,
// and a change costs its own bytes, not its files'.
//
// The write lock is held from apply until the record is durable, so readers
// never see a change that could still be rolled back. If the append fails,
// the journal is cut back, the tables are reloaded from disk (checkpoints
// and journal), and every op of the batch that changed something gets the
// ErrWrite.
//
// Hooks (the …With methods). A caller that announces changes, such as the
// gateway, needs them announced in the order they were applied, and some
// conditions checked atomically with the change; holding a lock of its own
// across the call would do both but would stop concurrent changes from
// sharing a commit. So the committer runs the hooks for it: a check runs
// as the op is applied, under the write lock, against the state the change
// will be made to, and may refuse it (its error is returned, wrapped, and
// nothing changes); then runs once the batch is durable, under the write
// lock, in the order the ops were applied and before any later op is
// applied or any reader sees the change. Hooks must be quick and must not
// call the store.

const (
	opQueueLen  = 256
	maxBatchOps = 512
	// lazyWriteDelay bounds how long a change that is not worth a write of
	// its own (a node's lastConnectedAtMs) waits in memory for one.
	lazyWriteDelay = 10 * time.Second
)

// op states: the caller may abandon a queued op when its context ends;
// the committer claims it before applying. Whoever moves first wins.
const (
	opQueued int32 = iota
	opTaken
	opAbandoned
)

type op struct {
	ctx   context.Context
	apply func(tx *tx) error // validates, then changes state; no change on error
	after func()             // runs under the lock once the change is durable
	// checkpoint asks for pending.json and paired.json to be written once
	// the batch is durable (Store.Checkpoint).
	checkpoint bool

	state   atomic.Int32
	changed bool // set by tx when apply changed state or logged a line
	err     error
	done    chan error
}

// submit queues apply and waits until it is durable (or failed). ctx bounds
// only the wait for the committer to pick the op up: once applied, the op's
// outcome is reported whatever ctx does, so the caller never has to guess.
func (s *Store) submit(ctx context.Context, apply func(*tx) error, after func()) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if s.readOnly {
		return s.readOnlyError()
	}
	o := &op{ctx: ctx, apply: apply, after: after, done: make(chan error, 1)}
	if err := s.enqueue(o); err != nil {
		return err
	}
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		if o.state.CompareAndSwap(opQueued, opAbandoned) {
			return ctx.Err()
		}
		return <-o.done
	}
}

// runCommitter is the only goroutine that changes the tables, appends to
// the journal or starts a checkpoint.
func (s *Store) runCommitter() {
	defer close(s.committerDone)
	batch := make([]*op, 0, maxBatchOps)
	for {
		s.maybeCheckpoint()
		wake, stop := s.nextWake()
		var first *op
		var ok bool
		select {
		case first, ok = <-s.ops:
		case res := <-s.cpDone:
			stop()
			s.finishCheckpoint(res)
			continue
		case <-wake:
			s.commitTimers(false)
			continue
		}
		stop()
		if !ok {
			s.shutdown()
			return
		}
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatchOps {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		s.commitBatch(batch)
		clear(batch)
	}
}

// nextWake is when the committer has something to do without an op: write
// the lastConnectedAtMs changes that waited (lazyDelay), or start a
// checkpoint that is due by time.
func (s *Store) nextWake() (<-chan time.Time, func()) {
	var at time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	if !s.lazySince.IsZero() {
		consider(s.lazySince.Add(s.lazyDelay))
	}
	consider(s.checkpointDueAt())
	if at.IsZero() {
		return nil, func() {}
	}
	t := time.NewTimer(max(time.Until(at), 0))
	return t.C, func() { t.Stop() }
}

// commitTimers writes what waited for a timer (or, with all, everything
// that waits: at Close).
func (s *Store) commitTimers(all bool) {
	if s.lazySince.IsZero() || (!all && time.Now().Before(s.lazySince.Add(s.lazyDelay))) {
		return
	}
	s.writeLazy()
}

// commitBatch applies a batch and makes it durable.
func (s *Store) commitBatch(batch []*op) {
	taken := batch[:0:0]
	for _, o := range batch {
		if o.state.CompareAndSwap(opQueued, opTaken) {
			taken = append(taken, o)
		}
	}
	if len(taken) == 0 {
		return
	}

	s.mu.Lock()
	if s.broken != nil {
		for _, o := range taken {
			o.err = s.broken
		}
	} else {
		tx := s.newTx()
		tx.sweep()
		for _, o := range taken {
			if err := o.ctx.Err(); err != nil {
				o.err = err
				continue
			}
			tx.cur = o
			o.err = o.apply(tx)
		}
		tx.cur = nil
		durable := true
		if tx.dirty() {
			if err := s.persist(tx); err != nil {
				durable = false
				for _, o := range taken {
					if o.changed {
						o.err = err
					}
				}
			} else {
				s.remember(tx)
			}
		}
		if durable {
			for _, o := range taken {
				if o.err != nil {
					continue
				}
				if o.changed {
					s.stats.ops.Add(1)
				}
				if o.after != nil {
					o.after()
				}
			}
		}
	}
	s.mu.Unlock()

	for _, o := range taken {
		if o.checkpoint && o.err == nil {
			o.err = s.checkpointNow()
		}
	}
	for _, o := range taken {
		o.done <- o.err
	}
}

// checkpointNow (committer) writes the checkpoints now, after any running
// one, unless they are current already.
func (s *Store) checkpointNow() error {
	if s.cpRunning {
		s.finishCheckpoint(<-s.cpDone)
	}
	if s.broken != nil {
		return s.broken
	}
	if s.journal.records == 0 && !s.cpPendingDirty && !s.cpPairedDirty && !s.cpCodesDirty && !s.cpWanted && len(s.segments) <= 1 {
		return nil
	}
	s.cpRetryAt = time.Time{}
	if err := s.startCheckpoint(true); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Checkpoint writes pending.json and paired.json now, from every change
// acknowledged so far, and empties the journal: afterwards the two files
// are complete, as after a clean shutdown. The store does this by itself in
// the background (checkpoint.go); this is for callers that hand the files
// to another reader while the store stays open.
func (s *Store) Checkpoint(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if s.readOnly {
		return s.readOnlyError()
	}
	o := &op{ctx: ctx, apply: func(*tx) error { return nil }, checkpoint: true, done: make(chan error, 1)}
	if err := s.enqueue(o); err != nil {
		return err
	}
	return <-o.done
}

// enqueue hands o to the committer, unless the store is closed or o's
// context ends first. The close lock is held only while handing it over,
// so Close cannot shut the queue under a sender.
func (s *Store) enqueue(o *op) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	select {
	case s.ops <- o:
		return nil
	case <-o.ctx.Done():
		return o.ctx.Err()
	}
}

// writeLazy writes the lastConnectedAtMs changes that wait in memory, if
// there are any (tests call it to skip the delay).
func (s *Store) writeLazy() {
	if s.lazySince.IsZero() {
		return
	}
	o := &op{ctx: context.Background(), done: make(chan error, 1), apply: func(tx *tx) error {
		tx.flushLazy = true
		return nil
	}}
	s.commitBatch([]*op{o})
}

// persist appends the batch's journal record (the commit point, for both
// tables at once), then writes its audit lines. A node's lastConnectedAtMs
// changes that waited in memory ride along with any record.
func (s *Store) persist(tx *tx) error {
	var lazy []*pairedEntry
	for e := range s.lazyDirty {
		if s.paired.byNode[e.key] == e && !tx.touched["n"+e.key] {
			lazy = append(lazy, e)
		}
	}
	rec, err := s.buildRecord(tx, lazy)
	if err != nil {
		return s.rollback(fmt.Errorf("%w: %w", ErrWrite, err))
	}
	if err := s.appendRecord(rec); err != nil {
		return s.rollback(err)
	}
	s.commitSeq = tx.seq
	if len(tx.pendingKeys) > 0 {
		s.cpPendingDirty = true
	}
	if len(tx.pairedKeys) > 0 || len(s.lazyDirty) > 0 {
		s.cpPairedDirty = true
	}
	if len(tx.codeKeys) > 0 {
		s.cpCodesDirty = true
	}
	if s.openclaw && (s.cpPendingDirty || s.cpPairedDirty) {
		// OpenClaw writes both files at every change; a missing one is
		// written as {} like it would be.
		s.cpPendingDirty, s.cpPairedDirty = true, true
	}
	clear(s.lazyDirty)
	s.lazySince = time.Time{}
	s.writeAudit(tx.audit)
	s.stats.commits.Add(1)
	return nil
}

// buildRecord encodes the batch's journal record: the state at the end of
// the batch of every key it touched, and its audit lines.
func (s *Store) buildRecord(tx *tx, lazy []*pairedEntry) ([]byte, error) {
	b := &s.record
	b.begin(tx.seq, tx.nowMs)
	for _, key := range tx.pendingKeys {
		e := s.pending.byID[key]
		if e == nil {
			b.add(entryPendingDel, key, nil)
			continue
		}
		if e.raw == nil {
			if err := e.encode(); err != nil {
				return nil, err
			}
		}
		b.add(entryPendingPut, key, e.body())
	}
	put := func(key string, e *pairedEntry) error {
		if e == nil {
			b.add(entryPairedDel, key, nil)
			return nil
		}
		if e.raw == nil {
			if err := e.encode(); err != nil {
				return err
			}
		}
		b.add(entryPairedPut, key, e.body())
		return nil
	}
	for _, key := range tx.pairedKeys {
		if err := put(key, s.paired.byNode[key]); err != nil {
			return nil, err
		}
	}
	for _, e := range lazy {
		if err := put(e.key, e); err != nil {
			return nil, err
		}
	}
	for _, id := range tx.codeKeys {
		if e := s.codes.byID[id]; e != nil {
			b.add(entryCodePut, id, e.body())
		} else {
			b.add(entryCodeDel, id, nil)
		}
	}
	if len(tx.audit) > 0 {
		b.add(entryAudit, "", tx.audit)
	}
	rec := b.finish()
	if len(rec)-recordHeaderLen > maxRecordBytes {
		return nil, fmt.Errorf("a batch of %d bytes is larger than a journal record may be (%d)", len(rec), maxRecordBytes)
	}
	return rec, nil
}

// writeAudit writes a committed batch's lines to audit.jsonl. They are in
// the journal already, so a failure here loses nothing: the lines wait in
// memory and go out before the next batch's, and no checkpoint drops the
// journal segments that hold them until they are written.
func (s *Store) writeAudit(lines []byte) {
	if len(s.auditBacklog) > 0 {
		s.auditBacklog = append(s.auditBacklog, lines...)
		lines = s.auditBacklog
	}
	if len(lines) == 0 {
		return
	}
	n, err := s.audit.write(s, lines)
	if err == nil {
		s.auditBacklog = s.auditBacklog[:0]
		return
	}
	s.auditBacklog = append([]byte(nil), lines[n:]...)
	s.log.Warn("audit lines could not be written yet; they are safe in the journal and go out with the next change", "path", s.audit.path, "err", err)
}

// rollback undoes a batch whose record could not be made durable: the
// journal was cut back (appendRecord), and the tables are reloaded from
// disk, so memory matches disk again. If that fails the store stops
// accepting changes.
func (s *Store) rollback(cause error) error {
	s.stats.writeFailures.Add(1)
	if s.broken != nil {
		return s.broken
	}
	if err := s.reloadFromDisk(); err != nil {
		s.broken = fmt.Errorf("%w: %w; reloading the state from disk afterwards failed too (%w): restart the gateway once the disk is fixed", ErrWrite, cause, err)
		return s.broken
	}
	return cause
}

// reloadFromDisk rebuilds the tables from the checkpoints and the journal,
// holding cpMu so that no checkpoint replaces a file or drops a segment
// while they are read.
func (s *Store) reloadFromDisk() error {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	st, err := s.loadState()
	if err != nil {
		return err
	}
	s.pending, s.paired, s.codes = st.pending, st.paired, st.codes
	clear(s.lazyDirty)
	s.lazySince = time.Time{}
	return nil
}

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }

// remember records what a durable batch resolved and expired.
func (s *Store) remember(tx *tx) {
	for _, r := range tx.resolvedOrder {
		s.resolved.add(r, tx.resolvedNow[r])
	}
	s.unreported = append(s.unreported, tx.expired...)
	// A caller that never collects expiries (no timer running) must not
	// grow this without bound; they are on disk and in the audit log anyway.
	if over := len(s.unreported) - resolvedMemory; over > 0 {
		s.unreported = append(s.unreported[:0:0], s.unreported[over:]...)
	}
}
