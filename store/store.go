package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Store is the single source of truth for pairing state. It is safe for
// concurrent use. Every mutating call returns only after its change (and its
// audit line) is durably on disk; concurrent mutations share one write.
//
// Reads see only durable state: a read that arrives while a batch is being
// written waits for that write (about one fsync).
type Store struct {
	stateDir   string
	dir        string // stateDir/nodes
	ttl        time.Duration
	ttlMs      int64
	maxPending int
	now        func() time.Time
	log        *slog.Logger

	lock    *dirLock
	dirFile *os.File // for fsyncing renames
	audit   *auditLog
	decoy   [32]byte // digest compared for unknown nodes

	// mu guards the tables and everything below. The committer holds it for
	// writing across a whole batch, apply through fsync.
	mu          sync.RWMutex
	pending     *pendingTable
	paired      *pairedTable
	lastPending fileImage // bytes of pending.json as last made durable
	lastPaired  fileImage
	resolved    *resolvedIDs
	unreported  []Expiry // swept but not yet handed out by ExpireDue
	seq         uint64
	broken      error // set when memory can no longer be matched to disk
	// listMu guards the list caches readers fill while holding mu for
	// reading (list.go).
	listMu sync.Mutex

	// lazySince is when paired.json first had a change in memory that is
	// not worth a write of its own (lastConnectedAtMs); zero when there is
	// none. Such changes go to disk with the next write of paired.json, or
	// lazyDelay after lazySince, or at Close. The committer alone uses
	// these two.
	lazySince time.Time
	lazyDelay time.Duration

	ops           chan *op
	committerDone chan struct{}
	closeMu       sync.RWMutex // senders hold it for reading while sending
	closed        bool
	isClosed      atomic.Bool

	stats     counters
	faultHook func(stage string) error // test seam for I/O failures
}

// Open locks StateDir/nodes/.lock (ErrLocked naming the holder's pid if
// taken), creates the dir 0700 if needed, and loads pending.json and
// paired.json (ErrCorrupt naming file, byte offset and how to recover; the
// files are never modified by a failed open). A missing file is an empty
// table; an empty (zero-byte) file is refused as corrupt.
func Open(opts Options) (*Store, error) {
	if strings.TrimSpace(opts.StateDir) == "" {
		return nil, fmt.Errorf("open store: %w: StateDir is required", ErrInvalid)
	}
	stateDir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{
		stateDir:      stateDir,
		dir:           filepath.Join(stateDir, "nodes"),
		ttl:           opts.TTL,
		maxPending:    opts.MaxPending,
		now:           opts.Now,
		resolved:      newResolvedIDs(resolvedMemory),
		ops:           make(chan *op, opQueueLen),
		committerDone: make(chan struct{}),
		lazyDelay:     lazyWriteDelay,
	}
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	s.ttlMs = max(s.ttl.Milliseconds(), 1)
	if s.maxPending <= 0 {
		s.maxPending = DefaultMaxPending
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log = opts.Logger; s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}

	if err := s.prepareDirs(); err != nil {
		return nil, err
	}
	if s.lock, err = s.acquireLock(opts.LockWait); err != nil {
		return nil, err
	}
	if err := s.probeWritable(); err != nil {
		s.releaseFiles()
		return nil, err
	}
	if err := s.load(); err != nil {
		s.releaseFiles()
		return nil, err
	}
	go s.runCommitter()
	return s, nil
}

// load reads both files and opens the audit log; nothing is written unless
// both files are usable.
func (s *Store) load() error {
	var err error
	if s.lastPending, err = s.readStateFile(s.path(pendingFile)); err != nil {
		return err
	}
	if s.lastPaired, err = s.readStateFile(s.path(pairedFile)); err != nil {
		return err
	}
	if err := s.reloadTables(true, true); err != nil {
		return err
	}
	if err := s.checkQueueSize(); err != nil {
		return err
	}
	removeStaleTemps(s.dir)
	if s.dirFile, err = os.Open(s.dir); err != nil {
		return fmt.Errorf("open %s: %w", s.dir, err)
	}
	if s.audit, err = openAudit(s.path(auditFile), s.log); err != nil {
		return err
	}
	s.audit.recallDecisions(s.resolved)
	rand.Read(s.decoy[:])
	return nil
}

// Close waits for queued changes to be written, releases the lock and stops
// the committer. Idempotent; other methods return ErrClosed (or nothing)
// afterwards.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	s.isClosed.Store(true)
	close(s.ops) // no sender can be mid-send: they hold closeMu for reading
	s.closeMu.Unlock()
	<-s.committerDone
	return s.releaseFiles()
}

func (s *Store) releaseFiles() error {
	var errs []error
	if s.audit != nil {
		errs = append(errs, s.audit.close())
	}
	if s.dirFile != nil {
		errs = append(errs, s.dirFile.Close())
	}
	if s.lock != nil {
		errs = append(errs, s.lock.release())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Dir is StateDir/nodes.
func (s *Store) Dir() string { return s.dir }

// TTL is the pending-request lifetime in force.
func (s *Store) TTL() time.Duration { return s.ttl }

// Stats are counters for status views and tests.
type Stats struct {
	Pending       int    // live and not yet swept pending requests
	Paired        int    // paired nodes
	Commits       uint64 // batches made durable (one write round each)
	Ops           uint64 // changes acknowledged as durable
	FileWrites    uint64 // state files replaced
	Syncs         uint64 // fsync calls (files, dir, audit log)
	WriteFailures uint64 // batches rolled back
}

type counters struct {
	commits, ops, fileWrites, syncs, writeFailures atomic.Uint64
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	st := Stats{
		Commits:       s.stats.commits.Load(),
		Ops:           s.stats.ops.Load(),
		FileWrites:    s.stats.fileWrites.Load(),
		Syncs:         s.stats.syncs.Load(),
		WriteFailures: s.stats.writeFailures.Load(),
	}
	s.mu.RLock()
	st.Pending = len(s.pending.byID)
	st.Paired = len(s.paired.byNode)
	s.mu.RUnlock()
	return st
}
