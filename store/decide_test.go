package store

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestApproveMintsTokenAndPairs(t *testing.T) {
	s, clk := openTest(t)
	req := mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Test", Platform: "linux", Commands: []string{"canvas.show"}, RemoteIP: "10.0.0.5"}})
	clk.Add(time.Second)
	n, got, err := s.Approve(ctx, operator, req.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.Token) != 43 || strings.ContainsAny(n.Token, "+/=") {
		t.Fatalf("token %q is not 43 chars of base64url without padding", n.Token)
	}
	if n.TokenSHA256 != "" {
		t.Error("the approve result must not carry the hash")
	}
	if n.CreatedAtMs != clk.Ms() || n.ApprovedAtMs != clk.Ms() {
		t.Errorf("createdAtMs/approvedAtMs = %d/%d, want %d", n.CreatedAtMs, n.ApprovedAtMs, clk.Ms())
	}
	if n.DisplayName != "Test" || n.Platform != "linux" || n.RemoteIP != "10.0.0.5" || !slices.Equal(n.Commands, []string{"canvas.show"}) {
		t.Errorf("metadata not copied from the request: %+v", n)
	}
	if got.RequestID != req.RequestID || !slices.Equal(got.RequiredApproveScopes, []string{"operator.pairing", "operator.write"}) {
		t.Errorf("returned request %+v", got)
	}
	if _, ok := s.PendingByID(req.RequestID); ok {
		t.Error("approved request still pending")
	}
	v, ok := s.Verify("n1", n.Token)
	if !ok || v.Token != "" || v.TokenSHA256 != "" {
		t.Fatalf("Verify = %+v, %v (must succeed, without secrets)", v, ok)
	}
	for _, bad := range []string{"", "wrong", n.Token[:42], n.Token + "x"} {
		if _, ok := s.Verify("n1", bad); ok {
			t.Errorf("Verify accepted %q", bad)
		}
	}
	if _, ok := s.Verify("nope", n.Token); ok {
		t.Error("Verify accepted an unknown node")
	}
	p := s.Paired()
	if len(p) != 1 || p[0].Token != "" || p[0].TokenSHA256 != "" {
		t.Fatalf("Paired() = %+v: must list the node without secrets", p)
	}
	// On disk: the hash, never the token.
	rec := diskJSON(t, s, pairedFile)["n1"]
	if _, has := rec["token"]; has {
		t.Fatal("paired.json holds a plaintext token")
	}
	if rec["tokenSha256"] == "" || len(rec["tokenSha256"].(string)) != 64 {
		t.Fatalf("paired.json tokenSha256 = %v", rec["tokenSha256"])
	}
}

func TestReapprovalKeepsCreatedAtAndRotatesToken(t *testing.T) {
	s, clk := openTest(t)
	first := mustApprove(t, s, mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{Platform: "linux"}}).RequestID)
	if err := s.MarkConnected(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	connectedAt := clk.Ms()
	clk.Add(time.Hour)
	second := mustApprove(t, s, mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{Version: "2"}}).RequestID)
	if second.CreatedAtMs != first.CreatedAtMs {
		t.Errorf("createdAtMs changed on re-approval: %d -> %d", first.CreatedAtMs, second.CreatedAtMs)
	}
	if second.ApprovedAtMs != clk.Ms() {
		t.Errorf("approvedAtMs = %d, want now", second.ApprovedAtMs)
	}
	if second.Platform != "linux" || second.Version != "2" {
		t.Errorf("descriptive fields: %+v", second)
	}
	if second.LastConnectedAtMs != connectedAt {
		t.Errorf("lastConnectedAtMs lost on re-approval")
	}
	if _, ok := s.Verify("n1", first.Token); ok {
		t.Error("old token still verifies")
	}
}

func TestRenameSurvivesReapproval(t *testing.T) {
	t.Run("renamed while paired", func(t *testing.T) {
		s, clk := openTest(t)
		pairNode(t, s, "n1")
		clk.Add(time.Second)
		if err := s.Rename(ctx, operator, "n1", "  Living Room iPad "); err != nil {
			t.Fatal(err)
		}
		renamedAt := clk.Ms()
		clk.Add(time.Second)
		n := mustApprove(t, s, mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "iPad"}}).RequestID)
		if n.DisplayName != "Living Room iPad" || n.RenamedAtMs != renamedAt {
			t.Fatalf("after re-approval: name %q renamedAtMs %d", n.DisplayName, n.RenamedAtMs)
		}
		if got, _ := s.PairedNode("n1"); got.DisplayName != "Living Room iPad" {
			t.Fatalf("stored name %q", got.DisplayName)
		}
	})
	t.Run("renamed while pending", func(t *testing.T) {
		s, clk := openTest(t)
		req := mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "iPhone"}})
		if err := s.Rename(ctx, operator, "n1", "Kitchen"); err != nil {
			t.Fatal(err)
		}
		// The node's refresh must not undo the operator's choice.
		clk.Add(time.Second)
		if got := mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "iPhone 2"}}); got.DisplayName != "Kitchen" || got.RenamedAtMs == 0 {
			t.Fatalf("refresh replaced the operator's name: %+v", got)
		}
		n := mustApprove(t, s, req.RequestID)
		if n.DisplayName != "Kitchen" || n.RenamedAtMs == 0 {
			t.Fatalf("approved as %q (renamedAtMs %d)", n.DisplayName, n.RenamedAtMs)
		}
		// And it survives the next re-approval too.
		n = mustApprove(t, s, mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "iPhone 3"}}).RequestID)
		if n.DisplayName != "Kitchen" {
			t.Fatalf("second re-approval: %q", n.DisplayName)
		}
	})
	t.Run("not renamed follows the node", func(t *testing.T) {
		s, _ := openTest(t)
		pairNode(t, s, "n1")
		n := mustApprove(t, s, mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "New Name"}}).RequestID)
		if n.DisplayName != "New Name" {
			t.Fatalf("name %q", n.DisplayName)
		}
	})
}

