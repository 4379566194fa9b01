package store

import (
	"fmt"
	"os"

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
