package gateway

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestHelloOKShape(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.TickInterval = 30 * time.Second })
	w := h.dial()
	res := w.connect(w.connectParams(nil, h.now(), connectOpts{token: testToken}))
	if !res.OK {
		t.Fatalf("connect: %v", res.Error)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(res.Payload, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"type", "protocol", "server", "features", "snapshot", "policy"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("hello-ok lacks %q: %s", k, res.Payload)
		}
	}
	hello := decodeAs[protocol.HelloOK](t, res.Payload)
	if hello.Type != "hello-ok" || hello.Protocol != 3 || hello.Server.Version != "test" || hello.Server.ConnID == "" {
		t.Errorf("hello-ok header: %+v", hello)
	}
	if !slices.Equal(hello.Features.Methods, protocol.Methods) || !slices.Equal(hello.Features.Events, protocol.Events) {
		t.Errorf("features: %+v", hello.Features)
	}
	for _, k := range []string{"presence", "health", "stateVersion", "uptimeMs", "authMode"} {
		if _, ok := hello.Snapshot[k]; !ok {
			t.Errorf("snapshot lacks %q: %v", k, hello.Snapshot)
		}
	}
	// OpenClaw's HelloOk schema requires auth.deviceToken whenever auth is
	// present, and pairdeck issues no device tokens: so no auth block.
	if hello.Auth != nil {
		t.Errorf("hello-ok must not carry auth: %+v", hello.Auth)
	}
	// An operator asking for every scope gets them: even an admin-only
	// call is allowed.
	var nodes protocol.NodeListResult
	w.ok(protocol.MethodNodeList, nil, &nodes)
	id := newIdentity(t, "node")
	h.node(id, "").request(protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{Commands: []string{"system.run"}}})
	var list protocol.PairListResult
	w.ok(protocol.MethodPairList, nil, &list)
	var appr protocol.ApproveResult
	w.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: list.Pending[0].RequestID}, &appr)
	if hello.Policy.MaxPayload != 1<<20 || hello.Policy.TickIntervalMs != 30000 || hello.Policy.MaxBufferedBytes <= 0 {
		t.Errorf("policy: %+v", hello.Policy)
	}
}

func TestOperatorGetsTheScopesItAsksFor(t *testing.T) {
	h := newHarness(t)
	w := h.dial()
	res := w.connect(w.connectParams(nil, h.now(), connectOpts{token: testToken,
		scopes: []string{protocol.ScopeRead, "operator.future", protocol.ScopeRead}}))
	if !res.OK {
		t.Fatalf("connect: %v", res.Error)
	}
	// Granted only operator.read (the unknown scope is ignored): it may
	// list nodes but not see or decide pairing.
	var nodes protocol.NodeListResult
	w.ok(protocol.MethodNodeList, nil, &nodes)
	w.fails(protocol.MethodPairList, nil, "INVALID_REQUEST", "MISSING_SCOPE")
}

func TestOperatorDeviceIdentityIsVerifiedAndRecorded(t *testing.T) {
	h := newHarness(t)
	id := newIdentity(t, "console")
	id.client.Mode = "ui"

	bad := h.dial()
	res := bad.connect(bad.connectParams(&id, h.now(), connectOpts{token: testToken, tamper: true}))
	if e := bad.refusedWith(t, res); e.Reason() != protocol.ReasonInvalidParams || !strings.Contains(e.Message, "signature") {
		t.Fatalf("tampered operator device: %v", e)
	}

	w := h.dial()
	res = w.connect(w.connectParams(&id, h.now(), connectOpts{token: testToken}))
	if !res.OK {
		t.Fatalf("operator with a valid device: %v", res.Error)
	}
	w.request(protocol.PairRequestParams{NodeID: "n1"})
	audit := readAudit(t, h)
	if !strings.Contains(audit, id.nodeID()) {
		t.Fatalf("audit log does not record the operator's device id %s:\n%s", id.nodeID(), audit)
	}
}