func TestRenameRules(t *testing.T) {
	s, _ := openTest(t)
	if err := s.Rename(ctx, operator, "nope", "X"); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("unknown node: %v", err)
	}
	mustRequest(t, s, RequestInput{NodeID: "n1"})
	for _, bad := range []string{"", "   ", strings.Repeat("x", 129), "a\nb"} {
		if err := s.Rename(ctx, operator, "n1", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Rename(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	if err := s.Rename(ctx, operator, "n1", strings.Repeat("x", 128)); err != nil {
		t.Errorf("128 characters must be allowed: %v", err)
	}
	// Pending and paired are both renamed.
	pairNode(t, s, "n2")
	mustRequest(t, s, RequestInput{NodeID: "n2"})
	if err := s.Rename(ctx, operator, "n2", "Both"); err != nil {
		t.Fatal(err)
	}
	p, _ := s.PendingForNode("n2")
	n, _ := s.PairedNode("n2")
	if p.DisplayName != "Both" || n.DisplayName != "Both" {
		t.Fatalf("pending %q, paired %q", p.DisplayName, n.DisplayName)
	}
}

func TestRemove(t *testing.T) {
	s, _ := openTest(t)
	tok := pairNode(t, s, "n1")
	req := mustRequest(t, s, RequestInput{NodeID: "n1"})
	if err := s.Remove(ctx, operator, "n1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Verify("n1", tok); ok {
		t.Error("removed node's token still verifies")
	}
	if _, ok := s.PendingByID(req.RequestID); ok {
		t.Error("removed node's pending request survived")
	}
	if _, ok := diskJSON(t, s, pairedFile)["n1"]; ok {
		t.Error("removed node still in paired.json")
	}
	if err := s.Remove(ctx, operator, "n1"); !errors.Is(err, ErrUnknownNode) {
		t.Errorf("second remove: %v", err)
	}
	// A node that only waits is rejected, not removed.
	only := mustRequest(t, s, RequestInput{NodeID: "n2"})
	err := s.Remove(ctx, operator, "n2")
	if !errors.Is(err, ErrUnknownNode) || !strings.Contains(err.Error(), only.RequestID) {
		t.Errorf("remove of a pending-only node: %v", err)
	}
	var de *DecisionError
	if _, err := s.Reject(ctx, operator, req.RequestID); !errors.As(err, &de) || de.Decision != decisionRemoved {
		t.Errorf("reject of the removed node's request: %v", err)
	}
}

func TestMarkConnected(t *testing.T) {
	s, clk := openTest(t)
	pairNode(t, s, "n1")
	clk.Add(time.Minute)
	if err := s.MarkConnected(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.PairedNode("n1"); n.LastConnectedAtMs != clk.Ms() {
		t.Fatalf("lastConnectedAtMs = %d, want %d", n.LastConnectedAtMs, clk.Ms())
	}
	s = reopen(t, s, clk) // Close writes it
	if got := diskJSON(t, s, pairedFile)["n1"]["lastConnectedAtMs"]; got != float64(clk.Ms()) {
		t.Fatalf("on disk lastConnectedAtMs = %v", got)
	}
	if err := s.MarkConnected(ctx, "nope"); !errors.Is(err, ErrUnknownNode) {
		t.Fatalf("unknown node: %v", err)
	}
}

func TestPairedNewestApprovalFirst(t *testing.T) {
	s, clk := openTest(t)
	for _, n := range []string{"a", "b", "c"} {
		pairNode(t, s, n)
		clk.Add(time.Second)
	}
	mustApprove(t, s, mustRequest(t, s, RequestInput{NodeID: "a"}).RequestID)
	var got []string
	for _, p := range s.Paired() {
		got = append(got, p.NodeID)
	}
	if want := []string{"a", "c", "b"}; !slices.Equal(got, want) {
		t.Fatalf("paired order %v, want %v", got, want)
	}
}

func TestStaleRequestIDs(t *testing.T) {
	s, clk := openTest(t)
	asDecision := func(t *testing.T, err error) *DecisionError {
		t.Helper()
		de, ok := err.(*DecisionError) // the gateway may type-assert
		if !ok {
			t.Fatalf("err = %T %v, want *DecisionError", err, err)
		}
		return de
	}

	t.Run("unknown", func(t *testing.T) {
		_, _, err := s.Approve(ctx, operator, "does-not-exist")
		de := asDecision(t, err)
		if !errors.Is(err, ErrUnknownRequest) || de.NodeID != "" || de.CurrentRequestID != "" {
			t.Fatalf("%+v", de)
		}
		if _, err := s.Reject(ctx, operator, "does-not-exist"); !errors.Is(err, ErrUnknownRequest) {
			t.Fatalf("reject: %v", err)
		}
	})
	t.Run("already rejected, with the node's current request", func(t *testing.T) {
		old := mustRequest(t, s, RequestInput{NodeID: "n2"})
		if _, err := s.Reject(ctx, operator, old.RequestID); err != nil {
			t.Fatal(err)
		}
		cur := mustRequest(t, s, RequestInput{NodeID: "n2"})
		if cur.RequestID == old.RequestID {
			t.Fatal("a new request after a rejection must get a new id")
		}
		_, err := s.Reject(ctx, operator, old.RequestID)
		de := asDecision(t, err)
		if !errors.Is(err, ErrAlreadyResolved) || de.Decision != "rejected" || de.NodeID != "n2" || de.CurrentRequestID != cur.RequestID {
			t.Fatalf("%+v", de)
		}
		if !strings.Contains(err.Error(), cur.RequestID) {
			t.Errorf("message does not name the current request: %v", err)
		}
		_, _, err = s.Approve(ctx, operator, old.RequestID)
		if de := asDecision(t, err); de.Decision != "rejected" {
			t.Fatalf("approve of a rejected id: %+v", de)
		}
	})
	t.Run("already approved", func(t *testing.T) {
		req := mustRequest(t, s, RequestInput{NodeID: "n3"})
		tok := mustApprove(t, s, req.RequestID).Token
		_, _, err := s.Approve(ctx, operator, req.RequestID)
		de := asDecision(t, err)
		if !errors.Is(err, ErrAlreadyResolved) || de.Decision != "approved" || de.NodeID != "n3" || de.CurrentRequestID != "" {
			t.Fatalf("%+v", de)
		}
		if _, ok := s.Verify("n3", tok); !ok {
			t.Fatal("a failed second approve must not rotate the token")
		}
	})
	t.Run("expired", func(t *testing.T) {
		req := mustRequest(t, s, RequestInput{NodeID: "n4"})
		clk.Add(DefaultTTL)
		if _, err := s.ExpireDue(ctx); err != nil {
			t.Fatal(err)
		}
		cur := mustRequest(t, s, RequestInput{NodeID: "n4"})
		_, _, err := s.Approve(ctx, operator, req.RequestID)
		de := asDecision(t, err)
		if !errors.Is(err, ErrExpired) || de.NodeID != "n4" || de.CurrentRequestID != cur.RequestID {
			t.Fatalf("%+v", de)
		}
	})
	t.Run("memory is bounded", func(t *testing.T) {
		r := newResolvedIDs(3)
		for _, id := range []string{"a", "b", "c", "d"} {
			r.add(id, resolution{decision: "rejected"})
		}
		if _, ok := r.get("a"); ok {
			t.Error("oldest id not forgotten")
		}
		if _, ok := r.get("d"); !ok || len(r.byID) != 3 {
			t.Errorf("newest id missing or size %d", len(r.byID))
		}
	})
}

// A restart must not turn "already approved" into "unknown": decisions are
// recalled from the audit log at Open.
func TestStaleRequestIDsSurviveReopen(t *testing.T) {
	s, clk := openTest(t)
	approved := mustRequest(t, s, RequestInput{NodeID: "n1"})
	if _, _, err := s.Approve(ctx, operator, approved.RequestID); err != nil {
		t.Fatal(err)
	}
	rejected := mustRequest(t, s, RequestInput{NodeID: "n2"})
	if _, err := s.Reject(ctx, operator, rejected.RequestID); err != nil {
		t.Fatal(err)
	}
	expired := mustRequest(t, s, RequestInput{NodeID: "n3"})
	clk.Add(s.TTL())
	if _, err := s.ExpireDue(ctx); err != nil {
		t.Fatal(err)
	}
	current := mustRequest(t, s, RequestInput{NodeID: "n2"})

	s = reopen(t, s, clk)
	for _, c := range []struct {
		id       string
		want     error
		decision string
	}{
		{approved.RequestID, ErrAlreadyResolved, "approved"},
		{rejected.RequestID, ErrAlreadyResolved, "rejected"},
		{expired.RequestID, ErrExpired, ""},
	} {
		_, err := s.Reject(ctx, operator, c.id)
		var de *DecisionError
		if !errors.As(err, &de) || !errors.Is(err, c.want) || (c.decision != "" && de.Decision != c.decision) {
			t.Fatalf("after reopen, %s: %v (want %v %s)", c.id, err, c.want, c.decision)
		}
	}
	_, err := s.Reject(ctx, operator, rejected.RequestID)
	if de := err.(*DecisionError); de.CurrentRequestID != current.RequestID {
		t.Fatalf("current request not named after reopen: %+v", de)
	}
}
