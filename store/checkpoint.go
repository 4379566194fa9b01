package store

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// Checkpoints. pending.json and paired.json are the journal's checkpoints:
// once the current journal segment holds checkpointRecords records or
// checkpointBytes bytes, or has held any for checkpointInterval (and at
// Close), the committer starts a new segment and hands a snapshot of the
// tables, as of the end of the old segments, to a background goroutine,
// which writes each file that changed (temp file, fsync, rename, fsync of
// the dir), fsyncs the audit log and then removes the old segments, oldest
// first. Commits go on meanwhile, into the new segment.
//
// Why any crash is safe: a checkpoint file holds the state as of the end of
// some segment no older than the oldest segment still on disk, and replay
// applies every remaining segment in order, where the last record to name a
// key decides it. So a crash before, between or after the two renames, or
// between segment removals, opens to exactly the committed state.

// Variables so that tests can make checkpoints come sooner.
var (
	checkpointRecords        = 4096
	checkpointBytes    int64 = 8 << 20
	checkpointInterval       = 5 * time.Minute
	// checkpointRetry is how long a failed checkpoint (a full disk) waits
	// before it is tried again. Nothing is lost meanwhile: the journal
	// holds every change.
	checkpointRetry = 5 * time.Second
	// checkpointAfterOpen is how long the checkpoint of what Open replayed
	// waits.
	checkpointAfterOpen = 2 * time.Second
)

// snapItem is one record of a checkpoint: its file text, or (for a record
// loaded from disk and not changed since, whose text was never made) what
// is needed to make it.
type snapItem struct {
	raw    []byte
	encode func() ([]byte, int, error)
	rec    *fileRecord // to keep the text made, if the record is unchanged
	gen    uint64
}

type tableSnap struct {
	name  string
	items []snapItem
}

type checkpointJob struct {
	files   []tableSnap
	segs    []uint64 // the segments the checkpoint makes redundant
	auditOK bool     // every line of those segments is in audit.jsonl
}

type madeText struct {
	rec    *fileRecord
	gen    uint64
	raw    []byte
	bodyAt int
}

type checkpointResult struct {
	job     *checkpointJob
	err     error
	removed []uint64
	made    []madeText
	bytes   int64
	took    time.Duration
}

// checkpointDue reports whether a checkpoint should start now.
func (s *Store) checkpointDue(now time.Time) bool {
	if s.cpRunning || s.broken != nil || s.journal == nil || now.Before(s.cpRetryAt) {
		return false
	}
	j := s.journal
	if s.cpWanted {
		return true
	}
	return j.records > 0 && (j.records >= checkpointRecords || j.size >= checkpointBytes || !now.Before(s.segStarted.Add(checkpointInterval)))
}

// checkpointDueAt is when time alone makes a checkpoint due (zero: never).
func (s *Store) checkpointDueAt() time.Time {
	if s.cpRunning || s.broken != nil || s.journal == nil {
		return time.Time{}
	}
	j := s.journal
	var at time.Time
	switch {
	case s.cpWanted || j.records >= checkpointRecords || j.size >= checkpointBytes:
		at = s.cpRetryAt
	case j.records > 0:
		at = s.segStarted.Add(checkpointInterval)
	default:
		return time.Time{}
	}
	if at.Before(s.cpRetryAt) {
		at = s.cpRetryAt
	}
	if at.IsZero() {
		at = time.Now()
	}
	return at
}

func (s *Store) maybeCheckpoint() {
	if s.checkpointDue(time.Now()) {
		s.startCheckpoint(false)
	}
}

