package store_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
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

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// The crash test. A child process runs a storm of decisions against the
// store (requests, approvals, re-pair approvals, rejections, renames,
// removals of nodes with a pending request) with checkpoints and audit
// rotations made frequent, printing a line before each call and a line
// after each acknowledged one, until it is killed with SIGKILL: at a
// random moment, or at a chosen step of a commit or a checkpoint. Then the
// parent restarts a gateway on the state dir and checks every
// acknowledged decision against what it serves, that no request is both
// approved and pending, and that the audit log holds each acknowledged
// decision once and no decision that did not happen; then it stops the
// gateway cleanly and checks the files alone say the same.
//
// CI runs a dozen rounds; PAIRDECK_CRASH_ROUNDS=100 runs more.

var (
	bg       = context.Background()
	operator = store.Actor{ClientID: "cli", Role: protocol.RoleOperator, User: "crash"}
	nodeAct  = store.Actor{ClientID: "node-host", Role: protocol.RoleNode}
)

// crashStages are the steps the child can be killed at, by name (the
// store's fault seam) and occurrence.
var crashStages = []string{
	"journal", "journal sync", "audit", // a commit: append, fsync, audit lines
	"journal create", "dir", "pending.json", "paired.json", // a checkpoint
	"rename pending.json", "rename paired.json", "audit sync", "remove segment",
}

// TestCrashHelper is the child of TestCrashSafety.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv("PAIRDECK_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCrashSafety")
	}
	round := os.Getenv("PAIRDECK_CRASH_ROUND")
	store.SetCrashTuning(48, 64<<10)
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
		os.Stdout.WriteString(line) // one write per line
		outMu.Unlock()
	}
	fail := func(what string, err error) {
		say("error: %s: %v", what, err)
		os.Exit(1)
	}
	say("ready")
	go func() { time.Sleep(20 * time.Second); os.Exit(2) }() // never outlive the parent
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("r%s-g%d-%d", round, g, i)
				request := func(name string) string {
					say("begin request %s", id)
					req, _, err := s.Request(bg, nodeAct, store.RequestInput{NodeID: id, NodeMeta: protocol.NodeMeta{DisplayName: name}})
					if err != nil {
						fail("request", err)
					}
					say("ok request %s %s", id, req.RequestID)
					return req.RequestID
				}
				approve := func(reqID string) {
					say("begin approve %s %s", id, reqID)
					n, _, err := s.Approve(bg, operator, reqID)
					if err != nil {
						fail("approve", err)
					}
					say("ok approve %s %s %s", id, reqID, n.Token)
				}
				reject := func(reqID string) {
					say("begin reject %s %s", id, reqID)
					if _, err := s.Reject(bg, operator, reqID); err != nil {
						fail("reject", err)
					}
					say("ok reject %s %s", id, reqID)
				}
				rename := func(name string) {
					say("begin rename %s %s", id, name)
					if err := s.Rename(bg, operator, id, name); err != nil {
						fail("rename", err)
					}
					say("ok rename %s %s", id, name)
				}
				remove := func() {
					say("begin remove %s", id)
					if err := s.Remove(bg, operator, id); err != nil {
						fail("remove", err)
					}
					say("ok remove %s", id)
				}
				req := request("node-" + id)
				switch i % 6 {
				case 0:
					approve(req)
				case 1:
					reject(req)
				case 2:
					rename("named-" + id)
					approve(req)
				case 3: // re-pair approve: the old token stops, the new one works
					approve(req)
					approve(request("repair-" + id))
				case 4: // remove a paired node that has a pending request
					approve(req)
					request("repair-" + id)
					remove()
				case 5: // re-pair rejected: the old token keeps working
					approve(req)
					reject(request("repair-" + id))
				}
			}
		})
	}
	wg.Wait()
}

// nodeState is what a node should look like to a restarted gateway.
type nodeState struct {
	paired   bool
	token    string // must verify when paired ("" unknown: an approval in flight took effect)
	oldToken string // must not verify (replaced or removed)
	pending  string // pending request id: "" none, "?" some
	name     string // display name set by a rename ("" not checked)
}

type nodeLedger struct {
	acked    nodeState
	inflight []string // the "begin" line of a call not acknowledged
}

// crashLedger is what the children acknowledged.
type crashLedger struct {
	nodes    map[string]*nodeLedger
	approved map[string]string // request id -> node, acknowledged approvals
	rejected map[string]string
	removed  map[string]bool // nodes whose removal was acknowledged
	acks     int
	// missedStages counts rounds whose chosen step was not reached in
	// time (the child was then killed at a random moment).
	missedStages int
	audit        auditState
}

