//go:build unix

package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// makeUnwritable makes dir refuse new files, even to root (chattr +i),
// and returns how to undo it.
func makeUnwritable(t *testing.T, dir string) {
	t.Helper()
	if os.Getuid() != 0 {
		os.Chmod(dir, 0o500)
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s immutable as root (chattr: %v: %s)", dir, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
}

func TestUnwritableNodesDirIsRefusedAtOpen(t *testing.T) {
	for _, withLock := range []bool{true, false} {
		name := "no lock file yet"
		if withLock {
			name = "lock file present"
		}
		t.Run(name, func(t *testing.T) {
			stateDir, dir := nodesDir(t)
			if withLock {
				os.WriteFile(filepath.Join(dir, lockFile), nil, 0o600)
			}
			makeUnwritable(t, dir)
			s, err := openIn(t, stateDir)
			if s != nil {
				// What serve did before: start, then fail every change.
				_, _, rerr := s.Request(ctx, node, RequestInput{NodeID: "n1"})
				t.Fatalf("Open succeeded on a dir it cannot write; a request then got: %v", rerr)
			}
			if !errors.Is(err, ErrNotWritable) {
				t.Fatalf("%v, want ErrNotWritable", err)
			}
			errSays(t, err, dir, "cannot be written", "start again")
			if entries, _ := os.ReadDir(dir); len(entries) > 1 {
				t.Fatalf("files left behind: %v", entries)
			}
		})
	}
}

func TestOpenWaitsForTheLock(t *testing.T) {
	s1, _ := openTest(t)
	released := make(chan time.Time, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		released <- time.Now()
		s1.Close()
	}()
	s2, err := Open(Options{StateDir: s1.stateDir, LockWait: 10 * time.Second})
	if err != nil {
		t.Fatalf("Open with LockWait: %v", err)
	}
	defer s2.Close()
	if at := <-released; time.Now().Before(at) {
		t.Fatal("opened before the holder let go")
	}

	// Held past the deadline: a *LockedError naming the holder, after the wait.
	start := time.Now()
	_, err = Open(Options{StateDir: s1.stateDir, LockWait: 150 * time.Millisecond})
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("%v, want a *LockedError naming this pid", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Fatalf("gave up after %v, before LockWait", waited)
	}
}
