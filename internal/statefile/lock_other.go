//go:build !unix && !windows

package statefile

import (
	"errors"
	"os"
)

// Without flock(2) the lock is the file's existence being open for
// writing elsewhere; pairdeck's state-dir safety is built for Unix.
func lockFile(f *os.File) (bool, error) {
	return false, errors.New("state dir locking needs a Unix system")
}

func unlockFile(f *os.File) error { return nil }