func (l *crashLedger) node(id string) *nodeLedger {
	n := l.nodes[id]
	if n == nil {
		n = &nodeLedger{}
		l.nodes[id] = n
	}
	return n
}

// apply is the state after op (its fields: op node [args]) took effect.
// token is "" when the op's result is unknown (it was in flight).
func apply(st nodeState, f []string, token string) nodeState {
	switch f[0] {
	case "request":
		st.pending = "?"
		if len(f) > 2 {
			st.pending = f[2]
		}
	case "approve":
		if st.paired && st.token != "" {
			st.oldToken = st.token
		}
		st.paired, st.token, st.pending = true, token, ""
	case "reject":
		st.pending = ""
	case "rename":
		st.name = f[2]
	case "remove":
		if st.token != "" {
			st.oldToken = st.token
		}
		st.paired, st.token, st.pending = false, "", ""
	}
	return st
}

func (l *crashLedger) record(t *testing.T, line string) {
	f := strings.Fields(line)
	switch {
	case f[0] == "ready":
	case f[0] == "begin":
		n := l.node(f[2])
		n.inflight = f[1:]
	case f[0] == "ok":
		n := l.node(f[2])
		op := f[1:]
		token := ""
		switch op[0] {
		case "approve":
			token = op[3]
			l.approved[op[2]] = op[1]
		case "reject":
			l.rejected[op[2]] = op[1]
		case "remove":
			l.removed[op[1]] = true
		}
		n.acked = apply(n.acked, op, token)
		n.inflight = nil
		l.acks++
	default:
		t.Fatalf("child: %s", line)
	}
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("re-execs and kills a child process repeatedly")
	}
	rounds := 12
	if v, err := strconv.Atoi(os.Getenv("PAIRDECK_CRASH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	dir := t.TempDir()
	l := &crashLedger{nodes: map[string]*nodeLedger{}, approved: map[string]string{}, rejected: map[string]string{}, removed: map[string]bool{}}
	l.audit.decisions = map[string]int{}
	l.audit.pairing = map[string]bool{}
	stages := map[string]int{}
	for round := range rounds {
		// Every other round dies at a chosen step, the others at a random
		// moment.
		stage := ""
		if round%2 == 1 {
			stage = fmt.Sprintf("%s@%d", crashStages[(round/2)%len(crashStages)], 1+mrand.IntN(4))
		}
		before := l.acks
		runAndKill(t, dir, round, stage, l)
		if l.acks == before && stage == "" {
			t.Fatalf("round %d: the child acknowledged nothing before it was killed", round)
		}
		stages[strings.Split(stage+"@", "@")[0]]++
		checkAfterCrash(t, dir, round, l)
	}
	t.Logf("%d rounds (kills at steps: %v, %d of them not reached in time), %d acknowledged changes, %d nodes, %d audit lines: none lost, contradicted or logged without happening",
		rounds, stages, l.missedStages, l.acks, len(l.nodes), l.audit.lines)
}

func runAndKill(t *testing.T, dir string, round int, stage string, l *crashLedger) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$")
	cmd.Env = append(os.Environ(), "PAIRDECK_CRASH_DIR="+dir, fmt.Sprintf("PAIRDECK_CRASH_ROUND=%d", round), "PAIRDECK_CRASH_STAGE="+stage)
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
	// A chosen step kills the child itself (or this does, if the step is
	// not reached in time); otherwise a random moment after its first
	// acknowledgement (however slowly a busy machine gets it there).
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
			l.record(t, line)
			if kill == nil && strings.HasPrefix(line, "ok ") {
				kill = time.After(time.Duration(mrand.IntN(200)) * time.Millisecond)
			}
		case <-kill:
			cmd.Process.Signal(syscall.SIGKILL)
			done = true
			if stage != "" {
				l.missedStages++
			}
		}
	}
	for line := range lines { // what was printed before the kill
		l.record(t, line)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("round %d: child ended with %v, not by SIGKILL", round, err)
	}
}

// served is one node as the restarted gateway shows it.
type served struct {
	paired  bool
	pending string
	name    string
	verify  func(token string) bool
}

