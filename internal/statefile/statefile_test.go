//go:build unix

package statefile

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func logTo(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func mustContain(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one saying %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
}

func TestReadRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere.json")
	os.WriteFile(target, []byte("{}"), 0o600)
	for name, to := range map[string]string{"file.json": target, "zero.json": "/dev/zero", "dangling.json": filepath.Join(dir, "missing")} {
		path := filepath.Join(dir, name)
		if err := os.Symlink(to, path); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path, 1<<20)
		if !errors.Is(err, ErrSymlink) {
			t.Fatalf("%s: %v, want ErrSymlink", name, err)
		}
		mustContain(t, err, path, "symbolic link", to, "does not follow links")
	}
	// Opening to create must not create the link's target either.
	path := filepath.Join(dir, "dangling.json")
	if _, err := OpenPrivate(path, os.O_RDWR|os.O_CREATE, nil); !errors.Is(err, ErrSymlink) {
		t.Fatalf("create through a dangling link: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the link's target was created")
	}
}

func TestReadRefusesFIFOWithoutBlocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pending.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Read(path, 1<<20)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) {
			t.Fatalf("FIFO: %v, want ErrNotRegular", err)
		}
		mustContain(t, err, path, "named pipe (FIFO)", "mv "+path)
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
	// For writing too (no reader: the open would block without O_NONBLOCK).
	if _, err := OpenPrivate(path, os.O_WRONLY|os.O_APPEND, nil); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("FIFO for writing: %v", err)
	}
}

func TestReadRefusesDirsAndDevices(t *testing.T) {
	dir := t.TempDir()
	if _, err := Read(dir, 1<<20); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("dir: %v", err)
	}
	if _, err := Read("/dev/zero", 1<<20); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("/dev/zero: %v", err)
	}
}

func TestReadIsBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.json")
	os.WriteFile(path, bytes.Repeat([]byte("x"), 5000), 0o600)
	_, err := Read(path, 4096)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%v, want ErrTooLarge", err)
	}
	mustContain(t, err, path, "5000 bytes", "4096 bytes", "mv ")
	got, err := Read(path, 5000)
	if err != nil || len(got) != 5000 {
		t.Fatalf("at the bound: %d bytes, %v", len(got), err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}

func TestPrivateModesAreTightened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paired.json")
	os.WriteFile(path, []byte("{}"), 0o644)
	os.Chmod(path, 0o644)
	var logs bytes.Buffer
	if _, err := ReadPrivate(path, 100, logTo(&logs)); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o, want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "tightened the permissions of "+path+" from 0644 to 0600") {
		t.Fatalf("no log line: %q", logs.String())
	}
	logs.Reset()
	if _, err := ReadPrivate(path, 100, logTo(&logs)); err != nil || logs.Len() != 0 {
		t.Fatalf("second read: %v, logged %q", err, logs.String())
	}
	// Created files are 0600 whatever the umask allows.
	created := filepath.Join(filepath.Dir(path), "audit.jsonl")
	f, err := OpenPrivate(created, os.O_RDWR|os.O_CREATE, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(created); fi.Mode().Perm() != 0o600 {
		t.Fatalf("created with %04o", fi.Mode().Perm())
	}
}

