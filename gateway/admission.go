package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
)

// Connection caps (Serve only; a Handler mounted elsewhere is its server's
// to cap). Every accepted socket holds a file descriptor from the moment it
// is accepted, before anyone knows who is on the other end, so the caps
// work on what is known at each step:
//
//   - In total at most maxConns sockets are open (Config.MaxConns, and
//     never more than the process's file limit minus fdReserve, kept for
//     the state files, the audit log and the on-request command).
//   - Unauthenticated sockets — accepted but not through the handshake, or
//     unpaired nodes — are at most maxUnauth in total (a quarter of the
//     total is kept for operators and paired nodes) and at most
//     maxUnauthPerNet per network prefix.
//   - A newcomer is never turned away to protect an unauthenticated
//     socket: when it would break a cap, the oldest unauthenticated socket
//     of its network (for the per-network cap) or of all (for the others)
//     is closed instead, one that has not finished its handshake before an
//     unpaired node. An operator's or paired node's socket is never closed
//     to make room. So a stranger holding sockets open, even from the
//     operator's own machine, cannot keep the operator out: the operator's
//     connection is the newest and completes its handshake in
//     milliseconds, while the stranger would have to open thousands of
//     sockets in that time to push it out.
//   - Only when every socket is an operator's or a paired node's is a
//     newcomer closed at once. Paired nodes may hold at most maxConns −
//     operatorReserve sockets, so some operators can always connect.
//   - An accept that fails for want of file descriptors (EMFILE, ENFILE)
//     closes the oldest unauthenticated socket to make room, and is logged
//     as a warning (at most one line every 10 s).

const (
	// DefaultMaxConns is the default cap on open sockets.
	DefaultMaxConns = 10000
	// DefaultMaxConnsPerPrefix caps the unauthenticated sockets of one
	// network prefix: enough for a building's worth of devices pairing at
	// once behind one address.
	DefaultMaxConnsPerPrefix = 64
	// fdReserve is the file descriptors kept out of the connection cap for
	// the store, the audit log, policy files, the listener and hooks.
	fdReserve = 64
	// operatorReserve is the sockets paired nodes may never take.
	operatorReserve = 16
)

// slotState is what is known about a socket.
type slotState int

const (
	slotHandshaking slotState = iota // accepted; no connect yet
	slotUnpaired                     // an unpaired node
	slotOperator
	slotPairedNode
	slotEvicted // closed to make room
)

func (s slotState) unauthenticated() bool { return s == slotHandshaking || s == slotUnpaired }

// slot is one accepted socket; Close releases its place.
type slot struct {
	net.Conn
	adm     *admission
	network string

	// Guarded by adm.mu.
	state  slotState
	all    links // in the list of its state, oldest first
	net    links // the same within its network
	linked bool
	closed bool
}

// links place a slot in a doubly linked list without allocating.
type links struct{ prev, next *slot }

// slotList is a list of slots through one of their links (all or net).
type slotList struct {
	head, tail *slot
	net        bool // through the net links
}

func (l *slotList) at(s *slot) *links {
	if l.net {
		return &s.net
	}
	return &s.all
}

func (l *slotList) pushBack(s *slot) {
	*l.at(s) = links{prev: l.tail}
	if l.tail != nil {
		l.at(l.tail).next = s
	} else {
		l.head = s
	}
	l.tail = s
}

func (l *slotList) remove(s *slot) {
	ln := l.at(s)
	if ln.prev != nil {
		l.at(ln.prev).next = ln.next
	} else {
		l.head = ln.next
	}
	if ln.next != nil {
		l.at(ln.next).prev = ln.prev
	} else {
		l.tail = ln.prev
	}
	*ln = links{}
}

// netLists are one network's unauthenticated slots.
type netLists struct {
	lists [2]slotList // handshaking, unpaired
	size  int
}

func (s *slot) Close() error {
	s.adm.release(s)
	return s.Conn.Close()
}

type slotKey struct{}

// slotOf finds the admitted socket a request arrived on; nil when the
// handler is mounted in a server of someone else's.
func slotOf(ctx context.Context) *slot {
	s, _ := ctx.Value(slotKey{}).(*slot)
	return s
}

// admission keeps the counts and the age order of unauthenticated sockets.
type admission struct {
	maxConns, maxUnauth, maxUnauthPerNet int

	mu     sync.Mutex
	total  int
	paired int
	unauth int
	all    [2]slotList          // handshaking, unpaired: oldest first
	byNet  map[string]*netLists // the same per network
}

// newConnCaps works out the caps from cfg and the file limit (0:
// unknown).
func newConnCaps(cfg Config, files int, log *slog.Logger) *admission {
	total := cfg.MaxConns
	if files > 0 && files-fdReserve < total {
		total = max(files-fdReserve, 2*operatorReserve)
		log.Info("connection cap lowered to fit the file limit", "maxConns", total, "fileLimit", files, "asked", cfg.MaxConns)
	}
	unauth := total - max(operatorReserve, total/4)
	return newAdmission(total, unauth, min(cfg.MaxConnsPerPrefix, unauth))
}

func newAdmission(maxConns, maxUnauth, perNet int) *admission {
	return &admission{
		maxConns: maxConns, maxUnauth: maxUnauth, maxUnauthPerNet: perNet,
		byNet: map[string]*netLists{},
	}
}

