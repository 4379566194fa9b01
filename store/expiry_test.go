package store

import (
	"errors"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestExpiryBoundary(t *testing.T) {
	s, clk := openTest(t, func(o *Options) { o.TTL = time.Minute })
	req := mustRequest(t, s, RequestInput{NodeID: "n1"})
	deadline := time.UnixMilli(req.TS).Add(time.Minute)

	if at, ok := s.NextExpiry(); !ok || !at.Equal(deadline) {
		t.Fatalf("NextExpiry = %v, %v; want %v", at, ok, deadline)
	}
	clk.Add(time.Minute - time.Millisecond) // ts+TTL-1ms: still live
	if _, ok := s.PendingByID(req.RequestID); !ok {
		t.Fatal("request expired 1ms early")
	}
	if got, err := s.ExpireDue(ctx); err != nil || len(got) != 0 {
		t.Fatalf("ExpireDue at ts+TTL-1ms = %v, %v", got, err)
	}
	clk.Add(time.Millisecond) // ts+TTL: expired, even before the sweep
	if _, ok := s.PendingByID(req.RequestID); ok {
		t.Fatal("PendingByID returned a request at ts+TTL")
	}
	if _, ok := s.PendingForNode("n1"); ok {
		t.Fatal("PendingForNode returned a request at ts+TTL")
	}
	if p := s.Pending(); len(p) != 0 {
		t.Fatalf("Pending() lists an expired request: %+v", p)
	}
	if _, err := s.Reject(ctx, operator, req.RequestID); !errors.Is(err, ErrExpired) {
		t.Fatalf("reject at ts+TTL: %v", err)
	}
}

func TestExpireDueRemovesDurablyAuditsAndReportsOnce(t *testing.T) {
	s, clk := openTest(t)
	a := mustRequest(t, s, RequestInput{NodeID: "a", NodeMeta: protocol.NodeMeta{DisplayName: "A"}})
	clk.Add(time.Second)
	b := mustRequest(t, s, RequestInput{NodeID: "b"})
	clk.Add(time.Second)
	c := mustRequest(t, s, RequestInput{NodeID: "c"})
	clk.Add(DefaultTTL - time.Second) // a and b due, c has 1s left

	got, err := s.ExpireDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Request.RequestID != a.RequestID || got[1].Request.RequestID != b.RequestID {
		t.Fatalf("ExpireDue = %+v, want a then b", got)
	}
	if !got[0].At.Equal(time.UnixMilli(a.TS).Add(DefaultTTL)) || got[0].Request.DisplayName != "A" || got[0].Request.ExpiresAtMs == 0 {
		t.Errorf("expiry record %+v", got[0])
	}
	if again, _ := s.ExpireDue(ctx); len(again) != 0 {
		t.Fatalf("expiries reported twice: %+v", again)
	}
	if at, ok := s.NextExpiry(); !ok || !at.Equal(time.UnixMilli(c.TS).Add(DefaultTTL)) {
		t.Fatalf("NextExpiry = %v, %v; want c's deadline", at, ok)
	}
	disk := diskJSON(t, s, pendingFile)
	if _, ok := disk[a.RequestID]; ok || len(disk) != 1 {
		t.Fatalf("pending.json after expiry: %v", disk)
	}
	var expired []string
	for _, l := range auditLines(t, s) {
		if l["action"] == "expired" {
			expired = append(expired, l["requestId"].(string))
			if l["actor"].(map[string]any)["rule"] != "ttl" || l["decision"] != "expired" {
				t.Errorf("expiry line %v", l)
			}
		}
	}
	if len(expired) != 2 {
		t.Fatalf("audit has %d expired lines, want 2", len(expired))
	}
	// Survives a restart.
	s = reopen(t, s, clk)
	if _, ok := s.PendingByID(a.RequestID); ok {
		t.Fatal("expired request back after reopen")
	}
}

// An approve that arrives after the deadline but before the gateway's timer
// sweeps the request fails with ErrExpired, removes the request, and the
// expiry is still handed out by ExpireDue exactly once.
func TestApproveOfUnsweptExpiredRequest(t *testing.T) {
	s, clk := openTest(t)
	req := mustRequest(t, s, RequestInput{NodeID: "n1"})
	clk.Add(DefaultTTL)
	_, _, err := s.Approve(ctx, operator, req.RequestID)
	var de *DecisionError
	if !errors.As(err, &de) || !errors.Is(err, ErrExpired) || de.NodeID != "n1" {
		t.Fatalf("approve after the deadline: %v", err)
	}
	if _, ok := s.PairedNode("n1"); ok {
		t.Fatal("an expired request was approved")
	}
	if _, ok := diskJSON(t, s, pendingFile)[req.RequestID]; ok {
		t.Fatal("the approve did not sweep the expired request from disk")
	}
	at, ok := s.NextExpiry()
	if !ok || at.After(clk.Now()) {
		t.Fatalf("NextExpiry = %v, %v: an unreported expiry must make it due now", at, ok)
	}
	got, err := s.ExpireDue(ctx)
	if err != nil || len(got) != 1 || got[0].Request.RequestID != req.RequestID {
		t.Fatalf("ExpireDue = %+v, %v; want the swept request once", got, err)
	}
	if got, _ := s.ExpireDue(ctx); len(got) != 0 {
		t.Fatalf("reported twice: %+v", got)
	}
	if _, ok := s.NextExpiry(); ok {
		t.Fatal("NextExpiry with nothing pending")
	}
}

// A request from a node whose old request ran out starts a new one.
func TestRequestAfterExpiryIsNew(t *testing.T) {
	s, clk := openTest(t)
	old := mustRequest(t, s, RequestInput{NodeID: "n1", Silent: ptr(false)})
	clk.Add(DefaultTTL)
	req, created, err := s.Request(ctx, node, RequestInput{NodeID: "n1", Silent: ptr(true)})
	if err != nil || !created || req.RequestID == old.RequestID || !req.Silent {
		t.Fatalf("request after expiry: %+v created=%v err=%v", req, created, err)
	}
	if got, _ := s.ExpireDue(ctx); len(got) != 1 || got[0].Request.RequestID != old.RequestID {
		t.Fatalf("old request's expiry not reported: %+v", got)
	}
}

// Requests already expired when the store opens are due at once.
func TestExpiredOnDiskAtOpen(t *testing.T) {
	s, clk := openTest(t)
	req := mustRequest(t, s, RequestInput{NodeID: "n1"})
	s.Close()
	clk.Add(time.Hour)
	s2, err := Open(Options{StateDir: s.stateDir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if len(s2.Pending()) != 0 {
		t.Fatal("stale request listed")
	}
	if at, ok := s2.NextExpiry(); !ok || at.After(clk.Now()) {
		t.Fatalf("NextExpiry = %v, %v", at, ok)
	}
	if got, err := s2.ExpireDue(ctx); err != nil || len(got) != 1 || got[0].Request.RequestID != req.RequestID {
		t.Fatalf("ExpireDue = %+v, %v", got, err)
	}
}