func (c nodeState) check(sv served) string {
	switch {
	case c.paired != sv.paired:
		return fmt.Sprintf("paired %v, want %v", sv.paired, c.paired)
	case c.paired && c.token != "" && !sv.verify(c.token):
		return "its acknowledged token does not verify"
	case c.oldToken != "" && sv.verify(c.oldToken):
		return "a token replaced or removed by an acknowledged decision still verifies"
	case c.pending == "" && sv.pending != "":
		return "request " + sv.pending + " is pending, want none"
	case c.pending == "?" && sv.pending == "":
		return "no pending request, want one"
	case c.pending != "" && c.pending != "?" && sv.pending != c.pending:
		return fmt.Sprintf("pending request %q, want %s", sv.pending, c.pending)
	case c.name != "" && sv.name != c.name:
		return fmt.Sprintf("name %q, want %q", sv.name, c.name)
	}
	return ""
}

// checkAfterCrash restarts a gateway on the dead child's state dir (its
// lock died with it) and checks it against the ledger and the audit log,
// then stops it cleanly and checks the files alone.
func checkAfterCrash(t *testing.T, dir string, round int, l *crashLedger) {
	t.Helper()
	st, err := store.Open(store.Options{StateDir: dir, MaxPending: 1 << 20})
	if err != nil {
		t.Fatalf("round %d: open after crash: %v", round, err)
	}
	gw, err := gateway.New(gateway.Config{Store: st, OperatorToken: rand.Text(), Logger: slog.New(slog.DiscardHandler), TickInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	op := gw.Local(store.Actor{ClientID: "crash-verifier"})
	list, err := op.List(bg)
	if err != nil {
		t.Fatal(err)
	}
	pendingBy := map[string]protocol.PendingRequest{}
	pendingIDs := map[string]bool{}
	for _, p := range list.Pending {
		pendingBy[p.NodeID] = p
		pendingIDs[p.RequestID] = true
	}
	pairedBy := map[string]protocol.PairedNode{}
	for _, n := range list.Paired {
		pairedBy[n.NodeID] = n
	}
	servedNode := func(id string) served {
		sv := served{verify: func(token string) bool {
			res, err := op.Verify(bg, id, token)
			return err == nil && res.OK
		}}
		if n, ok := pairedBy[id]; ok {
			sv.paired, sv.name = true, n.DisplayName
		}
		if p, ok := pendingBy[id]; ok {
			sv.pending = p.RequestID
			if !sv.paired {
				sv.name = p.DisplayName
			}
		}
		return sv
	}

	// Every acknowledged decision holds; an unacknowledged one took effect
	// or did not, never half.
	for id, n := range l.nodes {
		sv := servedNode(id)
		problem := n.acked.check(sv)
		if problem != "" && n.inflight != nil {
			took := apply(n.acked, n.inflight, "")
			if p := took.check(sv); p == "" {
				problem = ""
				n.acked = took // it happened
				if sv.paired && n.inflight[0] == "approve" {
					n.acked.token = "" // a token nobody was given
				}
				if sv.pending != "" {
					n.acked.pending = sv.pending
				}
			} else {
				problem += "; nor as if " + strings.Join(n.inflight, " ") + " took effect: " + p
			}
		}
		if problem != "" {
			t.Fatalf("round %d: node %s after the crash: %s", round, id, problem)
		}
		if n.acked.pending == "?" {
			n.acked.pending = sv.pending
		}
		n.inflight = nil
	}
	for reqID, id := range l.approved {
		if pendingIDs[reqID] {
			t.Fatalf("round %d: request %s of %s is approved (acknowledged) and still pending", round, reqID, id)
		}
	}
	for reqID, id := range l.rejected {
		if pendingIDs[reqID] {
			t.Fatalf("round %d: request %s of %s is rejected (acknowledged) and still pending", round, reqID, id)
		}
	}
	checkAudit(t, dir, round, l, pendingIDs, pairedBy)

	// A clean stop leaves complete files: they alone say the same.
	op.Close()
	gw.Shutdown(bg)
	if err := st.Close(); err != nil {
		t.Fatalf("round %d: close: %v", round, err)
	}
	nodes := filepath.Join(dir, "nodes")
	segs, _ := store.SegmentNames(nodes)
	if len(segs) != 1 {
		t.Fatalf("round %d: segments after a clean stop: %v", round, segs)
	}
	if fi, err := os.Stat(filepath.Join(nodes, segs[0])); err != nil || fi.Size() != store.JournalHeaderLen {
		t.Fatalf("round %d: the journal is not empty after a clean stop (%v)", round, err)
	}
	var pendingFile map[string]protocol.PendingRequest
	var pairedFile map[string]protocol.PairedNode
	readJSON(t, filepath.Join(nodes, "pending.json"), &pendingFile)
	readJSON(t, filepath.Join(nodes, "paired.json"), &pairedFile)
	if len(pendingFile) != len(list.Pending) || len(pairedFile) != len(list.Paired) {
		t.Fatalf("round %d: files hold %d pending and %d paired, the gateway served %d and %d",
			round, len(pendingFile), len(pairedFile), len(list.Pending), len(list.Paired))
	}
	for reqID := range pendingIDs {
		if _, ok := pendingFile[reqID]; !ok {
			t.Fatalf("round %d: pending request %s served but not in pending.json", round, reqID)
		}
	}
	for id, n := range l.nodes {
		rec, ok := pairedFile[id]
		if ok != n.acked.paired {
			t.Fatalf("round %d: paired.json has %s: %v, want %v", round, id, ok, n.acked.paired)
		}
		if ok && n.acked.token != "" {
			sum := sha256.Sum256([]byte(n.acked.token))
			if rec.TokenSHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("round %d: paired.json's tokenSha256 for %s is not the acknowledged token's", round, id)
			}
		}
	}
}

// auditState is what the audit log said so far (read incrementally: lines
// of earlier rounds never change).
type auditState struct {
	file      uint64 // audit.<file>.jsonl or, if absent, audit.jsonl, being read
	off       int64
	lines     int
	decisions map[string]int  // "approved <requestId>" -> lines
	pairing   map[string]bool // node -> paired, by its last approved/removed line
}

func checkAudit(t *testing.T, dir string, round int, l *crashLedger, pendingIDs map[string]bool, paired map[string]protocol.PairedNode) {
	t.Helper()
	a := &l.audit
	nodes := filepath.Join(dir, "nodes")
	for {
		if a.file == 0 {
			a.file = 1
		}
		rotated := filepath.Join(nodes, fmt.Sprintf("audit.%d.jsonl", a.file))
		path, isRotated := rotated, true
		if _, err := os.Stat(rotated); err != nil {
			path, isRotated = filepath.Join(nodes, "audit.jsonl"), false
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for a.off < int64(len(data)) {
			i := strings.IndexByte(string(data[a.off:]), '\n')
			if i < 0 {
				t.Fatalf("round %d: %s ends in a torn line after reopening", round, path)
			}
			line := data[a.off : a.off+int64(i)]
			a.off += int64(i) + 1
			a.lines++
			var ev struct {
				Action    string `json:"action"`
				RequestID string `json:"requestId"`
				NodeID    string `json:"nodeId"`
			}
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatalf("round %d: audit line %q: %v", round, line, err)
			}
			switch ev.Action {
			case "approved":
				a.pairing[ev.NodeID] = true
			case "removed":
				a.pairing[ev.NodeID] = false
			}
			if ev.RequestID != "" {
				a.decisions[ev.Action+" "+ev.RequestID]++
			}
		}
		if !isRotated {
			break
		}
		a.file++
		a.off = 0
	}
	// Each acknowledged decision is logged once.
	for reqID := range l.approved {
		if n := a.decisions["approved "+reqID]; n != 1 {
			t.Fatalf("round %d: acknowledged approval of %s has %d audit lines", round, reqID, n)
		}
	}
	for reqID := range l.rejected {
		if n := a.decisions["rejected "+reqID]; n != 1 {
			t.Fatalf("round %d: acknowledged rejection of %s has %d audit lines", round, reqID, n)
		}
	}
	for key, n := range a.decisions {
		action, reqID, _ := strings.Cut(key, " ")
		if n > 1 && action != "refreshed" {
			t.Fatalf("round %d: %d audit lines for %s", round, n, key)
		}
		if (action == "approved" || action == "rejected") && pendingIDs[reqID] {
			t.Fatalf("round %d: the audit log has %s %s, but the request is pending", round, action, reqID)
		}
	}
	// No line for a decision that did not happen: the log's last word on
	// each node's pairing is what the gateway serves.
	for id, want := range a.pairing {
		if _, got := paired[id]; got != want {
			t.Fatalf("round %d: by the audit log %s is paired=%v, the gateway serves paired=%v", round, id, want, got)
		}
	}
	for id := range l.removed {
		if a.pairing[id] {
			t.Fatalf("round %d: acknowledged removal of %s has no audit line after its approval", round, id)
		}
	}
}

// readJSON decodes a state file; an absent one is empty (a round killed
// before its first approval never had a paired.json to write).
func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		b = []byte("{}")
	} else if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
