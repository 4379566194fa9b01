package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// setVar sets a tuning variable for one test and puts it back after the
// test's stores are closed (cleanups run last-registered first).
func setVar[T any](t testing.TB, v *T, to T) {
	old := *v
	*v = to
	t.Cleanup(func() { *v = old })
}

// crashImage copies the state dir of a running store: what a crash at this
// moment (between commits) would leave on disk.
func crashImage(t testing.TB, s *Store) string {
	t.Helper()
	s.mu.Lock() // no commit in flight
	defer s.mu.Unlock()
	s.cpMu.Lock() // no checkpoint replacing files or removing segments
	defer s.cpMu.Unlock()
	dst := t.TempDir()
	nodes := filepath.Join(dst, "nodes")
	os.Mkdir(nodes, 0o700)
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), tempPrefix) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(nodes, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// dirBytes is every file of a nodes dir, for "nothing was changed".
func dirBytes(t testing.TB, stateDir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, _ := os.ReadDir(filepath.Join(stateDir, "nodes"))
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(stateDir, "nodes", e.Name()))
		out[e.Name()] = string(b)
	}
	return out
}

// state is what a store serves, for comparing two stores (sorted: the
// order of requests with the same ts is not kept across a restart).
func state(s *Store) string {
	var lines []string
	for _, p := range s.Pending() {
		lines = append(lines, fmt.Sprintf("pending %s %s %q %d %v", p.RequestID, p.NodeID, p.DisplayName, p.TS, p.IsRepair))
	}
	for _, n := range s.Paired() {
		lines = append(lines, fmt.Sprintf("paired %s %q %d %d %d %s", n.NodeID, n.DisplayName, n.ApprovedAtMs, n.RenamedAtMs, n.LastConnectedAtMs, strings.Join(n.Commands, ",")))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

func openAt(t testing.TB, stateDir string, clk *fakeClock) *Store {
	t.Helper()
	s, err := Open(Options{StateDir: stateDir, Now: clk.Now})
	if err != nil {
		t.Fatalf("open %s: %v", stateDir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A mixed workload: requests, approvals (new and re-pair), rejections,
// renames, removals (with a pending request), expiries.
func workload(t testing.TB, s *Store, clk *fakeClock, round int) {
	t.Helper()
	id := func(i int) string { return fmt.Sprintf("r%d-n%d", round, i) }
	for i := range 6 {
		mustRequest(t, s, RequestInput{NodeID: id(i), NodeMeta: protocol.NodeMeta{DisplayName: "node " + id(i)}})
	}
	for i := range 6 {
		req, _ := s.PendingForNode(id(i))
		switch i % 3 {
		case 0:
			mustApprove(t, s, req.RequestID)
		case 1:
			if _, err := s.Reject(ctx, operator, req.RequestID); err != nil {
				t.Fatal(err)
			}
		case 2:
			if err := s.Rename(ctx, operator, id(i), "renamed "+id(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Re-pair n0, remove n3 while it has a pending request.
	mustApprove(t, s, mustRequest(t, s, RequestInput{NodeID: id(0)}).RequestID)
	mustRequest(t, s, RequestInput{NodeID: id(3)})
	if err := s.Remove(ctx, operator, id(3)); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
}

func TestChangesAreDurableInTheJournalAlone(t *testing.T) {
	s, clk := openTest(t)
	workload(t, s, clk, 0)
	if _, err := os.Stat(filepath.Join(s.Dir(), pendingFile)); !os.IsNotExist(err) {
		t.Fatal("a change wrote pending.json: only checkpoints do")
	}
	img := crashImage(t, s)
	got := openAt(t, img, clk)
	if state(got) != state(s) {
		t.Fatalf("after a crash:\n%s\nwant:\n%s", state(got), state(s))
	}
	// Opening brings the checkpoints up to date in the background; Close
	// at the latest.
	got.Close()
	var pend map[string]any
	if err := jsonUnmarshalFile(filepath.Join(img, "nodes", pendingFile), &pend); err != nil || len(pend) != len(s.Pending()) {
		t.Fatalf("pending.json after reopen and close: %d records, %v", len(pend), err)
	}
}

// A clean shutdown leaves complete files and an empty journal.
func TestCleanShutdownLeavesCompleteFiles(t *testing.T) {
	s, clk := openTest(t)
	workload(t, s, clk, 0)
	want := state(s)
	dir := s.Dir()
	s.Close()
	segs, _ := listSegments(dir)
	if len(segs) != 1 {
		t.Fatalf("segments after Close: %v", segs)
	}
	if fi, _ := os.Stat(filepath.Join(dir, segmentName(segs[0]))); fi.Size() != journalHeaderLen {
		t.Fatalf("journal after Close is %d bytes, want just its header", fi.Size())
	}
	// The files alone (no journal) hold everything.
	os.Remove(filepath.Join(dir, segmentName(segs[0])))
	s2 := openAt(t, filepath.Dir(dir), clk)
	if state(s2) != want {
		t.Fatalf("files alone:\n%s\nwant:\n%s", state(s2), want)
	}
}

// Checkpoints start by themselves after checkpointRecords records, in the
// background, and drop the segments they cover.
func TestCheckpointsRunInTheBackground(t *testing.T) {
	setVar(t, &checkpointRecords, 5)
	s, clk := openTest(t)
	for round := range 3 {
		workload(t, s, clk, round)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().Checkpoints < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no background checkpoints: %+v", s.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	img := crashImage(t, s)
	if segs, _ := listSegments(filepath.Join(img, "nodes")); len(segs) > 3 {
		t.Fatalf("old segments kept: %v", segs)
	}
	if got := openAt(t, img, clk); state(got) != state(s) {
		t.Fatalf("after a crash:\n%s\nwant:\n%s", state(got), state(s))
	}
}

// A checkpoint that fails at any step (a full disk) loses nothing: the
// journal still holds every change, the next checkpoint succeeds, and a
// crash right after the failure opens to the same state.
func TestCheckpointFailureAtEveryStepLosesNothing(t *testing.T) {
	stages := []string{"journal create", "dir", pendingFile, pairedFile, "rename " + pendingFile, "rename " + pairedFile, "audit sync"}
	for _, stage := range stages {
		t.Run(stage, func(t *testing.T) {
			s, clk := openTest(t)
			workload(t, s, clk, 0)
			checkpoint(t, s)
			workload(t, s, clk, 1)
			want := state(s)
			setFault(s, func(st string) error {
				if st == stage {
					return errDiskFull
				}
				return nil
			})
			if err := s.Checkpoint(ctx); !errors.Is(err, ErrWrite) {
				t.Fatalf("checkpoint with a failing %s: %v", stage, err)
			}
			setFault(s, nil)
			if got := openAt(t, crashImage(t, s), clk); state(got) != want {
				t.Fatalf("crash after the failed checkpoint:\n%s\nwant:\n%s", state(got), want)
			}
			workload(t, s, clk, 2)
			want = state(s)
			checkpoint(t, s)
			if got := openAt(t, crashImage(t, s), clk); state(got) != want {
				t.Fatalf("after the next checkpoint:\n%s\nwant:\n%s", state(got), want)
			}
			if segs, _ := listSegments(s.Dir()); len(segs) != 1 {
				t.Fatalf("segments after a good checkpoint: %v", segs)
			}
		})
	}
}

// The files a checkpoint writes may be any mix of old and new (a crash
// between the two renames): replay makes them right.
func TestReplayOverMixedCheckpoints(t *testing.T) {
	s, clk := openTest(t)
	workload(t, s, clk, 0)
	checkpoint(t, s)
	oldPending := readFile(t, filepath.Join(s.Dir(), pendingFile))
	oldPaired := readFile(t, filepath.Join(s.Dir(), pairedFile))
	// Segments the next checkpoint covers, kept by failing it after the
	// renames.
	workload(t, s, clk, 1)
	setFault(s, func(st string) error {
		if st == "audit sync" {
			return errDiskFull
		}
		return nil
	})
	s.Checkpoint(ctx)
	setFault(s, nil)
	workload(t, s, clk, 2)
	want := state(s)
	for name, old := range map[string][]byte{pendingFile: oldPending, pairedFile: oldPaired} {
		img := crashImage(t, s)
		os.WriteFile(filepath.Join(img, "nodes", name), old, 0o600)
		if got := openAt(t, img, clk); state(got) != want {
			t.Fatalf("new %s with the old other file:\n%s\nwant:\n%s", name, state(got), want)
		}
	}
}

func TestTornLastRecordIsDropped(t *testing.T) {
	s, clk := openTest(t)
	workload(t, s, clk, 0)
	before := state(s)
	mustRequest(t, s, RequestInput{NodeID: "last", NodeMeta: protocol.NodeMeta{DisplayName: "the torn one"}})
	img := crashImage(t, s)
	seg := filepath.Join(img, "nodes", segmentName(s.journal.n))
	data := readFile(t, seg)
	parsed, err := parseSegment(seg, data)
	if err != nil {
		t.Fatal(err)
	}
	lastOff := parsed.records[len(parsed.records)-1].off
	// Cut anywhere inside the last record, or followed by zeros the file
	// system allocated, or with its last byte wrong: dropped every time.
	variants := map[string][]byte{}
	for _, cut := range []int64{1, recordHeaderLen - 1, recordHeaderLen, recordHeaderLen + 5, int64(len(data)) - lastOff - 1} {
		variants[fmt.Sprintf("cut at +%d", cut)] = data[:lastOff+cut]
	}
	variants["zero tail"] = append(slices.Clone(data[:lastOff]), make([]byte, 4096)...)
	bad := slices.Clone(data)
	bad[len(bad)-1] ^= 0xff
	variants["bad checksum"] = bad
	variants["bad checksum, zeros after"] = append(slices.Clone(bad), make([]byte, 100)...)
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.CopyFS(dir, os.DirFS(img))
			os.WriteFile(filepath.Join(dir, "nodes", segmentName(s.journal.n)), v, 0o600)
			got := openAt(t, dir, clk)
			if state(got) != before {
				t.Fatalf("torn record not dropped:\n%s\nwant:\n%s", state(got), before)
			}
			// Later changes go into a new segment, never after the torn tail.
			mustRequest(t, got, RequestInput{NodeID: "after"})
			if got.journal.n == s.journal.n {
				t.Fatal("appending after a torn record")
			}
		})
	}
}

// Damage other than a torn last record is refused with file, offset and
// what to do, and nothing is changed.
func TestDamagedJournalIsRefused(t *testing.T) {
	s, clk := openTest(t)
	workload(t, s, clk, 0)
	mustRequest(t, s, RequestInput{NodeID: "after"})
	img := crashImage(t, s)
	seg := filepath.Join(img, "nodes", segmentName(s.journal.n))
	data := readFile(t, seg)
	parsed, _ := parseSegment(seg, data)
	mid := parsed.records[1]
	cases := map[string]struct {
		data []byte
		off  int64
		says string
	}{
		"flipped byte in a middle record": {flip(data, mid.off+recordHeaderLen+20), mid.off, "checksum does not match, and records follow it"},
		"bad header":                      {flip(data, 2), 0, "journal header"},
		"impossible length mid-file":      {setLen(data, mid.off, 0), mid.off, "record length 0"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.CopyFS(dir, os.DirFS(img))
			os.WriteFile(filepath.Join(dir, "nodes", segmentName(s.journal.n)), c.data, 0o600)
			before := dirBytes(t, dir)
			_, err := Open(Options{StateDir: dir, Now: clk.Now})
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Offset != c.off {
				t.Fatalf("%v, want a *CorruptError at byte %d", err, c.off)
			}
			for _, want := range []string{segmentName(s.journal.n), c.says, fmt.Sprintf("byte %d", c.off), "left unchanged", "mv "} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			after := dirBytes(t, dir)
			delete(before, lockFile)
			delete(after, lockFile)
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Fatal("a refused open changed the files")
			}
		})
	}
}

func flip(data []byte, at int64) []byte {
	b := slices.Clone(data)
	b[at] ^= 0x55
	return b
}

func setLen(data []byte, recOff int64, n uint32) []byte {
	b := slices.Clone(data)
	b[recOff], b[recOff+1], b[recOff+2], b[recOff+3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	return b
}

// The audit log gets only committed lines, and after a crash every
// committed line, once, in commit order.
func TestAuditLinesAreWrittenBackAfterACrash(t *testing.T) {
	s, clk := openTest(t)
	workload(t, s, clk, 0)
	// A batch with several lines: an approval that sweeps two expiries.
	mustRequest(t, s, RequestInput{NodeID: "x1"})
	mustRequest(t, s, RequestInput{NodeID: "x2"})
	clk.Add(DefaultTTL)
	last := mustRequest(t, s, RequestInput{NodeID: "x3"})
	_ = last
	full := readFile(t, filepath.Join(s.Dir(), auditFile))
	lines := bytes.SplitAfter(full, []byte("\n"))
	lines = lines[:len(lines)-1]
	if len(lines) < 4 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, keep := range []int{len(lines) - 1, len(lines) - 2, len(lines) - 3, 0} {
		for _, torn := range []bool{false, true} {
			t.Run(fmt.Sprintf("keep %d torn %v", keep, torn), func(t *testing.T) {
				img := crashImage(t, s)
				cut := bytes.Join(lines[:keep], nil)
				if torn {
					cut = append(cut, lines[keep][:len(lines[keep])/2]...)
				}
				os.WriteFile(filepath.Join(img, "nodes", auditFile), cut, 0o600)
				got := openAt(t, img, clk)
				got.Close()
				if after := readFile(t, filepath.Join(img, "nodes", auditFile)); !bytes.Equal(after, full) {
					t.Fatalf("audit log after reopen:\n%s\nwant:\n%s", after, full)
				}
			})
		}
	}
}

// A failed audit write loses nothing: the lines are in the journal and go
// out, in order, with the next change.
func TestAuditWriteFailureLosesNothing(t *testing.T) {
	s, _ := openTest(t)
	setFault(s, func(st string) error {
		if st == "audit" {
			return errDiskFull
		}
		return nil
	})
	req := mustRequest(t, s, RequestInput{NodeID: "n1"})
	mustApprove(t, s, req.RequestID)
	if n := len(auditLines(t, s)); n != 0 {
		t.Fatalf("%d lines written through a failing audit log", n)
	}
	// A checkpoint keeps the journal segments the missing lines are in.
	checkpoint(t, s)
	if segs, _ := listSegments(s.Dir()); len(segs) < 2 {
		t.Fatalf("segments holding unwritten audit lines were dropped: %v", segs)
	}
	setFault(s, nil)
	mustRequest(t, s, RequestInput{NodeID: "n2"})
	var actions []string
	for _, l := range auditLines(t, s) {
		actions = append(actions, l["action"].(string)+" "+l["nodeId"].(string))
	}
	if want := []string{"requested n1", "approved n1", "requested n2"}; !slices.Equal(actions, want) {
		t.Fatalf("audit lines %v, want %v", actions, want)
	}
}

func jsonUnmarshalFile(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return jsonUnmarshal(b, v)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
