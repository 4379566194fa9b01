//go:build !unix

package statefile

import (
	"io/fs"
	"os"
)

// openNoFollow refuses a symbolic link by looking first: without
// O_NOFOLLOW the check and the open are two steps.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrInvalid}
	}
	return os.OpenFile(path, flag, perm)
}

// lockOpenFlag is how the lock file is opened (by gofrs/flock); without
// O_NOFOLLOW a link is refused by looking first (refuseLinkBeforeLock),
// and the SameFile check after the lock catches a swap in between.
const lockOpenFlag = os.O_CREATE | os.O_RDWR

func refuseLinkBeforeLock(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return &fs.PathError{Op: "open", Path: path, Err: fs.ErrInvalid}
	}
	return nil
}
