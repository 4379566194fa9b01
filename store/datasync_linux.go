package store

import (
	"os"
	"syscall"
)

// datasync makes f's data durable, and its size: fdatasync(2) skips the
// timestamps an fsync would also write, which is what makes an append the
// cheapest durable write there is.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return serr
}
