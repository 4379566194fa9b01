// Package statefile is how pairdeck opens, reads and checks the files and
// directories of its state dir, so that a hostile or careless state dir
// cannot make it follow a link, hang, exhaust memory or write where it
// should not:
//
//   - Files are opened without following a symbolic link in the last
//     component (O_NOFOLLOW) and must be regular files: a link, a named
//     pipe, a device or a directory is refused by name with what to do. The
//     open never blocks (O_NONBLOCK), so a FIFO where a state file should
//     be is refused at once instead of hanging start-up.
//   - Reads are bounded: a file over its bound is refused with its size and
//     the bound, before it is read.
//   - What pairdeck owns is kept private: files 0600, its own directories
//     0700. Looser modes are tightened and the caller is told (a log line).
//   - A directory that others can write to (group or world write bit) is
//     refused with the chmod that fixes it: whoever can write there can
//     replace any file in it, so tightening the files would not help.
//
// Writes go through internal/atomicfile (temp file, fsync, rename, which
// replaces a link rather than writing through it) or through a file this
// package opened.
package statefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Errors a refusal wraps, for callers that branch with errors.Is. Each
// refusal is an *UnsafeError saying which path, what is wrong and how to
// fix it.
var (
	ErrUnsafe           = errors.New("unsafe state path")
	ErrSymlink          = fmt.Errorf("%w: symbolic link", ErrUnsafe)
	ErrNotRegular       = fmt.Errorf("%w: not a regular file", ErrUnsafe)
	ErrNotDir           = fmt.Errorf("%w: not a directory", ErrUnsafe)
	ErrTooLarge         = fmt.Errorf("%w: file too large", ErrUnsafe)
	ErrWritableByOthers = fmt.Errorf("%w: writable by others", ErrUnsafe)
	ErrNotOwned         = fmt.Errorf("%w: mode cannot be tightened", ErrUnsafe)
)

// UnsafeError refuses a state file or directory: Path, what is wrong with
// it, and what to do.
type UnsafeError struct {
	Path    string
	Problem string
	Fix     string
	Err     error // one of the Err… values above
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Path, e.Problem, e.Fix)
}

func (e *UnsafeError) Unwrap() error { return e.Err }

// Open opens path with flag (os.O_RDONLY, os.O_RDWR|os.O_CREATE, …) and
// perm for a file it creates, without following a symbolic link and
// without blocking, and refuses anything but a regular file. A missing
// file is an error matching fs.ErrNotExist.
func Open(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := openNoFollow(path, flag, perm)
	if err != nil {
		return nil, explainOpen(path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(path, fi.Mode())
	}
	return f, nil
}

// OpenPrivate is Open for a file pairdeck owns: it is created 0600, and an
// existing one readable or writable by others is tightened to 0600 (and
// log is told). A file whose mode cannot be changed (another user's) is
// refused.
func OpenPrivate(path string, flag int, log *slog.Logger) (*os.File, error) {
	f, err := Open(path, flag, 0o600)
	if err != nil {
		return nil, err
	}
	if err := tighten(f, path, 0o600, log); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Read reads a whole state file opened as Open does, refusing one larger
// than limit bytes before reading it. A missing file is an error matching
// fs.ErrNotExist.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, limit)
}

// ReadPrivate is Read for a file pairdeck owns: as OpenPrivate, its mode
// is tightened to 0600 if others could read it.
func ReadPrivate(path string, limit int64, log *slog.Logger) ([]byte, error) {
	f, err := OpenPrivate(path, os.O_RDONLY, log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, limit)
}

// ReadAll reads f (opened by this package) from its start, bounded by
// limit: a file over the bound is refused with its size, whether it was
// that large when opened or grew while being read.
func ReadAll(f *os.File, path string, limit int64) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if fi.Size() > limit {
		return nil, TooLarge(path, fi.Size(), limit)
	}
	buf := make([]byte, fi.Size()+1) // one byte more tells a file that grew
	n, err := io.ReadFull(io.NewSectionReader(f, 0, limit+1), buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(n) > limit {
		return nil, TooLarge(path, int64(n), limit)
	}
	if n == len(buf) { // it grew while being read, within the bound
		rest, err := io.ReadAll(io.NewSectionReader(f, int64(n), limit+1-int64(n)))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		buf = append(buf, rest...)
		n = len(buf)
		if int64(n) > limit {
			return nil, TooLarge(path, int64(n), limit)
		}
	}
	return buf[:n], nil
}

// TooLarge is the refusal of a file over its read bound.
func TooLarge(path string, size, limit int64) error {
	return &UnsafeError{
		Path:    path,
		Problem: fmt.Sprintf("is %d bytes, more than the %d bytes pairdeck reads from it", size, limit),
		Fix:     "it is not a file pairdeck wrote (or it is damaged): move it aside (mv " + path + " " + path + ".broken) and start again",
		Err:     ErrTooLarge,
	}
}

// ReadUnchanged is Read for a caller that must change nothing (a command
// that only reads, possibly on a read-only file system): a file others
// could read (mode looser than want) is reported to log instead of
// tightened. It also returns the open file's info, so the caller can tell
// whether the file at path was replaced while it read.
func ReadUnchanged(path string, limit int64, want fs.FileMode, log *slog.Logger) ([]byte, fs.FileInfo, error) {
	f, err := Open(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if modesApply() && fi.Mode().Perm()&^want != 0 {
		logLoose(log, path, fi.Mode().Perm(), want)
	}
	data, err := ReadAll(f, path, limit)
	if err != nil {
		return nil, nil, err
	}
	return data, fi, nil
}

// CheckDir checks a directory pairdeck keeps state in. It must be a
// directory that neither group nor others can write to. When owned (a
// directory pairdeck made, such as nodes/), it must also not be a symbolic
// link, and one that others can read or enter is tightened to 0700 (and
// log is told). A missing directory is an error matching fs.ErrNotExist.
func CheckDir(path string, owned bool, log *slog.Logger) error {
	return checkDir(path, owned, true, log)
}

// CheckDirUnchanged is CheckDir for a caller that must change nothing: an
// owned directory others can read or enter is reported to log instead of
// tightened. What CheckDir refuses it refuses too.
func CheckDirUnchanged(path string, owned bool, log *slog.Logger) error {
	return checkDir(path, owned, false, log)
}

func checkDir(path string, owned, fix bool, log *slog.Logger) error {
	stat := os.Stat
	if owned {
		stat = os.Lstat
	}
	fi, err := stat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &UnsafeError{
			Path:    path,
			Problem: "is a symbolic link" + linkTarget(path),
			Fix:     "pairdeck keeps this directory itself and does not follow links there: replace the link with a directory (move the link aside and start again)",
			Err:     ErrSymlink,
		}
	}
	if !fi.IsDir() {
		return &UnsafeError{Path: path, Problem: "is " + describeMode(fi.Mode()) + ", not a directory",
			Fix: "move it aside (mv " + path + " " + path + ".broken) and start again", Err: ErrNotDir}
	}
	if !modesApply() {
		return nil
	}
	perm := fi.Mode().Perm()
	if perm&0o022 != 0 {
		who := "others"
		switch {
		case perm&0o020 != 0 && perm&0o002 != 0:
			who = "its group and everyone"
		case perm&0o020 != 0:
			who = "its group"
		case perm&0o002 != 0:
			who = "everyone"
		}
		return &UnsafeError{
			Path:    path,
			Problem: fmt.Sprintf("can be written by %s (mode %04o)", who, perm),
			Fix:     "anyone who can write there can replace pairdeck's files: run `chmod 700 " + path + "` and start again",
			Err:     ErrWritableByOthers,
		}
	}
	if owned && perm&0o077 != 0 {
		if !fix {
			logLoose(log, path, perm, 0o700)
			return nil
		}
		if err := os.Chmod(path, 0o700); err != nil {
			return &UnsafeError{Path: path, Problem: fmt.Sprintf("has mode %04o and could not be made private (%v)", perm, err),
				Fix: "run `chmod 700 " + path + "` as its owner and start again", Err: ErrNotOwned}
		}
		logTightened(log, path, perm, 0o700)
	}
	return nil
}

// EnsureDir creates path (and missing parents) with mode 0700 if needed
// and checks it as a directory pairdeck owns (CheckDir).
func EnsureDir(path string, log *slog.Logger) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return CheckDir(path, true, log)
}

