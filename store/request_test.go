package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestRequestCreatesPendingWithScopesAndExpiry(t *testing.T) {
	s, clk := openTest(t)
	req, created, err := s.Request(ctx, node, RequestInput{NodeID: "n3", NodeMeta: protocol.NodeMeta{DisplayName: "Cmd Node", Platform: "linux", Caps: []string{"system"}, Commands: []string{"system.run", "system.notify"}}, Silent: ptr(true)})
	if err != nil || !created {
		t.Fatalf("request: created=%v err=%v", created, err)
	}
	if req.RequestID == "" || req.NodeID != "n3" || !req.Silent || req.IsRepair || req.TS != clk.Ms() {
		t.Fatalf("unexpected request %+v", req)
	}
	if req.ExpiresAtMs != clk.Ms()+DefaultTTL.Milliseconds() {
		t.Errorf("expiresAtMs = %d, want ts+5min", req.ExpiresAtMs)
	}
	if want := []string{"operator.pairing", "operator.admin"}; !slices.Equal(req.RequiredApproveScopes, want) {
		t.Errorf("requiredApproveScopes = %v, want %v", req.RequiredApproveScopes, want)
	}
	got, ok := s.PendingByID(req.RequestID)
	if !ok || got.DisplayName != "Cmd Node" {
		t.Fatalf("PendingByID = %+v, %v", got, ok)
	}
	if got, ok := s.PendingForNode("n3"); !ok || got.RequestID != req.RequestID {
		t.Fatalf("PendingForNode = %+v, %v", got, ok)
	}
}

func TestRequestRefreshKeepsIDReplacesSuppliedFieldsAndRestartsWindow(t *testing.T) {
	s, clk := openTest(t)
	first := mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Test", Platform: "linux", Version: "1.0", Caps: []string{"camera"}}, Silent: ptr(true)})

	clk.Add(2 * time.Minute)
	again, created, err := s.Request(ctx, node, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Test 2", Version: "1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if created {
		t.Error("a repeat request must report created=false")
	}
	if again.RequestID != first.RequestID {
		t.Errorf("requestId changed on refresh: %s -> %s", first.RequestID, again.RequestID)
	}
	if again.DisplayName != "Test 2" || again.Version != "1.1" {
		t.Errorf("supplied fields not replaced: %+v", again)
	}
	if again.Platform != "linux" || !slices.Equal(again.Caps, []string{"camera"}) {
		t.Errorf("fields not supplied were not kept: %+v", again)
	}
	if !again.Silent {
		t.Error("silent not supplied (nil) must keep the previous value")
	}
	if again.TS != clk.Ms() || again.ExpiresAtMs != clk.Ms()+DefaultTTL.Milliseconds() {
		t.Errorf("window not restarted: ts=%d expires=%d now=%d", again.TS, again.ExpiresAtMs, clk.Ms())
	}
	// The old deadline has passed but the refreshed request lives on.
	clk.Add(4 * time.Minute)
	if _, ok := s.PendingByID(first.RequestID); !ok {
		t.Error("refreshed request expired on its old deadline")
	}
	if n := len(s.Pending()); n != 1 {
		t.Errorf("one node, %d pending requests", n)
	}
}

func TestRequestSilentIsANDed(t *testing.T) {
	cases := []struct {
		name        string
		first, then *bool
		want        bool
	}{
		{"true then true", ptr(true), ptr(true), true},
		{"true then false", ptr(true), ptr(false), false},
		{"false then true", ptr(false), ptr(true), false},
		{"true then not said", ptr(true), nil, true},
		{"not said then true", nil, ptr(true), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := openTest(t)
			mustRequest(t, s, RequestInput{NodeID: "n", Silent: c.first})
			got := mustRequest(t, s, RequestInput{NodeID: "n", Silent: c.then})
			if got.Silent != c.want {
				t.Errorf("silent = %v, want %v", got.Silent, c.want)
			}
		})
	}
}

func TestRequestEmptyListClearsAndCallerSlicesAreNotShared(t *testing.T) {
	s, _ := openTest(t)
	caps := []string{"camera", "screen"}
	req := mustRequest(t, s, RequestInput{NodeID: "n", NodeMeta: protocol.NodeMeta{Caps: caps}})
	caps[0] = "mutated"
	req.Caps[1] = "mutated too"
	got, _ := s.PendingByID(req.RequestID)
	if !slices.Equal(got.Caps, []string{"camera", "screen"}) {
		t.Fatalf("store shares slices with callers: %v", got.Caps)
	}
	got = mustRequest(t, s, RequestInput{NodeID: "n", NodeMeta: protocol.NodeMeta{Caps: []string{}}})
	if len(got.Caps) != 0 {
		t.Fatalf("an explicit empty list must clear caps, got %v", got.Caps)
	}
}

