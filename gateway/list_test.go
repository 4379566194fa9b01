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
		r := op.request(protocol.PairRequestParams{NodeID: fmt.Sprintf("n%d", i), DisplayName: fmt.Sprintf("R&D <%d>", i), Commands: []string{"system.run"}})
		if i%2 == 0 {
			op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: r.Request.RequestID}, nil)
		}
	}
	op.request(protocol.PairRequestParams{NodeID: "n0", DisplayName: "re-pair"})

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