// refusedWith checks a connect answer is a refusal followed by close 1008.
func (w *wsClient) refusedWith(t *testing.T, res *protocol.Response) *protocol.Error {
	t.Helper()
	if res.OK {
		t.Fatalf("connect succeeded, want a refusal")
	}
	if got := w.closed(); got != websocket.StatusPolicyViolation {
		t.Fatalf("close status %d, want 1008", got)
	}
	return res.Error
}

func TestHandshakeRefusals(t *testing.T) {
	h := newHarness(t)
	node := newIdentity(t, "ios-node")

	type tc struct {
		name   string
		send   func(w *wsClient) // the first frame
		code   string
		reason string
		status websocket.StatusCode
		msg    string // part of the message
	}
	connect := func(id *identity, o connectOpts) func(w *wsClient) {
		return func(w *wsClient) {
			data, _ := json.Marshal(protocol.NewRequest("c1", protocol.MethodConnect, w.connectParams(id, h.now(), o)))
			w.sendRaw(string(data))
		}
	}
	raw := func(s string) func(w *wsClient) { return func(w *wsClient) { w.sendRaw(s) } }
	nodeOpts := func(o connectOpts) connectOpts { o.role = protocol.RoleNode; return o }

	cases := []tc{
		{"non-JSON", raw("hello?"), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "not valid JSON"},
		{"wrong first frame", raw(`{"type":"req","id":"1","method":"node.pair.list","params":{}}`), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "first frame"},
		{"event first", raw(`{"type":"event","event":"tick","payload":{}}`), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "first frame"},
		{"unknown connect key", raw(`{"type":"req","id":"1","method":"connect","params":{"minProtocol":3,"maxProtocol":3,"client":{"id":"x","version":"1","platform":"linux","mode":"cli"},"bogus":1}}`), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "bogus"},
		{"missing client id", connect(nil, connectOpts{token: testToken, clientMod: func(c *protocol.ClientInfo) { c.ID = "" }}), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "client.id"},
		{"bad role", connect(nil, connectOpts{token: testToken, role: "admin"}), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "role"},
		{"operator without token", connect(nil, connectOpts{}), "INVALID_REQUEST", "TOKEN_INVALID", 1008, "token"},
		{"operator wrong token", connect(nil, connectOpts{token: "nope"}), "INVALID_REQUEST", "TOKEN_INVALID", 1008, "token"},
		{"protocol above", connect(nil, connectOpts{token: testToken, min: 5, max: 6}), "INVALID_REQUEST", "PROTOCOL_MISMATCH", 1002, "protocol mismatch"},
		{"protocol below", connect(nil, connectOpts{token: testToken, min: 1, max: 2}), "INVALID_REQUEST", "PROTOCOL_MISMATCH", 1002, "protocol mismatch"},
		{"node without device", connect(&node, nodeOpts(connectOpts{noDevice: true})), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "device"},
		{"node bad signature", connect(&node, nodeOpts(connectOpts{tamper: true})), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "signature"},
		{"node stale signedAt", connect(&node, nodeOpts(connectOpts{signedAt: time.Now().Add(-3 * time.Minute)})), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "clock"},
		{"node future signedAt", connect(&node, nodeOpts(connectOpts{signedAt: time.Now().Add(3 * time.Minute)})), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "clock"},
		{"node wrong nonce", connect(&node, nodeOpts(connectOpts{nonce: "not-the-challenge"})), "INVALID_REQUEST", "INVALID_PARAMS", 1008, "nonce"},
		{"node unknown token", connect(&node, nodeOpts(connectOpts{token: "never-issued"})), "NOT_PAIRED", "TOKEN_INVALID", 1008, "node.pair.request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			w := h.dial()
			c.send(w)
			e := w.refused(c.code, c.reason, c.status)
			if !strings.Contains(e.Message, c.msg) {
				t.Errorf("message %q does not mention %q", e.Message, c.msg)
			}
			if strings.Contains(e.Message, testToken) {
				t.Errorf("message leaks the operator token: %q", e.Message)
			}
			// The gateway keeps serving.
			h.operator().ok(protocol.MethodPairList, nil, nil)
		})
	}
}

