package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// prepareDirs creates StateDir/nodes (0700) if needed and checks both
// dirs (internal/statefile): neither may be writable by group or others,
// nodes/ must be a real directory and is tightened to 0700 if others could
// read it.
func (s *Store) prepareDirs() error {
	_, statErr := os.Stat(s.dir)
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("create state dir %s: %w: %s", s.dir, err, writeAdvice(err))
	}
	if statErr != nil {
		// Make a freshly created nodes/ entry durable before anything in
		// it is.
		if err := syncPath(s.stateDir); err != nil {
			return fmt.Errorf("sync state dir %s: %w", s.stateDir, err)
		}
	}
	if err := statefile.CheckDir(s.stateDir, false, s.log); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	if err := statefile.CheckDir(s.dir, true, s.log); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	return nil
}

// checkQueueSize refuses a pending.json with more live requests than the
// queue allows (Options.MaxPending): the cap holds whatever wrote the
// file. Expired requests do not count; the first commit sweeps them.
func (s *Store) checkQueueSize() error {
	nowMs := s.now().UnixMilli()
	live := 0
	for _, e := range s.pending.byID {
		if s.live(e, nowMs) {
			live++
		}
	}
	if live <= s.maxPending {
		return nil
	}
	path := s.path(pendingFile)
	return fmt.Errorf("%w: %s holds %d pending requests, more than the %d the queue allows: start with --max-pending %d (or more) to keep them, or move the file aside (mv %s %s.broken) to start with an empty queue",
		ErrTooManyPending, path, live, s.maxPending, live, path, path)
}

// probeWritable makes sure files can be created, written and removed in
// nodes/, so that a state dir that cannot be written is refused at Open
// with what to do, rather than failing every change later.
func (s *Store) probeWritable() error {
	f, err := os.CreateTemp(s.dir, tempPrefix+"probe-*")
	if err != nil {
		return unwritableError(s.dir, err)
	}
	name := f.Name()
	_, werr := f.Write([]byte("pairdeck\n"))
	cerr := f.Close()
	rerr := os.Remove(name)
	if err := errors.Join(werr, cerr, rerr); err != nil {
		return unwritableError(s.dir, err)
	}
	return nil
}

// isUnwritable reports an error that means the dir cannot be written.
func isUnwritable(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}

func unwritableError(dir string, err error) error {
	return fmt.Errorf("%w: %s: %w: pairdeck creates and replaces files there and would fail every change: %s, and start again",
		ErrNotWritable, dir, err, unwritableAdvice(dir, err))
}

func unwritableAdvice(dir string, err error) string {
	switch {
	case errors.Is(err, syscall.EROFS):
		return "the file system is read-only: remount it read-write (or use another --state-dir)"
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "the disk is full: free some space"
	default:
		return "give the user pairdeck runs as write access (chown -R \"$(id -un)\" " + dir + " && chmod 700 " + dir + "; an immutable dir needs chattr -i " + dir + ")"
	}
}
