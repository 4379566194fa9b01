package store

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// fakeClock is an injected clock the tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.UnixMilli(1795262299140)} // the traces' first ts
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Ms() int64 { return c.Now().UnixMilli() }

var (
	ctx      = context.Background()
	operator = Actor{ClientID: "cli", Role: "operator", User: "alice"}
	node     = Actor{ClientID: "node-host", Role: "node", DeviceID: "dev1", RemoteAddr: "127.0.0.1:5000"}
)

// openTest opens a store on a fresh temp dir with a fake clock.
func openTest(t testing.TB, opts ...func(*Options)) (*Store, *fakeClock) {
	t.Helper()
	clk := newClock()
	o := Options{StateDir: t.TempDir(), Now: clk.Now}
	for _, f := range opts {
		f(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clk
}

// reopen closes s and opens the same state dir again.
func reopen(t testing.TB, s *Store, clk *fakeClock) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s2, err := Open(Options{StateDir: s.stateDir, Now: clk.Now, TTL: s.ttl, MaxPending: s.maxPending})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

func mustRequest(t testing.TB, s *Store, in RequestInput) protocol.PendingRequest {
	t.Helper()
	req, _, err := s.Request(ctx, node, in)
	if err != nil {
		t.Fatalf("request %s: %v", in.NodeID, err)
	}
	return req
}

func mustApprove(t testing.TB, s *Store, id string) protocol.PairedNode {
	t.Helper()
	n, _, err := s.Approve(ctx, operator, id)
	if err != nil {
		t.Fatalf("approve %s: %v", id, err)
	}
	return n
}

// pairNode requests and approves nodeID and returns its token.
func pairNode(t testing.TB, s *Store, nodeID string) string {
	t.Helper()
	return mustApprove(t, s, mustRequest(t, s, RequestInput{NodeID: nodeID, NodeMeta: protocol.NodeMeta{DisplayName: "Node " + nodeID}}).RequestID).Token
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

// checkpoint writes pending.json and paired.json now (the store otherwise
// writes them in the background).
func checkpoint(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Checkpoint(ctx); err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
}

// diskJSON checkpoints and decodes a state file into a map of generic
// records.
func diskJSON(t testing.TB, s *Store, name string) map[string]map[string]any {
	t.Helper()
	checkpoint(t, s)
	var m map[string]map[string]any
	if err := json.Unmarshal(readFile(t, filepath.Join(s.Dir(), name)), &m); err != nil {
		t.Fatalf("%s does not parse: %v", name, err)
	}
	return m
}

// durable is the state a restart would find (checkpoints and journal),
// read without the lock and without writing anything.
func durable(t testing.TB, s *Store) *loadedState {
	t.Helper()
	r := &Store{stateDir: s.stateDir, dir: s.dir, log: slog.New(slog.DiscardHandler)}
	st, err := r.loadState()
	if err != nil {
		t.Fatalf("read the durable state: %v", err)
	}
	return st
}

// auditLines decodes audit.jsonl.
func auditLines(t testing.TB, s *Store) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(string(readFile(t, filepath.Join(s.Dir(), auditFile)))), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
