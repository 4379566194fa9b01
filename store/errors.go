package store

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// CorruptError says which state file cannot be used, where, and how to
// recover. It wraps ErrCorrupt. The file is left exactly as it was.
type CorruptError struct {
	Path    string
	Offset  int64 // bytes from the start of the file
	Line    int   // 1-based; 0 when unknown
	Column  int   // 1-based, in bytes
	Problem string
}

func (e *CorruptError) Error() string {
	where := fmt.Sprintf("byte %d", e.Offset)
	if e.Line > 0 {
		where = fmt.Sprintf("line %d, column %d (byte %d)", e.Line, e.Column, e.Offset)
	}
	base := filepath.Base(e.Path)
	what := "start over with an empty file"
	switch base {
	case pendingFile:
		what = "start with an empty pending queue"
	case pairedFile:
		what = "start with no paired nodes (every node must pair again)"
	case codesFile:
		what = "start with no setup codes (the nodes they approved stay paired)"
	}
	return fmt.Sprintf("%s: %s is corrupt at %s: %s; it was left unchanged: fix it by hand, or move it aside (mv %s %s.broken) to %s",
		ErrCorrupt, e.Path, where, e.Problem, e.Path, e.Path, what)
}

func (e *CorruptError) Unwrap() error { return ErrCorrupt }

func corruptAt(path string, data []byte, off int64, problem string) *CorruptError {
	e := &CorruptError{Path: path, Offset: off, Problem: problem}
	if data != nil {
		e.locate(data)
	}
	return e
}

// locate fills Line and Column from Offset.
func (e *CorruptError) locate(data []byte) {
	off := min(max(e.Offset, 0), int64(len(data)))
	before := data[:off]
	e.Line = bytes.Count(before, []byte("\n")) + 1
	e.Column = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
}

// LockedError reports that another store (in this or another process)
// holds the state dir. It wraps ErrLocked.
type LockedError struct {
	StateDir string
	LockPath string
	PID      int // 0 when the holder did not record one
	Self     bool
}

func (e *LockedError) Error() string {
	who := "another process"
	switch {
	case e.Self:
		who = fmt.Sprintf("pid %d (this process: the store is already open)", e.PID)
	case e.PID > 0:
		who = fmt.Sprintf("pid %d", e.PID)
	}
	return fmt.Sprintf("state dir %s is in use by %s (%s): stop that process, or use its gateway (pairdeck nodes … talks to it)",
		e.StateDir, who, e.LockPath)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// writeError wraps ErrWrite and the OS error with what the operator can do.
func writeError(path string, err error) error {
	return fmt.Errorf("%w: %s: %w; the change was not applied: %s", ErrWrite, path, err, writeAdvice(err))
}

func writeAdvice(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return "free disk space and retry"
	case errors.Is(err, syscall.EROFS):
		return "the file system is read-only: remount it read-write and retry"
	case errors.Is(err, fs.ErrPermission):
		return "check the owner and permissions of the state dir and retry"
	default:
		return "check the disk (dmesg) and retry"
	}
}

// readError explains a state file that exists but cannot be read.
func readError(path string, err error) error {
	if errors.Is(err, statefile.ErrUnsafe) {
		return err // says what is wrong and what to do already
	}
	if errors.Is(err, syscall.EISDIR) {
		return fmt.Errorf("cannot read %s: it is a directory, not a file: move it aside (mv %s %s.broken) and start again: %w", path, path, path, err)
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("cannot read %s: %w: give the gateway's user read and write access (chown/chmod 600) and start again", path, err)
	}
	return fmt.Errorf("cannot read %s: %w: check the disk and start again", path, err)
}
