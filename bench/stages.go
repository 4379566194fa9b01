package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pairdeck/pairdeck/client"
)

// idleAndRequest measures a fresh gateway's memory and then sequential
// requests from one client.
func (b *runner) idleAndRequest(idle, requests bool) func(context.Context) error {
	return func(ctx context.Context) error {
		return b.withGateway(ctx, "fresh", 0, 0, func(c *child) error {
			if idle {
				if err := settle(ctx, b.opts.settle()); err != nil {
					return err
				}
				rss, err := c.rssMB()
				if err != nil {
					return err
				}
				b.r.add(Figure{Key: "rss_idle_mb", Label: "RSS, idle gateway", Unit: "MB", Value: round(rss, 1), Samples: 1})
			}
			if !requests {
				return nil
			}
			op, err := dialOperator(ctx, c.url, c.token)
			if err != nil {
				return err
			}
			defer op.Close()
			n := b.opts.n(2000)
			lat, err := sequentialRequests(ctx, op, n, 0)
			if err != nil {
				return err
			}
			b.r.add(Figure{Key: "request_p50_ms", Label: "node.pair.request p50, 1 client, sequential (queue 0→" + fmt.Sprint(n) + ")", Unit: "ms", Value: lat.p50(), Samples: n})
			b.r.add(Figure{Key: "request_p99_ms", Label: "node.pair.request p99, 1 client, sequential", Unit: "ms", Value: lat.p99(), Samples: n})
			return nil
		})
	}
}

// sequentialRequests asks to pair n new nodes one after another and
// returns each call's wall time. from numbers the nodes.
func sequentialRequests(ctx context.Context, op *client.Client, n, from int) (samples, error) {
	lat := make(samples, 0, n)
	for i := range n {
		d, _, err := request(ctx, op, nodeID(), from+i)
		if err != nil {
			return nil, err
		}
		lat = append(lat, d)
	}
	return lat, nil
}