func TestRequestBlankOrOversizedIsInvalid(t *testing.T) {
	s, _ := openTest(t)
	for _, in := range []RequestInput{
		{NodeID: ""},
		{NodeID: "   "},
		{NodeID: "\t\n"},
		{NodeID: "n", NodeMeta: protocol.NodeMeta{DisplayName: strings.Repeat("x", protocol.MaxNameRunes+1)}},
		{NodeID: "n", NodeMeta: protocol.NodeMeta{DisplayName: "bad\x1bname"}},
		{NodeID: "n", NodeMeta: protocol.NodeMeta{Platform: strings.Repeat("p", protocol.MaxFieldLen+1)}},
		{NodeID: "n", NodeMeta: protocol.NodeMeta{Commands: make([]string, protocol.MaxListLen+1)}},
		{NodeID: strings.Repeat("n", protocol.MaxNodeIDLen+1)},
	} {
		if _, _, err := s.Request(ctx, node, in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Request(%.40q...) err = %v, want ErrInvalid", in.NodeID+"|"+in.DisplayName, err)
		}
	}
	if n := len(s.Pending()); n != 0 {
		t.Fatalf("invalid requests left %d pending", n)
	}
	// A name of exactly the limit is fine, and whitespace is trimmed.
	req := mustRequest(t, s, RequestInput{NodeID: "  n  ", NodeMeta: protocol.NodeMeta{DisplayName: " " + strings.Repeat("é", protocol.MaxNameRunes) + " "}})
	if req.NodeID != "n" || req.DisplayName != strings.Repeat("é", protocol.MaxNameRunes) {
		t.Fatalf("not trimmed: %q %q", req.NodeID, req.DisplayName)
	}
}

func TestRequestQueueCap(t *testing.T) {
	s, _ := openTest(t, func(o *Options) { o.MaxPending = 3 })
	for _, id := range []string{"a", "b", "c"} {
		mustRequest(t, s, RequestInput{NodeID: id})
	}
	_, _, err := s.Request(ctx, node, RequestInput{NodeID: "d"})
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("4th request over a cap of 3: err = %v, want ErrQueueFull", err)
	}
	// Refreshing a waiting node is not a new entry and still works.
	if _, created, err := s.Request(ctx, node, RequestInput{NodeID: "a", NodeMeta: protocol.NodeMeta{DisplayName: "A"}}); err != nil || created {
		t.Fatalf("refresh at the cap: created=%v err=%v", created, err)
	}
	// Resolving one makes room.
	if _, err := s.Reject(ctx, operator, s.Pending()[0].RequestID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Request(ctx, node, RequestInput{NodeID: "d"}); err != nil {
		t.Fatalf("after a reject there is room: %v", err)
	}
}

func TestRequestForPairedNodeIsRepairAndOldTokenValidUntilApproval(t *testing.T) {
	s, _ := openTest(t)
	oldToken := pairNode(t, s, "n1")

	repair, created, err := s.Request(ctx, node, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Again"}})
	if err != nil || !created {
		t.Fatalf("repair request: created=%v err=%v", created, err)
	}
	if !repair.IsRepair {
		t.Error("a request from a paired node must carry isRepair")
	}
	if _, ok := s.Verify("n1", oldToken); !ok {
		t.Fatal("the current token must keep working while the repair request waits")
	}
	// Rejecting the repair keeps the old token too.
	if _, err := s.Reject(ctx, operator, repair.RequestID); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Verify("n1", oldToken); !ok {
		t.Fatal("a rejected repair must not revoke the current token")
	}

	repair = mustRequest(t, s, RequestInput{NodeID: "n1"})
	newNode := mustApprove(t, s, repair.RequestID)
	if _, ok := s.Verify("n1", oldToken); ok {
		t.Fatal("the old token must stop verifying once the repair is approved")
	}
	if _, ok := s.Verify("n1", newNode.Token); !ok {
		t.Fatal("the new token does not verify")
	}
	if newNode.Token == oldToken {
		t.Fatal("approval must mint a new token")
	}
}

func TestPendingNewestFirst(t *testing.T) {
	s, clk := openTest(t)
	for _, n := range []string{"a", "b", "c"} {
		mustRequest(t, s, RequestInput{NodeID: n})
		clk.Add(time.Second)
	}
	// Refreshing "a" makes it the newest.
	mustRequest(t, s, RequestInput{NodeID: "a"})
	var got []string
	for _, p := range s.Pending() {
		got = append(got, p.NodeID)
	}
	if want := []string{"a", "c", "b"}; !slices.Equal(got, want) {
		t.Fatalf("pending order %v, want %v", got, want)
	}
	// Equal timestamps: the later request comes first.
	mustRequest(t, s, RequestInput{NodeID: "d"})
	mustRequest(t, s, RequestInput{NodeID: "e"})
	if p := s.Pending(); p[0].NodeID != "e" || p[1].NodeID != "d" {
		t.Fatalf("equal ts order: %s, %s", p[0].NodeID, p[1].NodeID)
	}
}
