package store

import (
	"context"
	"errors"
	"fmt"
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

// setFault installs the I/O failure seam (nil removes it).
func setFault(s *Store, f func(stage string) error) {
	if f == nil {
		s.faultHook.Store(nil)
		return
	}
	s.faultHook.Store(&f)
}

var errDiskFull = &os.PathError{Op: "write", Path: "(injected)", Err: syscall.ENOSPC}

// holdFirstCommit makes the next commit wait in its first I/O step until
// release is called, so the test can queue ops behind it.
func holdFirstCommit(s *Store) (entered <-chan struct{}, release func()) {
	in := make(chan struct{})
	out := make(chan struct{})
	var once sync.Once
	setFault(s, func(string) error {
		once.Do(func() {
			close(in)
			<-out
		})
		return nil
	})
	return in, func() { close(out) }
}

func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for len(s.ops) < n {
		select {
		case <-deadline:
			t.Fatalf("only %d of %d ops queued", len(s.ops), n)
		case <-time.After(time.Millisecond):
		}
	}
}

func TestGroupCommitCoalescesConcurrentRequests(t *testing.T) {
	s, _ := openTest(t)
	before := s.Stats()
	entered, release := holdFirstCommit(s)
	const callers = 64
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	wg.Go(func() { _, _, err := s.Request(ctx, node, RequestInput{NodeID: "first"}); errs <- err })
	<-entered // the committer is now inside the first batch's write
	for i := range callers - 1 {
		wg.Go(func() {
			_, _, err := s.Request(ctx, node, RequestInput{NodeID: fmt.Sprintf("n%d", i)})
			errs <- err
		})
	}
	waitQueued(t, s, callers-1)
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if st.Ops != callers || st.Pending != callers {
		t.Fatalf("stats %+v: want %d ops and pending", st, callers)
	}
	// The first batch had one op; the 63 queued behind it share one commit:
	// one journal append and its fsync.
	if got := st.Commits - before.Commits; got != 2 {
		t.Fatalf("%d commits for %d concurrent requests, want 2 (first + one coalesced batch)", got, callers)
	}
	if got := st.Syncs - before.Syncs; got != 2 {
		t.Fatalf("%d fsyncs, want 2 (one journal append per commit)", got)
	}
	if n := len(diskJSON(t, s, pendingFile)); n != callers {
		t.Fatalf("pending.json has %d records", n)
	}
	if n := len(auditLines(t, s)); n != callers {
		t.Fatalf("audit has %d lines", n)
	}
}

// Same node from many callers at once: one request, everyone gets its id.
func TestConcurrentRequestsForOneNode(t *testing.T) {
	s, _ := openTest(t)
	var wg sync.WaitGroup
	ids := make([]string, 32)
	created := make([]bool, 32)
	for i := range ids {
		wg.Go(func() {
			req, c, err := s.Request(ctx, node, RequestInput{NodeID: "same"})
			if err != nil {
				t.Error(err)
			}
			ids[i], created[i] = req.RequestID, c
		})
	}
	wg.Wait()
	n := 0
	for i := range ids {
		if ids[i] != ids[0] {
			t.Fatalf("different request ids for one node: %s vs %s", ids[i], ids[0])
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d callers saw created=true, want exactly 1", n)
	}
}

type snapshot struct{ pending, paired, audit, journal string }

func takeSnapshot(t *testing.T, s *Store) snapshot {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(s.Dir(), name))
		if os.IsNotExist(err) {
			return "<absent>"
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return snapshot{read(pendingFile), read(pairedFile), read(auditFile), read(segmentName(s.journal.n))}
}

// A failed write anywhere in a commit leaves disk and memory exactly as
// they were, and the caller learns why and what to do.
func TestWriteFailureRollsBack(t *testing.T) {
	stages := []string{"journal", "journal sync"}
	for _, stage := range stages {
		t.Run(stage, func(t *testing.T) {
			s, clk := openTest(t)
			tok := pairNode(t, s, "n1")
			req := mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "repair"}})
			other := mustRequest(t, s, RequestInput{NodeID: "n2"})
			before := takeSnapshot(t, s)
			clk.Add(time.Second)

			setFault(s, func(st string) error {
				if st == stage {
					return errDiskFull
				}
				return nil
			})
			_, _, err := s.Approve(ctx, operator, req.RequestID)
			if !errors.Is(err, ErrWrite) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("approve with a failing %s: %v", stage, err)
			}
			if !strings.Contains(err.Error(), "free disk space and retry") {
				t.Errorf("message lacks advice: %v", err)
			}
			if after := takeSnapshot(t, s); after != before {
				t.Fatalf("disk changed by a failed commit:\nbefore %+v\nafter  %+v", before, after)
			}
			// Memory matches disk: the request waits, the old token works.
			if _, ok := s.PendingByID(req.RequestID); !ok {
				t.Fatal("request lost by a failed approve")
			}
			if _, ok := s.Verify("n1", tok); !ok {
				t.Fatal("old token revoked by a failed approve")
			}
			if _, ok := s.PendingByID(other.RequestID); !ok {
				t.Fatal("unrelated request lost")
			}
			if st := s.Stats(); st.WriteFailures != 1 {
				t.Fatalf("stats %+v", st)
			}

			// Once the disk has room again, the same approve works.
			setFault(s, nil)
			n := mustApprove(t, s, req.RequestID)
			s = reopen(t, s, clk)
			if _, ok := s.Verify("n1", n.Token); !ok {
				t.Fatal("retried approve not durable")
			}
			if _, ok := s.Verify("n1", tok); ok {
				t.Fatal("old token verifies after the retried approve")
			}
		})
	}
}

