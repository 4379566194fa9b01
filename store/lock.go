package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// dirLock is the exclusive flock(2) on nodes/.lock held for the store's
// lifetime. The kernel drops it when the holder dies, so a crash never
// leaves the state dir locked. flock locks belong to open files, so a second
// Open in the same process conflicts too.
type dirLock struct {
	fl   *flock.Flock
	path string
}

func acquireLock(stateDir, dir string) (*dirLock, error) {
	path := filepath.Join(dir, lockFile)
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		pid := readLockPID(path)
		return nil, &LockedError{StateDir: stateDir, LockPath: path, PID: pid, Self: pid == os.Getpid()}
	}
	// The pid is only a hint for the message above; the lock is the flock.
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		fl.Unlock()
		return nil, fmt.Errorf("record pid in %s: %w", path, err)
	}
	return &dirLock{fl: fl, path: path}, nil
}

// readLockPID reads the holder's pid, waiting briefly for a holder that has
// just taken the lock and not yet written it.
func readLockPID(path string) int {
	for range 20 {
		b, err := os.ReadFile(path)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}

func (l *dirLock) release() error {
	// Clear the pid first so nobody is later told a dead process holds it.
	os.Truncate(l.path, 0)
	return l.fl.Unlock()
}