// startCheckpoint (committer) starts a new journal segment and writes the
// checkpoint of everything before it, in the background or (wait) now.
func (s *Store) startCheckpoint(wait bool) error {
	old := s.journal
	next, err := s.createSegment(old.n+1, s.commitSeq)
	if err == nil {
		if err = s.syncDir(); err != nil {
			os.Remove(next.path)
			next.close()
		}
	}
	if err != nil {
		s.cpRetryAt = time.Now().Add(checkpointRetry)
		s.cpWanted = true
		s.log.Warn("checkpoint postponed: cannot start a new journal segment; the journal keeps every change meanwhile", "err", err)
		return err
	}
	old.close()
	s.journal = next
	job := &checkpointJob{segs: slices.Clone(s.segments), auditOK: len(s.auditBacklog) == 0}
	s.segments = append(s.segments, next.n)
	s.segStarted = time.Now()
	if job.auditOK && s.audit.size >= auditRotateBytes {
		if err := s.audit.rotate(s); err != nil {
			s.log.Warn("rotate the audit log", "path", s.audit.path, "err", err)
		}
	}
	if s.cpPendingDirty {
		job.files = append(job.files, tableSnap{name: pendingFile, items: snapshotItems(s.pending.order.items)})
	}
	if s.cpPairedDirty {
		job.files = append(job.files, tableSnap{name: pairedFile, items: snapshotItems(s.paired.order.items)})
	}
	if s.cpCodesDirty {
		job.files = append(job.files, tableSnap{name: codesFile, items: codeItems(s.codes)})
	}
	s.cpPendingDirty, s.cpPairedDirty, s.cpCodesDirty, s.cpWanted = false, false, false, false
	s.cpRunning = true
	if wait {
		res := s.runCheckpoint(job)
		s.finishCheckpoint(res)
		return res.err
	}
	go func() { s.cpDone <- s.runCheckpoint(job) }()
	return nil
}

// snapshotItems captures a table's records in file order. Record texts are
// never changed in place (a change makes a new one), so they are shared;
// a record without text yet is copied, to be encoded in the background.
func snapshotItems(order []member) []snapItem {
	items := make([]snapItem, 0, len(order))
	for _, m := range order {
		switch e := m.(type) {
		case nil:
		case *pendingEntry:
			if e.raw != nil {
				items = append(items, snapItem{raw: e.raw})
				continue
			}
			key, rec, extra, openclaw := e.key, e.rec, e.extra, e.openclaw
			items = append(items, snapItem{rec: &e.fileRecord, gen: e.gen, encode: func() ([]byte, int, error) {
				if openclaw {
					return encodeOpenClaw(key, &rec, extra, nil, pendingOrder, pendingDrop)
				}
				return encodeMember(key, &rec, extra)
			}})
		case *pairedEntry:
			if e.raw != nil {
				items = append(items, snapItem{raw: e.raw})
				continue
			}
			key, rec, extra, openclaw := e.key, e.rec, e.extra, e.openclaw
			items = append(items, snapItem{rec: &e.fileRecord, gen: e.gen, encode: func() ([]byte, int, error) {
				if openclaw {
					return encodeOpenClaw(key, &rec, extra, nil, pairedOrder, pairedDrop)
				}
				return encodeMember(key, &rec, extra)
			}})
		}
	}
	return items
}

// codeItems is codes.json's records, oldest first (their texts are made at
// every change: codes are few).
func codeItems(t *codeTable) []snapItem {
	sorted := t.sorted()
	items := make([]snapItem, len(sorted))
	for i, e := range sorted {
		items[i] = snapItem{raw: e.raw}
	}
	return items
}

