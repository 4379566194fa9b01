package statefile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrLockHeld is returned by TryLock when another open file (in this or
// another process) holds the lock.
var ErrLockHeld = errors.New("lock is held")

// Lock is an exclusive advisory lock (flock(2) where there is one) on a
// lock file that also records the holder's pid. The file is opened as Open
// does (no link followed, regular file, 0600), and the pid is written
// through that same open file: never through a link, never into a file
// the lock does not hold. The kernel drops the lock when its holder dies.
type Lock struct {
	f    *os.File
	path string
}

// TryLock takes the lock on path (created 0600 if missing) or returns
// ErrLockHeld at once.
func TryLock(path string, log *slog.Logger) (*Lock, error) {
	f, err := OpenPrivate(path, os.O_RDWR|os.O_CREATE, log)
	if err != nil {
		return nil, err
	}
	ok, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		f.Close()
		return nil, ErrLockHeld
	}
	return &Lock{f: f, path: path}, nil
}

// AcquireLock is TryLock retried until the lock is free, ctx ends or wait
// has passed (wait 0: one try). It returns ErrLockHeld if the lock stayed
// taken.
func AcquireLock(ctx context.Context, path string, wait time.Duration, log *slog.Logger) (*Lock, error) {
	deadline := time.Now().Add(wait)
	for {
		l, err := TryLock(path, log)
		if !errors.Is(err, ErrLockHeld) || !time.Now().Before(deadline) {
			return l, err
		}
		t := time.NewTimer(min(lockRetry, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ErrLockHeld
		case <-t.C:
		}
	}
}

// lockRetry is how often a waiting AcquireLock tries again.
const lockRetry = 20 * time.Millisecond

// WritePID records this process's pid in the lock file, replacing what
// was there.
func (l *Lock) WritePID() error {
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("record pid in %s: %w", l.path, err)
	}
	if _, err := l.f.WriteAt(pid, 0); err != nil {
		return fmt.Errorf("record pid in %s: %w", l.path, err)
	}
	return nil
}

// Release clears the pid (so nobody is later told a dead process holds
// it) and drops the lock.
func (l *Lock) Release() error {
	terr := l.f.Truncate(0)
	uerr := unlockFile(l.f)
	cerr := l.f.Close()
	return errors.Join(terr, uerr, cerr)
}

// ReadLockPID reads the pid a lock's holder recorded, waiting up to wait
// for a holder that has just taken the lock and not yet written it; 0 when
// there is none. The file is read as Read does.
func ReadLockPID(path string, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		if b, err := Read(path, 64); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				return pid
			}
		}
		if !time.Now().Before(deadline) {
			return 0
		}
		time.Sleep(10 * time.Millisecond)
	}
}
