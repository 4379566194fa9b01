package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Benchmarks run on real temp dirs with real fsyncs and the real clock.

func benchOpen(b *testing.B, opts Options) *Store {
	b.Helper()
	if opts.StateDir == "" {
		opts.StateDir = b.TempDir()
	}
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
}

// writeFixture writes a state file of n records straight to disk.
func writeFixture(b *testing.B, stateDir, name string, records []member) {
	b.Helper()
	nodes := filepath.Join(stateDir, "nodes")
	os.MkdirAll(nodes, 0o700)
	data, err := assembleFile(records)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(nodes, name), data, 0o600); err != nil {
		b.Fatal(err)
	}
}

func pairedFixture(b *testing.B, n int) []member {
	out := make([]member, n)
	now := time.Now().UnixMilli()
	for i := range n {
		id := fmt.Sprintf("%064x", i) // device ids are 64 hex chars
		sum := sha256.Sum256([]byte(id))
		e := &pairedEntry{fileRecord: fileRecord{key: id}, rec: protocol.PairedNode{
			NodeID: id, TokenSHA256: hex.EncodeToString(sum[:]), NodeMeta: protocol.NodeMeta{DisplayName: fmt.Sprintf("Node %d", i), Platform: "ios", Version: "2026.4.12", DeviceFamily: "iPhone", ModelIdentifier: "iPhone17,1", Caps: []string{"camera", "screen", "location"}, Commands: []string{"camera.snap", "screen.record"}}, CreatedAtMs: now - int64(n-i), ApprovedAtMs: now - int64(n-i),
		}}
		if err := e.encode(); err != nil {
			b.Fatal(err)
		}
		out[i] = e
	}
	return out
}

func pendingFixture(b *testing.B, n int) []member {
	out := make([]member, n)
	now := time.Now().UnixMilli()
	for i := range n {
		id := fmt.Sprintf("req-%06d", i)
		e := &pendingEntry{fileRecord: fileRecord{key: id}, rec: protocol.PendingRequest{
			RequestID: id, NodeID: fmt.Sprintf("%064x", i), NodeMeta: protocol.NodeMeta{DisplayName: fmt.Sprintf("Node %d", i), Platform: "ios", Version: "2026.4.12", Commands: []string{"canvas.show"}}, TS: now - int64(i),
		}}
		if err := e.encode(); err != nil {
			b.Fatal(err)
		}
		out[i] = e
	}
	return out
}

// BenchmarkRequest: one caller, durable requests from 128 nodes in turn
// (creates, then refreshes), so pending.json holds ~128 records.
func BenchmarkRequest(b *testing.B) {
	s := benchOpen(b, Options{})
	lat := make([]time.Duration, 0, 4096)
	i := 0
	for b.Loop() {
		id := fmt.Sprintf("node-%03d", i%128)
		i++
		t0 := time.Now()
		if _, _, err := s.Request(ctx, node, RequestInput{NodeID: id, NodeMeta: protocol.NodeMeta{DisplayName: "bench", Platform: "linux"}}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat)
}

// BenchmarkRequestWithCode: a request approved by a setup code in the
// same commit (request, approval, use counted: one journal record), to
// compare with BenchmarkRequest and an approval.
func BenchmarkRequestWithCode(b *testing.B) {
	s := benchOpen(b, Options{})
	lat := make([]time.Duration, 0, 4096)
	var secret string
	for i := 0; b.Loop(); i++ {
		if i%protocol.CodeMaxUses == 0 {
			b.StopTimer()
			var err error
			if _, secret, err = s.CreateCode(ctx, operator, protocol.CodeCreateParams{MaxUses: protocol.CodeMaxUses}, nil); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		t0 := time.Now()
		out, err := s.RequestWithCode(ctx, node, RequestInput{NodeID: fmt.Sprintf("node-%06d", i), Code: secret, NodeMeta: protocol.NodeMeta{DisplayName: "bench", Platform: "linux"}}, nil, nil)
		if err != nil || !out.Approved {
			b.Fatal(out.Refusal, err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat)
}

// BenchmarkRequestParallel: 16 concurrent callers, 1000 nodes (a queue
// close to the default cap), group commit.
func BenchmarkRequestParallel(b *testing.B) {
	s := benchOpen(b, Options{})
	var n atomic.Int64
	start := s.Stats()
	b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0))) // 16 callers on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprintf("node-%04d", n.Add(1)%1000)
			if _, _, err := s.Request(ctx, node, RequestInput{NodeID: id, NodeMeta: protocol.NodeMeta{DisplayName: "bench"}}); err != nil {
				b.Fatal(err)
			}
		}
	})
	st := s.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(st.Ops-start.Ops)/float64(max(1, st.Commits-start.Commits)), "ops/commit")
}

