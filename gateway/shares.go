package gateway

import (
	"sync"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// A network's share of the pending queue. The rate limit alone lets each
// address keep about 60 requests alive through one TTL, so a handful of
// addresses could keep a 1,024-request queue full and every other node
// out. pendingShares caps how many nodes of one network prefix may have a
// request of their own waiting at once (Config.MaxPendingPerPrefix), so
// filling the queue takes many networks, and a node that refreshes its
// own request never counts twice. Operators' requests are not counted:
// the address in them is the operator's to choose.
//
// The store is the truth about what is pending: entries are checked
// against it when their network is counted, and dropped once their node
// has no pending request. A request on its way to the store holds its
// place (inflight) until the store has answered.

type shareEntry struct {
	network  string
	inflight int
}

type pendingShares struct {
	max int // <0: no cap

	mu    sync.Mutex
	nodes map[string]*shareEntry     // node id → where its request came from
	byNet map[string]map[string]bool // network → node ids
}

func newPendingShares(max int) *pendingShares {
	return &pendingShares{max: max, nodes: map[string]*shareEntry{}, byNet: map[string]map[string]bool{}}
}

// reserve lets nodeID's own request from network go ahead, or reports
// which other nodes of that network hold its share. isPending says
// whether a node has a pending request now. Call done once the store has
// answered, whatever it answered.
func (s *pendingShares) reserve(nodeID, network string, isPending func(string) bool) (done func(), holders []string, ok bool) {
	if s.max < 0 {
		return func() {}, nil, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.nodes) >= pruneAt {
		for id := range s.nodes {
			s.dropIfIdle(id, isPending)
		}
	}
	members := s.byNet[network]
	if !members[nodeID] {
		for id := range members {
			s.dropIfIdle(id, isPending)
		}
		members = s.byNet[network]
		if len(members) >= s.max {
			for id := range members {
				holders = append(holders, id)
			}
			return nil, holders, false
		}
	}
	e := s.move(nodeID, network)
	e.inflight++
	return func() {
		s.mu.Lock()
		e.inflight--
		s.mu.Unlock()
	}, nil, true
}

// move files nodeID under network, taking it out of the network it was
// counted in before (a node that asks again from elsewhere).
func (s *pendingShares) move(nodeID, network string) *shareEntry {
	e, ok := s.nodes[nodeID]
	if ok && e.network != network {
		s.unlink(nodeID, e.network)
		e.network = network
	}
	if !ok {
		e = &shareEntry{network: network}
		s.nodes[nodeID] = e
	}
	if s.byNet[network] == nil {
		s.byNet[network] = map[string]bool{}
	}
	s.byNet[network][nodeID] = true
	return e
}

func (s *pendingShares) dropIfIdle(nodeID string, isPending func(string) bool) {
	e, ok := s.nodes[nodeID]
	if !ok || e.inflight > 0 || isPending(nodeID) {
		return
	}
	delete(s.nodes, nodeID)
	s.unlink(nodeID, e.network)
}

func (s *pendingShares) unlink(nodeID, network string) {
	delete(s.byNet[network], nodeID)
	if len(s.byNet[network]) == 0 {
		delete(s.byNet, network)
	}
}

// shareFull is the answer to a node whose network holds its full share:
// retry once the first of those requests is decided or expires.
func (g *Gateway) shareFull(network string, holders []string) *protocol.Error {
	wait := g.store.TTL()
	now := g.cfg.Now()
	for _, id := range holders {
		if req, ok := g.store.PendingForNode(id); ok {
			if at, ok := g.decorate(req).ExpiresAt(); ok {
				wait = min(wait, max(at.Sub(now), time.Second))
			}
		}
	}
	e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonQueueFull,
		"%d nodes of network %s are already waiting for a decision, which is this gateway's share for one network; retry in %s, once one of them is decided or expires",
		len(holders), network, humanWait(wait))
	e.Retryable = true
	e.RetryAfterMs = wait.Milliseconds()
	return e
}
