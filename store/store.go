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

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// Store is the single source of truth for pairing state. It is safe for
// concurrent use. Every mutating call returns only after its change (and its
// audit lines) is durably in the journal; concurrent mutations share one
// journal append.
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

	// readOnly: opened with Options.ReadOnly (readonly.go); noDir: and
	// StateDir/nodes does not exist.
	readOnly, noDir bool
	// storage is the token storage in force (tokenstorage.go); openclaw:
	// it is "openclaw", so records are written in OpenClaw's format.
	storage  TokenStorageChoice
	openclaw bool

	lock    *dirLock
	dirFile *os.File // for fsyncing renames
	audit   *auditLog
	decoy   [32]byte // digest compared for unknown nodes

	// mu guards the tables and everything below. The committer holds it for
	// writing across a whole batch, apply through fsync.
	mu         sync.RWMutex
	pending    *pendingTable
	paired     *pairedTable
	codes      *codeTable
	resolved   *resolvedIDs
	unreported []Expiry // swept but not yet handed out by ExpireDue
	seq        uint64
	broken     error // set when memory can no longer be matched to disk
	// listMu guards the list caches readers fill while holding mu for
	// reading (list.go).
	listMu sync.Mutex

	// The committer alone uses what follows, up to ops.

	// The journal (journal.go): the segment appended to, every segment on
	// disk (oldest first, the last being journal's), the last commit's
	// sequence number, the record being built, and committed audit lines
	// a failed write kept out of audit.jsonl.
	journal      *journal
	segments     []uint64
	commitSeq    uint64
	record       recordBuilder
	auditBacklog []byte

	// Checkpoints (checkpoint.go): which files changed since the last
	// snapshot, whether one runs, whether one is wanted regardless of the
	// journal's size, when a failed one may be tried again, and when the
	// current segment began. cpMu is held by a checkpoint replacing files
	// and removing segments, and by a reload reading them.
	cpPendingDirty, cpPairedDirty bool
	cpCodesDirty                  bool
	cpRunning, cpWanted           bool
	cpRetryAt, segStarted         time.Time
	cpDone                        chan checkpointResult
	cpMu                          sync.Mutex
	closeErr                      error

	// lazySince is when a change not worth a commit of its own
	// (lastConnectedAtMs) first waited in memory; zero when none does.
	// lazyDirty holds those records; they go into the next journal record,
	// or one of their own lazyDelay after lazySince, or at Close.
	lazySince time.Time
	lazyDelay time.Duration
	lazyDirty map[*pairedEntry]struct{}

	ops           chan *op
	committerDone chan struct{}
	closeMu       sync.RWMutex // senders hold it for reading while sending
	closed        bool
	isClosed      atomic.Bool

	stats     counters
	faultHook atomic.Pointer[func(stage string) error] // test seam for I/O failures
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
		cpDone:        make(chan checkpointResult, 1),
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

	if s.storage, err = resolveTokenStorage(opts, stateDir); err != nil {
		return nil, err
	}
	s.openclaw = s.storage.Storage == TokenStorageOpenClaw
	if opts.ReadOnly {
		s.readOnly = true
		if err := s.openReadOnly(); err != nil {
			return nil, err
		}
		close(s.committerDone)
		return s, nil
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
	// Plaintext tokens are said once at start, where a gateway logs: why,
	// and what they cost (pairdeck's own hashing goes without saying; a
	// read-only open changes nothing and says nothing).
	if s.openclaw {
		s.log.Info("node token storage: "+string(s.storage.Storage)+" ("+s.storage.Why+")", "tradeoff", s.storage.TradeOff())
	}
	go s.runCommitter()
	return s, nil
}

