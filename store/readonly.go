package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// A read-only store (Options.ReadOnly) is what a command that only reads
// opens: it loads the checkpoints and replays the journal like Open, and
// creates and writes nothing — no directory, no lock file, no write probe,
// no audit log, no journal segment, no change of a file's mode (a loose
// one is reported to Options.Logger instead). It works on a read-only
// state dir and on a read-only file system. Every call that would change
// something returns an error wrapping ErrReadOnly; reads never show an
// expired request (expiry is decided in memory, by the clock); nothing
// expires on disk.
//
// It takes no lock, so a gateway or an offline command may be changing
// the state dir while it reads. A checkpoint replaces pending.json and
// paired.json (rename) and only then removes the journal segments it
// covers, oldest first; so the read is consistent when the checkpoint
// files it read are still the ones in place once it has read every
// segment it listed, and none of those segments vanished meanwhile. If
// not, it reads again (up to readOnlyAttempts times). A shared flock on
// nodes/.lock was the other way: it would wait for as long as a gateway
// runs, and a lock needs a file, which a read-only dir may not have.
//
// What a concurrent writer appends while the journal is read is read up to
// its last whole record; a record the writer then cuts back after a failed
// write (it answers that change with an error) can show in the read.

// readOnlyAttempts bounds how often a read that raced a checkpoint is
// tried again; each retry needs another checkpoint to land in the few
// milliseconds a read takes.
const readOnlyAttempts = 20

// readHook is a test seam: a read-only load calls it at each step of
// reading the files (readStep), so a test can land a checkpoint in between.
var readHook func(step string)

func (s *Store) readStep(step string) {
	if s.readOnly && readHook != nil {
		readHook(step)
	}
}

// ErrReadOnly is wrapped by every change asked of a store opened with
// Options.ReadOnly.
var ErrReadOnly = errors.New("the store was opened read-only")

// readOnlyError says which change was refused and why.
func (s *Store) readOnlyError() error {
	return fmt.Errorf("%w (to read %s without changing it): open it without ReadOnly to make changes", ErrReadOnly, s.dir)
}

// openReadOnly loads the state without writing anything.
func (s *Store) openReadOnly() error {
	if err := statefile.CheckDirUnchanged(s.stateDir, false, s.log); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("open store: state dir %s does not exist: %w", s.stateDir, err)
		}
		return fmt.Errorf("state dir: %w", err)
	}
	err := statefile.CheckDirUnchanged(s.dir, true, s.log)
	if errors.Is(err, fs.ErrNotExist) {
		// Nothing has been paired or asked for here yet.
		s.pending, s.paired, s.codes = newPendingTable(), newPairedTable(), newCodeTable()
		s.noDir = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	var lastErr error
	for range readOnlyAttempts {
		before, err := s.stampCheckpoints()
		if err != nil {
			return err
		}
		st, err := s.loadState()
		if err != nil {
			if !mayBeRace(err) {
				return err
			}
			lastErr = err
			time.Sleep(time.Millisecond)
			continue
		}
		after, err := s.stampCheckpoints()
		if err != nil {
			return err
		}
		if before.same(after) && before.matches(st) {
			s.pending, s.paired, s.codes = st.pending, st.paired, st.codes
			return nil
		}
		lastErr = fmt.Errorf("%s changed while it was read", s.dir)
	}
	return fmt.Errorf("read %s: another process kept changing it while it was read (%d tries; last: %w): try again, or ask the gateway that owns it",
		s.dir, readOnlyAttempts, lastErr)
}

// mayBeRace reports an error a concurrent checkpoint can cause: a
// segment removed between listing and reading it, or a segment chain read
// across a checkpoint's removals.
func mayBeRace(err error) bool {
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	var ce *CorruptError
	return errors.As(err, &ce) && ce.Path != "" && isSegmentPath(ce.Path)
}

func isSegmentPath(path string) bool {
	_, ok := parseSegmentName(filepath.Base(path))
	return ok
}

// checkpointStamps identify the checkpoint files in place: a rename over
// one makes a different file.
type checkpointStamps struct {
	pending, paired, codes fs.FileInfo // nil: absent
}

func (s *Store) stampCheckpoints() (checkpointStamps, error) {
	var cs checkpointStamps
	var err error
	if cs.pending, err = stampFile(s.path(pendingFile)); err != nil {
		return cs, err
	}
	if cs.paired, err = stampFile(s.path(pairedFile)); err != nil {
		return cs, err
	}
	cs.codes, err = stampFile(s.path(codesFile))
	return cs, err
}

func stampFile(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, readError(path, err)
	}
	return fi, nil
}

func (a checkpointStamps) same(b checkpointStamps) bool {
	return sameFile(a.pending, b.pending) && sameFile(a.paired, b.paired) && sameFile(a.codes, b.codes)
}

// matches reports whether the files loadState read are the stamped ones.
func (a checkpointStamps) matches(st *loadedState) bool {
	return sameFile(a.pending, st.pendingInfo) && sameFile(a.paired, st.pairedInfo) && sameFile(a.codes, st.codesInfo)
}

func sameFile(a, b fs.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
