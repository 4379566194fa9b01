// Package atomicfile writes small private files durably: a temp file in the
// same directory, fsync, rename (or link), fsync of the directory, so a
// reader sees the old file or the new one and never a torn write, and the
// change survives a crash once the call returns. Files are 0600; missing
// directories are created 0700. The pairing store has its own, batched,
// writer; this is for identities, tokens, node state and policy files.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Write makes data durable at path with mode 0600, replacing any file there.
func Write(path string, data []byte) error {
	return writeTemp(path, data, func(tmp string) error { return os.Rename(tmp, path) })
}

// Create is Write that refuses to replace an existing file: it links the
// temp file into place, so of two processes racing to create the same file
// exactly one wins and the other gets fs.ErrExist.
func Create(path string, data []byte) error {
	return writeTemp(path, data, func(tmp string) error {
		err := os.Link(tmp, path)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			// Some filesystems have no hard links; fall back to a plain
			// create-exclusive rename check (racy, but only there).
			if _, statErr := os.Lstat(path); statErr == nil {
				return fs.ErrExist
			}
			return os.Rename(tmp, path)
		}
		return err
	})
}

func writeTemp(path string, data []byte, place func(tmp string) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		// After a successful rename the temp name is gone; after a link it
		// is a second name for the same file. Either way, drop it.
		_ = os.Remove(tmp)
	}()
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := place(tmp); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