func TestBinaryFirstFrameRefused(t *testing.T) {
	h := newHarness(t)
	w := h.dial()
	if err := w.c.Write(t.Context(), websocket.MessageBinary, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	w.refused("INVALID_REQUEST", "INVALID_PARAMS", websocket.StatusPolicyViolation)
}

func TestOversizedFrameBeforeHandshakeCloses1009(t *testing.T) {
	h := newHarness(t)
	w := h.dial()
	big := `{"type":"req","id":"1","method":"connect","params":{"pad":"` + strings.Repeat("x", 70<<10) + `"}}`
	w.sendRaw(big)
	if got := w.closed(); got != websocket.StatusMessageTooBig {
		t.Fatalf("close status %d, want 1009", got)
	}
	h.operator().ok(protocol.MethodPairList, nil, nil)
}

func TestOversizedFrameAfterHandshakeCloses1009(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.MaxPayload = 256 << 10 })
	w := h.operator()
	// Over the pre-handshake limit but under maxPayload: fine after connect.
	mid := `{"type":"req","id":"m","method":"node.pair.request","params":{"nodeId":"n1","displayName":"` + strings.Repeat("x", 100<<10) + `"}}`
	w.sendRaw(mid)
	if res := w.response("m"); res.OK {
		t.Logf("a 100 KiB display name was accepted by the store")
	}
	w.sendRaw(`{"type":"req","id":"b","method":"node.pair.list","params":{"pad":"` + strings.Repeat("x", 300<<10) + `"}}`)
	if got := w.closed(); got != websocket.StatusMessageTooBig {
		t.Fatalf("close status %d, want 1009", got)
	}
	h.operator().ok(protocol.MethodPairList, nil, nil)
}

func TestHandshakeTimeoutCloses1000(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.HandshakeTimeout = 200 * time.Millisecond })
	w := h.dial()
	start := time.Now()
	if got := w.closed(); got != websocket.StatusNormalClosure {
		t.Fatalf("close status %d, want 1000", got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %s, want about 200ms", d)
	}
	h.operator().ok(protocol.MethodPairList, nil, nil)
}

// The connect frame an OpenClaw 2026.4.12 CLI sent, verbatim: its shape is
// accepted, and only its device signature (made for another challenge) is
// refused.
func TestOpenClawConnectFrameShapeIsAccepted(t *testing.T) {
	h := newHarness(t, func(o *harnessOpts) { o.cfg.OperatorToken = "peer-test-token" })
	const frame = `{"type":"req","id":"1","method":"connect","params":{"minProtocol":3,"maxProtocol":4,"client":{"id":"cli","version":"0.0.1","platform":"linux","mode":"cli"},"role":"operator","scopes":["operator.admin","operator.pairing","operator.read","operator.write"],"caps":[],"auth":{"token":"peer-test-token"},"locale":"en-US","userAgent":"peer-client/0.0.1","device":{"id":"c8cf3b318f965532d8f389c41756d48469d877e551bf24bcb67e55e182442e88","publicKey":"72VaZDamI1rpRzqEVjBegewiOXVWsGysmrcDkaqAjsc","signature":"Zz3hq3H_RqgAe7dFbzURn31dHxTiMPUZKZA4pBJrJ5F5SthosgLD7bjmCVdmFrXR4HpH0Wgkj0oFvk_ReefkDw","signedAt":1795262299117,"nonce":"3808faff-bf4e-423d-91b8-41441a0bba6a"}}}`
	w := h.dial()
	w.sendRaw(frame)
	e := w.refusedWith(t, w.response("1"))
	if !strings.Contains(e.Message, "device identity refused") {
		t.Fatalf("the recorded frame should fail only on its stale device proof: %q", e.Message)
	}
	// Without the device block (optional for operators) it connects.
	var p map[string]any
	if err := json.Unmarshal([]byte(frame), &p); err != nil {
		t.Fatal(err)
	}
	delete(p["params"].(map[string]any), "device")
	w = h.dial()
	data, _ := json.Marshal(p)
	w.sendRaw(string(data))
	if res := w.response("1"); !res.OK {
		t.Fatalf("recorded frame without device: %v", res.Error)
	}
}
