package gateway

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// session is who is on the other end of a connection (or of a
// LocalOperator): everything dispatch needs to authorize and attribute a
// call. It is fixed once the handshake is done.
type session struct {
	connID   string
	protocol int      // the version agreed at connect (3 or 4)
	role     string   // protocol.RoleOperator or protocol.RoleNode
	scopes   []string // granted operator scopes; none for nodes
	nodeID   string   // a node's device id
	paired   bool     // a node that proved its token: it counts as connected
	client   protocol.ClientInfo
	caps     []string // from connect, used to fill a node's own request
	commands []string
	remoteIP string // "" for in-process operators
	prefix   string // the network of remoteIP that limits are kept per
	since    time.Time
	actor    store.Actor
	local    bool
	// authMethod is how the connection was let in, as hello-ok's
	// auth.method says it (protocol.AuthMethod*).
	authMethod string
	// issued is a node token handed over in hello-ok (auth.deviceToken),
	// of the approval of request approved.
	issued   string
	approved protocol.PendingRequest
	// permissions are what a node declared at connect.
	permissions protocol.Permissions

	// An unpaired node gets a request filed for it at connect (hostRequest),
	// as OpenClaw's gateways do: their node hosts never ask themselves.
	// filed names that request; fileErr says why none could be filed.
	// asked is set once the node calls node.pair.request itself.
	filed        string
	filedCreated bool // the filing at connect created the request
	fileErr      *protocol.Error
	asked        atomic.Bool
	// asksItself marks pairdeck's own node client, which asks at once
	// with its whole request (silent, setup code): nothing is filed for
	// it at connect.
	asksItself bool
	// bootstrap is a setup code presented at connect (auth.bootstrapToken),
	// kept only until it is redeemed before hello-ok.
	bootstrap string
}

func (s *session) isNode() bool { return s.role == protocol.RoleNode }

// audience selects which sessions receive a broadcast.
type audience int

const (
	toPairing   audience = iota // operators holding operator.pairing
	toReaders                   // operators holding operator.read
	toOperators                 // every operator
	toEveryone                  // operators and nodes: tick, shutdown
)

func (a audience) includes(s *session) bool {
	switch a {
	case toEveryone:
		return true
	case toOperators:
		return !s.isNode()
	case toPairing:
		return !s.isNode() && protocol.HasScope(s.scopes, protocol.ScopePairing)
	case toReaders:
		return !s.isNode() && protocol.HasScope(s.scopes, protocol.ScopeRead)
	}
	return false
}

// outFrame is one frame waiting in a connection's queue.
type outFrame struct {
	event *protocol.Event
	res   *protocol.Response
	raw   []byte // a response encoded already (a list), sent as is
	// next hands the writer over to a larger queue (growQueue).
	next chan *outFrame
	// written, when set, gets a value once the frame is on the socket; its
	// capacity covers every socket that was offered it, so sends never
	// block the writer.
	written chan struct{}
}

// subscriber is a connection's (or LocalOperator's) bounded queue and its
// seq counter. Offering an event never blocks: if the queue is full the
// event is dropped but seq still advances, so the client sees the gap and
// re-lists.
type subscriber struct {
	sess  *session
	queue chan *outFrame // pointers: an idle socket's queue costs 8 bytes a slot

	mu      sync.Mutex
	seq     uint64
	dropped uint64
	gone    bool // no more frames will be written
	// kick asks the owner to close with a WebSocket status (remove,
	// shutdown); nil for in-process operators.
	kick func(code int, reason string)
	// wake, when set, is called after a frame is queued (the socket's
	// writer runs only while there is something to write).
	wake func()
	// resolved tells an unpaired node's socket that its node's request
	// was decided or expired (unpairedWatch); nil for other sockets. Set
	// before the subscriber joins the fan-out.
	resolved func()
}

func newSubscriber(sess *session, queueLen int) *subscriber {
	return &subscriber{sess: sess, queue: make(chan *outFrame, queueLen)}
}

