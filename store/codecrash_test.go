package store_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// The setup-code crash test: children redeem codes from many goroutines at
// once (new nodes, and nodes of earlier rounds presenting their code
// again) and are SIGKILLed at a random moment or inside a commit; after
// each kill the parent checks that no code counts more uses than it
// allows, that every use is an approval and every approval a use (paired
// nodes, usedBy and the audit log agree), and that every acknowledged
// approval survived.

// TestCodeCrashHelper is the child of TestCodeCrashSafety. It presents
// the codes in PAIRDECK_CODES (one "secret" per line) as nodes
// r<round>-g<g>-<i>, and re-presents each code for the nodes named in
// PAIRDECK_REPEAT ("node secret" lines).
func TestCodeCrashHelper(t *testing.T) {
	dir := os.Getenv("PAIRDECK_CODE_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCodeCrashSafety")
	}
	s, err := store.Open(store.Options{StateDir: dir, MaxPending: 1 << 20})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	if stage, nth, ok := strings.Cut(os.Getenv("PAIRDECK_CRASH_STAGE"), "@"); ok {
		k, _ := strconv.Atoi(nth)
		var seen atomic.Int64
		store.SetFaultHook(s, func(st string) error {
			if st == stage && seen.Add(1) == int64(k) {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
			return nil
		})
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format+"\n", args...)
		outMu.Lock()
		os.Stdout.WriteString(line)
		outMu.Unlock()
	}
	present := func(nodeID, secret string) {
		say("begin %s", nodeID)
		out, err := s.RequestWithCode(bg, nodeAct, store.RequestInput{NodeID: nodeID, Code: secret, NodeMeta: protocol.NodeMeta{DisplayName: nodeID}}, nil, nil)
		if err != nil {
			say("error: %v", err)
			os.Exit(1)
		}
		if out.Approved {
			say("ok %s approved %s %s %v", nodeID, out.Code.ID, out.Node.Token, out.Repeat)
		} else {
			say("ok %s refused %s", nodeID, out.Refusal.Reason)
		}
	}
	say("ready")
	go func() { time.Sleep(20 * time.Second); os.Exit(2) }() // never outlive the parent
	round := os.Getenv("PAIRDECK_CRASH_ROUND")
	secrets := strings.Fields(os.Getenv("PAIRDECK_CODES"))
	var repeats [][2]string
	for line := range strings.Lines(os.Getenv("PAIRDECK_REPEAT")) {
		if f := strings.Fields(line); len(f) == 2 {
			repeats = append(repeats, [2]string{f[0], f[1]})
		}
	}
	var wg sync.WaitGroup
	for g := range 6 {
		// Each node is presented by one goroutine only, so its last
		// acknowledged token is the one in force.
		var mine [][2]string
		for j, r := range repeats {
			if j%6 == g {
				mine = append(mine, r)
			}
		}
		wg.Go(func() {
			for i := 0; ; i++ {
				if len(mine) > 0 && i%2 == 1 {
					r := mine[(i/2)%len(mine)]
					present(r[0], r[1])
					continue
				}
				present(fmt.Sprintf("r%s-g%d-%d", round, g, i), secrets[(g+i)%len(secrets)])
			}
		})
	}
	wg.Wait()
}

type codeLedger struct {
	secrets  map[string]string // code id -> secret
	approved map[string]string // node -> code id of its acknowledged approval
	token    map[string]string // node -> token of its latest acknowledged approval
	inflight map[string]bool   // node -> a presentation not acknowledged
	acks     int
}

func TestCodeCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("re-execs and kills a child process repeatedly")
	}
	rounds := 8
	if v, err := strconv.Atoi(os.Getenv("PAIRDECK_CRASH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	dir := t.TempDir()
	l := &codeLedger{secrets: map[string]string{}, approved: map[string]string{}, token: map[string]string{}, inflight: map[string]bool{}}
	for round := range rounds {
		// Two fresh codes a round, three uses each: the children race
		// for the last uses.
		s, err := store.Open(store.Options{StateDir: dir, MaxPending: 1 << 20})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		var secrets []string
		for range 2 {
			c, secret, err := s.CreateCode(bg, operator, protocol.CodeCreateParams{MaxUses: 3, TTLMs: 10 * 60 * 1000}, nil)
			if err != nil {
				t.Fatal(err)
			}
			l.secrets[c.ID] = secret
			secrets = append(secrets, secret)
		}
		s.Close()
		// Re-present: nodes whose outcome the last kill cut off, and some
		// acknowledged ones.
		var repeat strings.Builder
		for _, c := range listCodes(t, dir) {
			for _, n := range c.UsedBy {
				if l.inflight[n] || mrand.IntN(4) == 0 {
					fmt.Fprintf(&repeat, "%s %s\n", n, l.secrets[c.ID])
				}
			}
		}
		stage := ""
		if round%2 == 1 {
			stage = fmt.Sprintf("%s@%d", []string{"journal", "journal sync", "audit"}[(round/2)%3], 1+mrand.IntN(8))
		}
		before := l.acks
		runCodeChild(t, dir, round, stage, secrets, repeat.String(), l)
		if l.acks == before && stage == "" {
			t.Fatalf("round %d: the child acknowledged nothing before it was killed", round)
		}
		checkCodesAfterCrash(t, dir, round, l)
	}
	t.Logf("%d rounds, %d acknowledged presentations, %d codes, %d nodes approved by a code: no code over its uses, every use an approval and every approval a use",
		rounds, l.acks, len(l.secrets), len(l.approved))
}

func listCodes(t *testing.T, dir string) []protocol.SetupCode {
	t.Helper()
	s, err := store.Open(store.Options{StateDir: dir, ReadOnly: true, MaxPending: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return s.ListCodes(true)
}

func runCodeChild(t *testing.T, dir string, round int, stage string, secrets []string, repeat string, l *codeLedger) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCodeCrashHelper$")
	cmd.Env = append(os.Environ(), "PAIRDECK_CODE_CRASH_DIR="+dir, fmt.Sprintf("PAIRDECK_CRASH_ROUND=%d", round),
		"PAIRDECK_CRASH_STAGE="+stage, "PAIRDECK_CODES="+strings.Join(secrets, " "), "PAIRDECK_REPEAT="+repeat)
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
			if err != nil {
				return
			}
			lines <- strings.TrimSuffix(line, "\n")
		}
	}()
	if first, ok := <-lines; !ok || first != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("round %d: child said %q", round, first)
	}
	record := func(line string) {
		f := strings.Fields(line)
		switch {
		case f[0] == "begin":
			l.inflight[f[1]] = true
		case f[0] == "ok":
			delete(l.inflight, f[1])
			l.acks++
			if f[2] == "approved" {
				l.approved[f[1]] = f[3]
				l.token[f[1]] = f[4]
			}
		default:
			t.Fatalf("round %d: child: %s", round, line)
		}
	}
	var kill <-chan time.Time
	if stage != "" {
		kill = time.After(10 * time.Second)
	}
	for done := false; !done; {
		select {
		case line, ok := <-lines:
			if !ok {
				done = true
				break
			}
			record(line)
			if kill == nil && strings.HasPrefix(line, "ok ") {
				kill = time.After(time.Duration(mrand.IntN(100)) * time.Millisecond)
			}
		case <-kill:
			cmd.Process.Signal(syscall.SIGKILL)
			done = true
		}
	}
	for line := range lines {
		record(line)
	}
	cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: child ended with %v, not by SIGKILL", round, cmd.ProcessState)
	}
}

func checkCodesAfterCrash(t *testing.T, dir string, round int, l *codeLedger) {
	t.Helper()
	s, err := store.Open(store.Options{StateDir: dir, MaxPending: 1 << 20})
	if err != nil {
		t.Fatalf("round %d: open after crash: %v", round, err)
	}
	defer s.Close()
	usedBy := map[string]string{}
	for _, c := range s.ListCodes(true) {
		if c.Uses > c.MaxUses || c.Uses != len(c.UsedBy) {
			t.Fatalf("round %d: code %s has %d uses of %d, usedBy %v", round, c.ID, c.Uses, c.MaxUses, c.UsedBy)
		}
		for _, n := range c.UsedBy {
			if other, dup := usedBy[n]; dup {
				t.Fatalf("round %d: node %s counted by %s and %s", round, n, other, c.ID)
			}
			usedBy[n] = c.ID
		}
	}
	paired := map[string]bool{}
	for _, n := range s.Paired() {
		paired[n.NodeID] = true
		if usedBy[n.NodeID] == "" {
			t.Fatalf("round %d: %s is paired, but no code counts its use", round, n.NodeID)
		}
	}
	for n, id := range usedBy {
		if !paired[n] {
			t.Fatalf("round %d: code %s counts a use by %s, which is not paired", round, id, n)
		}
	}
	for n, id := range l.approved {
		if usedBy[n] != id {
			t.Fatalf("round %d: the acknowledged approval of %s by %s is not counted (usedBy %q)", round, n, id, usedBy[n])
		}
		if _, ok := s.Verify(n, l.token[n]); !ok && !l.inflight[n] {
			t.Fatalf("round %d: %s's acknowledged token does not verify", round, n)
		}
	}
	// The audit log: one first approval per counted use.
	firsts := map[string]int{}
	b, err := os.ReadFile(filepath.Join(dir, "nodes", "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		var ev struct {
			Action string         `json:"action"`
			NodeID string         `json:"nodeId"`
			Repeat bool           `json:"repeat"`
			Actor  protocol.Actor `json:"actor"`
		}
		if json.Unmarshal([]byte(line), &ev) != nil || ev.Action != "approved" || ev.Actor.Code == "" || ev.Repeat {
			continue
		}
		firsts[ev.NodeID]++
		if usedBy[ev.NodeID] != ev.Actor.Code {
			t.Fatalf("round %d: the audit log has %s approving %s, but usedBy says %q", round, ev.Actor.Code, ev.NodeID, usedBy[ev.NodeID])
		}
	}
	for n := range usedBy {
		if firsts[n] != 1 {
			t.Fatalf("round %d: the audit log has %d first approvals of %s", round, firsts[n], n)
		}
	}
}
