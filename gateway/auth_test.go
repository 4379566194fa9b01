package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Someone guessing tokens from the operator's own machine never keeps the
// operator, a console or a paired node on that machine out: tokens are
// compared first, and only failures are counted and slowed down.
func TestWrongTokensNeverLockOutTheRightOne(t *testing.T) {
	const delay = 400 * time.Millisecond
	h := newHarness(t, func(o *harnessOpts) {
		o.cfg.FailedAuthRate = Rate{Burst: 2, Every: time.Hour}
		o.cfg.FailedAuthDelay = delay
	})
	op := h.operator()
	id := newIdentity(t, "node")
	r := op.request(protocol.PairRequestParams{NodeID: id.nodeID()})
	var appr protocol.ApproveResult
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, &appr)

	guess := func() (*protocol.Error, time.Duration) {
		w := h.dial()
		start := time.Now()
		res := w.connect(w.connectParams(nil, h.now(), connectOpts{token: "guess"}))
		took := time.Since(start)
		return w.refusedWith(t, res), took
	}
	// The budget: answered at once.
	for range 2 {
		if e, _ := guess(); e.Reason() != protocol.ReasonTokenInvalid {
			t.Fatalf("wrong token within the budget: %+v", e)
		}
	}
	// Beyond it a wrong token is still told it is wrong, only later.
	e, took := guess()
	if e.Reason() != protocol.ReasonTokenInvalid || took < delay {
		t.Fatalf("wrong token beyond the budget: %+v after %s, want TOKEN_INVALID after at least %s", e, took, delay)
	}

	// While guesses keep arriving, the right credentials get in.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				w := h.dial()
				w.connect(w.connectParams(nil, h.now(), connectOpts{token: "guess"}))
				w.c.CloseNow()
			}
		})
	}
	for range 3 {
		h.operator().ok(protocol.MethodPairList, nil, nil)
		h.node(id, appr.Node.Token)
	}
	close(stop)
	wg.Wait()

	// A node with a wrong token is told to pair again (not to retry).
	w := h.dial()
	ne := w.refusedWith(t, w.connect(w.connectParams(&id, h.now(), connectOpts{role: protocol.RoleNode, token: appr.Node.Token + "x"})))
	if ne.Code != protocol.CodeNotPaired || ne.Reason() != protocol.ReasonTokenInvalid || ne.Retryable {
		t.Fatalf("wrong node token: %+v", ne)
	}
}

// A guesser costs one audit line per client and flush, not one durable
// write per guess.
func TestRefusedTokensAreAuditedAggregated(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.FailedAuthDelay = -1 })
	op := h.operator()
	id := newIdentity(t, "node")
	r := op.request(protocol.PairRequestParams{NodeID: id.nodeID()})
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, nil)
	before := strings.Count(readAudit(t, h), "\n")

	const guesses = 30
	for i := range guesses {
		w := h.dial()
		w.refusedWith(t, w.connect(w.connectParams(&id, h.now(), connectOpts{role: protocol.RoleNode, token: "guess-" + string(rune('a'+i%26))})))
	}
	if after := strings.Count(readAudit(t, h), "\n"); after != before {
		t.Fatalf("%d audit lines written while refusing, want none until the flush", after-before)
	}
	h.g.flushTokenAudit(context.Background())
	var lines []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(readAudit(t, h)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if m["action"] == "token-refused" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("%d token-refused lines, want 1: %v", len(lines), lines)
	}
	l := lines[0]
	if l["nodeId"] != id.nodeID() || l["attempts"] != float64(guesses) || l["network"] != "127.0.0.1" || l["firstTs"] == nil || l["lastTs"] == nil {
		t.Fatalf("aggregated line: %v", l)
	}
}

// A RATE_LIMITED answer says how long to wait, in words and as
// retryAfterMs, and is retryable.
func TestRateLimitCarriesARetryHint(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, func(o *harnessOpts) {
		o.clock = clock
		o.cfg.RequestRate = Rate{Burst: 1, Every: 30 * time.Second}
	})
	n := h.node(newIdentity(t, "node"), "")
	n.ok(protocol.MethodPairRequest, nil, nil)
	e := n.fails(protocol.MethodPairRequest, nil, protocol.CodeUnavailable, protocol.ReasonRateLimited)
	if wait, ok := e.RetryAfter(); !ok || !e.Retryable || wait != 30*time.Second || !strings.Contains(e.Message, "retry in 30s") {
		t.Fatalf("rate limit answer: %+v", e)
	}
	clock.Advance(20 * time.Second)
	e = n.fails(protocol.MethodPairRequest, nil, protocol.CodeUnavailable, protocol.ReasonRateLimited)
	if wait, _ := e.RetryAfter(); wait != 10*time.Second {
		t.Fatalf("retry hint after 20s: %+v", e)
	}
	clock.Advance(10 * time.Second)
	n.ok(protocol.MethodPairRequest, nil, nil)
}