// Every op in a failing batch that changed something gets the error; an op
// whose answer did not depend on the write keeps its own answer.
func TestWriteFailureFailsTheWholeBatch(t *testing.T) {
	s, _ := openTest(t)
	pairNode(t, s, "n1")
	before := takeSnapshot(t, s)
	entered := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	setFault(s, func(st string) error {
		once.Do(func() { close(entered); <-release })
		return errDiskFull
	})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Rename(ctx, operator, "n1", "first batch"); !errors.Is(err, ErrWrite) {
			t.Errorf("rename: %v", err)
		}
	})
	<-entered
	wg.Go(func() {
		if _, _, err := s.Request(ctx, node, RequestInput{NodeID: "n2"}); !errors.Is(err, ErrWrite) {
			t.Errorf("request: %v", err)
		}
	})
	wg.Go(func() {
		// Not written with the batch: it waits in memory for a later write
		// of paired.json (TestMarkConnectedIsWrittenLazily).
		if err := s.MarkConnected(ctx, "n1"); err != nil {
			t.Errorf("mark connected: %v", err)
		}
	})
	wg.Go(func() {
		if _, err := s.Reject(ctx, operator, "nope"); !errors.Is(err, ErrUnknownRequest) {
			t.Errorf("reject of an unknown id: %v", err)
		}
	})
	waitQueued(t, s, 3)
	close(release)
	wg.Wait()
	if after := takeSnapshot(t, s); after != before {
		t.Fatalf("disk changed:\n%+v\n%+v", before, after)
	}
	if n, _ := s.PairedNode("n1"); n.DisplayName == "first batch" {
		t.Fatalf("unacknowledged change visible: %+v", n)
	}
	if len(s.Pending()) != 0 {
		t.Fatal("unacknowledged request visible")
	}
}

// A real full disk: a tiny tmpfs filled to the brim.
func TestWriteFailureOnFullDisk(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); the injected-failure tests cover the logic", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", mnt).Run() })

	clk := newClock()
	s, err := Open(Options{StateDir: mnt, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok := pairNode(t, s, "n1")
	req := mustRequest(t, s, RequestInput{NodeID: "n2", NodeMeta: protocol.NodeMeta{DisplayName: strings.Repeat("x", 100)}})
	before := takeSnapshot(t, s)

	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := filler.Write(chunk); err != nil {
			break
		}
	}
	filler.Close()

	var failed error
	for i := range 10 { // some writes may still fit in a partly used page
		_, _, err := s.Request(ctx, node, RequestInput{NodeID: fmt.Sprintf("big%d", i), NodeMeta: protocol.NodeMeta{DisplayName: strings.Repeat("y", 120)}})
		if err != nil {
			failed = err
			break
		}
	}
	if !errors.Is(failed, ErrWrite) || !errors.Is(failed, syscall.ENOSPC) {
		t.Fatalf("request on a full disk: %v", failed)
	}
	if !strings.Contains(failed.Error(), "free disk space and retry") {
		t.Errorf("message: %v", failed)
	}
	// Memory equals disk.
	disk := durable(t, s).pending.byID
	if len(disk) != len(s.Pending()) {
		t.Fatalf("disk has %d pending, memory %d", len(disk), len(s.Pending()))
	}
	for _, p := range s.Pending() {
		if _, ok := disk[p.RequestID]; !ok {
			t.Fatalf("memory has %s, disk does not", p.RequestID)
		}
	}
	if after := takeSnapshot(t, s); after.paired != before.paired {
		t.Fatal("paired.json changed")
	}
	// A checkpoint on the full disk fails and loses nothing.
	if err := s.Checkpoint(ctx); !errors.Is(err, ErrWrite) {
		t.Fatalf("checkpoint on a full disk: %v", err)
	}
	if n := len(durable(t, s).pending.byID); n != len(s.Pending()) {
		t.Fatalf("after a failed checkpoint the disk has %d pending, memory %d", n, len(s.Pending()))
	}
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("temp file left on the full disk: %s", e.Name())
		}
	}

	os.Remove(filepath.Join(mnt, "filler"))
	n := mustApprove(t, s, req.RequestID)
	checkpoint(t, s)
	if _, ok := s.Verify("n2", n.Token); !ok {
		t.Fatal("approve after freeing space")
	}
	if _, ok := s.Verify("n1", tok); !ok {
		t.Fatal("n1 lost")
	}
}

