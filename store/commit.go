package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. Every mutation is an op sent to one committer goroutine.
// The committer takes whatever ops are queued, applies them in order to the
// in-memory tables under the write lock, writes the changed files and the
// audit lines once for the whole batch, and only then answers the callers.
// While it writes, new ops queue up and form the next batch, so N
// concurrent callers cost about one fsync round, not N.
//
// The write lock is held from apply until the write is durable, so readers
// never see a change that could still be rolled back. If the write fails,
// the files are put back, the tables are reloaded from the last durable
// bytes, and every op of the batch that changed something gets the ErrWrite.
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
	o := &op{ctx: ctx, apply: apply, after: after, done: make(chan error, 1)}
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()
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

// runCommitter is the only goroutine that changes the tables or the files.
func (s *Store) runCommitter() {
	defer close(s.committerDone)
	batch := make([]*op, 0, maxBatchOps)
	for {
		var due <-chan time.Time
		if !s.lazySince.IsZero() {
			due = time.After(time.Until(s.lazySince.Add(s.lazyDelay)))
		}
		var first *op
		var ok bool
		select {
		case first, ok = <-s.ops:
		case <-due:
			s.writeLazy()
			continue
		}
		if !ok {
			s.writeLazy() // Close: what waited in memory goes to disk now
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
		if tx.pairedDirty {
			// Written with this batch, or (if the write fails) reloaded
			// from disk without them: either way nothing waits any more.
			s.lazySince = time.Time{}
		}
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
		o.done <- o.err
	}
}

// writeLazy writes paired.json for changes that waited in memory for a
// write of their own (lastConnectedAtMs), if there are any.
func (s *Store) writeLazy() {
	if s.lazySince.IsZero() {
		return
	}
	o := &op{ctx: context.Background(), done: make(chan error, 1), apply: func(tx *tx) error {
		tx.pairedDirty = true
		return nil
	}}
	s.commitBatch([]*op{o})
}

// persist makes a batch durable in two phases. First, in parallel, the
// audit lines are appended and fsynced and each changed file is written
// and fsynced under a temp name (ext4 folds concurrent fsyncs into one
// journal commit). Only when all of that is on disk are the temp files
// renamed over paired.json and then pending.json, and the dir fsynced once.
// So no decision reaches the state files without its audit line, and a
// failure in the first phase (the usual one: disk full) has changed
// nothing a reader of the state files can see.
func (s *Store) persist(tx *tx) error {
	auditStart := s.audit.size
	var paired, pending fileImage
	var jobs []func() (tempFile, error)
	if tx.pairedDirty {
		data, err := assembleFile(s.paired.order.items)
		if err != nil {
			return s.rollback(tx, nil, auditStart, fmt.Errorf("%w: %w", ErrWrite, err))
		}
		paired = fileImage{data: data, exists: true}
		jobs = append(jobs, func() (tempFile, error) { return s.prepareFile(pairedFile, paired.data) })
	}
	if tx.pendingDirty {
		data, err := assembleFile(s.pending.order.items)
		if err != nil {
			return s.rollback(tx, nil, auditStart, fmt.Errorf("%w: %w", ErrWrite, err))
		}
		pending = fileImage{data: data, exists: true}
		jobs = append(jobs, func() (tempFile, error) { return s.prepareFile(pendingFile, pending.data) })
	}

	temps := make([]tempFile, len(jobs))
	errs := make([]error, len(jobs)+1)
	var wg sync.WaitGroup
	for i, job := range jobs {
		wg.Go(func() { temps[i], errs[i] = job() })
	}
	if len(tx.audit) > 0 {
		errs[len(jobs)] = s.audit.append(s, tx.audit)
	}
	wg.Wait()
	if err := firstError(errs); err != nil {
		for i := range temps {
			if errs[i] == nil {
				temps[i].discard()
			}
		}
		return s.rollback(tx, nil, auditStart, err)
	}

	var written []string
	for i, tf := range temps {
		if err := s.install(tf); err != nil {
			for _, rest := range temps[i:] {
				rest.discard()
			}
			return s.rollback(tx, written, auditStart, err)
		}
		written = append(written, tf.name)
	}
	if len(written) > 0 {
		if err := s.syncDir(); err != nil {
			return s.rollback(tx, written, auditStart, err)
		}
	}
	if tx.pairedDirty {
		s.lastPaired = paired
	}
	if tx.pendingDirty {
		s.lastPending = pending
	}
	s.stats.commits.Add(1)
	return nil
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// rollback undoes a failed batch: files already replaced get their last
// durable bytes back, the audit log is cut back, and the tables the batch
// touched are rebuilt from the last durable bytes. If putting a file back
// fails too, the tables are rebuilt from whatever is on disk, so memory
// still matches disk; if even that fails the store stops accepting changes.
func (s *Store) rollback(tx *tx, written []string, auditStart int64, cause error) error {
	s.stats.writeFailures.Add(1)
	var restoreErrs []error
	for i := len(written) - 1; i >= 0; i-- {
		img := s.lastPending
		if written[i] == pairedFile {
			img = s.lastPaired
		}
		if err := s.restoreFile(written[i], img); err != nil {
			restoreErrs = append(restoreErrs, err)
		}
	}
	if len(written) > 0 {
		if err := s.dirFile.Sync(); err != nil {
			restoreErrs = append(restoreErrs, err)
		}
	}
	if s.audit.size != auditStart {
		if err := s.audit.undo(auditStart); err != nil {
			restoreErrs = append(restoreErrs, fmt.Errorf("cut back %s: %w", s.audit.path, err))
		}
	}

	if len(restoreErrs) == 0 {
		if err := s.reloadTables(tx.pendingDirty, tx.pairedDirty); err != nil {
			s.broken = fmt.Errorf("%w: reload after a failed write: %w: restart the gateway", ErrWrite, err)
		}
		return cause
	}
	// Disk may now hold part of the batch; believe the disk.
	if err := s.reloadFromDisk(); err != nil {
		s.broken = fmt.Errorf("%w: %w; restoring the previous state failed (%w) and the files cannot be reread (%w): restart the gateway once the disk is fixed",
			ErrWrite, cause, errors.Join(restoreErrs...), err)
		return s.broken
	}
	return fmt.Errorf("%w; restoring the previous files also failed (%w), so the state now on disk was reloaded: check with node.pair.list",
		cause, errors.Join(restoreErrs...))
}

// reloadTables rebuilds the touched tables from the last durable bytes.
func (s *Store) reloadTables(pending, paired bool) error {
	if pending {
		t, err := decodeImage(s.path(pendingFile), s.lastPending, func(p string, d []byte) (*pendingTable, error) {
			return decodePending(p, d, &s.seq)
		}, newPendingTable)
		if err != nil {
			return err
		}
		s.pending = t
	}
	if paired {
		t, err := decodeImage(s.path(pairedFile), s.lastPaired, decodePaired, newPairedTable)
		if err != nil {
			return err
		}
		s.paired = t
	}
	return nil
}

func (s *Store) reloadFromDisk() error {
	pend, err := s.readStateFile(s.path(pendingFile))
	if err != nil {
		return err
	}
	pair, err := s.readStateFile(s.path(pairedFile))
	if err != nil {
		return err
	}
	s.lastPending, s.lastPaired = pend, pair
	return s.reloadTables(true, true)
}

func decodeImage[T any](path string, img fileImage, decode func(string, []byte) (*T, error), empty func() *T) (*T, error) {
	if !img.exists {
		return empty(), nil
	}
	return decode(path, img.data)
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
