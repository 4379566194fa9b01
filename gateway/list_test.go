package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// node.pair.list over a socket is spliced from the store's cached JSON; an
// in-process operator gets the value without JSON. Both say the same.
func TestPairListSameOverSocketAndInProcess(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	lo := h.g.Local(store.Actor{ClientID: "console"})
	defer lo.Close()
	for i := range 6 {
		r := op.request(protocol.PairRequestParams{NodeID: fmt.Sprintf("n%d", i), NodeMeta: protocol.NodeMeta{DisplayName: fmt.Sprintf("R&D <%d>", i), Commands: []string{"system.run"}}})
		if i%2 == 0 {
			op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, nil)
		}
	}
	op.request(protocol.PairRequestParams{NodeID: "n0", NodeMeta: protocol.NodeMeta{DisplayName: "re-pair"}})

	res := op.call(protocol.MethodPairList, nil)
	if !res.OK {
		t.Fatalf("list: %v", res.Error)
	}
	local, err := lo.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(local.Pending) != 4 || len(local.Paired) != 3 {
		t.Fatalf("in-process list: %d pending, %d paired", len(local.Pending), len(local.Paired))
	}
	want, _ := json.Marshal(local)
	if !bytes.Equal(res.Payload, want) {
		t.Fatalf("socket list\n%s\nin-process list encoded\n%s", res.Payload, want)
	}
	if bytes.Contains(res.Payload, []byte("token")) {
		t.Fatalf("list shows a token: %s", res.Payload)
	}
}

// node.list: connected nodes first, then paired ones, then those only
// asking; by name (case aside, the id for nameless ones), then by id.
func TestNodeListOrder(t *testing.T) {
	h := newHarness(t)
	op := h.operator()
	online := newIdentity(t, "online")
	pair := func(nodeID, name string) string {
		r := op.request(protocol.PairRequestParams{NodeID: nodeID, NodeMeta: protocol.NodeMeta{DisplayName: name}})
		var appr protocol.ApproveResult
		op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, &appr)
		return appr.Node.Token
	}
	token := pair(online.nodeID(), "zulu")
	pair("p1", "bravo")
	pair("p2", "Alpha")
	pair("p0", "")
	op.request(protocol.PairRequestParams{NodeID: "q1", NodeMeta: protocol.NodeMeta{DisplayName: "Aardvark"}})
	op.request(protocol.PairRequestParams{NodeID: "q0", NodeMeta: protocol.NodeMeta{DisplayName: "aardvark"}})
	h.node(online, token)
	waitFor(t, func() bool { return len(h.g.fan.connected()) == 1 })

	var res protocol.NodeListResult
	op.ok(protocol.MethodNodeList, nil, &res)
	var got []string
	for _, n := range res.Nodes {
		got = append(got, n.NodeID)
	}
	want := []string{online.nodeID(), "p2", "p1", "p0", "q0", "q1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("node.list order %v, want %v", got, want)
	}
}
