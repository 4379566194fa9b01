package statefile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
)

// ErrLockHeld is returned by TryLock when another open file (in this or
// another process) holds the lock.
var ErrLockHeld = errors.New("lock is held")

// Lock is an exclusive advisory lock (gofrs/flock: flock(2) on Unix,
// LockFileEx on Windows) on a lock file that also records the holder's
// pid. gofrs/flock opens the file without following a link and without
// blocking on a FIFO (lockOpenFlag, mode 0600 when created); once locked,
// the file is checked through the lock's own descriptor (a regular file)
// and opened once more as OpenPrivate does (no link, regular, tightened to
// 0600), and that second descriptor must be the very file locked
// (os.SameFile): the pid is written through it, never through a link,
// never into a file the lock does not hold. The kernel drops the lock when
// its holder dies.
type Lock struct {
	fl   *flock.Flock
	f    *os.File // the same file, for the pid
	path string
}

// TryLock takes the lock on path (created 0600 if missing) or returns
// ErrLockHeld at once.
func TryLock(path string, log *slog.Logger) (*Lock, error) {
	if err := refuseLinkBeforeLock(path); err != nil {
		return nil, explainOpen(path, err)
	}
	fl := flock.New(path, flock.SetFlag(lockOpenFlag), flock.SetPermissions(0o600))
	ok, err := tryLock(fl)
	if err != nil {
		return nil, explainOpen(path, err)
	}
	if !ok {
		return nil, ErrLockHeld
	}
	l, err := checkLocked(fl, path, log)
	if err != nil {
		fl.Unlock()
		return nil, err
	}
	return l, nil
}

// tryLock is fl.TryLock, tried again when a signal interrupts it.
func tryLock(fl *flock.Flock) (bool, error) {
	for {
		ok, err := fl.TryLock()
		if !errors.Is(err, syscall.EINTR) {
			return ok, err
		}
	}
}

// checkLocked checks the file fl locked and opens it for the pid.
func checkLocked(fl *flock.Flock, path string, log *slog.Logger) (*Lock, error) {
	locked, err := fl.Stat() // fstat of the lock's own descriptor
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !locked.Mode().IsRegular() {
		return nil, notRegular(path, locked.Mode())
	}
	f, err := OpenPrivate(path, os.O_RDWR, log)
	if err != nil {
		return nil, err
	}
	opened, err := f.Stat()
	if err != nil || !os.SameFile(locked, opened) {
		f.Close()
		return nil, &UnsafeError{
			Path:    path,
			Problem: "was replaced by another file while pairdeck locked it",
			Fix:     "another program is changing pairdeck's state dir: stop it, and start again",
			Err:     ErrUnsafe,
		}
	}
	return &Lock{fl: fl, f: f, path: path}, nil
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
	uerr := l.fl.Unlock()
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