// admit takes a newly accepted socket, closing older unauthenticated ones
// to make room when a cap requires it. It returns nil when every socket is
// authenticated and the total is reached: close the newcomer.
func (a *admission) admit(c net.Conn, network string) *slot {
	a.mu.Lock()
	var victims []*slot
	if a.total >= a.maxConns {
		v := a.oldestLocked("", nil)
		if v == nil {
			a.mu.Unlock()
			return nil
		}
		victims = append(victims, a.evictLocked(v))
	}
	s := &slot{Conn: c, adm: a, network: network, state: slotHandshaking}
	a.total++
	a.linkLocked(s)
	if a.netSize(network) > a.maxUnauthPerNet {
		if v := a.oldestLocked(network, s); v != nil {
			victims = append(victims, a.evictLocked(v))
		}
	}
	if a.unauth > a.maxUnauth {
		if v := a.oldestLocked("", s); v != nil {
			victims = append(victims, a.evictLocked(v))
		}
	}
	a.mu.Unlock()
	closeAll(victims)
	return s
}

// makeRoom closes the oldest unauthenticated socket, if any (an accept
// failed for want of file descriptors).
func (a *admission) makeRoom() bool {
	a.mu.Lock()
	v := a.oldestLocked("", nil)
	if v != nil {
		a.evictLocked(v)
	}
	a.mu.Unlock()
	if v == nil {
		return false
	}
	closeAll([]*slot{v})
	return true
}

func closeAll(victims []*slot) {
	for _, v := range victims {
		v.Close()
	}
}

// errNodeCap refuses a paired node when paired nodes hold every socket
// but those kept for operators.
var errNodeCap = errors.New("the gateway holds as many node connections as it may")

// settle records what the handshake found out about s. A paired node
// over its share is refused (errNodeCap) and stays unauthenticated until
// it closes.
func (a *admission) settle(s *slot, state slotState) error {
	if s == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.closed || s.state == slotEvicted || !s.state.unauthenticated() {
		return nil
	}
	if state == slotPairedNode && a.paired >= a.maxConns-operatorReserve {
		return errNodeCap
	}
	a.unlinkLocked(s)
	s.state = state
	switch state {
	case slotUnpaired:
		a.linkLocked(s)
	case slotPairedNode:
		a.paired++
	}
	return nil
}

func (a *admission) release(s *slot) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	a.total--
	switch {
	case s.state.unauthenticated():
		a.unlinkLocked(s)
	case s.state == slotPairedNode:
		a.paired--
	}
}

// evictLocked marks v closed-to-make-room and takes it out of the
// unauthenticated lists; the caller closes it after unlocking.
func (a *admission) evictLocked(v *slot) *slot {
	a.unlinkLocked(v)
	v.state = slotEvicted
	return v
}

// oldestLocked is the oldest unauthenticated socket of network ("" for
// any), one still handshaking before an unpaired node, never skip.
func (a *admission) oldestLocked(network string, skip *slot) *slot {
	lists := &a.all
	if network != "" {
		n := a.byNet[network]
		if n == nil {
			return nil
		}
		lists = &n.lists
	}
	for i := range lists {
		l := &lists[i]
		for s := l.head; s != nil; s = l.at(s).next {
			if s != skip {
				return s
			}
		}
	}
	return nil
}

// netSize is how many unauthenticated sockets network has.
func (a *admission) netSize(network string) int {
	if n := a.byNet[network]; n != nil {
		return n.size
	}
	return 0
}

func listIndex(s *slot) int {
	if s.state == slotUnpaired {
		return 1
	}
	return 0
}

func (a *admission) linkLocked(s *slot) {
	n := a.byNet[s.network]
	if n == nil {
		n = &netLists{lists: [2]slotList{{net: true}, {net: true}}}
		a.byNet[s.network] = n
	}
	i := listIndex(s)
	a.all[i].pushBack(s)
	n.lists[i].pushBack(s)
	n.size++
	a.unauth++
	s.linked = true
}

func (a *admission) unlinkLocked(s *slot) {
	if !s.linked {
		return
	}
	i := listIndex(s)
	a.all[i].remove(s)
	n := a.byNet[s.network]
	n.lists[i].remove(s)
	s.linked = false
	a.unauth--
	if n.size--; n.size == 0 {
		delete(a.byNet, s.network)
	}
}

// counts reports the sockets by kind, for logs and tests.
func (a *admission) counts() (total, unauth, paired int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total, a.unauth, a.paired
}

// admittingListener applies the caps to every accepted socket.
type admittingListener struct {
	net.Listener
	g   *Gateway
	adm *admission
}

func (l *admittingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				freed := l.adm.makeRoom()
				total, unauth, _ := l.adm.counts()
				l.g.throttledLog.warn("accept", "cannot accept a connection: out of file descriptors (raise the file limit, ulimit -n, or lower --max-conns)",
					"err", err, "connections", total, "unauthenticated", unauth, "closedOldestUnauthenticated", freed)
			}
			return nil, err // http.Server retries after a pause
		}
		network := l.g.prefixKey(hostOf(c.RemoteAddr().String()))
		if s := l.adm.admit(c, network); s != nil {
			return s, nil
		}
		total, _, _ := l.adm.counts()
		l.g.throttledLog.warn("connection-cap", "refused a connection: every socket is an operator's or a paired node's and the cap is reached (raise --max-conns)",
			"addr", c.RemoteAddr().String(), "connections", total)
		c.Close()
	}
}
