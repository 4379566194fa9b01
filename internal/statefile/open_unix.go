//go:build unix

package statefile

import (
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow opens path refusing a symbolic link as its last component
// (ELOOP) and without blocking on a FIFO or device.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
}

// lockOpenFlag is how the lock file is opened (by gofrs/flock): created if
// missing, never through a link, never blocking on a FIFO.
const lockOpenFlag = os.O_CREATE | os.O_RDWR | syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// refuseLinkBeforeLock is done by O_NOFOLLOW itself here.
func refuseLinkBeforeLock(string) error { return nil }
