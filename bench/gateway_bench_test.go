package bench

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/store"
)

// Gateway-level benchmarks: a real gateway and store (durable writes, on
// the test's temp dir) in this process, driven over loopback WebSockets by
// the real client. In-process so `go test -bench -cpuprofile` sees the
// gateway; the `pairdeck bench` command runs it as a child instead, to
// measure its memory alone. No targets here: see docs/benchmarks.md.

type inProcess struct {
	url, token string
	st         *store.Store
}

func startInProcess(tb testing.TB, paired, pending int) *inProcess {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	if err := seedState(ctx, dir, paired, pending, benchTTL); err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(store.Options{StateDir: dir, TTL: benchTTL, MaxPending: benchMaxPending})
	if err != nil {
		tb.Fatal(err)
	}
	token := "bench-" + nodeID()
	gw, err := gateway.New(gateway.Config{Store: st, OperatorToken: token})
	if err != nil {
		st.Close()
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		tb.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- gw.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			tb.Error(err)
		}
		<-served
		if err := st.Close(); err != nil {
			tb.Error(err)
		}
	})
	return &inProcess{url: "ws://" + ln.Addr().String(), token: token, st: st}
}

func (g *inProcess) operator(tb testing.TB) *client.Client {
	tb.Helper()
	c, err := dialOperator(context.Background(), g.url, g.token)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// reportCommits adds how many changes shared each durable write round:
// 1 means no group commit happened.
func (g *inProcess) reportCommits(b *testing.B, before store.Stats) {
	after := g.st.Stats()
	if commits := after.Commits - before.Commits; commits > 0 {
		b.ReportMetric(float64(after.Ops-before.Ops)/float64(commits), "ops/commit")
		b.ReportMetric(float64(after.Syncs-before.Syncs)/float64(b.N), "fsyncs/op")
	}
}

// One operator asks to pair new nodes back to back.
func BenchmarkGatewayRequest(b *testing.B) {
	g := startInProcess(b, 0, 0)
	op := g.operator(b)
	ctx := context.Background()
	before := g.st.Stats()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := request(ctx, op, nodeID(), i); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	g.reportCommits(b, before)
}

// Sixteen operators ask at once: the store's group commit should let them
// share write rounds (see ops/commit).
func BenchmarkGatewayRequest16Clients(b *testing.B) {
	g := startInProcess(b, 0, 0)
	ops := make([]*client.Client, 16)
	for i := range ops {
		ops[i] = g.operator(b)
	}
	ctx := context.Background()
	before := g.st.Stats()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, len(ops))
	for k, op := range ops {
		share := b.N / len(ops)
		if k < b.N%len(ops) {
			share++
		}
		wg.Go(func() {
			for i := range share {
				if _, _, err := request(ctx, op, nodeID(), k<<20|i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	g.reportCommits(b, before)
}

// Approving one request with 1,000 nodes paired: paired.json is rewritten.
func BenchmarkGatewayApprove1kPaired(b *testing.B) {
	g := startInProcess(b, 1000, 0)
	op := g.operator(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_, res, err := request(ctx, op, nodeID(), i)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := approve(ctx, op, res.Request.RequestID); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkList(b *testing.B, paired, pending int) {
	g := startInProcess(b, paired, pending)
	ctx := context.Background()
	raw, err := dialRaw(ctx, g.url, g.token)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.close()
	_, frame, err := raw.list(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := checkList(frame, pending, paired); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := raw.list(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGatewayList2kPending(b *testing.B) { benchmarkList(b, 0, 2000) }
func BenchmarkGatewayList10kPaired(b *testing.B) { benchmarkList(b, 10000, 0) }

// One request, delivered to 50 connected consoles; p50/p99 are over every
// delivery.
func BenchmarkGatewayFanout50(b *testing.B) {
	g := startInProcess(b, 0, 0)
	ctx := context.Background()
	rig, err := newFanoutRig(ctx, g.url, g.token, 50)
	if err != nil {
		b.Fatal(err)
	}
	defer rig.close()
	var ft fanoutTimes
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rig.once(ctx, &ft); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(ft.all.p50(), "p50-ms")
	b.ReportMetric(ft.all.p99(), "p99-ms")
}

// The console with 10,000 pending requests taking one more (an Update
// with node.pair.requested). The frame itself is the tui package's
// BenchmarkViewPending10k.
func BenchmarkConsoleRequestedEvent10kPending(b *testing.B) {
	f, err := measureConsole(context.Background(), 10000, 0, b.N, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms(f.event.mean()), "ms/event")
}

// An operator's handshake with 10,000 nodes paired (hello-ok carries a
// snapshot with the counts).
func BenchmarkGatewayConnect10kPaired(b *testing.B) {
	g := startInProcess(b, 10000, 0)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := dialOperator(ctx, g.url, g.token)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
}

// The console with 10,000 pending requests applying a fresh list of them
// (it re-lists after every approval and on any missed event).
func BenchmarkConsoleRelist10kPending(b *testing.B) {
	f, err := measureConsole(context.Background(), 10000, 0, 0, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms(f.relist.mean()), "ms/relist")
}

// BenchmarkGatewayFleet16: 16 nodes at a time, each from its own loopback
// address, connecting with its own identity, asking to pair and leaving
// (the fleet figure of `pairdeck bench`), with the gateway in process so a
// profile sees where a node's visit goes.
func BenchmarkGatewayFleet16(b *testing.B) {
	g := startInProcess(b, 0, 0)
	b.ResetTimer()
	perSec, _, err := fleetThroughput(context.Background(), g.url, 16, max(b.N, 16))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(perSec, "nodes/s")
}
