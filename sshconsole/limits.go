package sshconsole

import (
	"net"
	"sync"
	"time"
)

// Defaults for the server's limits (see Config).
const (
	// DefaultMaxSessions is how many consoles may be open over SSH at
	// once: enough for a team, few enough that a stolen key cannot open
	// hundreds of operators on the gateway.
	DefaultMaxSessions = 16
	// DefaultMaxConnections bounds open SSH connections, signed in or
	// not, so a flood of half-open handshakes cannot exhaust the process.
	DefaultMaxConnections = 64
	// DefaultMaxFailures failed sign-ins from one address within
	// DefaultFailureWindow turn that address away until the window ends.
	// A sign-in fails when every key the client offered was refused; a
	// client whose agent offers several keys before the right one has not
	// failed.
	DefaultMaxFailures   = 10
	DefaultFailureWindow = 5 * time.Minute
	// DefaultHandshakeTimeout bounds the SSH handshake and sign-in.
	DefaultHandshakeTimeout = 30 * time.Second
	// DefaultShutdownNotice is how long a console shows that the gateway
	// is shutting down before its session ends.
	DefaultShutdownNotice = time.Second
)

// failures counts failed sign-ins per address (IP, without the port: a
// client gets a new port for every connection).
type failures struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu     sync.Mutex
	byAddr map[string]*failCount
}

type failCount struct {
	n     int
	since time.Time // the first failure of this window
}

// pruneFailuresAt is the count of tracked addresses above which those
// whose window has passed are forgotten, so a scan from many addresses
// cannot grow the map without bound.
const pruneFailuresAt = 4096

func newFailures(max int, window time.Duration, now func() time.Time) *failures {
	return &failures{max: max, window: window, now: now, byAddr: make(map[string]*failCount)}
}

// blocked says whether addr is turned away now, and until when.
func (f *failures) blocked(addr net.Addr) (bool, time.Time) {
	ip := hostOf(addr)
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.byAddr[ip]
	if !ok {
		return false, time.Time{}
	}
	until := c.since.Add(f.window)
	if !f.now().Before(until) {
		delete(f.byAddr, ip)
		return false, time.Time{}
	}
	return c.n >= f.max, until
}

// fail records a failed sign-in from addr and says whether that address is
// now turned away.
func (f *failures) fail(addr net.Addr) bool {
	ip := hostOf(addr)
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.byAddr[ip]
	if !ok || !now.Before(c.since.Add(f.window)) {
		if len(f.byAddr) >= pruneFailuresAt {
			f.prune(now)
		}
		c = &failCount{since: now}
		f.byAddr[ip] = c
	}
	c.n++
	return c.n >= f.max
}

func (f *failures) prune(now time.Time) {
	for ip, c := range f.byAddr {
		if !now.Before(c.since.Add(f.window)) {
			delete(f.byAddr, ip)
		}
	}
}

func hostOf(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	if tcp, ok := addr.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}