func TestCloseIsIdempotentAndLaterCallsFail(t *testing.T) {
	s, _ := openTest(t)
	tok := pairNode(t, s, "n1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := s.Request(ctx, node, RequestInput{NodeID: "n2"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Request after Close: %v", err)
	}
	if _, _, err := s.Approve(ctx, operator, "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Approve after Close: %v", err)
	}
	if err := s.Rename(ctx, operator, "n1", "x"); !errors.Is(err, ErrClosed) {
		t.Errorf("Rename after Close: %v", err)
	}
	if _, err := s.ExpireDue(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("ExpireDue after Close: %v", err)
	}
	if _, ok := s.Verify("n1", tok); ok {
		t.Error("Verify after Close")
	}
	if p := s.Paired(); p == nil || len(p) != 0 {
		t.Errorf("Paired after Close: %v", p)
	}
}

// Close while callers are busy: each caller gets success (and then its
// change is on disk) or ErrClosed (and it is not).
func TestCloseDuringWrites(t *testing.T) {
	s, clk := openTest(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for g := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("g%d-%d", g, i)
				_, _, err := s.Request(ctx, node, RequestInput{NodeID: id})
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s2, err := Open(Options{StateDir: s.stateDir, Now: clk.Now, MaxPending: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for id := range acked {
		if _, ok := s2.PendingForNode(id); !ok {
			t.Fatalf("acknowledged request for %s lost at Close", id)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no request went through before Close")
	}
}

func TestCanceledContext(t *testing.T) {
	s, _ := openTest(t)
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.Request(c, node, RequestInput{NodeID: "n1"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if len(s.Pending()) != 0 {
		t.Fatal("a canceled request was applied")
	}
	// Canceled while queued behind a slow commit: either applied and
	// acknowledged, or not applied at all.
	entered, release := holdFirstCommit(s)
	go s.Request(ctx, node, RequestInput{NodeID: "slow"})
	<-entered
	c, cancel = context.WithCancel(ctx)
	done := make(chan error)
	go func() { _, _, err := s.Request(c, node, RequestInput{NodeID: "n2"}); done <- err }()
	waitQueued(t, s, 1)
	cancel()
	err := <-done
	release()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	time.Sleep(10 * time.Millisecond)
	if _, ok := s.PendingForNode("n2"); ok {
		t.Fatal("abandoned request applied")
	}
}

// When cutting the journal back after a failed append fails too, the
// journal may end in a record that a later append would follow: the store
// stops taking changes and says to restart, and the restart decides.
func TestWriteFailureWhenTheJournalCannotBeCutBack(t *testing.T) {
	s, clk := openTest(t)
	pairNode(t, s, "n1")
	req := mustRequest(t, s, RequestInput{NodeID: "n2"})
	setFault(s, func(stage string) error {
		if stage == "journal sync" {
			return errDiskFull
		}
		return nil
	})
	s.journal.f.Close() // the cut-back (ftruncate) now fails as well
	_, _, err := s.Approve(ctx, operator, req.RequestID)
	if !errors.Is(err, ErrWrite) || !strings.Contains(err.Error(), "restart the gateway") {
		t.Fatalf("err = %v", err)
	}
	setFault(s, nil)
	if _, _, err := s.Request(ctx, node, RequestInput{NodeID: "n3"}); !errors.Is(err, ErrWrite) {
		t.Fatalf("a change after the store broke: %v", err)
	}
	s.Close()
	s2, err := Open(Options{StateDir: s.stateDir, Now: clk.Now})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if _, ok := s2.PairedNode("n1"); !ok {
		t.Fatal("n1 lost")
	}
}