func TestCheckDir(t *testing.T) {
	base := t.TempDir()
	for _, mode := range []fs.FileMode{0o777, 0o770, 0o702, 0o1777} {
		dir := filepath.Join(base, "w")
		os.Mkdir(dir, 0o700)
		os.Chmod(dir, mode)
		for _, owned := range []bool{true, false} {
			err := CheckDir(dir, owned, nil)
			if !errors.Is(err, ErrWritableByOthers) {
				t.Fatalf("mode %04o owned=%v: %v", mode, owned, err)
			}
			mustContain(t, err, dir, "chmod 700 "+dir)
		}
		os.Remove(dir)
	}

	owned := filepath.Join(base, "nodes")
	os.Mkdir(owned, 0o755)
	os.Chmod(owned, 0o755)
	var logs bytes.Buffer
	if err := CheckDir(owned, true, logTo(&logs)); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(owned); fi.Mode().Perm() != 0o700 {
		t.Fatalf("owned dir left at %04o", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "from 0755 to 0700") {
		t.Fatalf("no log line: %q", logs.String())
	}
	// A dir pairdeck shares (the state dir) is checked, not changed.
	shared := filepath.Join(base, "state")
	os.Mkdir(shared, 0o755)
	os.Chmod(shared, 0o755)
	if err := CheckDir(shared, false, nil); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(shared); fi.Mode().Perm() != 0o755 {
		t.Fatalf("shared dir changed to %04o", fi.Mode().Perm())
	}

	link := filepath.Join(base, "link")
	os.Symlink(shared, link)
	if err := CheckDir(link, true, nil); !errors.Is(err, ErrSymlink) {
		t.Fatalf("owned dir as a link: %v", err)
	}
	if err := CheckDir(link, false, nil); err != nil {
		t.Fatalf("a linked state dir is the operator's choice: %v", err)
	}
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	if err := CheckDir(file, true, nil); !errors.Is(err, ErrNotDir) {
		t.Fatalf("file as dir: %v", err)
	}
}

func TestLockDoesNotWriteThroughLinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	path := filepath.Join(dir, ".lock")
	os.Symlink(victim, path)
	if _, err := TryLock(path, nil); !errors.Is(err, ErrSymlink) {
		t.Fatalf("lock through a link: %v", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the link's target was changed: %q", b)
	}
}

func TestLockExcludesAndRecordsPID(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	l, err := TryLock(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.WritePID(); err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(path, nil); !errors.Is(err, ErrLockHeld) {
		t.Fatalf("second lock: %v", err)
	}
	if pid := ReadLockPID(path, 0); pid != os.Getpid() {
		t.Fatalf("pid %d", pid)
	}
	// A waiter gets it once it is released.
	got := make(chan error, 1)
	go func() {
		l2, err := AcquireLock(context.Background(), path, 10*time.Second, nil)
		if err == nil {
			l2.Release()
		}
		got <- err
	}()
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Fatalf("pid left behind: %q", b)
	}
	// Held throughout: the wait ends with ErrLockHeld.
	l, _ = TryLock(path, nil)
	defer l.Release()
	start := time.Now()
	if _, err := AcquireLock(context.Background(), path, 100*time.Millisecond, nil); !errors.Is(err, ErrLockHeld) {
		t.Fatalf("wait on a held lock: %v", err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Fatal("gave up before the deadline")
	}
}

// TestUnchangedReadsReportLooseModes: a caller that must change nothing
// (a read-only command) reads as Read does, is told about a loose mode and
// leaves it; the same goes for an owned dir others can enter. What
// CheckDir refuses is refused as well.
func TestUnchangedReadsReportLooseModes(t *testing.T) {
	base := t.TempDir()
	path := filepath.Join(base, "paired.json")
	os.WriteFile(path, []byte(`{"a":1}`), 0o644)
	os.Chmod(path, 0o644)
	var logs bytes.Buffer
	data, fi, err := ReadUnchanged(path, 100, 0o600, logTo(&logs))
	if err != nil || string(data) != `{"a":1}` || fi == nil || fi.Size() != 7 {
		t.Fatalf("read: %q %v %v", data, fi, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Fatalf("mode changed to %04o", st.Mode().Perm())
	}
	mustContain(t, errors.New(logs.String()), path, "mode 0644", "0600", "left as it is", "chmod 600 "+path)
	if _, _, err := ReadUnchanged(path, 3, 0o600, nil); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the bound: %v", err)
	}
	link := filepath.Join(base, "link.json")
	os.Symlink(path, link)
	if _, _, err := ReadUnchanged(link, 100, 0o600, nil); !errors.Is(err, ErrSymlink) {
		t.Fatalf("link: %v", err)
	}

	owned := filepath.Join(base, "nodes")
	os.Mkdir(owned, 0o755)
	os.Chmod(owned, 0o755)
	logs.Reset()
	if err := CheckDirUnchanged(owned, true, logTo(&logs)); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(owned); st.Mode().Perm() != 0o755 {
		t.Fatalf("dir changed to %04o", st.Mode().Perm())
	}
	mustContain(t, errors.New(logs.String()), owned, "mode 0755", "left as it is")
	os.Chmod(owned, 0o775)
	if err := CheckDirUnchanged(owned, true, nil); !errors.Is(err, ErrWritableByOthers) {
		t.Fatalf("group-writable: %v", err)
	}
}

// TestLockRefusesWhatIsNotAPlainFile: a FIFO, a directory or a device in
// the lock file's place is refused at once (never waited on, never
// written), and a lock file others can read is tightened to 0600 before
// the pid goes in.
func TestLockRefusesWhatIsNotAPlainFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.lock")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.lock")
	os.Mkdir(sub, 0o700)
	for _, path := range []string{fifo, sub, "/dev/null"} {
		done := make(chan error, 1)
		go func() {
			l, err := TryLock(path, nil)
			if err == nil {
				l.Release()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) && !(path == sub && errors.Is(err, ErrUnsafe)) {
				t.Fatalf("%s: %v", path, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: TryLock hangs", path)
		}
	}
	loose := filepath.Join(dir, "loose.lock")
	os.WriteFile(loose, []byte("123\n"), 0o644)
	os.Chmod(loose, 0o644)
	l, err := TryLock(loose, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if err := l.WritePID(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(loose); fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file mode %v", fi.Mode())
	}
}
