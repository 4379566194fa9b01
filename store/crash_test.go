package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// TestCrashHelper is the child of TestCrashSafety: a write storm that
// prints one line per acknowledged change, after the call returned, until
// it is killed.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("PAIRDECK_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCrashSafety")
	}
	round := os.Getenv("PAIRDECK_CRASH_ROUND")
	s, err := Open(Options{StateDir: dir, MaxPending: 1 << 20})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format+"\n", args...)
		outMu.Lock()
		os.Stdout.WriteString(line) // one write per line
		outMu.Unlock()
	}
	fail := func(err error) {
		say("error: %v", err)
		os.Exit(1)
	}
	say("ready")
	go func() { time.Sleep(20 * time.Second); os.Exit(2) }() // never outlive the parent
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("r%s-g%d-%d", round, g, i)
				req, _, err := s.Request(ctx, node, RequestInput{NodeID: id, NodeMeta: protocol.NodeMeta{DisplayName: "node " + id}})
				if err != nil {
					fail(err)
				}
				say("requested %s %s", id, req.RequestID)
				switch i % 4 {
				case 0:
					n, _, err := s.Approve(ctx, operator, req.RequestID)
					if err != nil {
						fail(err)
					}
					say("approved %s %s", id, n.Token)
				case 1:
					if _, err := s.Reject(ctx, operator, req.RequestID); err != nil {
						fail(err)
					}
					say("rejected %s %s", id, req.RequestID)
				case 2:
					if err := s.Rename(ctx, operator, id, "pending-"+id); err != nil {
						fail(err)
					}
					say("renamed %s pending-%s", id, id)
					n, _, err := s.Approve(ctx, operator, req.RequestID)
					if err != nil {
						fail(err)
					}
					say("approved %s %s", id, n.Token)
				case 3:
					n, _, err := s.Approve(ctx, operator, req.RequestID)
					if err != nil {
						fail(err)
					}
					say("approved %s %s", id, n.Token)
					if err := s.Rename(ctx, operator, id, "paired-"+id); err != nil {
						fail(err)
					}
					say("renamed %s paired-%s", id, id)
					say("begin-repair %s", id) // printed before the call is made
					repair, _, err := s.Request(ctx, node, RequestInput{NodeID: id, NodeMeta: protocol.NodeMeta{DisplayName: "repair"}})
					if err != nil {
						fail(err)
					}
					n, _, err = s.Approve(ctx, operator, repair.RequestID)
					if err != nil {
						fail(err)
					}
					say("approved %s %s", id, n.Token)
				}
			}
		})
	}
	wg.Wait()
}

// crashLedger is what the children acknowledged, per node.
type crashLedger struct {
	token      map[string]string // last acknowledged token
	tokenFinal map[string]bool   // no approval started after it
	rejected   map[string]string // node -> rejected request id
	name       map[string]string // last acknowledged rename
	acks       int
	crashes    int
}

func (l *crashLedger) record(t *testing.T, line string) {
	f := strings.Fields(line)
	switch f[0] {
	case "ready", "requested":
	case "approved":
		l.token[f[1]], l.tokenFinal[f[1]] = f[2], true
	case "begin-repair":
		l.tokenFinal[f[1]] = false
	case "rejected":
		l.rejected[f[1]] = f[2]
	case "renamed":
		l.name[f[1]] = f[2]
	default:
		t.Fatalf("child: %s", line)
	}
	l.acks++
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("re-execs and kills a child process repeatedly")
	}
	dir := t.TempDir()
	l := &crashLedger{token: map[string]string{}, tokenFinal: map[string]bool{}, rejected: map[string]string{}, name: map[string]string{}}
	rounds := 10
	started := time.Now()
	for round := range rounds {
		if round >= 4 && time.Since(started) > 12*time.Second {
			t.Logf("stopping after %d rounds to bound the test's time", round)
			break
		}
		before := l.acks
		runAndKill(t, dir, round, l)
		if l.acks == before {
			t.Fatalf("round %d: the child acknowledged nothing before it was killed", round)
		}
		checkAfterCrash(t, dir, l)
	}
	t.Logf("%d acknowledged changes checked across crashes", l.acks)
}

func runAndKill(t *testing.T, dir string, round int, l *crashLedger) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), "PAIRDECK_CRASH_DIR="+dir, fmt.Sprintf("PAIRDECK_CRASH_ROUND=%d", round))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		r := bufio.NewReader(stdout)
		for {
			line, err := r.ReadString('\n')
			if err != nil { // a line cut by the kill has no '\n': not acknowledged
				return
			}
			lines <- strings.TrimSuffix(line, "\n")
		}
	}()
	first, ok := <-lines
	if !ok || first != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("round %d: child said %q", round, first)
	}
	kill := time.After(time.Duration(30+rand.IntN(300)) * time.Millisecond)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("round %d: child exited by itself", round)
			}
			l.record(t, line)
			continue
		case <-kill:
			cmd.Process.Signal(syscall.SIGKILL)
		}
		break
	}
	for line := range lines { // what was printed before the kill
		l.record(t, line)
	}
	cmd.Wait()
	l.crashes++
}

// checkAfterCrash opens the state dir the dead child left (its lock died
// with it) and checks every acknowledged change is there.
func checkAfterCrash(t *testing.T, dir string, l *crashLedger) {
	t.Helper()
	s, err := Open(Options{StateDir: dir, MaxPending: 1 << 20})
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	defer s.Close()
	for _, name := range []string{pendingFile, pairedFile} {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(readFile(t, filepath.Join(dir, "nodes", name)), &m); err != nil {
			t.Fatalf("%s after crash: %v", name, err)
		}
	}
	for id, tok := range l.token {
		if _, ok := s.PairedNode(id); !ok {
			t.Fatalf("acknowledged approval of %s lost", id)
		}
		if l.tokenFinal[id] {
			if _, ok := s.Verify(id, tok); !ok {
				t.Fatalf("acknowledged token of %s does not verify", id)
			}
		}
	}
	for id, reqID := range l.rejected {
		if _, ok := s.PendingByID(reqID); ok {
			t.Fatalf("acknowledged rejection of %s (%s) lost: still pending", id, reqID)
		}
		if _, ok := s.PairedNode(id); ok {
			t.Fatalf("rejected node %s is paired", id)
		}
	}
	for id, name := range l.name {
		got := ""
		if n, ok := s.PairedNode(id); ok {
			got = n.DisplayName
		} else if p, ok := s.PendingForNode(id); ok {
			got = p.DisplayName
		}
		if got != name {
			t.Fatalf("acknowledged rename of %s to %q lost: %q", id, name, got)
		}
	}
	// The audit log may end in one torn line per crash; the rest parses.
	data := readFile(t, filepath.Join(dir, "nodes", auditFile))
	bad := 0
	for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
		if !json.Valid([]byte(line)) {
			bad++
		}
	}
	if bad > l.crashes {
		t.Fatalf("%d unparsable audit lines", bad)
	}
}
