//go:build unix

package store

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/internal/statefile"
)

// A hostile or careless state dir: links, FIFOs, devices, huge files, loose
// modes and records the wire would refuse. Each is refused by name with
// what to do, and nothing outside the state dir is touched.

// openIn opens a store on stateDir, failing the test if Open does not
// return within a few seconds (a FIFO must not hang it).
func openIn(t *testing.T, stateDir string, opts ...func(*Options)) (*Store, error) {
	t.Helper()
	o := Options{StateDir: stateDir, Now: newClock().Now}
	for _, f := range opts {
		f(&o)
	}
	type result struct {
		s   *Store
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := Open(o)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		if r.s != nil {
			t.Cleanup(func() { r.s.Close() })
		}
		return r.s, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("Open did not return: it hung on the state dir")
		return nil, nil
	}
}

// nodesDir makes StateDir/nodes (0700) and returns both.
func nodesDir(t *testing.T) (stateDir, dir string) {
	t.Helper()
	stateDir = t.TempDir()
	dir = filepath.Join(stateDir, "nodes")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return stateDir, dir
}

func errSays(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Open succeeded; want an error saying %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
}

func TestLockFileSymlinkIsRefusedAndItsTargetUntouched(t *testing.T) {
	stateDir, dir := nodesDir(t)
	victim := filepath.Join(t.TempDir(), "victim.txt")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	os.Symlink(victim, filepath.Join(dir, lockFile))

	s, err := openIn(t, stateDir)
	if s != nil {
		s.Close()
	}
	if !errors.Is(err, statefile.ErrSymlink) {
		t.Fatalf("Open with nodes/.lock a link: %v", err)
	}
	errSays(t, err, filepath.Join(dir, lockFile), "symbolic link", victim)
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("the lock link's target was written: %q", b)
	}
}

func TestAuditLogSymlinkIsRefused(t *testing.T) {
	stateDir, dir := nodesDir(t)
	victim := filepath.Join(t.TempDir(), "victim.jsonl")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	os.Symlink(victim, filepath.Join(dir, auditFile))

	s, err := openIn(t, stateDir)
	if s != nil {
		// Had it opened, a change would append its audit line to the
		// victim: show that as the failure it is.
		mustRequest(t, s, RequestInput{NodeID: "n1"})
		s.Close()
	}
	if !errors.Is(err, statefile.ErrSymlink) {
		t.Fatalf("Open with audit.jsonl a link: %v", err)
	}
	errSays(t, err, filepath.Join(dir, auditFile), "symbolic link")
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Fatalf("audit lines went through the link: %q", b)
	}
}

func TestStateFileSymlinksAreRefused(t *testing.T) {
	for _, name := range []string{pendingFile, pairedFile} {
		for _, target := range []string{"file", "/dev/zero"} {
			t.Run(name+"->"+target, func(t *testing.T) {
				stateDir, dir := nodesDir(t)
				if target == "file" {
					target = filepath.Join(t.TempDir(), "elsewhere.json")
					os.WriteFile(target, []byte("{}"), 0o600)
				}
				os.Symlink(target, filepath.Join(dir, name))
				_, err := openIn(t, stateDir)
				if !errors.Is(err, statefile.ErrSymlink) {
					t.Fatalf("%v, want a refusal of the link", err)
				}
				errSays(t, err, filepath.Join(dir, name), "symbolic link", target, "does not follow links")
			})
		}
	}
}

func TestStateFileFIFODoesNotHangOpen(t *testing.T) {
	for _, name := range []string{pendingFile, pairedFile, auditFile, lockFile} {
		t.Run(name, func(t *testing.T) {
			stateDir, dir := nodesDir(t)
			path := filepath.Join(dir, name)
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := openIn(t, stateDir)
			if !errors.Is(err, statefile.ErrNotRegular) {
				t.Fatalf("%v, want a refusal of the FIFO", err)
			}
			errSays(t, err, path, "named pipe (FIFO)", "mv "+path)
		})
	}
}

func TestStateFileOverTheBoundIsRefused(t *testing.T) {
	defer func(old int64) { maxStateFileBytes = old }(maxStateFileBytes)
	maxStateFileBytes = 4096
	stateDir, dir := nodesDir(t)
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n  %q: {\"nodeId\": %q, \"displayName\": \"Node %d\"}", fmt.Sprint("n", i), fmt.Sprint("n", i), i)
	}
	b.WriteString("\n}")
	path := filepath.Join(dir, pairedFile)
	os.WriteFile(path, []byte(b.String()), 0o600)
	_, err := openIn(t, stateDir)
	if !errors.Is(err, statefile.ErrTooLarge) {
		t.Fatalf("%v, want ErrTooLarge", err)
	}
	errSays(t, err, path, fmt.Sprintf("is %d bytes", b.Len()), "4096 bytes")
	if got, _ := os.ReadFile(path); string(got) != b.String() {
		t.Fatal("the file was changed")
	}
}

func TestLooseModesAreTightened(t *testing.T) {
	stateDir, dir := nodesDir(t)
	os.Chmod(dir, 0o755)
	for _, name := range []string{pendingFile, pairedFile, auditFile, lockFile} {
		data := "{}"
		if name == auditFile || name == lockFile {
			data = ""
		}
		os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
		os.Chmod(filepath.Join(dir, name), 0o644)
	}
	var logs bytes.Buffer
	s, err := openIn(t, stateDir, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	if err != nil {
		t.Fatal(err)
	}
	mustRequest(t, s, RequestInput{NodeID: "n1"})
	s.Close()
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("nodes/ is %04o, want 0700", fi.Mode().Perm())
	}
	for _, name := range []string{pendingFile, pairedFile, auditFile, lockFile} {
		path := filepath.Join(dir, name)
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s is %04o, want 0600", name, fi.Mode().Perm())
		}
		if !strings.Contains(logs.String(), "tightened the permissions of "+path+" from 0644 to 0600") {
			t.Errorf("no log line for %s in %q", name, logs.String())
		}
	}
}

