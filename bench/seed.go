package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// seedActor is who the seeded decisions are attributed to in the audit log.
var seedActor = store.Actor{ClientID: "pairdeck-bench", Role: protocol.RoleOperator}

// seedWorkers is how many changes are in flight while seeding: enough for
// the store's group commit to write hundreds of them per fsync round.
const seedWorkers = 512

// nodeID returns a fresh node id shaped like a real one: the hex SHA-256
// of a device key, 64 characters.
func nodeID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// nodeParams is a request as a typical node sends it: name, platform,
// versions, model, address, a capability and a command (so approving it
// needs operator.write, the common case).
func nodeParams(id string, i int) protocol.PairRequestParams {
	return protocol.PairRequestParams{
		NodeID:   id,
		NodeMeta: protocol.NodeMeta{DisplayName: fmt.Sprintf("bench-node-%05d", i), Platform: "linux", Version: "2026.4.12", CoreVersion: "2026.4.12", DeviceFamily: "server", ModelIdentifier: "x86_64", Caps: []string{"system"}, Commands: []string{"system.notify"}, RemoteIP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}}
}

// seedState writes `paired` paired nodes and `pending` pending requests
// into stateDir through the store package itself, before any gateway runs
// there: the files are then in the store's exact on-disk format (paired
// keyed by nodeId with tokenSha256, pending keyed by requestId), and
// concurrent changes share fsync rounds, so 10,000 nodes take about a
// second instead of the minutes 10,000 one-by-one approvals would.
func seedState(ctx context.Context, stateDir string, paired, pending int, ttl time.Duration) error {
	st, err := store.Open(store.Options{StateDir: stateDir, TTL: ttl, MaxPending: paired + pending + 1})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer st.Close()

	// Paired nodes: request, then approve, each in parallel.
	ids := make([]string, paired)
	if err := parallel(ctx, paired, func(i int) error {
		req, _, err := st.Request(ctx, seedActor, nodeParams(nodeID(), i))
		ids[i] = req.RequestID
		return err
	}); err != nil {
		return fmt.Errorf("seed paired requests: %w", err)
	}
	if err := parallel(ctx, paired, func(i int) error {
		_, _, err := st.Approve(ctx, seedActor, ids[i])
		return err
	}); err != nil {
		return fmt.Errorf("seed approvals: %w", err)
	}
	if err := parallel(ctx, pending, func(i int) error {
		_, _, err := st.Request(ctx, seedActor, nodeParams(nodeID(), paired+i))
		return err
	}); err != nil {
		return fmt.Errorf("seed pending requests: %w", err)
	}
	got := st.Stats()
	if got.Paired != paired || got.Pending != pending {
		return fmt.Errorf("seed: store holds %d paired and %d pending, want %d and %d", got.Paired, got.Pending, paired, pending)
	}
	return st.Close()
}

// parallel runs f(0…n-1) on seedWorkers goroutines and returns the first
// error.
func parallel(ctx context.Context, n int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range min(seedWorkers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
