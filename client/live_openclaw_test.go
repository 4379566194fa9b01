package client

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// What the protocol-4 work must leave as it was against pairdeck's own
// gateway, checked against the real one.

func TestLiveNegotiationWithPairdeck(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, false)
	h := op.Hello()
	if h.Protocol != protocol.Version || op.Model() != ModelNodePairing {
		t.Errorf("protocol %d model %v, want pairdeck's %d and node pairing", h.Protocol, op.Model(), protocol.Version)
	}
	for _, cp := range []Capability{CapRenamePending, CapVerify, CapBlockList, CapPairingSwitch, CapAutoApprove, CapRemove} {
		if err := op.Supports(cp); err != nil {
			t.Errorf("pairdeck's gateway offers %s: %v", cp, err)
		}
	}
	if err := op.Supports(CapDeviceRename); err == nil {
		t.Errorf("pairdeck's gateway has no device.pair.rename")
	}
	if !slices.Equal(op.GrantedScopes(), protocol.AllOperatorScopes) {
		t.Errorf("granted %v", op.GrantedScopes())
	}
	// pairdeck's queue keeps its own bytes: no kind, its own expiry.
	pending, _ := pairInBackground(testCtx(t), Config{URL: g.URL, Identity: mustIdentity(t)},
		protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "Live"}})
	p := waitPending(t, pending)
	if p.Kind != protocol.KindNode || p.ExpiresAt.IsZero() {
		t.Errorf("pending = %+v", p)
	}
	list, err := op.List(testCtx(t))
	if err != nil || len(list.Pending) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if r := list.Pending[0]; r.Kind != "" || r.ExpiresAtMs != r.TS+protocol.DefaultTTL.Milliseconds() || r.Extra != nil {
		t.Errorf("pending = %+v, want pairdeck's record as sent", r)
	}
	ap, err := op.Approve(testCtx(t), p.RequestID)
	if err != nil || ap.Node.Token == "" || ap.NoToken != "" || ap.Kind != "" {
		t.Errorf("approve = %+v, %v, want pairdeck's token", ap, err)
	}
}

// A node whose pairing request is rate-limited is told so, with the
// gateway's wait, and waits for it rather than failing; it is never told it
// lacks a token.
func TestLiveNodeRateLimitSaysSo(t *testing.T) {
	g := startGateway(t, func(_ *store.Options, c *gateway.Config) {
		c.RequestRate = gateway.Rate{Burst: 1, Every: time.Hour}
	})
	first, _ := pairInBackground(testCtx(t), Config{URL: g.URL, Identity: mustIdentity(t)}, protocol.PairRequestParams{})
	waitPending(t, first)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	_, err := Pair(ctx, Config{URL: g.URL, Identity: mustIdentity(t), Backoff: fastBackoff}, protocol.PairRequestParams{})
	var rl *RateLimitedError
	if !errors.As(err, &rl) || !strings.Contains(err.Error(), "rate-limiting pairing requests") || rl.RetryAfter < 59*time.Minute {
		t.Fatalf("err = %v, want a rate limit with the gateway's wait", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v: want it to have waited until its deadline", err)
	}
	if strings.Contains(err.Error(), "token this node does not have") || errors.Is(err, ErrNotPaired) {
		t.Errorf("err = %v: a rate limit is not a missing token", err)
	}
}
