package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// History over the wire is the audit log the store reads: decisions with
// their actor, newest first, paged by cursor, for a reader (operator.read)
// and the in-process operator alike.
func TestHistoryListServesTheAuditLog(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	var ids []string
	for _, name := range []string{"alpha", "bravo", "charlie"} {
		r := op.request(protocol.PairRequestParams{NodeID: "node-" + name, NodeMeta: protocol.NodeMeta{DisplayName: name}})
		ids = append(ids, r.Request.RequestID)
	}
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: ids[0]}, nil)
	op.ok(protocol.MethodPairReject, protocol.RequestIDParams{RequestID: ids[1]}, nil)
	op.ok(protocol.MethodNodeRename, protocol.RenameParams{NodeID: "node-alpha", DisplayName: "Alpha"}, nil)

	reader := h.operator(protocol.ScopeRead)
	var page protocol.HistoryPage
	reader.ok(protocol.MethodHistoryList, protocol.HistoryQuery{}, &page)
	var actions []string
	for _, ev := range page.Events {
		actions = append(actions, ev.Action)
	}
	if got, want := strings.Join(actions, " "), "renamed rejected approved requested requested requested"; got != want {
		t.Fatalf("actions newest first = %q, want %q", got, want)
	}
	approved := page.Events[2]
	if approved.NodeID != "node-alpha" || approved.RequestID != ids[0] || approved.Decision != protocol.DecisionApproved ||
		approved.Actor.ClientID != "test-cli" || approved.Actor.Role != protocol.RoleOperator || approved.Cursor == "" {
		t.Errorf("approved event = %+v", approved)
	}
	if page.Next != "" {
		t.Errorf("a page holding the whole log has next %q", page.Next)
	}

	// Filters and paging: two at a time, one node, one action.
	var first, second protocol.HistoryPage
	reader.ok(protocol.MethodHistoryList, protocol.HistoryQuery{Limit: 2}, &first)
	if len(first.Events) != 2 || first.Next == "" {
		t.Fatalf("first page = %+v", first)
	}
	reader.ok(protocol.MethodHistoryList, protocol.HistoryQuery{Limit: 2, Before: first.Next}, &second)
	if len(second.Events) != 2 || second.Events[0].Action != "approved" || second.Events[0].Cursor == first.Events[1].Cursor {
		t.Errorf("second page = %+v", second)
	}
	var alpha protocol.HistoryPage
	reader.ok(protocol.MethodHistoryList, protocol.HistoryQuery{NodeID: "node-alpha", Actions: []string{"approved", "renamed"}}, &alpha)
	if len(alpha.Events) != 2 || alpha.Events[0].Action != "renamed" || alpha.Events[0].DisplayName != "Alpha" || alpha.Events[1].Action != "approved" {
		t.Errorf("alpha's decisions = %+v", alpha.Events)
	}
	var none protocol.HistoryPage
	reader.ok(protocol.MethodHistoryList, protocol.HistoryQuery{SinceMs: h.now().Add(1e12).UnixMilli()}, &none)
	if none.Events == nil || len(none.Events) != 0 {
		t.Errorf("a query that matches nothing = %+v, want an empty list", none)
	}

	// The in-process operator takes the same path.
	lo := h.g.Local(protocol.Actor{ClientID: "local"})
	defer lo.Close()
	local, err := lo.History(context.Background(), protocol.HistoryQuery{Limit: 3})
	if err != nil || len(local.Events) != 3 || local.Events[0].Cursor != page.Events[0].Cursor {
		t.Errorf("local history = %+v, %v", local, err)
	}
}

// Bad queries are refused before anything is read, naming the field; a
// node may not read history, nor an operator without operator.read.
func TestHistoryListRefusesBadQueries(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	for _, tc := range []struct {
		params any
		field  string
		says   string
	}{
		{map[string]any{"limit": 1001}, "limit", "1 to 1000"},
		{map[string]any{"limit": -1}, "limit", "out of range"},
		{map[string]any{"sinceMs": -5}, "sinceMs", "before 1970"},
		{map[string]any{"before": "nonsense"}, "", "not a cursor"},
		{map[string]any{"before": strings.Repeat("1", 65)}, "before", "not a cursor"},
		{map[string]any{"actions": []string{"approved", "two words"}}, "actions[1]", "not an action"},
		{map[string]any{"actions": make([]string, 33)}, "actions", "at most 32"},
		{map[string]any{"nodeId": "\x1b[31mred"}, "nodeId", ""},
		{map[string]any{"node": "x"}, "", "node"},
		{map[string]any{"limit": "ten"}, "", "limit"},
	} {
		e := op.fails(protocol.MethodHistoryList, tc.params, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)
		if !strings.Contains(e.Message, tc.says) || (tc.field != "" && e.Details.Field != tc.field) {
			t.Errorf("%v: %s (field %q), want %q in field %q", tc.params, e.Message, e.Details.Field, tc.says, tc.field)
		}
	}

	pairer := h.operator(protocol.ScopePairing)
	pairer.fails(protocol.MethodHistoryList, struct{}{}, protocol.CodeInvalidRequest, protocol.ReasonMissingScope)
	node := h.node(newIdentity(t, "node-host"), "")
	node.fails(protocol.MethodHistoryList, struct{}{}, protocol.CodeInvalidRequest, protocol.ReasonUnauthorizedRole)
}
