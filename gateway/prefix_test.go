package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestPrefixKeys(t *testing.T) {
	for _, c := range []struct {
		ip     string
		v4, v6 int
		want   string
	}{
		{"203.0.113.7", 32, 64, "203.0.113.7"},
		{"203.0.113.7", 24, 64, "203.0.113.0/24"},
		{"::ffff:203.0.113.7", 24, 64, "203.0.113.0/24"},
		{"2001:db8:1:2:aaaa::1", 32, 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:bbbb::9", 32, 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", 32, 64, "2001:db8:1:3::/64"},
		{"2001:db8:1:3::1", 32, 48, "2001:db8:1::/48"},
		{"2001:db8::1", 32, 128, "2001:db8::1"},
		{"fe80::1%eth0", 32, 64, "fe80::/64"},
		{"::1", 32, 64, "::/64"},
		{"not-an-ip", 32, 64, "not-an-ip"},
	} {
		if got := prefixKeyOf(c.ip, c.v4, c.v6); got != c.want {
			t.Errorf("prefixKeyOf(%q, /%d, /%d) = %q, want %q", c.ip, c.v4, c.v6, got, c.want)
		}
	}
}

// Addresses of one network share its budgets: with a /8 for IPv4,
// 127.0.0.2 finds the budget 127.0.0.1 spent; with the default /32 it has
// its own.
func TestRequestAndAuthLimitsArePerNetwork(t *testing.T) {
	const delay = 300 * time.Millisecond
	wide := newHarness(t, func(o *harnessOpts) {
		o.cfg.IPv4Prefix = 8
		o.cfg.RequestRate = Rate{Burst: 2, Every: time.Hour}
		o.cfg.FailedAuthRate = Rate{Burst: 1, Every: time.Hour}
		o.cfg.FailedAuthDelay = delay
	})
	a := wide.node(newIdentity(t, "a"), "", from("127.0.0.1"))
	a.ok(protocol.MethodPairRequest, nil, nil)
	a.ok(protocol.MethodPairRequest, nil, nil)
	b := wide.node(newIdentity(t, "b"), "", from("127.0.0.2"))
	e := b.fails(protocol.MethodPairRequest, nil, protocol.CodeUnavailable, protocol.ReasonRateLimited)
	if !strings.Contains(e.Message, "127.0.0.2 (network 127.0.0.0/8)") {
		t.Fatalf("the limit should name the network: %q", e.Message)
	}

	guess := func(h *harness, ip string) time.Duration {
		w := h.dial(from(ip))
		start := time.Now()
		res := w.connect(w.connectParams(nil, h.now(), connectOpts{token: "guess"}))
		took := time.Since(start)
		if e := w.refusedWith(t, res); e.Reason() != protocol.ReasonTokenInvalid {
			t.Fatalf("guess from %s: %+v", ip, e)
		}
		return took
	}
	guess(wide, "127.0.0.1")
	if took := guess(wide, "127.0.0.3"); took < delay {
		t.Fatalf("a second network address got a fresh failure budget (answered after %s)", took)
	}

	narrow := newHarness(t, func(o *harnessOpts) {
		o.cfg.RequestRate = Rate{Burst: 2, Every: time.Hour}
	})
	a = narrow.node(newIdentity(t, "a"), "", from("127.0.0.1"))
	a.ok(protocol.MethodPairRequest, nil, nil)
	a.ok(protocol.MethodPairRequest, nil, nil)
	a.fails(protocol.MethodPairRequest, nil, protocol.CodeUnavailable, protocol.ReasonRateLimited)
	narrow.node(newIdentity(t, "b"), "", from("127.0.0.2")).ok(protocol.MethodPairRequest, nil, nil)
}

// One network's nodes hold at most their share of the queue; a refresh
// never counts twice, a decided request frees its place, and operators'
// requests are not counted.
func TestPendingShareOfANetwork(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, noRateLimit, func(o *harnessOpts) {
		o.clock = clock
		o.cfg.MaxPendingPerPrefix = 3
	})
	op := h.operator()
	var nodes []*wsClient
	var ids []identity
	for i := range 4 {
		id := newIdentity(t, "node")
		ids = append(ids, id)
		nodes = append(nodes, h.node(id, "", from("127.0.0.1")))
		if i < 3 {
			nodes[i].ok(protocol.MethodPairRequest, nil, nil)
			clock.Advance(time.Minute)
		}
	}
	e := nodes[3].fails(protocol.MethodPairRequest, nil, protocol.CodeUnavailable, protocol.ReasonQueueFull)
	// The first of the three expires 5 minutes after it was made, 2 from now.
	if wait, ok := e.RetryAfter(); !ok || !e.Retryable || wait != 2*time.Minute || !strings.Contains(e.Message, "127.0.0.1") {
		t.Fatalf("share refusal: %+v", e)
	}
	// Refreshing one's own request is not a new place.
	var refreshed protocol.PairRequestResult
	nodes[1].ok(protocol.MethodPairRequest, nil, &refreshed)
	if refreshed.Created {
		t.Fatalf("refresh created a request")
	}
	// Another network has its own share; operators are not counted.
	h.node(newIdentity(t, "elsewhere"), "", from("127.0.0.2")).ok(protocol.MethodPairRequest, nil, nil)
	for _, n := range []string{"op-1", "op-2", "op-3"} {
		op.request(protocol.PairRequestParams{NodeID: n, NodeMeta: protocol.NodeMeta{RemoteIP: "127.0.0.1"}})
	}
	// A decision frees a place.
	pending, ok := h.st.PendingForNode(ids[0].nodeID())
	if !ok {
		t.Fatal("node 0 has no pending request")
	}
	op.ok(protocol.MethodPairReject, protocol.RequestIDParams{RequestID: pending.RequestID}, nil)
	nodes[3].ok(protocol.MethodPairRequest, nil, nil)
	nodes[0].fails(protocol.MethodPairRequest, nil, protocol.CodeUnavailable, protocol.ReasonQueueFull)
}
