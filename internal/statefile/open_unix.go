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