// load reads the checkpoints and the journal, brings the audit log up to
// date with the journal and starts the journal segment the store appends
// to. Nothing is written unless everything could be read.
func (s *Store) load() error {
	st, err := s.loadState()
	if err != nil {
		return err
	}
	s.pending, s.paired, s.codes = st.pending, st.paired, st.codes
	if err := s.checkQueueSize(); err != nil {
		return err
	}
	removeStaleTemps(s.dir)
	if s.dirFile, err = os.Open(s.dir); err != nil {
		return fmt.Errorf("open %s: %w", s.dir, err)
	}
	if s.audit, err = openAudit(s.dir, s.log); err != nil {
		return err
	}
	auditSeq, err := s.reconcileAudit(st.segs)
	if err != nil {
		return err
	}
	s.commitSeq = auditSeq
	for _, seg := range st.segs {
		s.segments = append(s.segments, seg.n)
		s.commitSeq = max(s.commitSeq, seg.lastSeq())
	}
	if err := s.startJournal(st.segs); err != nil {
		return err
	}
	// What the journal changed goes into the checkpoints soon, in the
	// background, once the caller has had a moment to finish starting (a
	// checkpoint of a large store takes a core for a while, and the
	// journal holds everything meanwhile).
	s.cpPendingDirty, s.cpPairedDirty, s.cpCodesDirty = st.touchedPending, st.touchedPaired, st.touchedCodes
	s.cpWanted = st.records > 0 || len(s.segments) > 1
	s.segStarted = time.Now()
	if s.cpWanted {
		s.cpRetryAt = s.segStarted.Add(checkpointAfterOpen)
	}
	recallDecisions(s.dir, s.resolved)
	rand.Read(s.decoy[:])
	return nil
}

// startJournal opens the segment to append to: the last one if a clean
// shutdown left it empty, otherwise a new one (so that a torn record at
// the end of the last is never followed by another).
func (s *Store) startJournal(segs []*segmentData) error {
	if n := len(segs); n > 0 && len(segs[n-1].records) == 0 && segs[n-1].torn == 0 {
		last := segs[n-1]
		f, err := statefile.OpenPrivate(last.path, os.O_RDWR, s.log)
		if err != nil {
			return err
		}
		s.journal = &journal{f: f, n: last.n, path: last.path, size: last.size}
		return nil
	}
	next := uint64(1)
	if n := len(segs); n > 0 {
		next = segs[n-1].n + 1
	}
	j, err := s.createSegment(next, s.commitSeq)
	if err != nil {
		return err
	}
	if err := s.syncDir(); err != nil {
		j.close()
		return err
	}
	s.journal = j
	s.segments = append(s.segments, next)
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
	if s.readOnly {
		return nil
	}
	return errors.Join(s.closeErr, s.releaseFiles())
}

func (s *Store) releaseFiles() error {
	var errs []error
	if s.audit != nil {
		errs = append(errs, s.audit.close())
	}
	errs = append(errs, s.journal.close())
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
	Syncs         uint64 // fsync calls (journal, files, dir, audit log)
	WriteFailures uint64 // batches rolled back
	// JournalBytes is what the journal appends wrote; CheckpointBytes what
	// checkpoints wrote (pending.json and paired.json), over Checkpoints
	// checkpoints, CheckpointFailures of which failed.
	JournalBytes       uint64
	CheckpointBytes    uint64
	Checkpoints        uint64
	CheckpointFailures uint64
}

type counters struct {
	commits, ops, fileWrites, syncs, writeFailures atomic.Uint64
	journalBytes, checkpointBytes, checkpoints     atomic.Uint64
	checkpointFailures                             atomic.Uint64
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	st := Stats{
		Commits:       s.stats.commits.Load(),
		Ops:           s.stats.ops.Load(),
		FileWrites:    s.stats.fileWrites.Load(),
		Syncs:         s.stats.syncs.Load(),
		WriteFailures: s.stats.writeFailures.Load(),

		JournalBytes:       s.stats.journalBytes.Load(),
		CheckpointBytes:    s.stats.checkpointBytes.Load(),
		Checkpoints:        s.stats.checkpoints.Load(),
		CheckpointFailures: s.stats.checkpointFailures.Load(),
	}
	s.mu.RLock()
	st.Pending = len(s.pending.byID)
	st.Paired = len(s.paired.byNode)
	s.mu.RUnlock()
	return st
}