// tighten makes f's mode want (0600) if it allows more.
func tighten(f *os.File, path string, want fs.FileMode, log *slog.Logger) error {
	if !modesApply() {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	perm := fi.Mode().Perm()
	if perm&^want == 0 {
		return nil
	}
	if err := f.Chmod(want); err != nil {
		return &UnsafeError{Path: path, Problem: fmt.Sprintf("has mode %04o and could not be made private (%v)", perm, err),
			Fix: fmt.Sprintf("run `chmod %o %s` as its owner (or `chown` it to the user pairdeck runs as) and start again", want, path), Err: ErrNotOwned}
	}
	logTightened(log, path, perm, want)
	return nil
}

func logTightened(log *slog.Logger, path string, from, to fs.FileMode) {
	if log == nil {
		return
	}
	log.Warn(fmt.Sprintf("tightened the permissions of %s from %04o to %04o: pairdeck keeps its state private", path, from, to),
		"path", path, "from", fmt.Sprintf("%04o", from), "to", fmt.Sprintf("%04o", to))
}

// logLoose tells log about a mode looser than pairdeck keeps, which a
// caller that changes nothing leaves as it is.
func logLoose(log *slog.Logger, path string, perm, want fs.FileMode) {
	if log == nil {
		return
	}
	log.Warn(fmt.Sprintf("%s has mode %04o, looser than the %04o pairdeck keeps: left as it is (this only reads); pairdeck tightens it when it next opens the state dir to change something, or run `chmod %o %s`", path, perm, want, want, path),
		"path", path, "mode", fmt.Sprintf("%04o", perm), "want", fmt.Sprintf("%04o", want))
}

// modesApply is false where Unix permission bits mean nothing.
func modesApply() bool { return runtime.GOOS != "windows" }

// explainOpen turns an open failure into a refusal where the path is not
// what a state file may be.
func explainOpen(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return err
	}
	fi, lerr := os.Lstat(path)
	if lerr != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &UnsafeError{
			Path:    path,
			Problem: "is a symbolic link" + linkTarget(path),
			Fix:     "pairdeck does not follow links in its state dir: replace the link with the file itself, or remove it, and start again",
			Err:     ErrSymlink,
		}
	}
	if !fi.Mode().IsRegular() {
		return notRegular(path, fi.Mode())
	}
	return fmt.Errorf("open %s: %w", path, err)
}

func notRegular(path string, m fs.FileMode) error {
	return &UnsafeError{
		Path:    path,
		Problem: "is " + describeMode(m) + ", not a regular file",
		Fix:     "pairdeck keeps plain files there: move it aside (mv " + path + " " + path + ".broken) and start again",
		Err:     ErrNotRegular,
	}
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m.IsRegular():
		return "a regular file"
	default:
		return "a special file"
	}
}

func linkTarget(path string) string {
	target, err := os.Readlink(path)
	if err != nil {
		return ""
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(path), target)
	}
	return " (to " + strings.ToValidUTF8(target, "?") + ")"
}
