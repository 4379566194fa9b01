package gateway

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// closeError waits for the socket to end and returns how it was closed.
func (w *wsClient) closeError() websocket.CloseError {
	w.t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		f, err := w.next(time.Until(deadline))
		if errors.Is(err, errTimeout) {
			w.t.Fatalf("socket still open")
		}
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				w.t.Fatalf("socket ended without a close frame: %v", err)
			}
			return ce
		}
		if f.Event != nil {
			w.events = append(w.events, f.Event)
		}
	}
}

// helloAuth decodes hello-ok's auth block as sent (nil when absent), with
// the keys it has.
func helloAuth(t *testing.T, payload json.RawMessage) (map[string]json.RawMessage, *protocol.HelloAuth) {
	t.Helper()
	var h struct {
		Protocol int                        `json:"protocol"`
		Auth     map[string]json.RawMessage `json:"auth"`
	}
	if err := json.Unmarshal(payload, &h); err != nil {
		t.Fatalf("hello-ok: %v", err)
	}
	if h.Auth == nil {
		return nil, nil
	}
	var a protocol.HelloAuth
	if err := json.Unmarshal(rawJSON(h.Auth), &a); err != nil {
		t.Fatalf("hello-ok auth: %v", err)
	}
	return h.Auth, &a
}

func TestProtocolsThreeAndFourAreServed(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		min, max, want int
	}{
		{3, 3, 3}, {4, 4, 4}, {3, 4, 4}, {3, 9, 4}, {2, 3, 3}, {1, 4, 4},
	} {
		t.Run(fmt.Sprintf("%d..%d", c.min, c.max), func(t *testing.T) {
			h.t = t
			w := h.dial()
			res := w.connect(w.connectParams(nil, h.now(), connectOpts{token: testToken, min: c.min, max: c.max,
				scopes: []string{protocol.ScopeRead, protocol.ScopePairing}}))
			if !res.OK {
				t.Fatalf("connect: %v", res.Error)
			}
			hello := decodeAs[protocol.HelloOK](t, res.Payload)
			if hello.Protocol != c.want {
				t.Fatalf("protocol %d, want %d", hello.Protocol, c.want)
			}
			keys, auth := helloAuth(t, res.Payload)
			switch c.want {
			case 4:
				// OpenClaw 2026.9's HelloOk requires auth with role and
				// scopes: the scopes granted, which its clients trust.
				if auth == nil || auth.Role != protocol.RoleOperator || !slices.Equal(auth.Scopes, []string{protocol.ScopeRead, protocol.ScopePairing}) || auth.Method != "token" {
					t.Fatalf("v4 auth = %+v", auth)
				}
				if _, ok := keys["deviceToken"]; ok {
					t.Fatalf("an operator was handed a device token: %v", keys)
				}
			case 3:
				// 2026.4's schema requires auth.deviceToken whenever auth is
				// there, and an operator is issued none.
				if keys != nil {
					t.Fatalf("v3 hello-ok carries auth: %v", keys)
				}
			}
			w.ok(protocol.MethodNodeList, nil, nil)
		})
	}
}

func TestProtocolMismatchIsRefusedAsOpenClawRefusesIt(t *testing.T) {
	h := newHarness(t)
	for _, offer := range [][2]int{{5, 6}, {1, 2}, {0, 0}} {
		for _, role := range []string{protocol.RoleOperator, protocol.RoleNode} {
			t.Run(fmt.Sprintf("%s %d..%d", role, offer[0], offer[1]), func(t *testing.T) {
				h.t = t
				w := h.dial()
				o := connectOpts{token: testToken, min: offer[0], max: offer[1]}
				var id *identity
				if role == protocol.RoleNode {
					nid := newIdentity(t, "node-host")
					id, o = &nid, connectOpts{role: role, min: offer[0], max: offer[1]}
				}
				p := w.connectParams(id, h.now(), o)
				if offer[0] == 0 {
					p.MinProtocol, p.MaxProtocol = 0, 0
				}
				data, _ := json.Marshal(protocol.NewRequest("c1", protocol.MethodConnect, p))
				w.sendRaw(string(data))
				f, err := w.next(waitLong)
				if err != nil || f.Response == nil || f.Response.OK {
					t.Fatalf("want a refusal, got %+v, %v", f, err)
				}
				// Exactly the shape OpenClaw 2026.7/2026.9 gateways send
				// (recorded), which their clients act on.
				var got struct {
					Code    string         `json:"code"`
					Message string         `json:"message"`
					Details map[string]any `json:"details"`
				}
				raw, _ := json.Marshal(f.Response.Error)
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatal(err)
				}
				want := map[string]any{"code": "PROTOCOL_MISMATCH", "expectedProtocol": 4.0, "minimumProbeProtocol": 3.0}
				if offer[0] != 0 {
					want["clientMinProtocol"], want["clientMaxProtocol"] = float64(offer[0]), float64(offer[1])
				}
				if got.Code != "INVALID_REQUEST" || got.Message != "protocol mismatch" || fmt.Sprint(got.Details) != fmt.Sprint(want) {
					t.Fatalf("refusal %s, want INVALID_REQUEST \"protocol mismatch\" %v", raw, want)
				}
				if ce := w.closeError(); ce.Code != websocket.StatusProtocolError || ce.Reason != "protocol mismatch" {
					t.Fatalf("close %d %q, want 1002 \"protocol mismatch\"", ce.Code, ce.Reason)
				}
			})
		}
	}
}