// BenchmarkApprove1kPaired: approve a repair request among 1,000 paired
// nodes (paired.json and pending.json are both rewritten).
func BenchmarkApprove1kPaired(b *testing.B) {
	dir := b.TempDir()
	fix := pairedFixture(b, 1000)
	writeFixture(b, dir, pairedFile, fix)
	s := benchOpen(b, Options{StateDir: dir})
	lat := make([]time.Duration, 0, 4096)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		req, _, err := s.Request(ctx, node, RequestInput{NodeID: fix[i%len(fix)].file().key})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		if _, _, err := s.Approve(ctx, operator, req.RequestID); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkPendingList2k: list 2,000 live pending requests.
func BenchmarkPendingList2k(b *testing.B) {
	dir := b.TempDir()
	writeFixture(b, dir, pendingFile, pendingFixture(b, 2000))
	s := benchOpen(b, Options{StateDir: dir, MaxPending: 4096})
	for b.Loop() {
		if got := s.Pending(); len(got) != 2000 {
			b.Fatalf("%d pending", len(got))
		}
	}
}

// BenchmarkPairedList10k: list 10,000 paired nodes.
func BenchmarkPairedList10k(b *testing.B) {
	dir := b.TempDir()
	writeFixture(b, dir, pairedFile, pairedFixture(b, 10000))
	s := benchOpen(b, Options{StateDir: dir})
	for b.Loop() {
		if got := s.Paired(); len(got) != 10000 {
			b.Fatalf("%d paired", len(got))
		}
	}
}

// BenchmarkOpen10kPaired: what the CLI pays per offline operation.
func BenchmarkOpen10kPaired(b *testing.B) {
	dir := b.TempDir()
	writeFixture(b, dir, pairedFile, pairedFixture(b, 10000))
	for b.Loop() {
		s, err := Open(Options{StateDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkOpenAfterCrash10kPaired10kPending: opening what a crash left,
// 10,000 paired and 10,000 pending in the checkpoints and 4,000 requests
// in the journal (made concurrently, so in fewer records than `pairdeck
// bench`'s full journal, whose requests come one by one).
func BenchmarkOpenAfterCrash10kPaired10kPending(b *testing.B) {
	setVar(b, &checkpointRecords, 1<<30)
	dir := b.TempDir()
	writeFixture(b, dir, pairedFile, pairedFixture(b, 10000))
	writeFixture(b, dir, pendingFile, pendingFixture(b, 10000))
	s, err := Open(Options{StateDir: dir, MaxPending: 1 << 20, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1); i <= 4000; i = next.Add(1) {
				if _, _, err := s.Request(ctx, node, RequestInput{NodeID: fmt.Sprintf("extra-%d", i), NodeMeta: protocol.NodeMeta{DisplayName: "extra"}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	img := crashImage(b, s)
	s.Close()
	for b.Loop() {
		b.StopTimer()
		cp := b.TempDir()
		if err := os.CopyFS(cp, os.DirFS(img)); err != nil {
			b.Fatal(err)
		}
		os.Chmod(filepath.Join(cp, "nodes"), 0o700)
		b.StartTimer()
		s, err := Open(Options{StateDir: cp, MaxPending: 1 << 20, TTL: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close() // with the checkpoint Open started
		b.StartTimer()
	}
}
