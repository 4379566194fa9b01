package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// Then hooks run in the order the ops were applied, each once its batch is
// on disk, and the ops of one batch still share one commit.
func TestThenHooksRunInCommitOrderOnceDurable(t *testing.T) {
	s, _ := openTest(t)
	before := s.Stats()
	entered, release := holdFirstCommit(s)
	var announced []string // appended by the committer only
	onDisk := map[string]bool{}
	then := func(req protocol.PendingRequest, created bool) {
		if !created {
			t.Errorf("then for %s: created false", req.NodeID)
		}
		announced = append(announced, req.RequestID)
		_, onDisk[req.RequestID] = durable(t, s).pending.byID[req.RequestID]
	}
	const callers = 32
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, _, err := s.RequestWith(ctx, node, RequestInput{NodeID: "first"}, nil, then); err != nil {
			t.Error(err)
		}
	})
	<-entered
	for i := range callers - 1 {
		wg.Go(func() {
			if _, _, err := s.RequestWith(ctx, node, RequestInput{NodeID: fmt.Sprintf("n%d", i)}, nil, then); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(t, s, callers-1)
	release()
	wg.Wait()

	if got := s.Stats().Commits - before.Commits; got != 2 {
		t.Fatalf("%d commits, want 2: hooks must not stop ops from sharing a commit", got)
	}
	// Pending lists newest first: equal timestamps (the clock stands still)
	// are ordered by when the store applied them.
	var applied []string
	for _, r := range s.Pending() {
		applied = append(applied, r.RequestID)
	}
	slices.Reverse(applied)
	if !slices.Equal(announced, applied) {
		t.Fatalf("then order %v\nwant the order applied %v", announced, applied)
	}
	for id, ok := range onDisk {
		if !ok {
			t.Fatalf("then ran for %s before it was durable", id)
		}
	}
}

// A check refuses an op as it is applied: its error comes back, nothing is
// written or logged, and then does not run.
func TestCheckRefusesWithoutWriting(t *testing.T) {
	s, _ := openTest(t)
	mustRequest(t, s, RequestInput{NodeID: "n0"})
	before, snap := s.Stats(), takeSnapshot(t, s)
	refused := errors.New("node is blocked")
	ran := false
	_, _, err := s.RequestWith(ctx, node, RequestInput{NodeID: "n1"},
		func(nodeID string) error {
			if nodeID != "n1" {
				t.Errorf("check saw node %q", nodeID)
			}
			return refused
		},
		func(protocol.PendingRequest, bool) { ran = true })
	if !errors.Is(err, refused) {
		t.Fatalf("request refused by its check: %v", err)
	}
	if ran {
		t.Fatal("then ran for a refused request")
	}
	if after := takeSnapshot(t, s); after != snap {
		t.Fatal("a refused request changed the files")
	}
	if st := s.Stats(); st.Commits != before.Commits || st.Ops != before.Ops || st.Pending != 1 {
		t.Fatalf("stats %+v after a refused request (before %+v)", st, before)
	}
}

// An approval's check sees the request as it is when the approval is
// applied: a refresh queued ahead of it in the same batch is visible.
func TestApproveCheckSeesTheRequestAsApproved(t *testing.T) {
	s, _ := openTest(t)
	req := mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{Commands: []string{"camera.snap"}}})
	entered, release := holdFirstCommit(s)
	var wg sync.WaitGroup
	wg.Go(func() { mustRequest(t, s, RequestInput{NodeID: "other"}) })
	<-entered
	wg.Go(func() {
		mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{Commands: []string{"system.run"}}})
	})
	waitQueued(t, s, 1)
	var seen []string
	refused := errors.New("missing scope")
	wg.Go(func() {
		_, _, err := s.ApproveWith(ctx, operator, req.RequestID, func(cur protocol.PendingRequest) error {
			seen = cur.RequiredApproveScopes
			if slices.Contains(cur.RequiredApproveScopes, protocol.ScopeAdmin) {
				return refused
			}
			return nil
		}, func(protocol.PairedNode, protocol.PendingRequest) { t.Error("then ran for a refused approval") })
		if !errors.Is(err, refused) {
			t.Errorf("approval after an exec-class refresh: %v", err)
		}
	})
	waitQueued(t, s, 2)
	release()
	wg.Wait()
	if !slices.Contains(seen, protocol.ScopeAdmin) {
		t.Fatalf("check saw scopes %v, want the refreshed request's", seen)
	}
	if _, ok := s.PendingByID(req.RequestID); !ok {
		t.Fatal("a refused approval removed the request")
	}
}

// When the write fails, no then hook runs: nothing was changed to announce.
func TestThenDoesNotRunWhenTheWriteFails(t *testing.T) {
	s, _ := openTest(t)
	req := mustRequest(t, s, RequestInput{NodeID: "n1"})
	setFault(s, func(stage string) error { return errDiskFull })
	ran := 0
	if _, _, err := s.ApproveWith(ctx, operator, req.RequestID, nil, func(protocol.PairedNode, protocol.PendingRequest) { ran++ }); !errors.Is(err, ErrWrite) {
		t.Fatalf("approve on a full disk: %v", err)
	}
	if _, err := s.RejectWith(ctx, operator, req.RequestID, func(protocol.PendingRequest) { ran++ }); !errors.Is(err, ErrWrite) {
		t.Fatalf("reject on a full disk: %v", err)
	}
	if err := s.RenameWith(ctx, operator, "n1", "x", func() { ran++ }); !errors.Is(err, ErrWrite) {
		t.Fatalf("rename on a full disk: %v", err)
	}
	if ran != 0 {
		t.Fatalf("%d then hooks ran for failed writes", ran)
	}
	setFault(s, nil)
	var got protocol.PendingRequest
	if _, err := s.RejectWith(ctx, operator, req.RequestID, func(r protocol.PendingRequest) { got = r }); err != nil || got.RequestID != req.RequestID {
		t.Fatalf("reject once the disk has room: %v, then saw %+v", err, got)
	}
}
