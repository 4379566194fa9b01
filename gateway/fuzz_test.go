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

// FuzzNodeText puts any string in every field a node sends, at connect and
// in its request: it is either refused with INVALID_PARAMS naming a field,
// or everything kept from it prints as written (protocol.CheckText).
func FuzzNodeText(f *testing.F) {
	for _, seed := range []string{"Kitchen iPad", "\x1b]2;owned\x07", "\u009b2K", "evil\u202egpj", "a\u2028b", "zero\u200dwidth", "\xff", ""} {
		f.Add(seed)
	}
	h := newHarness(f, func(o *harnessOpts) {
		o.noServer = true
		o.cfg.RequestRate = Rate{Burst: -1}
		o.cfg.MaxPendingPerPrefix = -1
	})
	node := &session{role: protocol.RoleNode, nodeID: "0123abcd", remoteIP: "127.0.0.1", prefix: "127.0.0.1", scopes: []string{}}
	fields := []string{"displayName", "platform", "version", "coreVersion", "uiVersion", "deviceFamily", "modelIdentifier"}
	f.Fuzz(func(t *testing.T, s string) {
		// connect: the client block, lists and free strings
		p := protocol.ConnectParams{MinProtocol: 3, MaxProtocol: 3, Role: protocol.RoleNode, Locale: s, UserAgent: s,
			Client: protocol.ClientInfo{ID: s, DisplayName: s, Version: s, Platform: s, DeviceFamily: s, ModelIdentifier: s, Mode: s, InstanceID: s},
			Caps:   []string{s}, Commands: []string{s}}
		if err := checkParams(&p); err == nil {
			for _, v := range []string{p.Locale, p.Client.ID, p.Client.Platform, p.Caps[0]} {
				if protocol.CheckText(v) != nil {
					t.Fatalf("connect accepted %q", v)
				}
			}
		}
		// the request, each field in turn
		for _, field := range fields {
			params, _ := json.Marshal(map[string]any{field: s, "commands": []string{"a", s}})
			frame, _ := json.Marshal(map[string]any{"type": "req", "id": "1", "method": protocol.MethodPairRequest, "params": json.RawMessage(params)})
			res := h.g.handleFrame(context.Background(), node, websocket.MessageText, frame)
			if !res.OK {
				if res.Error.Reason() == protocol.ReasonInvalidParams && res.Error.Details.Field == "" && protocol.CheckText(s) != nil {
					t.Fatalf("refusal of %q in %s names no field: %+v", s, field, res.Error)
				}
				continue
			}
			var r protocol.PairRequestResult
			if err := json.Unmarshal(res.Payload, &r); err != nil {
				t.Fatal(err)
			}
			m := r.Request.NodeMeta
			for _, v := range append([]string{m.DisplayName, m.Platform, m.Version, m.CoreVersion, m.UIVersion, m.DeviceFamily, m.ModelIdentifier}, m.Commands...) {
				if err := protocol.CheckText(v); err != nil {
					t.Fatalf("kept %q from %q in %s: %v", v, s, field, err)
				}
			}
		}
	})
}