// runCheckpoint writes the job's files, then (if every audit line of the
// old segments is in audit.jsonl) makes the audit log durable and removes
// the old segments. It runs beside the committer and touches nothing the
// committer changes.
func (s *Store) runCheckpoint(job *checkpointJob) checkpointResult {
	start := time.Now()
	res := checkpointResult{job: job}
	defer func() { res.took = time.Since(start) }()
	temps := make([]tempFile, len(job.files))
	errs := make([]error, len(job.files))
	made := make([][]madeText, len(job.files))
	sizes := make([]int64, len(job.files))
	var wg sync.WaitGroup
	for i, f := range job.files {
		wg.Go(func() {
			var data []byte
			data, made[i], errs[i] = assembleSnapshot(f.items)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%w: %s: %w", ErrWrite, s.path(f.name), errs[i])
				return
			}
			temps[i], errs[i] = s.prepareFile(f.name, data)
			sizes[i] = int64(len(data))
		})
	}
	wg.Wait()
	for _, n := range sizes {
		res.bytes += n
	}
	for _, m := range made {
		res.made = append(res.made, m...)
	}
	if err := firstError(errs); err != nil {
		for i := range temps {
			if errs[i] == nil {
				temps[i].discard()
			}
		}
		res.err = err
		return res
	}

	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	for i, tf := range temps {
		if err := s.install(tf); err != nil {
			for _, rest := range temps[i:] {
				rest.discard()
			}
			res.err = err
			return res
		}
	}
	if len(temps) > 0 {
		if err := s.syncDir(); err != nil {
			res.err = err
			return res
		}
	}
	if !job.auditOK {
		return res
	}
	if err := s.fault("audit sync"); err != nil {
		res.err = writeError(s.audit.path, err)
		return res
	}
	if err := s.audit.sync(); err != nil {
		res.err = writeError(s.audit.path, err)
		return res
	}
	s.stats.syncs.Add(1)
	for _, n := range job.segs {
		if err := s.fault("remove segment"); err != nil {
			res.err = writeError(s.path(segmentName(n)), err)
			return res
		}
		if err := s.removeSegments([]uint64{n}); err != nil {
			res.err = err
			return res
		}
		res.removed = append(res.removed, n)
		// One at a time, durably: a crash can then only leave the newest
		// segments, never a gap.
		if err := s.syncDir(); err != nil {
			res.err = err
			return res
		}
	}
	return res
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// assembleSnapshot builds a checkpoint file from its items ("{}" when
// empty, otherwise two-space indented with no trailing newline, like
// OpenClaw's), encoding the records that had no text yet.
func assembleSnapshot(items []snapItem) ([]byte, []madeText, error) {
	var made []madeText
	size := 4
	for i := range items {
		it := &items[i]
		if it.raw == nil {
			raw, at, err := it.encode()
			if err != nil {
				return nil, nil, err
			}
			it.raw = raw
			made = append(made, madeText{rec: it.rec, gen: it.gen, raw: raw, bodyAt: at})
		}
		size += len(it.raw) + 2
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, it := range items {
		if i == 0 {
			b = append(b, '\n')
		} else {
			b = append(b, ",\n"...)
		}
		b = append(b, it.raw...)
	}
	if len(items) > 0 {
		b = append(b, '\n')
	}
	return append(b, '}'), made, nil
}

// finishCheckpoint (committer) takes a checkpoint's outcome.
func (s *Store) finishCheckpoint(res checkpointResult) {
	s.cpRunning = false
	s.stats.checkpoints.Add(1)
	s.stats.checkpointBytes.Add(uint64(res.bytes))
	s.segments = slices.DeleteFunc(s.segments, func(n uint64) bool { return slices.Contains(res.removed, n) })
	for _, m := range res.made {
		if m.rec.gen == m.gen && m.rec.raw == nil {
			m.rec.raw, m.rec.bodyAt = m.raw, m.bodyAt
		}
	}
	if res.err != nil {
		s.stats.checkpointFailures.Add(1)
		for _, f := range res.job.files {
			switch f.name {
			case pendingFile:
				s.cpPendingDirty = true
			case pairedFile:
				s.cpPairedDirty = true
			case codesFile:
				s.cpCodesDirty = true
			}
		}
		s.cpWanted = true
		s.cpRetryAt = time.Now().Add(checkpointRetry)
		s.log.Warn("checkpoint failed; nothing is lost (the journal holds every change) and it is tried again", "err", res.err, "retry_in", checkpointRetry)
		return
	}
	if !res.job.auditOK {
		s.cpWanted = true // the segments go once the audit lines are written
		s.cpRetryAt = time.Now().Add(checkpointRetry)
	}
}

// shutdown (committer, at Close) writes what waits in memory, lets a
// running checkpoint finish and writes the last one, so that after a clean
// shutdown pending.json and paired.json are complete and the journal is
// one empty segment.
func (s *Store) shutdown() {
	s.commitTimers(true)
	if s.cpRunning {
		s.finishCheckpoint(<-s.cpDone)
	}
	if s.broken != nil || s.journal == nil {
		return
	}
	if s.journal.records > 0 || s.cpPendingDirty || s.cpPairedDirty || s.cpCodesDirty || s.cpWanted || len(s.segments) > 1 {
		s.cpRetryAt = time.Time{}
		if err := s.startCheckpoint(true); err != nil {
			s.closeErr = fmt.Errorf("write the final checkpoint: %w (nothing is lost: the journal holds every change and the next start replays it)", err)
		}
	}
	if err := s.audit.sync(); err != nil {
		s.closeErr = fmt.Errorf("sync %s: %w", s.audit.path, err)
	}
}

// CheckpointPolicy is when the store writes its checkpoints: after Records
// journal records, Bytes bytes of journal or Interval, whichever comes
// first (and at Close).
type CheckpointPolicy struct {
	Records  int
	Bytes    int64
	Interval time.Duration
}

// Checkpoints returns the policy in force, for reports that amortise a
// checkpoint's cost over the decisions between two.
func Checkpoints() CheckpointPolicy {
	return CheckpointPolicy{Records: checkpointRecords, Bytes: checkpointBytes, Interval: checkpointInterval}
}
