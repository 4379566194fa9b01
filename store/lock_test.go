package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLockHeldInProcess(t *testing.T) {
	s, _ := openTest(t)
	_, err := Open(Options{StateDir: s.stateDir})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	var le *LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() {
		t.Fatalf("lock error does not name this pid: %v", err)
	}
	for _, want := range []string{s.stateDir, strconv.Itoa(os.Getpid()), "nodes/.lock", "stop that process"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %v", want, err)
		}
	}
	// The first store is unaffected, and after Close the dir is free.
	mustRequest(t, s, RequestInput{NodeID: "n1"})
	s.Close()
	s2, err := Open(Options{StateDir: s.stateDir})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	s2.Close()
}

// TestLockHelper is the child process of TestLockHeldByAnotherProcess: it
// holds the store open until its stdin closes.
func TestLockHelper(t *testing.T) {
	dir := os.Getenv("PAIRDECK_LOCK_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestLockHeldByAnotherProcess")
	}
	s, err := Open(Options{StateDir: dir})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	s.Close()
	os.Exit(0)
}

func TestLockHeldByAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	cmd.Env = append(os.Environ(), "PAIRDECK_LOCK_HELPER_DIR="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper said %q, %v", line, err)
	}

	start := time.Now()
	_, err = Open(Options{StateDir: dir})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while another process holds the dir: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("Open took %v: it must fail fast", time.Since(start))
	}
	var le *LockedError
	if !errors.As(err, &le) || le.PID != cmd.Process.Pid || le.Self {
		t.Fatalf("error names pid %d, want %d: %v", le.PID, cmd.Process.Pid, err)
	}
	if !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("message does not name the pid: %v", err)
	}

	stdin.Close() // the helper closes its store and exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	s, err := Open(Options{StateDir: dir})
	if err != nil {
		t.Fatalf("open after the holder exited: %v", err)
	}
	s.Close()
}
