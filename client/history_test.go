package client

import (
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// History reads the real gateway's audit log, page by page.
func TestLiveHistory(t *testing.T) {
	g := startGateway(t)
	op := g.operator(t, false)
	ctx := testCtx(t)
	if err := op.Supports(CapHistory); err != nil {
		t.Fatalf("a pairdeck gateway does not offer history: %v", err)
	}
	req, err := op.PairRequest(ctx, protocol.PairRequestParams{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Kitchen"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Reject(ctx, req.Request.RequestID); err != nil {
		t.Fatal(err)
	}
	first, err := op.History(ctx, protocol.HistoryQuery{Limit: 1})
	if err != nil || len(first.Events) != 1 || first.Events[0].Action != "rejected" || first.Events[0].Actor.ClientID != "cli" || first.Next == "" {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	rest, err := op.History(ctx, protocol.HistoryQuery{Before: first.Next})
	if err != nil || len(rest.Events) != 1 || rest.Events[0].Action != "requested" || rest.Next != "" {
		t.Fatalf("rest = %+v, %v", rest, err)
	}
	end, err := op.History(ctx, protocol.HistoryQuery{NodeID: "nobody"})
	if err != nil || end.Events == nil || len(end.Events) != 0 {
		t.Errorf("nothing matching = %+v, %v; want an empty list", end, err)
	}
}
