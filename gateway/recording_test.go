package gateway

import (
	"bufio"
	"crypto/ed25519"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Frames recorded from real OpenClaw releases (client/testdata/openclaw,
// scripts/record-openclaw-hosts.sh): what their CLIs and node hosts send,
// replayed against the real gateway. A recorded connect cannot be sent as
// is (its signature covers the recording's nonce), so the tests send its
// params with the device re-signed by a test key and the shared token
// swapped for the test gateway's; every other key and value is as
// recorded.

// openclawVersions are the releases with recordings.
var openclawVersions = []string{"2026.4.12", "2026.7.35", "2026.9.6"}

// recLine is one line of a recording.
type recLine struct {
	Conn   string          `json:"conn"`
	Dir    string          `json:"dir"`
	Frame  json.RawMessage `json:"frame"`
	By     string          `json:"by"`
	Code   int             `json:"code"`
	Reason string          `json:"reason"`
}

// recCall is a request a recorded client made and what the release
// answered.
type recCall struct {
	Method string
	Params json.RawMessage
	OK     bool
	Result json.RawMessage
	Error  *protocol.Error
}

// recConn is one recorded connection: its connect params, the answer,
// and the calls that followed.
type recConn struct {
	Label   string
	Connect map[string]json.RawMessage
	Hello   recCall
	Calls   []recCall
	Events  []protocol.Event
}

// params decodes the connect params.
func (rc *recConn) params(t testing.TB) protocol.ConnectParams {
	t.Helper()
	raw, _ := json.Marshal(rc.Connect)
	var p protocol.ConnectParams
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("%s: connect params: %v", rc.Label, err)
	}
	return p
}

// loadRecording reads client/testdata/openclaw/<version>/<name>.jsonl into
// its connections, in the order they connected.
func loadRecording(t testing.TB, version, name string) []*recConn {
	t.Helper()
	path := filepath.Join("..", "client", "testdata", "openclaw", version, name+".jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	defer f.Close()
	var order []*recConn
	byLabel := map[string]*recConn{}
	pending := map[string]map[string]string{} // conn → request id → method
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var l recLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if l.Conn == "" || l.Dir == "close" {
			continue
		}
		rc := byLabel[l.Conn]
		if rc == nil {
			rc = &recConn{Label: l.Conn}
			byLabel[l.Conn] = rc
			order = append(order, rc)
			pending[l.Conn] = map[string]string{}
		}
		var fr struct {
			Type    string          `json:"type"`
			ID      string          `json:"id"`
			Method  string          `json:"method"`
			Params  json.RawMessage `json:"params"`
			OK      bool            `json:"ok"`
			Payload json.RawMessage `json:"payload"`
			Error   *protocol.Error `json:"error"`
			Event   string          `json:"event"`
		}
		if err := json.Unmarshal(l.Frame, &fr); err != nil {
			continue // not a JSON frame
		}
		switch fr.Type {
		case protocol.TypeReq:
			pending[l.Conn][fr.ID] = fr.Method
			if fr.Method == protocol.MethodConnect {
				if err := json.Unmarshal(fr.Params, &rc.Connect); err != nil {
					t.Fatalf("%s: %s: connect params: %v", path, l.Conn, err)
				}
				continue
			}
			rc.Calls = append(rc.Calls, recCall{Method: fr.Method, Params: fr.Params})
		case protocol.TypeRes:
			method := pending[l.Conn][fr.ID]
			call := recCall{Method: method, OK: fr.OK, Result: fr.Payload, Error: fr.Error}
			if method == protocol.MethodConnect {
				rc.Hello = call
				continue
			}
			// The answer goes to the earliest unanswered call of that method.
			for i := range rc.Calls {
				c := &rc.Calls[i]
				if c.Method == method && c.Result == nil && c.Error == nil {
					c.OK, c.Result, c.Error = call.OK, call.Result, call.Error
					break
				}
			}
		case protocol.TypeEvent:
			rc.Events = append(rc.Events, protocol.Event{Type: fr.Type, Event: fr.Event, Payload: fr.Payload})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return order
}

// recordedConns returns the connections whose label starts with prefix.
func recordedConns(conns []*recConn, prefix string) []*recConn {
	var out []*recConn
	for _, c := range conns {
		if strings.HasPrefix(c.Label, prefix) && c.Connect != nil {
			out = append(out, c)
		}
	}
	return out
}

// replayParams builds a recorded connect's params for the test gateway:
// the release's shared token becomes the test token, tokens maps the
// release's issued tokens (placeholders) to ones this gateway issued, and a
// recorded device is re-signed with key over exactly what is sent, at now.
func replayParams(t testing.TB, rc *recConn, version string, key ed25519.PrivateKey, nonce string, now time.Time, tokens map[string]string) map[string]json.RawMessage {
	t.Helper()
	p := maps.Clone(rc.Connect)
	shared := "test-only-shared-token-" + version
	if raw, ok := p["auth"]; ok {
		var auth map[string]string
		if err := json.Unmarshal(raw, &auth); err != nil {
			t.Fatalf("%s: auth: %v", rc.Label, err)
		}
		for k, v := range auth {
			switch {
			case v == shared:
				auth[k] = testToken
			case tokens[v] != "":
				auth[k] = tokens[v]
			}
		}
		p["auth"] = rawJSON(auth)
	}
	if _, ok := p["device"]; ok {
		if key == nil {
			t.Fatalf("%s: the recording has a device: pass a key", rc.Label)
		}
		raw, _ := json.Marshal(p)
		var cp protocol.ConnectParams
		if err := json.Unmarshal(raw, &cp); err != nil {
			t.Fatalf("%s: %v", rc.Label, err)
		}
		d := protocol.SignDevice(key, protocol.SignedPayload{
			ClientID: cp.Client.ID, ClientMode: cp.Client.Mode, Role: cp.Role, Scopes: cp.Scopes,
			SignedAtMs: now.UnixMilli(), Token: openclawSignedToken(p), Nonce: nonce,
			Platform: cp.Client.Platform, DeviceFamily: cp.Client.DeviceFamily,
		})
		p["device"] = rawJSON(d)
	}
	return p
}

// openclawSignedToken is the token OpenClaw's clients sign, worked out
// here on its own (auth.token ?? auth.deviceToken ?? auth.bootstrapToken).
func openclawSignedToken(p map[string]json.RawMessage) string {
	var auth map[string]*string
	_ = json.Unmarshal(p["auth"], &auth)
	for _, k := range []string{"token", "deviceToken", "bootstrapToken"} {
		if v := auth[k]; v != nil {
			return *v
		}
	}
	return ""
}

func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// sendConnect sends raw connect params and returns the answer.
func (w *wsClient) sendConnect(p any) *protocol.Response {
	w.t.Helper()
	data, _ := json.Marshal(protocol.Request{Type: protocol.TypeReq, ID: "c1", Method: protocol.MethodConnect, Params: rawJSON(p)})
	w.sendRaw(string(data))
	return w.response("c1")
}