// The CLIs of 2026.4, 2026.7 and 2026.9 connect as they were recorded
// connecting to their own gateway: 2026.4 with a device and every scope,
// 2026.7 and 2026.9 without a device and only the scopes the command
// needs, and as gateway-client/backend for an approval. Each is answered
// with the protocol its release answered, granted exactly the scopes it
// asked for.
func TestRecordedOpenClawCLIConnectsAreServed(t *testing.T) {
	for _, v := range openclawVersions {
		t.Run(v, func(t *testing.T) {
			h := newHarness(t)
			_, key, _ := ed25519.GenerateKey(rand.Reader)
			conns := append(recordedConns(loadRecording(t, v, "cli"), "cli/"), recordedConns(loadRecording(t, v, "cli"), "gateway-client/")...)
			if len(conns) < 10 {
				t.Fatalf("only %d CLI connections recorded", len(conns))
			}
			for _, rc := range conns {
				w := h.dial()
				res := w.sendConnect(replayParams(t, rc, v, key, w.nonce, h.now(), nil))
				if !res.OK {
					t.Fatalf("%s: connect refused: %v", rc.Label, res.Error)
				}
				want := rc.params(t)
				hello := decodeAs[protocol.HelloOK](t, res.Payload)
				recorded := decodeAs[protocol.HelloOK](t, rc.Hello.Result)
				if hello.Protocol != recorded.Protocol {
					t.Fatalf("%s: protocol %d, the release answered %d", rc.Label, hello.Protocol, recorded.Protocol)
				}
				keys, auth := helloAuth(t, res.Payload)
				if hello.Protocol == 4 && (auth == nil || auth.Role != protocol.RoleOperator || !slices.Equal(auth.Scopes, want.Scopes)) {
					t.Fatalf("%s: auth %+v, want every scope asked for: %v", rc.Label, auth, want.Scopes)
				}
				if hello.Protocol == 3 && keys != nil {
					t.Fatalf("%s: v3 auth without a device token: %v", rc.Label, keys)
				}
				if len(want.Scopes) == 1 && want.Scopes[0] == protocol.ScopeRead {
					w.ok(protocol.MethodNodeList, nil, nil)
					w.fails(protocol.MethodPairList, nil, protocol.CodeInvalidRequest, protocol.ReasonMissingScope)
				}
				w.c.Close(websocket.StatusNormalClosure, "")
			}
		})
	}
}

// OpenClaw 2026.9 clients add keys to connect and to request frames;
// all are accepted (and still checked: TestConnectRefusesUnsafeTextInEveryField).
func TestOpenClaw96ConnectKeysAndRequestTags(t *testing.T) {
	h := newHarness(t)
	w := h.dial()
	p := map[string]any{
		"minProtocol": 4, "maxProtocol": 4,
		"client": map[string]any{"id": "cli", "version": "2026.9.6", "buildId": "2026.9.6-release-eb377ac59e6c", "platform": "linux",
			"deviceFamily": "Linux", "timeZone": "Europe/Berlin", "mode": "cli", "instanceId": "ca234586"},
		"caps": []string{}, "role": "operator", "scopes": []string{protocol.ScopeRead},
		"auth":         map[string]any{"token": testToken, "approvalRuntimeToken": "art", "agentRuntimeIdentityToken": "arit"},
		"computerUse":  map[string]any{"enabled": false, "displays": []any{}},
		"workerRuns":   map[string]any{"version": 1, "features": []string{"x"}},
		"modelCatalog": map[string]any{"agentId": "main", "sessionKey": "agent:main:main"},
		"permissions":  map[string]bool{"camera": true},
		"pathEnv":      "/usr/bin:/bin",
		"locale":       "de-DE", "userAgent": "openclaw/2026.9.6",
	}
	if res := w.sendConnect(p); !res.OK {
		t.Fatalf("connect: %v", res.Error)
	}
	// A request frame may carry a trace context and the profile it expects.
	w.sendRaw(`{"type":"req","id":"t1","method":"node.list","params":{},"traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01","expectedProfileId":"default"}`)
	if res := w.response("t1"); !res.OK {
		t.Fatalf("node.list with traceparent: %v", res.Error)
	}
	w.sendRaw(`{"type":"req","id":"t2","method":"node.list","params":{},"traceparent":"00-\u001b]2;x\u0007"}`)
	checkErr(t, "traceparent with OSC", w.response("t2"), protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)
	w.sendRaw(`{"type":"req","id":"t3","method":"node.list","params":{},"traceparent":"` + strings.Repeat("a", 129) + `"}`)
	checkErr(t, "long traceparent", w.response("t3"), protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)
	w.sendRaw(`{"type":"req","id":"t4","method":"node.list","params":{},"spanId":"x"}`)
	checkErr(t, "unknown frame key", w.response("t4"), protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)
}

