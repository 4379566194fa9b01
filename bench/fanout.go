package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// fanoutTimes are one fan-out run's delivery times: every delivery, the
// first of each round (which includes the request's durable commit) and
// each round's spread from first to last console.
type fanoutTimes struct {
	all, first, spread samples
}

// fanoutRig is `consoles` connected operators watching for
// node.pair.requested, and one more operator that makes the requests.
type fanoutRig struct {
	consoles  int
	subs      []*client.Client
	requester *client.Client
	sent      sync.Map // nodeId → time.Time the request was sent
	got       chan delivery
	stop      chan struct{}
	readers   sync.WaitGroup
	round     int
}

type delivery struct {
	node string
	took time.Duration
}

func newFanoutRig(ctx context.Context, url, token string, consoles int) (*fanoutRig, error) {
	subs, err := dialOperators(ctx, url, token, consoles)
	if err != nil {
		return nil, err
	}
	requester, err := dialOperator(ctx, url, token)
	if err != nil {
		closeAll(subs)
		return nil, err
	}
	r := &fanoutRig{consoles: consoles, subs: subs, requester: requester,
		got: make(chan delivery, consoles*4), stop: make(chan struct{})}
	for _, s := range subs {
		r.readers.Go(func() { r.read(s) })
	}
	return r, nil
}

// read timestamps each node.pair.requested as the console's client hands
// it over.
func (r *fanoutRig) read(s *client.Client) {
	for u := range s.Updates() {
		if u.Event == nil || u.Event.Event != protocol.EventPairRequested {
			continue
		}
		at := time.Now()
		var p struct {
			NodeID string `json:"nodeId"`
		}
		if json.Unmarshal(u.Event.Payload, &p) != nil {
			continue
		}
		if t0, ok := r.sent.Load(p.NodeID); ok {
			select {
			case r.got <- delivery{node: p.NodeID, took: at.Sub(t0.(time.Time))}:
			case <-r.stop:
			}
		}
	}
}

// once makes one request and waits for every console's copy.
func (r *fanoutRig) once(ctx context.Context, ft *fanoutTimes) error {
	r.round++
	id := nodeID()
	r.sent.Store(id, time.Now())
	if _, _, err := request(ctx, r.requester, id, r.round); err != nil {
		return err
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	var first, last time.Duration
	for k := 0; k < r.consoles; {
		select {
		case d := <-r.got:
			if d.node != id {
				continue // rounds do not overlap; never miscount if one did
			}
			ft.all = append(ft.all, d.took)
			if k == 0 || d.took < first {
				first = d.took
			}
			last = max(last, d.took)
			k++
		case <-timeout.C:
			return fmt.Errorf("fan-out: only %d of %d consoles got request %d within 10s", k, r.consoles, r.round)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ft.first = append(ft.first, first)
	ft.spread = append(ft.spread, last-first)
	return nil
}

func (r *fanoutRig) close() {
	close(r.stop)
	r.requester.Close()
	closeAll(r.subs) // Updates closes, so the readers end
	r.readers.Wait()
}

// measureFanout connects `consoles` operators, then asks to pair `reps`
// new nodes one at a time from another operator. Each delivery's latency
// runs from just before the request is sent until that console's client
// hands the node.pair.requested event to its reader; the next request
// waits for every console's copy.
func measureFanout(ctx context.Context, url, token string, consoles, reps int) (fanoutTimes, error) {
	var ft fanoutTimes
	rig, err := newFanoutRig(ctx, url, token, consoles)
	if err != nil {
		return ft, err
	}
	defer rig.close()
	for range reps {
		if err := rig.once(ctx, &ft); err != nil {
			return ft, err
		}
	}
	return ft, nil
}
