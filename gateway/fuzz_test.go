package gateway

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// FuzzHandleFrame feeds arbitrary post-handshake frames to an operator's and
// a node's session: each must get one well-formed answer with a reason.
func FuzzHandleFrame(f *testing.F) {
	for _, seed := range []string{
		`{"type":"req","id":"1","method":"node.pair.list","params":{}}`,
		`{"type":"req","id":"2","method":"node.pair.request","params":{"nodeId":"n1","silent":true}}`,
		`{"type":"req","id":"3","method":"node.pair.approve","params":{"requestId":"x"}}`,
		`{"type":"req","id":"4","method":"node.rename","params":{"nodeId":"n1","displayName":"A"}}`,
		`{"type":"req","id":"5","method":"node.list"}`,
		`{"type":"req","id":"6","method":"node.pair.verify","params":{"nodeId":"n1","token":"t"}}`,
		`{"type":"req","id":"7","method":"node.pair.remove","params":{"nodeId":"n1"}}`,
		`{"type":"res","id":"8","ok":true}`,
		`{"type":"req","id":"","method":""}`,
		`[]`, `null`, `{`, "\x00",
	} {
		f.Add([]byte(seed))
	}
	h := newHarness(f, func(o *harnessOpts) { o.noServer = true })
	sessions := []*session{
		{role: protocol.RoleOperator, scopes: slices.Clone(protocol.AllOperatorScopes), local: true},
		{role: protocol.RoleNode, nodeID: "0123abcd", remoteIP: "127.0.0.1", scopes: []string{}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range sessions {
			res := h.g.handleFrame(context.Background(), s, websocket.MessageText, data)
			if res == nil || res.Type != protocol.TypeRes || res.ID == "" || res.OK == (res.Error != nil) {
				t.Fatalf("bad answer to %q: %+v", data, res)
			}
			if !res.OK && (res.Error.Details == nil || res.Error.Details.Code == "") {
				t.Fatalf("error without details.code for %q: %+v", data, res.Error)
			}
			if _, err := json.Marshal(res); err != nil {
				t.Fatalf("answer does not encode: %v", err)
			}
		}
	})
}