// offer queues a broadcast event with this subscriber's next seq. It reports
// whether the event was queued.
func (s *subscriber) offer(name string, payload json.RawMessage, written chan struct{}) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return false
	}
	s.seq++
	ev := &protocol.Event{Type: protocol.TypeEvent, Event: name, Payload: payload, Seq: s.seq}
	select {
	case s.queue <- &outFrame{event: ev, written: written}:
		if s.wake != nil {
			s.wake()
		}
		return true
	default:
		s.dropped++
		return false
	}
}

// stop makes later offers fail; frames already queued stay queued.
func (s *subscriber) stop() {
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
}

// fanout is the set of live subscribers, indexed by node id for the events
// and closes that target one node.
type fanout struct {
	mu    sync.RWMutex
	subs  map[*subscriber]struct{}
	nodes map[string]map[*subscriber]struct{}
}

func newFanout() *fanout {
	return &fanout{subs: make(map[*subscriber]struct{}), nodes: make(map[string]map[*subscriber]struct{})}
}

// add registers s and reports whether it is the first paired socket of its
// node (a presence change). greet, when set, queues the subscriber's first
// frame (hello-ok) in the same step: a broadcast holds the lock for
// reading across all its offers, so each event reaches s whole or not at
// all, and none can precede greet's frame.
func (f *fanout) add(s *subscriber, greet func()) (nodeCameOnline bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if greet != nil {
		greet()
	}
	f.subs[s] = struct{}{}
	if !s.sess.isNode() {
		return false
	}
	set := f.nodes[s.sess.nodeID]
	if set == nil {
		set = make(map[*subscriber]struct{})
		f.nodes[s.sess.nodeID] = set
	}
	before := pairedCount(set)
	set[s] = struct{}{}
	return s.sess.paired && before == 0
}

// remove unregisters s and reports whether its node lost its last paired
// socket.
func (f *fanout) remove(s *subscriber) (nodeWentOffline bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[s]; !ok {
		return false
	}
	delete(f.subs, s)
	if !s.sess.isNode() {
		return false
	}
	set := f.nodes[s.sess.nodeID]
	delete(set, s)
	if len(set) == 0 {
		delete(f.nodes, s.sess.nodeID)
	}
	return s.sess.paired && pairedCount(set) == 0
}

func pairedCount(set map[*subscriber]struct{}) int {
	n := 0
	for s := range set {
		if s.sess.paired {
			n++
		}
	}
	return n
}

// broadcast offers one event to every subscriber in aud. The payload is
// encoded once; each subscriber stamps its own seq.
func (f *fanout) broadcast(aud audience, name string, payload any) {
	raw := protocol.MustMarshal(payload)
	f.mu.RLock()
	defer f.mu.RUnlock()
	for s := range f.subs {
		if aud.includes(s.sess) {
			s.offer(name, raw, nil)
		}
	}
}

// toNode offers an event to every socket of nodeID and returns a channel
// that receives once per socket that wrote it, and how many took it.
func (f *fanout) toNode(nodeID, name string, payload any) (written chan struct{}, queued int) {
	raw := protocol.MustMarshal(payload)
	f.mu.RLock()
	defer f.mu.RUnlock()
	set := f.nodes[nodeID]
	written = make(chan struct{}, len(set))
	for s := range set {
		if s.offer(name, raw, written) {
			queued++
		}
	}
	return written, queued
}

// nodeSockets returns the subscribers of nodeID.
func (f *fanout) nodeSockets(nodeID string) []*subscriber {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*subscriber, 0, len(f.nodes[nodeID]))
	for s := range f.nodes[nodeID] {
		out = append(out, s)
	}
	return out
}

// all returns every subscriber.
func (f *fanout) all() []*subscriber {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*subscriber, 0, len(f.subs))
	for s := range f.subs {
		out = append(out, s)
	}
	return out
}

// liveNode is what node.list and the snapshot show of a connected node.
type liveNode struct {
	since    time.Time
	remoteIP string
}

// connected returns the nodes that have at least one paired socket, with
// the time of their oldest one.
func (f *fanout) connected() map[string]liveNode {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make(map[string]liveNode)
	for id, set := range f.nodes {
		for s := range set {
			if !s.sess.paired {
				continue
			}
			cur, ok := out[id]
			if !ok || s.sess.since.Before(cur.since) {
				out[id] = liveNode{since: s.sess.since, remoteIP: s.sess.remoteIP}
			}
		}
	}
	return out
}