func TestOperatorsAreGrantedExactlyTheScopesTheyAskFor(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		ask, want []string
	}{
		{[]string{}, []string{}},
		{[]string{protocol.ScopePairing}, []string{protocol.ScopePairing}},
		{[]string{protocol.ScopeRead, "operator.talk.secrets", protocol.ScopeRead, "operator.approvals"},
			[]string{protocol.ScopeRead, "operator.talk.secrets", "operator.approvals"}},
	} {
		w := h.dial()
		res := w.connect(w.connectParams(nil, h.now(), connectOpts{token: testToken, min: 4, max: 4, scopes: c.ask}))
		if !res.OK {
			t.Fatalf("connect %v: %v", c.ask, res.Error)
		}
		if _, auth := helloAuth(t, res.Payload); auth == nil || !slices.Equal(auth.Scopes, c.want) {
			t.Fatalf("asked %v, granted %+v, want %v", c.ask, auth, c.want)
		}
		if !slices.Contains(c.want, protocol.ScopeRead) {
			e := w.fails(protocol.MethodNodeList, nil, protocol.CodeInvalidRequest, protocol.ReasonMissingScope)
			if e.Message != "missing scope: operator.read" {
				t.Fatalf("message %q, want OpenClaw's exact words", e.Message)
			}
		} else {
			w.ok(protocol.MethodNodeList, nil, nil)
		}
	}
}

// A device signs auth.token, else auth.deviceToken, else
// auth.bootstrapToken, whichever is present first (even empty), as
// OpenClaw's clients do: the gateway checks the signature over that one.
// (What each token then lets in is another matter: only whether the
// signature was accepted is looked at here.)
func TestDeviceSignatureCoversTheTokenOpenClawSigns(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		name   string
		auth   map[string]string
		signed string
	}{
		{"token first", map[string]string{"token": "nt", "deviceToken": "dt", "bootstrapToken": "bt"}, "nt"},
		{"an empty token is still first", map[string]string{"token": "", "deviceToken": "dt"}, ""},
		{"device token", map[string]string{"deviceToken": "dt", "bootstrapToken": "bt"}, "dt"},
		{"setup code", map[string]string{"bootstrapToken": "bt"}, "bt"},
		{"password is never signed", map[string]string{"password": "pw"}, ""},
		{"no auth", nil, ""},
	} {
		for _, signed := range []string{c.signed, "other"} {
			id := newIdentity(t, "node-host")
			w := h.dial()
			p := map[string]any{
				"minProtocol": 3, "maxProtocol": 4, "role": "node", "scopes": []string{},
				"client": map[string]any{"id": "node-host", "version": "1", "platform": "linux", "mode": "node"},
			}
			if c.auth != nil {
				p["auth"] = c.auth
			}
			p["device"] = protocol.SignDevice(id.priv, protocol.SignedPayload{ClientID: "node-host", ClientMode: "node", Role: "node",
				Scopes: []string{}, SignedAtMs: h.now().UnixMilli(), Token: signed, Nonce: w.nonce, Platform: "linux"})
			res := w.sendConnect(p)
			refusedSig := !res.OK && strings.Contains(res.Error.Message, "signature")
			if want := signed != c.signed; refusedSig != want {
				t.Errorf("%s, signed over %q: signature refused = %v, want %v (%+v)", c.name, signed, refusedSig, want, res.Error)
			}
		}
	}
}