func TestStateDirWritableByOthersIsRefused(t *testing.T) {
	for _, which := range []string{"state dir", "nodes"} {
		for _, mode := range []os.FileMode{0o777, 0o775, 0o757} {
			t.Run(fmt.Sprintf("%s %04o", which, mode), func(t *testing.T) {
				stateDir, dir := nodesDir(t)
				target := stateDir
				if which == "nodes" {
					target = dir
				}
				os.Chmod(target, mode)
				defer os.Chmod(target, 0o700)
				_, err := openIn(t, stateDir)
				if !errors.Is(err, statefile.ErrWritableByOthers) {
					t.Fatalf("%v, want a refusal", err)
				}
				errSays(t, err, "chmod 700 "+target, fmt.Sprintf("%04o", mode))
				if _, err := os.Lstat(filepath.Join(dir, lockFile)); err == nil {
					t.Error("a lock file was created in a dir that was refused")
				}
			})
		}
	}
}

func TestNodesDirSymlinkIsRefused(t *testing.T) {
	stateDir := t.TempDir()
	elsewhere := t.TempDir()
	os.Symlink(elsewhere, filepath.Join(stateDir, "nodes"))
	_, err := openIn(t, stateDir)
	if !errors.Is(err, statefile.ErrSymlink) {
		t.Fatalf("%v, want a refusal of nodes/ as a link", err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Fatalf("files were created through the link: %v", entries)
	}
}

func TestLoadedRecordsGetTheWireChecks(t *testing.T) {
	cases := []struct {
		file, content, want string
	}{
		{pendingFile, `{"r1": {"requestId": "r1", "nodeId": "n1", "platform": "linux\u001b]2;pwned\u0007", "ts": 1}}`, `record "r1": platform`},
		{pendingFile, `{"r1": {"requestId": "r1", "nodeId": "n1", "commands": ["ok", "bad\u001b[2K"], "ts": 1}}`, `record "r1": commands[1]`},
		{pendingFile, `{"r1": {"requestId": "r1", "nodeId": "n1", "displayName": "evil\u202ename", "ts": 1}}`, `record "r1": displayName`},
		{pendingFile, `{"r1": {"requestId": "r1", "nodeId": "` + strings.Repeat("x", 300) + `", "ts": 1}}`, `record "r1": nodeId`},
		{pendingFile, `{"r1\u001b": {"requestId": "r1\u001b", "nodeId": "n1", "ts": 1}}`, `requestId`},
		{pairedFile, `{"n1": {"nodeId": "n1", "caps": ["` + strings.Repeat("c", 200) + `"]}}`, `record "n1": caps[0]`},
		{pairedFile, `{"n1": {"nodeId": "n1", "remoteIp": "10.0.0.1\u009b"}}`, `record "n1": remoteIp`},
		{pairedFile, `{"n1\u0007": {"nodeId": "n1\u0007"}}`, `nodeId`},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			stateDir, dir := nodesDir(t)
			path := filepath.Join(dir, c.file)
			os.WriteFile(path, []byte(c.content), 0o600)
			_, err := openIn(t, stateDir)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%v, want ErrCorrupt", err)
			}
			errSays(t, err, path, c.want, "mv "+path)
			if got, _ := os.ReadFile(path); string(got) != c.content {
				t.Fatal("the file was changed")
			}
		})
	}
}

func TestLoadedQueueRespectsMaxPending(t *testing.T) {
	clk := newClock()
	stateDir, dir := nodesDir(t)
	var b strings.Builder
	b.WriteString("{")
	for i := range 5 {
		if i > 0 {
			b.WriteString(",")
		}
		ts := clk.Ms()
		if i < 2 {
			ts -= DefaultTTL.Milliseconds() // expired: swept, not counted
		}
		fmt.Fprintf(&b, "%q: {\"requestId\": %q, \"nodeId\": \"n%d\", \"ts\": %d}", fmt.Sprint("r", i), fmt.Sprint("r", i), i, ts)
	}
	b.WriteString("}")
	path := filepath.Join(dir, pendingFile)
	os.WriteFile(path, []byte(b.String()), 0o600)

	_, err := openIn(t, stateDir, func(o *Options) { o.MaxPending = 2; o.Now = clk.Now })
	if !errors.Is(err, ErrTooManyPending) {
		t.Fatalf("%v, want ErrTooManyPending", err)
	}
	errSays(t, err, path, "holds 3 pending requests", "more than the 2", "--max-pending 3")
	s, err := openIn(t, stateDir, func(o *Options) { o.MaxPending = 3; o.Now = clk.Now })
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Pending()); n != 3 {
		t.Fatalf("%d pending", n)
	}
}

func TestLockAndAuditLinksToDevicesAreRefused(t *testing.T) {
	for _, name := range []string{lockFile, auditFile} {
		t.Run(name, func(t *testing.T) {
			stateDir, dir := nodesDir(t)
			os.Symlink("/dev/zero", filepath.Join(dir, name))
			_, err := openIn(t, stateDir)
			if !errors.Is(err, statefile.ErrSymlink) {
				t.Fatalf("%v, want a refusal of the link", err)
			}
			errSays(t, err, filepath.Join(dir, name), "symbolic link", "/dev/zero")
		})
	}
}