func (b *runner) concurrent(ctx context.Context) error {
	err := b.withGateway(ctx, "c16", 0, 0, func(c *child) error {
		cpu := c.cpuTime()
		ops, reqs, err := requestThroughput(ctx, c.url, c.token, 16, b.opts.n(250))
		if err != nil {
			return err
		}
		b.r.add(Figure{Key: "request_ops_per_s_c16", Label: "node.pair.request throughput, 16 operator clients, distinct nodes (queue 0→" + fmt.Sprint(reqs) + ")", Unit: "ops/s", Value: round(ops, 0), Samples: reqs})
		if cpu >= 0 {
			b.r.add(Figure{Key: "request_gateway_cpu_ms_c16", Label: "gateway CPU per request in that run (user+system)", Unit: "ms", Value: round(ms(c.cpuTime()-cpu)/float64(reqs), 3), Samples: reqs})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return b.withGateway(ctx, "fleet", 0, 0, func(c *child) error {
		total := b.opts.n(4000)
		perSec, lat, err := fleetThroughput(ctx, c.url, 16, total)
		if err != nil {
			return err
		}
		b.r.add(Figure{Key: "fleet_nodes_per_s_c16", Label: "nodes connecting and asking to pair, 16 at a time, each from its own address", Unit: "nodes/s", Value: round(perSec, 0), Samples: total})
		b.r.add(Figure{Key: "fleet_request_p50_ms_c16", Label: "node.pair.request p50 from those nodes", Unit: "ms", Value: lat.p50(), Samples: len(lat)})
		return nil
	})
}

// requestThroughput runs `clients` operators, each asking to pair `each`
// new nodes back to back, and returns completed requests per second.
func requestThroughput(ctx context.Context, url, token string, clients, each int) (float64, int, error) {
	ops, err := dialOperators(ctx, url, token, clients)
	if err != nil {
		return 0, 0, err
	}
	defer closeAll(ops)
	var done atomic.Int64
	errs := make([]error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for k, op := range ops {
		wg.Go(func() {
			for i := range each {
				if _, _, err := request(ctx, op, nodeID(), k*each+i); err != nil {
					errs[k] = err
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}
	n := int(done.Load())
	return float64(n) / elapsed.Seconds(), n, nil
}

func (b *runner) fanout(ctx context.Context) error {
	return b.withGateway(ctx, "fanout", 0, 0, func(c *child) error {
		rig, err := newFanoutRig(ctx, c.url, c.token, 50)
		if err != nil {
			return err
		}
		defer rig.close()
		cpu := c.cpuTime()
		rounds := b.opts.n(200)
		var lat fanoutTimes
		for range rounds {
			if err := rig.once(ctx, &lat); err != nil {
				return err
			}
		}
		if cpu >= 0 {
			b.r.add(Figure{Key: "fanout_gateway_cpu_ms_50", Label: "gateway CPU per round: one request, 51 copies of its event (user+system)", Unit: "ms", Value: round(ms(c.cpuTime()-cpu)/float64(rounds), 3), Samples: rounds})
		}
		b.r.add(Figure{Key: "fanout_p50_ms_50", Label: "node.pair.requested send → each of 50 consoles, p50", Unit: "ms", Value: lat.all.p50(), Samples: len(lat.all)})
		b.r.add(Figure{Key: "fanout_p99_ms_50", Label: "node.pair.requested send → each of 50 consoles, p99", Unit: "ms", Value: lat.all.p99(), Samples: len(lat.all)})
		b.r.add(Figure{Key: "fanout_first_p50_ms_50", Label: "send → the first console's copy, p50 (the request's commit)", Unit: "ms", Value: lat.first.p50(), Samples: len(lat.first)})
		b.r.add(Figure{Key: "fanout_first_p99_ms_50", Label: "send → the first console's copy, p99 (the request's commit)", Unit: "ms", Value: lat.first.p99(), Samples: len(lat.first)})
		b.r.add(Figure{Key: "fanout_spread_p99_ms_50", Label: "first → last of the 50 copies, p99 (fan-out itself)", Unit: "ms", Value: lat.spread.p99(), Samples: len(lat.spread)})
		return nil
	})
}

// pairedScale measures the gateway with the small and the large fleet
// paired.
func (b *runner) pairedScale(ctx context.Context) error {
	for _, n := range []int{b.opts.Small, b.opts.Large} {
		if err := b.pairedAt(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (b *runner) pairedAt(ctx context.Context, n int) error {
	sfx := "_" + sizeName(n) + "_paired"
	with := fmt.Sprintf(", %d paired", n)
	b.progress("  %d paired", n)
	return b.withGateway(ctx, "paired-"+sizeName(n), n, 0, func(c *child) error {
		// Memory once loaded, listed once (as a console would on attach)
		// and settled.
		raw, err := dialRaw(ctx, c.url, c.token)
		if err != nil {
			return err
		}
		defer raw.close()
		_, frame, err := raw.list(ctx)
		if err != nil {
			return err
		}
		if err := checkList(frame, 0, n); err != nil {
			return err
		}
		if err := settle(ctx, b.opts.settle()); err != nil {
			return err
		}
		rss, err := c.rssMB()
		if err != nil {
			return err
		}
		b.r.add(Figure{Key: "rss_mb" + sfx, Label: "RSS" + with + ", after one list", Unit: "MB", Value: round(rss, 1), Samples: 1})

		if err := b.measureList(ctx, raw, c, sfx, with, fmt.Sprintf("%d paired", n), len(frame)); err != nil {
			return err
		}
		op, err := dialOperator(ctx, c.url, c.token)
		if err != nil {
			return err
		}
		defer op.Close()

		// Operator connect: the handshake builds hello-ok's snapshot.
		var conn samples
		for range b.opts.n(20) {
			start := time.Now()
			o, err := dialOperator(ctx, c.url, c.token)
			if err != nil {
				return err
			}
			conn = append(conn, time.Since(start))
			o.Close()
		}
		b.r.add(Figure{Key: "connect_p50_ms" + sfx, Label: "operator connect (handshake) p50" + with, Unit: "ms", Value: conn.p50(), Samples: len(conn)})

		// Sequential requests: they must not touch paired.json. The file
		// is held open meanwhile, so its inode cannot be reused by a
		// replacement.
		pairedFile := filepath.Join(c.stateDir, "nodes", "paired.json")
		original, err := os.Open(pairedFile)
		if err != nil {
			return err
		}
		defer original.Close()
		wBefore := c.writtenBytes()
		reqs := b.opts.n(500)
		ids := make([]string, 0, reqs)
		var lat samples
		for i := range reqs {
			d, res, err := request(ctx, op, nodeID(), n+i)
			if err != nil {
				return err
			}
			lat = append(lat, d)
			ids = append(ids, res.Request.RequestID)
		}
		wAfter := c.writtenBytes()
		b.r.add(Figure{Key: "request_p50_ms" + sfx, Label: "node.pair.request p50" + with, Unit: "ms", Value: lat.p50(), Samples: reqs})
		b.r.add(Figure{Key: "request_p99_ms" + sfx, Label: "node.pair.request p99" + with, Unit: "ms", Value: lat.p99(), Samples: reqs})
		if wBefore >= 0 && wAfter >= 0 {
			b.r.add(Figure{Key: "write_kb_per_request" + sfx, Label: "bytes written per request (files and socket)" + with, Unit: "KB", Value: round(float64(wAfter-wBefore)/float64(reqs)/1024, 1), Samples: reqs})
		}
		if replaced, err := replacedSince(original, pairedFile); err != nil {
			return err
		} else if replaced {
			b.r.note("With %d paired, %d requests replaced paired.json: a request must not rewrite it", n, reqs)
		}

		// Approvals: each one adds a paired node, so paired.json is
		// rewritten every time. The queue is cut back first (untimed), so
		// the figure is about the paired fleet, not a long queue.
		approvals := min(b.opts.n(200), len(ids))
		for _, id := range ids[approvals:] {
			if err := reject(ctx, op, id); err != nil {
				return err
			}
		}
		wBefore = c.writtenBytes()
		lat = lat[:0]
		for _, id := range ids[:approvals] {
			d, err := approve(ctx, op, id)
			if err != nil {
				return err
			}
			lat = append(lat, d)
		}
		wAfter = c.writtenBytes()
		b.r.add(Figure{Key: "approve_p50_ms" + sfx, Label: "node.pair.approve p50" + with, Unit: "ms", Value: lat.p50(), Samples: approvals})
		if wBefore >= 0 && wAfter >= 0 {
			b.r.add(Figure{Key: "write_kb_per_approve" + sfx, Label: "bytes written per approve (files and socket)" + with, Unit: "KB", Value: round(float64(wAfter-wBefore)/float64(approvals)/1024, 1), Samples: approvals})
		}

		// Paired nodes connecting with their tokens: each records its
		// lastConnectedAtMs, which must not rewrite paired.json per connect
		// (it is written within 10 s, or with the next write of paired.json:
		// measured after the approvals, so that write falls outside the
		// request figures above).
		nodes, err := pairNodes(ctx, op, b.opts.n(20), n)
		if err != nil {
			return err
		}
		before, err := os.Open(pairedFile)
		if err != nil {
			return err
		}
		defer before.Close()
		cBefore := c.writtenBytes()
		var nconn samples
		for round := range 3 {
			for i, node := range nodes {
				d, err := nodeConnect(ctx, c.url, fleetAddr(round*len(nodes)+i), node)
				if err != nil {
					return err
				}
				nconn = append(nconn, d)
			}
		}
		cAfter := c.writtenBytes()
		b.r.add(Figure{Key: "node_connect_p50_ms" + sfx, Label: "paired node connect with its token (handshake) p50" + with, Unit: "ms", Value: nconn.p50(), Samples: len(nconn)})
		if cBefore >= 0 && cAfter >= 0 {
			b.r.add(Figure{Key: "write_kb_per_node_connect" + sfx, Label: "bytes written per paired node connect (files and socket)" + with, Unit: "KB", Value: round(float64(cAfter-cBefore)/float64(len(nconn))/1024, 1), Samples: len(nconn)})
		}
		if replaced, err := replacedSince(before, pairedFile); err != nil {
			return err
		} else if replaced {
			b.r.note("With %d paired, %d paired node connects replaced paired.json: a connect should not rewrite it", n, len(nconn))
		}

		ops, done, err := requestThroughput(ctx, c.url, c.token, 16, b.opts.n(100))
		if err != nil {
			return err
		}
		b.r.add(Figure{Key: "request_ops_per_s_c16" + sfx, Label: "node.pair.request throughput, 16 clients" + with, Unit: "ops/s", Value: round(ops, 0), Samples: done})

		fl, err := measureFanout(ctx, c.url, c.token, 50, b.opts.n(50))
		if err != nil {
			return err
		}
		b.r.add(Figure{Key: "fanout_p99_ms_50" + sfx, Label: "fan-out to 50 consoles p99" + with, Unit: "ms", Value: fl.all.p99(), Samples: len(fl.all)})

		if hwm, err := c.hwmMB(); err == nil {
			b.r.add(Figure{Key: "rss_peak_mb" + sfx, Label: "RSS peak over the stage" + with, Unit: "MB", Value: round(hwm, 1), Samples: 1})
		}
		return nil
	})
}

// pendingScale measures listing and requesting with the queue at the
// small, headline and large size.
func (b *runner) pendingScale(ctx context.Context) error {
	sizes := []int{b.opts.Small, b.opts.Queue, b.opts.Large}
	seen := map[int]bool{}
	for _, n := range sizes {
		if seen[n] {
			continue
		}
		seen[n] = true
		if err := b.pendingAt(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

func (b *runner) pendingAt(ctx context.Context, n int) error {
	sfx := "_" + sizeName(n) + "_pending"
	with := fmt.Sprintf(", %d pending", n)
	b.progress("  %d pending", n)
	return b.withGateway(ctx, "pending-"+sizeName(n), 0, n, func(c *child) error {
		raw, err := dialRaw(ctx, c.url, c.token)
		if err != nil {
			return err
		}
		defer raw.close()
		_, frame, err := raw.list(ctx)
		if err != nil {
			return err
		}
		if err := checkList(frame, n, 0); err != nil {
			return err
		}
		if err := b.measureList(ctx, raw, c, sfx, with, fmt.Sprintf("%d pending", n), len(frame)); err != nil {
			return err
		}

		op, err := dialOperator(ctx, c.url, c.token)
		if err != nil {
			return err
		}
		defer op.Close()
		reqs := b.opts.n(200)
		wBefore := c.writtenBytes()
		lat, err := sequentialRequests(ctx, op, reqs, n)
		if err != nil {
			return err
		}
		wAfter := c.writtenBytes()
		b.r.add(Figure{Key: "request_p50_ms" + sfx, Label: "node.pair.request p50" + with, Unit: "ms", Value: lat.p50(), Samples: reqs})
		if wBefore >= 0 && wAfter >= 0 {
			b.r.add(Figure{Key: "write_kb_per_request" + sfx, Label: "bytes written per request (files and socket)" + with, Unit: "KB", Value: round(float64(wAfter-wBefore)/float64(reqs)/1024, 1), Samples: reqs})
		}
		return nil
	})
}

// console measures the console's frame and event costs at both sizes.
func (b *runner) console(ctx context.Context) error {
	for _, n := range []int{b.opts.Small, b.opts.Large} {
		b.progress("  console with %d pending", n)
		f, err := measureConsole(ctx, n, b.opts.n(2000), b.opts.n(200), b.opts.n(50))
		if err != nil {
			return err
		}
		sfx := "_" + sizeName(n) + "_pending"
		with := fmt.Sprintf(", %d pending", n)
		b.r.add(Figure{Key: "view_ms" + sfx, Label: "console frame (View, 80×24, true colour)" + with, Unit: "ms", Value: ms(f.frame.mean()), Samples: len(f.frame)})
		b.r.add(Figure{Key: "console_event_ms" + sfx, Label: "console applying one new request (Update)" + with, Unit: "ms", Value: f.event.p50(), Samples: len(f.event)})
		b.r.add(Figure{Key: "console_relist_ms" + sfx, Label: "console applying a re-list of the queue (Update)" + with, Unit: "ms", Value: f.relist.p50(), Samples: len(f.relist)})
	}
	return nil
}

// clientList lists through the client package, which the CLI and the
// remote console use; a list it cannot read is noted, not fatal.
// measureList times node.pair.list on the raw socket (the figure), notes the
// response size, and checks the stock client can read a list that large.
func (b *runner) measureList(ctx context.Context, raw *rawOperator, c *child, sfx, with, what string, size int) error {
	lists := b.opts.n(100)
	var lat samples
	for range lists {
		d, _, err := raw.list(ctx)
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	b.r.add(Figure{Key: "list_p50_ms" + sfx, Label: "node.pair.list p50" + with, Unit: "ms", Value: lat.p50(), Samples: lists})
	b.r.add(Figure{Key: "list_kb" + sfx, Label: "node.pair.list response" + with, Unit: "KB", Value: round(float64(size)/1024, 0), Samples: 1})
	return b.clientList(ctx, c, what, size)
}

func (b *runner) clientList(ctx context.Context, c *child, what string, size int) error {
	op, err := dialOperator(ctx, c.url, c.token)
	if err != nil {
		return err
	}
	defer op.Close()
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := op.List(ctx); err != nil {
		b.r.note("With %s, node.pair.list is %d KB and the client (CLI, remote console) cannot read it: %v", what, size/1024, err)
	}
	return nil
}

// replacedSince reports whether path now names another file than f.
func replacedSince(f *os.File, path string) (bool, error) {
	was, err := f.Stat()
	if err != nil {
		return false, err
	}
	now, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return !os.SameFile(was, now), nil
}
