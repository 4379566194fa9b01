package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// dirLock is the exclusive lock on nodes/.lock held for the store's
// lifetime (internal/statefile: flock(2), so the kernel drops it when the
// holder dies and a crash never leaves the state dir locked; flock locks
// belong to open files, so a second Open in the same process conflicts
// too). The lock file is opened without following a link, and the pid is
// written through that open file, never through a link.
type dirLock struct {
	l *statefile.Lock
}

// acquireLock takes nodes/.lock, waiting up to wait for another holder to
// let go (Options.LockWait).
func (s *Store) acquireLock(wait time.Duration) (*dirLock, error) {
	path := filepath.Join(s.dir, lockFile)
	l, err := statefile.AcquireLock(context.Background(), path, wait, s.log)
	if errors.Is(err, statefile.ErrLockHeld) {
		// The pid is only a hint for the message; the lock is the flock.
		pid := statefile.ReadLockPID(path, 200*time.Millisecond)
		return nil, &LockedError{StateDir: s.stateDir, LockPath: path, PID: pid, Self: pid == os.Getpid()}
	}
	if err != nil {
		if isUnwritable(err) {
			return nil, unwritableError(s.dir, err)
		}
		return nil, err
	}
	if err := l.WritePID(); err != nil {
		l.Release()
		if isUnwritable(err) {
			return nil, unwritableError(s.dir, err)
		}
		return nil, err
	}
	return &dirLock{l: l}, nil
}

func (l *dirLock) release() error { return l.l.Release() }
