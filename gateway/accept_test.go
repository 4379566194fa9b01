//go:build linux

package gateway

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// Out of file descriptors, the gateway closes the oldest unauthenticated
// socket to make room, says so at warn level, and the operator gets in.
// It runs in a child process, whose file limit it lowers.
func TestAcceptOutOfFilesMakesRoomAndWarns(t *testing.T) {
	if os.Getenv("PAIRDECK_TEST_EMFILE") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAcceptOutOfFilesMakesRoomAndWarns$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "PAIRDECK_TEST_EMFILE=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	rl := syscall.Rlimit{Cur: 256, Max: 256}
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur); err != nil {
		t.Fatal(err)
	}
	if cur.Max < rl.Max {
		rl = cur
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatalf("lower the file limit: %v", err)
	}
	logs := &logBuffer{}
	h := newHarness(t, viaServe, func(o *harnessOpts) { o.cfg.Logger = logs.logger() })
	if want := int(rl.Cur) - fdReserve; h.g.adm.maxConns != want {
		t.Fatalf("connection cap %d, want the file limit less the reserve, %d", h.g.adm.maxConns, want)
	}
	for range 10 {
		h.dial()
	}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !errors.Is(err, syscall.EMFILE) {
				t.Fatalf("fill the file table: %v", err)
			}
			break
		}
		files = append(files, f)
	}
	// One descriptor for the operator's side of the socket, none for the
	// gateway's.
	files[len(files)-1].Close()
	files = files[:len(files)-1]
	h.operator().ok(protocol.MethodPairList, nil, nil)
	if log := logs.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "out of file descriptors") {
		t.Fatalf("no warning for the failed accept:\n%s", log)
	}
}
